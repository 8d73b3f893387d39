"""The cost estimate in docs/OPERATIONS.md comes from the benchmarks' measured counts (bench/cost.py)."""

import copy
import json
import re

import pytest

from bench import cost
from dashboard.lib.metrics import METRICS


@pytest.fixture
def results():
    return json.loads(cost.RESULTS.read_text())


def _line(lines, item):
    (found,) = [line for line in lines if line.item == item]
    return found


def test_every_line_has_a_cost_and_says_where_it_comes_from(results):
    lines = cost.estimate(results)

    assert all(line.dollars > 0 and line.derivation for line in lines)
    assert 5 < cost.total(lines) < 100  # a small app's bill: a wrong unit would be off by orders of magnitude


@pytest.mark.parametrize(
    ("measured", "item"), [("webhooks.write_units", "DynamoDB writes"), ("overview.read_units", "DynamoDB reads")]
)
def test_it_follows_the_measured_capacity_units(results, measured, item):
    heavier = copy.deepcopy(results)
    heavier[measured]["value"] *= 2

    before = _line(cost.estimate(results), item).dollars
    after = _line(cost.estimate(heavier), item).dollars

    assert after > before


def test_it_reads_the_deliveries_per_run_the_webhook_benchmark_measured(results):
    fewer = copy.deepcopy(results)
    fewer["webhooks.rate"]["details"]["deliveries"] = {"workflow_run": 60, "workflow_job": 240}
    fewer["webhooks.rate"]["details"]["runs"] = 40

    assert (
        _line(cost.estimate(fewer), "HTTP API requests").quantity
        < _line(cost.estimate(results), "HTTP API requests").quantity
    )


@pytest.mark.parametrize(
    "key",
    [
        "overview.read_units",
        "webhooks.write_units",
        "lambda.cold_start",
        "webhooks.coalesced_messages",
        "webhooks.stream_fanout_ms",
    ],
)
def test_it_refuses_results_without_the_counts_it_needs(results, key):
    del results[key]

    with pytest.raises(SystemExit, match=key):
        cost.estimate(results)


def test_it_refuses_results_measured_before_the_details_it_needs(results):
    del results["webhooks.rate"]["details"]

    with pytest.raises(SystemExit, match="webhooks.rate"):
        cost.estimate(results)


def test_coalescing_sends_at_most_one_message_a_second_to_each_connection(results):
    busy = cost.fan_out(results, changes_s=80, dashboards=1_000)
    quiet = cost.fan_out(results, changes_s=0.1, dashboards=10)

    assert busy.sends_s <= 1 / cost.COALESCE_SECONDS
    assert quiet.sends_s < 0.1  # fewer sends than changes: a run's changes come in clusters
    assert quiet.sends_s > 0.1 * cost.figure_value(results, "webhooks.coalesced_messages") * 0.9


def test_messages_grow_with_dashboards_and_bytes_not_with_changes_times_dashboards(results):
    design = _line(cost.estimate(results), "WebSocket messages")
    scaled = _line(cost.estimate(results, runs_per_day=100_000, dashboards=1_000), "WebSocket messages")

    assert scaled.quantity < design.quantity * 10_000 / 10


def test_api_gateway_bills_a_message_per_32_kb_of_a_send(results):
    small = cost.fan_out(results, changes_s=1, dashboards=10)
    large = cost.fan_out(results, changes_s=300, dashboards=10)

    assert small.billed_per_send == 1
    assert large.billed_per_send > 300 * cost.change_kb(results) / 32
    assert large.posts_per_send > 1  # over API Gateway's 128 KB a message: split


def test_the_stream_function_is_costed_from_its_measured_posts(results):
    heavier = copy.deepcopy(results)
    # Slow enough that posting outlasts the wait for the coalescing interval, which a send spends either way.
    heavier["webhooks.stream_fanout_ms"]["details"]["cpu_ms_per_post"] *= 10
    load = {"runs_per_day": 10_000, "dashboards": 100}

    before = _line(cost.estimate(results, **load), "Lambda compute").dollars
    after = _line(cost.estimate(heavier, **load), "Lambda compute").dollars

    assert after > before


def test_the_fan_out_constants_are_the_apps(settings):
    """bench/cost.py runs without Django, so it keeps these as constants: they must say what the code does."""
    from realtime import coalesce, gateway, models

    assert coalesce.OVERLAP.total_seconds() == cost.COALESCE_OVERLAP_SECONDS
    assert cost.EVENT_SHARDS == models.BUCKET_SHARDS
    assert cost.MESSAGE_KB * 1024 == gateway.MAX_MESSAGE_BYTES


def test_memory_is_zappas():
    from devstack.package import FUNCTIONS, stage_setting, zappa_stage

    assert set(cost.MEMORY_GB) == set(FUNCTIONS)
    for function, gigabytes in cost.MEMORY_GB.items():
        assert stage_setting(zappa_stage("prod", function), "memory_size") == gigabytes * 1024


def test_the_budget_and_what_would_bring_the_cost_down_are_stated(results):
    lines = cost.estimate(results)
    text = cost.render(lines)

    assert f"Budget: ${cost.BUDGET:g}" in text
    assert all(lever.saving > 0 and f"{lever.change}: $" in text for lever in cost.levers(lines))


def test_the_runbook_carries_a_section_it_wrote():
    text = cost.OPERATIONS.read_text()
    section = text[text.index(cost.START) : text.index(cost.END)]
    rows = re.findall(r"^\| [^|]+ \| [^|]+ \| \$([\d,.]+) \|", section, flags=re.MULTILINE)
    stated = re.search(r"\*\*\$([\d,.]+)\*\* a month", section)

    assert rows, "no cost table between the markers: run `make bench-cost`"
    assert stated is not None
    assert float(stated.group(1).replace(",", "")) == pytest.approx(
        sum(float(r.replace(",", "")) for r in rows), abs=0.05
    )


def test_it_counts_the_alarm_metrics_terraform_declares(tmp_path):
    # 9 alarms, the GitHub budget twice, one errors alarm per function (4), and fanout's metric math reads 2.
    assert cost.alarm_metrics() == 17

    copy_of_infra = tmp_path / "infra"
    copy_of_infra.mkdir()
    for path in cost.INFRA.glob("*.tf"):
        (copy_of_infra / path.name).write_text(path.read_text())
    with (copy_of_infra / "observability.tf").open("a") as observability:
        observability.write(
            '\nresource "aws_cloudwatch_metric_alarm" "more" {\n  for_each = toset(["a", "b"])\n'
            '  alarm_name = "more-${each.key}"\n  metric_name = "Errors"\n}\n'
        )

    assert cost.alarm_metrics(copy_of_infra) == 19


def test_it_counts_every_metric_series_the_app_emits_and_every_key(results):
    assert cost.custom_metrics() == len(METRICS) - 1 + 3  # the GitHub budget once per credential kind
    assert cost.kms_keys() == (2, 2)
    assert "CloudWatch custom metrics" in {line.item for line in cost.estimate(results)}


def test_snapstart_is_costed_for_the_functions_that_have_it(results, monkeypatch):
    with_it = _line(cost.estimate(results), "Lambda SnapStart").dollars
    monkeypatch.setattr(cost, "snap_start_memory_gb", lambda: 0.0)

    assert with_it > 5  # a 1 GB snapshot cached for two versions, whatever the traffic
    assert _line(cost.estimate(results), "Lambda SnapStart").dollars == 0
