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


@pytest.mark.parametrize("key", ["overview.read_units", "webhooks.write_units", "lambda.cold_start"])
def test_it_refuses_results_without_the_counts_it_needs(results, key):
    del results[key]

    with pytest.raises(SystemExit, match=key):
        cost.estimate(results)


def test_it_refuses_results_measured_before_the_details_it_needs(results):
    del results["webhooks.rate"]["details"]

    with pytest.raises(SystemExit, match="webhooks.rate"):
        cost.estimate(results)


def test_coalescing_bounds_messages_by_connection_time_not_by_changes(results):
    as_built = _line(cost.estimate(results, runs_per_day=100_000, dashboards=1_000), "WebSocket messages")
    coalesced = _line(
        cost.estimate(results, runs_per_day=100_000, dashboards=1_000, coalesce_seconds=1), "WebSocket messages"
    )
    busier = _line(
        cost.estimate(results, runs_per_day=200_000, dashboards=1_000, coalesce_seconds=1), "WebSocket messages"
    )

    assert coalesced.quantity < as_built.quantity / 10
    assert busier.quantity == coalesced.quantity  # more runs, the same open dashboards: no more messages


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
    assert cost.alarm_metrics() == 14  # 8 alarms, 2 budgets, 3 function errors; fanout's metric math reads 2

    copy_of_infra = tmp_path / "infra"
    copy_of_infra.mkdir()
    for path in cost.INFRA.glob("*.tf"):
        (copy_of_infra / path.name).write_text(path.read_text())
    with (copy_of_infra / "observability.tf").open("a") as observability:
        observability.write(
            '\nresource "aws_cloudwatch_metric_alarm" "more" {\n  for_each = toset(["a", "b"])\n'
            '  alarm_name = "more-${each.key}"\n  metric_name = "Errors"\n}\n'
        )

    assert cost.alarm_metrics(copy_of_infra) == 16


def test_it_counts_every_metric_series_the_app_emits_and_every_key(results):
    assert cost.custom_metrics() == len(METRICS) - 1 + 3  # the GitHub budget once per credential kind
    assert cost.kms_keys() == (2, 2)
    assert "CloudWatch custom metrics" in {line.item for line in cost.estimate(results)}


def test_snapstart_is_costed_for_the_functions_that_have_it(results, monkeypatch):
    with_it = _line(cost.estimate(results), "Lambda SnapStart").dollars
    monkeypatch.setattr(cost, "snap_start_memory_gb", lambda: 0.0)

    assert with_it > 5  # a 1 GB snapshot cached for two versions, whatever the traffic
    assert _line(cost.estimate(results), "Lambda SnapStart").dollars == 0
