"""BENCHMARKS.md (bench/report.py): every target from the issues with its measured value and verdict."""

import json
from dataclasses import replace

from bench import report


def _figures():
    return [report.Figure(**item) for item in json.loads(report.RESULTS.read_text()).values()]


def _target_row(text: str, target_text: str) -> str:
    (row,) = [line for line in text.splitlines() if line.startswith("| ") and f"| {target_text} |" in line]
    return row


def test_benchmarks_md_is_what_the_results_render_to():
    """Nothing in BENCHMARKS.md is typed by hand: it is exactly the rendering of bench/results.json."""
    assert report.REPORT.read_text() == report.render(_figures())


def test_every_target_is_measured_by_a_recorded_figure():
    recorded = {figure.key for figure in _figures()}

    missing = [target.text for target in report.TARGETS if target.key and target.key not in recorded]

    assert missing == []


def test_a_missed_target_is_reported_as_missed():
    figures = [
        replace(figure, value=412.0, met=False) if figure.key == "lambda.cold_start" else figure
        for figure in _figures()
    ]

    row = _target_row(report.render(figures), report.TARGETS[0].text)

    assert row.endswith("| 412 ms | **missed** |")


def test_a_target_without_its_figure_is_reported_as_not_measured():
    figures = [figure for figure in _figures() if figure.key != "overview.server_p95"]
    (target,) = [target for target in report.TARGETS if target.key == "overview.server_p95"]

    row = _target_row(report.render(figures), target.text)

    assert "not measured yet" in row
    assert row.endswith("| **not measured** |")


def test_targets_that_need_aws_say_so():
    text = report.render(_figures())

    for target in report.TARGETS:
        if target.key is None:
            assert _target_row(text, target.text).endswith("| **not measured** |")


def test_a_retired_figure_is_dropped_when_results_are_written(tmp_path, monkeypatch):
    monkeypatch.setattr(report, "RESULTS", tmp_path / "results.json")
    monkeypatch.setattr(report, "REPORT", tmp_path / "BENCHMARKS.md")
    (retired,) = sorted(report.RETIRED)[:1]
    figure = report.Figure("bench.example", "An example", 1.0, "ms", "(none set)", None, "make bench")
    report.RESULTS.write_text(json.dumps({retired: {"key": retired}}))

    report.record([figure])

    assert set(json.loads(report.RESULTS.read_text())) == {"bench.example"}
