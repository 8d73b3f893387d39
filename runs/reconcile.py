"""Reconciliation: what webhooks missed, healed from GitHub's API.

Two repairs, run every few minutes in production (zappa_settings.json `events`) and by
`python manage.py reconcile`:
- runs still unfinished in the cache some minutes after their last update are read again (with their ETag, so
  an unchanged run costs no rate limit), found through the sparse `active-status-index`, never a scan;
- webhook deliveries GitHub recorded as failed in the last 3 days are redelivered, so the receiver gets them.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.conf import settings
from pynamodb.exceptions import PynamoDBException

from dashboard import github, metrics
from dashboard.models import GitHubState
from runs.backfill import installation_identity, run_jobs_fetch
from runs.cache import RUN_RANK, TERMINAL, MalformedRun, RunState, batch_get, run_record
from runs.models import WorkflowRun

logger = logging.getLogger(__name__)

ACTIVE_STATUSES = sorted(status for status in RUN_RANK if status != TERMINAL)
REDELIVERY_WINDOW = timedelta(days=3)  # GitHub keeps deliveries redeliverable for 3 days
REDELIVERY_MEMORY = REDELIVERY_WINDOW  # each delivery is redelivered once: a permanently bad one is not looped


@dataclass
class Report:
    runs_checked: int = 0
    runs_repaired: int = 0
    runs_unchanged: int = 0
    runs_failed: int = 0
    deliveries_checked: int = 0
    deliveries_redelivered: int = 0
    subscriptions_dropped: int = 0
    errors: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        return [
            f"runs: {self.runs_checked} checked, {self.runs_repaired} repaired, {self.runs_unchanged} unchanged, "
            f"{self.runs_failed} could not be read",
            f"deliveries: {self.deliveries_checked} checked, {self.deliveries_redelivered} redelivered",
            f"live subscriptions dropped for lost access: {self.subscriptions_dropped}",
            *[f"error: {error}" for error in self.errors],
        ]


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
    identity = installation_identity(run.installation_id)
    page = github.get_if_changed(
        f"/repos/{run.repo_id}/actions/runs/{run.run_id}",
        token=github.installation_token(run.installation_id),
        identity=identity,
        keep_etag=False,
    )
    if page is None:
        return None
    state = RunState.from_github(page.body, default_branch=run.default_branch)
    changed = run_record(state, installation_id=run.installation_id)
    if changed:
        run_jobs_fetch(run)
    github.etags_keep([page])
    return changed


def runs_reconcile(
    report: Report, *, older_than: timedelta, progress: Callable[[str], None], now: datetime | None = None
) -> None:
    for run in stale_runs(older_than, now=now):
        report.runs_checked += 1
        if run.installation_id is None:
            report.runs_failed += 1
            continue
        try:
            outcome = run_reread(run)
        except (github.GitHubError, MalformedRun, PynamoDBException) as error:
            # One run that cannot be repaired now does not stop the others, nor the redelivery after them.
            report.runs_failed += 1
            report.errors.append(f"{run.repo_id} run {run.run_id}: {error}")
            continue
        if outcome:
            report.runs_repaired += 1
            progress(f"repaired {run.repo_id} run {run.run_id}")
        else:
            report.runs_unchanged += 1


# Each pass lists only the deliveries since the previous pass (less a margin: GitHub records some late).
SCAN_KEY = "deliveries-scanned-until"
RESCAN_MARGIN = timedelta(minutes=15)


def _last_scan(default: datetime) -> datetime:
    try:
        return GitHubState.get(SCAN_KEY).updated_at or default
    except GitHubState.DoesNotExist:
        return default


def _recently_redelivered(guid: str) -> bool:
    try:
        return GitHubState.get(f"redelivered#{guid}") is not None
    except GitHubState.DoesNotExist:
        return False


def _accepted_but_unrecorded(attempts: dict[str, list[dict]]) -> set[str]:
    """Deliveries of handled events that GitHub saw accepted but that the receiver never recorded.

    The receiver answers 202 when its time budget runs out (DynamoDB hanging); such a delivery looks delivered
    to GitHub but may not have been processed. Every processed one is recorded, so the missing ones are these.
    """
    from webhooks.handlers import handler_for, ping
    from webhooks.models import WebhookDelivery

    # A ping changes nothing, so it is never recorded, and never worth redelivering.
    handled = [
        guid
        for guid, tries in attempts.items()
        if handler_for(tries[0]["event"], tries[0].get("action")) not in (None, ping)
    ]
    recorded: set[str] = set()
    for start in range(0, len(handled), 100):
        keys = [{"deliveryId": {"S": guid}} for guid in handled[start : start + 100]]
        items = batch_get({WebhookDelivery.Meta.table_name: {"Keys": keys, "ProjectionExpression": "deliveryId"}})
        recorded |= {item["deliveryId"] for item in items.get(WebhookDelivery.Meta.table_name, [])}
    return {guid for guid in handled if guid not in recorded}


def deliveries_redeliver(report: Report, *, progress: Callable[[str], None], now: datetime | None = None) -> None:
    """Redeliver, once, each delivery that failed or was never processed, within GitHub's 3 days.

    https://docs.github.com/en/rest/apps/webhooks#list-deliveries-for-an-app-webhook
    """
    started = now or datetime.now(UTC)
    oldest = started - REDELIVERY_WINDOW
    since = max(oldest, _last_scan(default=oldest) - RESCAN_MARGIN)
    attempts: dict[str, list[dict]] = {}
    for delivery in github.paginate("/app/hook/deliveries", token=github.app_jwt(), identity="app"):
        delivered_at = datetime.fromisoformat(delivery["delivered_at"].replace("Z", "+00:00"))
        if delivered_at < since:
            break  # newest first: the rest are too old to redeliver
        attempts.setdefault(delivery["guid"], []).append(delivery)
    unprocessed = _accepted_but_unrecorded(attempts)
    for guid, tries in attempts.items():
        report.deliveries_checked += 1
        accepted = any(200 <= (attempt.get("status_code") or 0) < 300 for attempt in tries)
        if (accepted and guid not in unprocessed) or _recently_redelivered(guid):
            continue
        latest = max(tries, key=lambda attempt: attempt["delivered_at"])
        try:
            github.post(f"/app/hook/deliveries/{latest['id']}/attempts", token=github.app_jwt(), identity="app")
        except github.GitHubError as error:
            report.errors.append(f"delivery {guid}: {error}")
            continue
        now = datetime.now(UTC)
        GitHubState(key=f"redelivered#{guid}", updated_at=now, expires_at=now + REDELIVERY_MEMORY).save()
        report.deliveries_redelivered += 1
        progress(f"redelivered {latest['event']} delivery {guid}")
    GitHubState(key=SCAN_KEY, updated_at=started, expires_at=started + REDELIVERY_WINDOW).save()


def reconcile(
    *,
    older_than: timedelta | None = None,
    redeliver: bool = True,
    progress: Callable[[str], None] = logger.info,
    now: datetime | None = None,
) -> Report:
    """Both repairs; one failing does not stop the other. `now` is for tests whose GitHub has its own clock."""
    report = Report()
    older_than = older_than if older_than is not None else timedelta(minutes=settings.RECONCILE_AFTER_MINUTES)
    runs_reconcile(report, older_than=older_than, progress=progress, now=now)
    if redeliver:
        try:
            deliveries_redeliver(report, progress=progress, now=now)
        except github.GitHubError as error:
            report.errors.append(f"deliveries could not be listed: {error}")
    if settings.WEBSOCKET_API_ENDPOINT:
        from realtime.gateway import connections_recheck

        report.subscriptions_dropped = connections_recheck()
    for line in report.lines():
        logger.info("reconcile: %s", line)
    metrics.emit(
        {
            "ReconcileCompleted": 1,
            "RunsRepaired": report.runs_repaired,
            "DeliveriesRedelivered": report.deliveries_redelivered,
            "ReconcileErrors": report.runs_failed + len(report.errors),
        }
    )
    return report


def scheduled(event, context):
    """The Lambda entry point the schedule calls every few minutes.

    `{"dry_run": true}` is what a deploy sends a new version before it takes traffic (devstack/release.py): it
    loads everything a pass loads and reads what it would repair, changing nothing and asking GitHub nothing.
    """
    if isinstance(event, dict) and event.get("dry_run") is True:
        older_than = timedelta(minutes=settings.RECONCILE_AFTER_MINUTES)
        return {"dry_run": True, "stale_runs": sum(1 for _ in stale_runs(older_than))}
    report = reconcile()
    return {"runs_repaired": report.runs_repaired, "deliveries_redelivered": report.deliveries_redelivered}
