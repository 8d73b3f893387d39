"""Figures measured by the benchmarks, kept in bench/results.json and rendered into BENCHMARKS.md."""

import json
import os
import platform
from dataclasses import asdict, dataclass, field
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
    # Measured counts behind the figure that other calculations (bench/cost.py, bench/scale.py) read by name.
    details: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Target:
    """A target an issue set, and the figure (key in results.json) that measures it; `why` when none can here."""

    issue: int
    text: str
    key: str | None
    why: str = ""
    estimate: bool = False  # the issue asked for the figure, not for a value: no verdict here


TARGETS = [
    Target(2, "Cold start of the packaged app, precompiled bytecode, median of 5: ≤ 400 ms", "lambda.cold_start"),
    Target(2, "Lambda zip: ≤ 25 MB", "lambda.zip_size"),
    Target(5, "GitHub requests for a user's cold first view of 50 repos: ≤ 50 + 1 + 3", "github.cold_first_view"),
    Target(5, "GitHub requests per user per hour, steady state with webhooks, not 304: ≤ 10", "github.steady_per_hour"),
    Target(5, "DynamoDB requests per `GET /api/repos`: ≤ 3", "runs_api.repos_dynamodb_requests"),
    Target(6, "Publish-to-browser latency in Chromium, p95: ≤ 100 ms", "live.latency_p95"),
    # Coalesced since issue 17, a message carries every change since the last: counted in changes.
    Target(6, "Messages (changes, since coalescing) per second at 1,000 sockets, one process: ≥ 5,000", "sockets.rate"),
    # Its latency target (p99 ≤ 200 ms) is issue 17's tighter one below, measured by the same figure.
    Target(6, "Messages dropped at 1,000 sockets: none", "sockets.missing"),
    Target(7, "Webhook answered within GitHub's 10 s (server-side p99)", "webhooks.p99"),
    Target(7, "DynamoDB requests per delivery bringing a new state: ≤ 2", "webhooks.dynamodb_requests"),
    Target(8, "Overview server time, 50 repos × 20 runs, p95: ≤ 50 ms", "overview.server_p95"),
    Target(8, "Overview page weight, HTML + CSS + JS uncompressed: ≤ 150 KB, no other origin", "overview.page_weight"),
    Target(9, "A monthly cost estimate for 1,000 runs a day from the measured counts", "cost.monthly", estimate=True),
    Target(
        9,
        "Recovery time objective: ≤ 15 minutes",
        None,
        "needs AWS (a restore and a redeploy); docs/OPERATIONS.md says how each step fits in it",
    ),
    Target(
        9,
        "Recovery point objective: ≤ 1 hour",
        None,
        "needs AWS (point-in-time recovery restores to within the last 5 minutes); docs/OPERATIONS.md says how",
    ),
    Target(10, "`make bench` regenerates BENCHMARKS.md end to end: < 15 minutes", "bench.total"),
    Target(10, "Schemathesis: ≥ 1,000 generated cases per operation", "schema_fuzz.cases_per_operation"),
    Target(10, "Schemathesis: no server errors", "schema_fuzz.server_errors"),
    Target(10, "atheris on webhook verify-and-parse: no crashes", "fuzz.webhook_crashes"),
    Target(
        16,
        "Cold start ÷ a bare Django project's, packaged and started the same way, precompiled bytecode: ≤ 1.1",
        "lambda.cold_start_ratio",
    ),
    Target(
        17,
        "Webhook answer time p99 with 1,000 subscribed connections ÷ with 1, measured in one run: ≤ 1.1",
        "webhooks.subscribers_p99_ratio",
    ),
    Target(17, "Management API posts made during webhook requests: 0", "webhooks.posts_during_requests"),
    Target(17, "Local, 1,000 sockets on one repository, change latency p99: ≤ 150 ms", "sockets.p99"),
    Target(17, "Local, the same p99 ÷ the p99 with 10 sockets, in the same run: ≤ 5", "sockets.p99_ratio"),
    Target(17, "Local, 1,000 sockets: no change lost", "sockets.missing"),
    Target(17, "Isolated change, publish to browser, p95: ≤ 100 ms", "live.latency_p95"),
    Target(
        17,
        "A burst of 100 changes within a second: every change within the coalescing interval + 100 ms",
        "live.burst_latency_max",
    ),
    Target(17, "The same burst: socket messages per page ≤ 2", "live.burst_messages"),
    Target(17, "Scale model: the first quota reached at ≥ 150× the design's load", "scale.first_limit"),
    Target(17, "Scale model: monthly cost at 100× the design's load ≤ $2,500", "scale.cost_as_built"),
    Target(17, "Monthly cost at the design's load ≤ $8 per stage", "cost.monthly"),
]
# Figures no benchmark records any more: dropped from results.json the next time it is written.
RETIRED = {"scale.cost_after_changes"}
# Targets an issue set on behaviour rather than a number: asserted by tests, which fail if they are not met.
TESTED_TARGETS = [
    (4, "50 concurrent refresh attempts make exactly one refresh call to GitHub", "tests/accounts/test_tokens.py"),
    (7, "A delivery sent 50 times at once is applied and pushed once", "tests/webhooks/test_events.py"),
]


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores {cpu}, {memory:.0f} GiB, Python {platform.python_version()}, {platform.system()}"


def record(figures: list[Figure]) -> None:
    """Merge new figures into results.json (replacing same keys) and rewrite BENCHMARKS.md."""
    stored = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    for key in RETIRED:
        stored.pop(key, None)
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


def _targets(figures: dict[str, Figure]) -> list[str]:
    lines = [
        "## Targets from the issues",
        "",
        "| issue | target | measured | verdict |",
        "|---|---|---|---|",
    ]
    for target in TARGETS:
        figure = figures.get(target.key) if target.key else None
        if figure is not None:
            if target.estimate:
                verdict = "(an estimate)"
            else:
                verdict = _verdict(figure) if figure.met is not None else "(an estimate: no budget set)"
            lines.append(f"| {target.issue} | {target.text} | {_value(figure)} | {verdict} |")
        elif target.key is None:
            lines.append(f"| {target.issue} | {target.text} | not measurable here: {target.why} | **not measured** |")
        else:
            lines.append(f"| {target.issue} | {target.text} | not measured yet: run `make bench` | **not measured** |")
    for issue, text, test in TESTED_TARGETS:
        lines.append(f"| {issue} | {text} | asserted by `{test}` (run by `make test`) | shown by a test |")
    return [*lines, ""]


def render(figures: list[Figure]) -> str:
    from bench import scale

    by_key = {figure.key: figure for figure in figures}
    lines = [
        "# Benchmarks",
        "",
        "Every figure below is measured on this project's local stack by `make bench` (or the command in its",
        "row) and rewritten here by `bench/report.py`; nothing is typed by hand. A missed target stays in the",
        "table as missed.",
        "",
        *_targets(by_key),
        "## Every figure",
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
    lines += ["", scale.section({figure.key: asdict(figure) for figure in figures})]
    machines = sorted({figure.machine for figure in figures})
    lines += ["## Machine", "", *[f"- {name}" for name in machines], ""]
    return "\n".join(lines)
