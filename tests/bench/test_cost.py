"""The cost estimate in docs/OPERATIONS.md comes from the benchmarks' measured counts (bench/cost.py)."""

import copy
import json
import re

import pytest

from bench import cost


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


def test_it_follows_the_measured_counts(results):
    heavier = copy.deepcopy(results)
    heavier["webhooks.dynamodb_requests"]["value"] = 2.0  # a summary update for every delivery

    before = _line(cost.estimate(results), "DynamoDB writes").dollars
    after = _line(cost.estimate(heavier), "DynamoDB writes").dollars

    assert after > before


def test_it_reads_the_deliveries_per_run_the_webhook_benchmark_measured(results):
    fewer = copy.deepcopy(results)
    fewer["webhooks.rate"]["notes"] = "300 deliveries of 40 simulated runs (...)"

    assert (
        _line(cost.estimate(fewer), "HTTP API requests").quantity
        < _line(cost.estimate(results), "HTTP API requests").quantity
    )


def test_it_refuses_results_without_the_counts_it_needs(results):
    del results["runs_api.repos_dynamodb_requests"]

    with pytest.raises(SystemExit, match="runs_api.repos_dynamodb_requests"):
        cost.estimate(results)


def test_the_runbook_carries_a_section_it_wrote():
    text = cost.OPERATIONS.read_text()
    section = text[text.index(cost.START) : text.index(cost.END)]
    rows = re.findall(r"^\| [^|]+ \| [^|]+ \| \$([\d,.]+) \|", section, flags=re.MULTILINE)
    stated = re.search(r"\*\*\$([\d,.]+)\*\* a month", section)

    assert rows, "no cost table between the markers: run `python -m bench.cost`"
    assert stated is not None
    assert float(stated.group(1).replace(",", "")) == pytest.approx(
        sum(float(r.replace(",", "")) for r in rows), abs=0.05
    )
