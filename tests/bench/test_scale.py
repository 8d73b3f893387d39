"""The scale model (bench/scale.py): each limit from the measured counts, and where it is reached."""

import copy
import json

import pytest

from bench import scale
from bench.report import RESULTS


@pytest.fixture
def results():
    return json.loads(RESULTS.read_text())


def _row(rows, name_start):
    (found,) = [row for row in rows if row.limit.name.startswith(name_start)]
    return found


def test_it_finds_the_load_at_which_a_usage_reaches_its_quota(results):
    def usage(results, rates):
        return 10 * rates.k

    assert scale.breaks_at(results, usage, 1_000) == pytest.approx(100, rel=1e-6)
    assert scale.breaks_at(results, lambda results, rates: 0.0, 1) == float("inf")


@pytest.mark.parametrize("limit", scale.LIMITS, ids=lambda limit: limit.name[:40])
def test_every_usage_grows_with_load_and_every_change_helps(results, limit):
    """Bisection needs usage to grow with load; a proposed change that made things worse would be no change."""
    built = [limit.built(results, scale.rates(results, k)) for k in (1, 10, 100, 1000)]

    assert built == sorted(built)
    assert built[0] < built[-1]
    if limit.after is not None:
        after = [limit.after(results, scale.rates(results, k)) for k in (1, 10, 100, 1000)]
        assert after == sorted(after)
        assert all(a <= b for a, b in zip(after, built, strict=True))


def test_a_change_not_built_is_offered_only_for_a_limit_reached_before_the_target(results):
    for row in scale.model(results):
        if row.limit.after is not None:
            assert row.breaks < scale.TARGET_K, row.limit.name


def test_coalesced_messages_grow_far_less_than_runs_times_dashboards(results):
    api = _row(scale.model(results), "API Gateway")

    # Runs and dashboards are both 100 times the design's: one message per change per dashboard would be 10,000 times.
    assert api.at_scale / api.at_design < 1_000


def test_the_stream_functions_limit_follows_its_measured_cpu(results):
    heavier = copy.deepcopy(results)
    heavier["webhooks.stream_fanout_ms"]["details"]["cpu_ms_per_post"] *= 2

    before = _row(scale.model(results), "Stream function: seconds of work").breaks
    after = _row(scale.model(heavier), "Stream function: seconds of work").breaks

    assert after < before


def test_the_model_follows_the_measured_write_units(results):
    heavier = copy.deepcopy(results)
    heavier["webhooks.write_units"]["details"]["per_table"]["events"] *= 2

    before = _row(scale.model(results), "Events table: write").breaks
    after = _row(scale.model(heavier), "Events table: write").breaks

    assert after == pytest.approx(before / 2, rel=0.01)


def test_rows_are_soonest_first(results):
    rows = scale.model(results)

    assert [row.breaks for row in rows] == sorted(row.breaks for row in rows)


def test_the_section_names_every_limit_and_both_costs(results):
    text = scale.section(results)

    for limit in scale.LIMITS:
        assert limit.name in text
    assert "| 100×: 100,000 runs a day, 1,000 dashboards | $" in text
    assert "First reached: **" in text


def test_the_section_says_what_is_missing_rather_than_guessing(results):
    del results["overview.read_units"]

    assert "Not computed yet" in scale.section(results)
    assert "overview.read_units" in scale.section(results)
