"""Per-workflow insights from the runs already stored: no GitHub request is made for them.

Definitions (also on the insights page):

* success rate: successful runs over finished runs that passed or failed (cancelled and skipped runs say
  nothing about the workflow's health);
* duration: from the run's start to its completion, for finished runs; p50 and p95 by the nearest-rank method
  (the smallest value with at least p% of the values at or below it);
* queue time: from the run's creation to its start;
* regression: the latest finished run took more than REGRESSION_FACTOR times the median of the runs before it,
  and at least REGRESSION_MIN_SECONDS longer, with at least REGRESSION_MIN_HISTORY runs before it to compare;
* flaky: one commit with both a passing and a failing run of the workflow, or a run that passed only on a later
  attempt.
"""

import math
from dataclasses import dataclass, field
from datetime import datetime

from runs.summaries import FAILURE_CONCLUSIONS, run_category

REGRESSION_FACTOR = 1.5
REGRESSION_MIN_SECONDS = 30
REGRESSION_MIN_HISTORY = 5
CHART_RUNS = 30


def percentile(values: list[float], p: float) -> float | None:
    """The nearest-rank percentile of the values (None for none)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True)
class RunFacts:
    """What the insights need of one run; built from a WorkflowRun or written by hand in tests."""

    run_id: int
    run_number: int | None
    run_attempt: int
    workflow_id: int
    workflow_name: str
    status: str
    conclusion: str | None
    head_sha: str | None
    created_at: datetime | None
    started_at: datetime | None
    completed_at: datetime | None
    html_url: str | None = None

    @classmethod
    def from_run(cls, run) -> "RunFacts":
        return cls(
            run_id=run.run_id,
            run_number=run.run_number,
            run_attempt=run.run_attempt or 1,
            workflow_id=run.workflow_id or 0,
            workflow_name=run.workflow_name or run.name or f"Workflow {run.workflow_id}",
            status=run.status,
            conclusion=run.conclusion,
            head_sha=run.head_sha,
            created_at=run.created_at,
            started_at=run.run_started_at or run.created_at,
            completed_at=run.completed_at,
            html_url=run.html_url,
        )

    @property
    def finished(self) -> bool:
        return self.duration is not None

    @property
    def duration(self) -> float | None:
        """Seconds from start to completion, for a finished run (completed, with both times); else None."""
        if self.status != "completed" or self.completed_at is None or self.started_at is None:
            return None
        return max(0.0, (self.completed_at - self.started_at).total_seconds())

    @property
    def queue(self) -> float | None:
        if self.created_at is None or self.started_at is None:
            return None
        return max(0.0, (self.started_at - self.created_at).total_seconds())

    @property
    def category(self) -> str:
        return run_category(self.status, self.conclusion)


@dataclass(frozen=True)
class Bar:
    """One run in the duration chart, in the SVG's units."""

    x: float
    y: float
    width: float
    height: float
    category: str
    label: str
    url: str | None


@dataclass
class WorkflowInsight:
    workflow_id: int
    workflow_name: str
    runs: int
    passed: int
    failed: int
    success_rate: float | None  # 0..1
    p50: float | None
    p95: float | None
    queue_p50: float | None
    queue_p95: float | None
    latest_duration: float | None
    regression: bool
    flaky_commits: list[str] = field(default_factory=list)
    passed_on_retry: list[int | None] = field(default_factory=list)  # run numbers (None: GitHub gave none)
    bars: list[Bar] = field(default_factory=list)
    median_y: float | None = None

    @property
    def flaky(self) -> bool:
        return bool(self.flaky_commits or self.passed_on_retry)


def regression_of(durations: list[float]) -> bool:
    """Durations oldest first: whether the last is much slower than the median of those before it."""
    if len(durations) < REGRESSION_MIN_HISTORY + 1:
        return False
    *before, last = durations
    usual = percentile(before, 50)
    assert usual is not None  # `before` holds at least REGRESSION_MIN_HISTORY durations
    return last > usual * REGRESSION_FACTOR and last - usual >= REGRESSION_MIN_SECONDS


def flaky_commits(runs: list[RunFacts]) -> list[str]:
    """Commits with both a passing and a failing run of the same workflow."""
    outcomes: dict[str, set[str]] = {}
    for run in runs:
        if run.head_sha and run.status == "completed":
            outcomes.setdefault(run.head_sha, set()).add(run.conclusion or "")
    return sorted(sha for sha, seen in outcomes.items() if "success" in seen and seen & FAILURE_CONCLUSIONS)


def chart(runs: list[RunFacts], *, width: float = 300, height: float = 60) -> tuple[list[Bar], float | None]:
    """Bars for the last CHART_RUNS finished runs, oldest left, scaled to the slowest; and the median's y."""
    finished = [(run, duration) for run in runs if (duration := run.duration) is not None][-CHART_RUNS:]
    if not finished:
        return [], None
    longest = max(duration for _, duration in finished) or 1.0
    slot = width / CHART_RUNS
    bars = []
    for index, (run, duration) in enumerate(finished):
        bar_height = max(1.0, duration / longest * (height - 2))
        bars.append(
            Bar(
                x=round(index * slot, 1),
                y=round(height - bar_height, 1),
                width=round(slot * 0.8, 1),
                height=round(bar_height, 1),
                category=run.category,
                label=f"#{run.run_number}: {duration_text(duration)}, {run.conclusion or run.status}",
                url=run.html_url,
            )
        )
    median = percentile([duration for _, duration in finished], 50)
    assert median is not None  # `finished` is not empty
    return bars, round(height - median / longest * (height - 2), 1)


def workflow_insight(runs: list[RunFacts]) -> WorkflowInsight:
    """Insights of one workflow's runs (any order)."""
    runs = sorted(runs, key=lambda run: (run.created_at.timestamp() if run.created_at else 0.0, run.run_id))
    finished = [run for run in runs if run.finished]
    durations = [run.duration for run in finished if run.duration is not None]  # a finished run has one
    queues = [run.queue for run in runs if run.queue is not None]
    passed = sum(1 for run in finished if run.conclusion == "success")
    failed = sum(1 for run in finished if run.conclusion in FAILURE_CONCLUSIONS)
    bars, median_y = chart(runs)
    first = runs[0]
    return WorkflowInsight(
        workflow_id=first.workflow_id,
        workflow_name=first.workflow_name,
        runs=len(runs),
        passed=passed,
        failed=failed,
        success_rate=passed / (passed + failed) if passed + failed else None,
        p50=percentile(durations, 50),
        p95=percentile(durations, 95),
        queue_p50=percentile(queues, 50),
        queue_p95=percentile(queues, 95),
        latest_duration=durations[-1] if durations else None,
        regression=regression_of(durations),
        flaky_commits=flaky_commits(runs),
        passed_on_retry=[run.run_number for run in finished if run.conclusion == "success" and run.run_attempt > 1],
        bars=bars,
        median_y=median_y,
    )


def insights(runs: list[RunFacts]) -> list[WorkflowInsight]:
    """One insight per workflow, by workflow name."""
    by_workflow: dict[int, list[RunFacts]] = {}
    for run in runs:
        by_workflow.setdefault(run.workflow_id, []).append(run)
    found = [workflow_insight(group) for group in by_workflow.values()]
    return sorted(found, key=lambda insight: (insight.workflow_name.lower(), insight.workflow_id))


def duration_text(seconds: float | None) -> str:
    """A duration as people read it: 45s, 3m 05s, 1h 02m."""
    if seconds is None:
        return "–"
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m {seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"
