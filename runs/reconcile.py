"""Reconciliation's part in the run cache: runs still unfinished some minutes after their last update are read
again (with their ETag, so an unchanged run costs no rate limit), found through the sparse
`active-status-index`, never a scan. The whole pass (with redelivery, webhooks/redelivery.py) is
dashboard/reconciliation.py.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from pynamodb.exceptions import PynamoDBException

from dashboard.lib import github
from runs.backfill import installation_identity, run_jobs_fetch
from runs.cache import run_record
from runs.models import WorkflowRun
from runs.states import RUN_RANK, TERMINAL, MalformedRun, RunState

logger = logging.getLogger(__name__)

ACTIVE_STATUSES = sorted(status for status in RUN_RANK if status != TERMINAL)


@dataclass
class RunsRepair:
    """What one pass over the unfinished runs did."""

    checked: int = 0
    repaired: int = 0
    unchanged: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


def stale_runs(older_than: timedelta, *, now: datetime | None = None):
    """Unfinished runs not updated for `older_than`, from the sparse index (only unfinished runs are in it)."""
    cutoff = (now or datetime.now(UTC)) - older_than
    for status in ACTIVE_STATUSES:
        yield from WorkflowRun.active.query(status, WorkflowRun.updated_at < cutoff)


def run_reread(run: WorkflowRun) -> bool | None:
    """Read one run again; True if the cache changed, False if not, None if GitHub said 304.

    The run's ETag is kept only once the run and its jobs are stored, so a pass that fails to store them
    reads the run in full again next time rather than being told 304.
    """
    installation_id = int(run.installation_id)  # runs_reconcile passes only runs that have one
    identity = installation_identity(installation_id)
    with github.kept_after() as pages:
        page = github.get_if_changed(
            f"/repos/{run.repo_id}/actions/runs/{run.run_id}",
            token=github.installation_token(installation_id),
            identity=identity,
            keep_etag=False,
        )
        if page is None:
            return None
        pages.append(page)
        state = RunState.from_github(page.body, default_branch=run.default_branch)
        changed = run_record(state, installation_id=installation_id)
        if changed:
            run_jobs_fetch(run)
    return changed


def runs_reconcile(
    *, older_than: timedelta, progress: Callable[[str], None], now: datetime | None = None
) -> RunsRepair:
    """Read again every run unfinished for `older_than`; one that cannot be read does not stop the others."""
    report = RunsRepair()
    for run in stale_runs(older_than, now=now):
        report.checked += 1
        if run.installation_id is None:
            report.failed += 1
            continue
        try:
            outcome = run_reread(run)
        except (github.GitHubError, MalformedRun, PynamoDBException) as error:
            # One run that cannot be repaired now does not stop the others, nor the redelivery after them.
            report.failed += 1
            report.errors.append(f"{run.repo_id} run {run.run_id}: {error}")
            continue
        if outcome:
            report.repaired += 1
            progress(f"repaired {run.repo_id} run {run.run_id}")
        else:
            report.unchanged += 1
    return report
