"""The run page and GitHub's refusals: no re-run offered past GitHub's 30 days (and why), GitHub's own words when it
refuses anyway, and the write-access hint only for a user without write access."""

import time
from datetime import UTC, datetime, timedelta

import pytest

from runs.actions import RERUN_WINDOW
from runs.models import WorkflowRun
from runs.reads import RunDetail
from tests.dashboard.simulated_github import github_at_settings_url, signed_in
from tests.runs.conftest import settle

DAY = 86_400


@pytest.fixture
def month_old_github(dynamodb):
    """A simulator started 31 days ago, its clock brought to now: what it ran then is past GitHub's re-run window."""
    with github_at_settings_url(start_time=time.time() - 31 * DAY) as sim:
        yield sim


def test_a_run_older_than_30_days_offers_no_rerun_and_says_why(month_old_github):
    sim = month_old_github
    old = sim.trigger("acme/api", "ci", outcome="failure")
    settle(sim)
    sim.advance(time.time() - sim.now())
    alice = signed_in("alice")

    page = alice.get(f"/repos/acme/api/runs/{old.id}").content.decode()

    assert 'data-testid="actions"' in page
    assert 'data-testid="rerun"' not in page
    assert 'data-testid="rerun-failed"' not in page
    assert 'data-testid="rerun-closed"' in page
    assert "re-run only within 30 days of its creation" in page


def test_a_rerun_sent_anyway_past_30_days_shows_githubs_refusal(month_old_github):
    sim = month_old_github
    old = sim.trigger("acme/api", "ci", outcome="failure")
    settle(sim)
    sim.advance(time.time() - sim.now())
    alice = signed_in("alice")
    alice.get(f"/repos/acme/api/runs/{old.id}")

    refused = alice.post(f"/repos/acme/api/runs/{old.id}/rerun", follow=True).content.decode()

    assert "GitHub refused: Unable to re-run this workflow run because it was created over a month ago" in refused
    assert "need write access" not in refused


def test_a_recent_run_still_offers_its_reruns(alice, github_sim):
    run = github_sim.trigger("acme/api", "ci", outcome="failure")
    settle(github_sim)

    page = alice.get(f"/repos/acme/api/runs/{run.id}").content.decode()

    assert 'data-testid="rerun"' in page
    assert 'data-testid="rerun-failed"' in page
    assert 'data-testid="rerun-closed"' not in page


def test_a_writers_refusal_on_the_page_is_githubs_words_alone(alice, github_sim):
    running = github_sim.trigger("acme/api", "ci", outcome="success")
    github_sim.advance(1)
    alice.get(f"/repos/acme/api/runs/{running.id}")

    refused = alice.post(f"/repos/acme/api/runs/{running.id}/rerun", follow=True).content.decode()

    assert "GitHub refused: This workflow is already running" in refused
    assert "need write access" not in refused


@pytest.mark.parametrize(
    ("age", "closed"),
    [
        (timedelta(days=29, hours=23), False),
        (timedelta(days=30, minutes=1), True),
        (None, False),  # a run stored without its creation time: GitHub decides
    ],
)
def test_the_rerun_window_runs_30_days_from_the_runs_creation(age, closed):
    created = datetime.now(UTC) - age if age else None
    detail = RunDetail(WorkflowRun("acme/api", 1, created_at=created), [], True, None)

    assert detail.rerun_closed is closed
    assert detail.rerun_until == (created + RERUN_WINDOW if created else None)
