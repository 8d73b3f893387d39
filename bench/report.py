"""Figures measured by the benchmarks, kept in bench/results.json and rendered into BENCHMARKS.md."""

import json
import os
import platform
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results.json"
REPORT = ROOT / "BENCHMARKS.md"


@dataclass
class Figure:
    key: str
    label: str
    value: float
    unit: str
    target: str
    met: bool | None
    command: str
    notes: str = ""
    measured_at: str = ""
    machine: str = ""


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores {cpu}, {memory:.0f} GiB, Python {platform.python_version()}, {platform.system()}"


def record(figures: list[Figure]) -> None:
    """Merge new figures into results.json (replacing same keys) and rewrite BENCHMARKS.md."""
    stored = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    for figure in figures:
        figure.measured_at = figure.measured_at or now
        figure.machine = figure.machine or machine()
        stored[figure.key] = asdict(figure)
    RESULTS.write_text(json.dumps(stored, indent=2, sort_keys=True) + "\n")
    REPORT.write_text(render([Figure(**item) for item in stored.values()]))


def _verdict(figure: Figure) -> str:
    return {True: "met", False: "**missed**", None: "(no target)"}[figure.met]


def _value(figure: Figure) -> str:
    value = f"{figure.value:,.0f}" if abs(figure.value) >= 100 else f"{figure.value:,.2f}".rstrip("0").rstrip(".")
    return f"{value} {figure.unit}".strip()


def render(figures: list[Figure]) -> str:
    lines = [
        "# Benchmarks",
        "",
        "Every figure below is measured on this project's local stack by `make bench` (or the command in its",
        "row) and rewritten here by `bench/report.py`; nothing is typed by hand. A missed target stays in the",
        "table as missed.",
        "",
        "| figure | value | target | verdict | measured | command |",
        "|---|---|---|---|---|---|",
    ]
    for figure in sorted(figures, key=lambda item: item.key):
        lines.append(
            f"| {figure.label} | {_value(figure)} | {figure.target} | {_verdict(figure)} "
            f"| {figure.measured_at} | `{figure.command}` |"
        )
    lines += ["", "## Notes", ""]
    for figure in sorted(figures, key=lambda item: item.key):
        if figure.notes:
            lines.append(f"- **{figure.label}**: {figure.notes}")
    machines = sorted({figure.machine for figure in figures})
    lines += ["", "## Machine", "", *[f"- {name}" for name in machines], ""]
    return "\n".join(lines)
