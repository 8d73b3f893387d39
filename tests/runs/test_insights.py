"""The insight calculations on constructed histories: percentiles, regressions, flaky commits, success rates."""

from datetime import UTC, datetime, timedelta

import pytest

from runs.insights import RunFacts, duration_text, flaky_commits, insights, percentile, regression_of

START = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


def run(number, seconds=60, conclusion="success", *, sha=None, attempt=1, queued=5, workflow=1, status="completed"):
    created = START + timedelta(hours=number)
    started = created + timedelta(seconds=queued)
    return RunFacts(
        run_id=1000 + number,
        run_number=number,
        run_attempt=attempt,
        workflow_id=workflow,
        workflow_name="CI" if workflow == 1 else "Deploy",
        status=status,
        conclusion=conclusion if status == "completed" else None,
        head_sha=sha or f"sha{number:037d}",
        created_at=created,
        started_at=started,
        completed_at=started + timedelta(seconds=seconds) if status == "completed" else None,
    )


@pytest.mark.parametrize(
    ("values", "p", "expected"),
    [
        ([], 50, None),
        ([7], 95, 7),
        ([1, 2, 3, 4], 50, 2),  # nearest rank: the smallest value with half at or below it
        ([4, 1, 3, 2], 50, 2),  # order does not matter
        (list(range(1, 101)), 95, 95),
        (list(range(1, 21)), 95, 19),
        (list(range(1, 21)), 100, 20),
    ],
)
def test_percentiles_are_nearest_rank(values, p, expected):
    assert percentile(values, p) == expected


def test_a_last_run_much_slower_than_usual_is_a_regression():
    assert regression_of([100, 110, 90, 105, 95, 200])  # 200 > 1.5 x 100 and 100 s longer
    assert not regression_of([100, 110, 90, 105, 95, 140])  # slower, but not 1.5 times
    assert not regression_of([10, 11, 9, 10, 10, 25])  # 2.5 times, but only 15 s longer
    assert not regression_of([100, 100, 100, 100, 400])  # too little history to compare


def test_flaky_commits_passed_and_failed_on_the_same_commit():
    runs = [
        run(1, sha="a" * 40),
        run(2, conclusion="failure", sha="a" * 40),
        run(3, sha="b" * 40),
        run(4, conclusion="cancelled", sha="b" * 40),  # a cancelled run says nothing about flakiness
        run(5, conclusion="timed_out", sha="c" * 40),
        run(6, sha="c" * 40),
    ]
    assert flaky_commits(runs) == ["a" * 40, "c" * 40]


def test_a_workflows_insight():
    history = [run(n, seconds=60 + n) for n in range(1, 9)]
    history += [run(9, conclusion="failure", seconds=50), run(10, seconds=300, attempt=2)]
    history += [run(11, status="in_progress")]  # unfinished: counted as a run, not in durations or rates
    history += [run(12, workflow=2, seconds=30, queued=100)]
    ci, deploy = insights(list(reversed(history)))

    assert (ci.workflow_name, ci.runs, ci.passed, ci.failed) == ("CI", 11, 9, 1)
    assert ci.success_rate == pytest.approx(0.9)
    durations = sorted([60 + n for n in range(1, 9)] + [50, 300])
    assert ci.p50 == durations[4]
    assert ci.p95 == 300
    assert ci.latest_duration == 300
    assert ci.regression
    assert ci.passed_on_retry == [10]
    assert ci.flaky
    assert ci.queue_p50 == 5
    assert len(ci.bars) == 10
    assert ci.bars[-1].height > ci.bars[0].height
    assert ci.bars[8].category == "failure"

    assert (deploy.runs, deploy.success_rate, deploy.queue_p50, deploy.flaky, deploy.regression) == (
        1,
        1.0,
        100,
        False,
        False,
    )


def test_a_workflow_with_only_cancelled_runs_has_no_success_rate():
    (only,) = insights([run(1, conclusion="cancelled"), run(2, conclusion="skipped")])
    assert only.success_rate is None
    assert only.passed == only.failed == 0


@pytest.mark.parametrize(
    ("seconds", "text"), [(None, "–"), (0, "0s"), (59.6, "1m 00s"), (65, "1m 05s"), (3600 + 120, "1h 02m")]
)
def test_durations_read_as_people_write_them(seconds, text):
    assert duration_text(seconds) == text
