"""Reconciliation, the schedule's Lambda entry point (infra/schedule.tf) and `manage.py reconcile`: what webhooks
missed, healed from GitHub's API every few minutes.

One pass, each part failing alone: unfinished runs read again (runs/reconcile.py), missed deliveries redelivered
(webhooks/redelivery.py), and, deployed, live subscriptions to repositories their users may no longer see
dropped (realtime/gateway.py).
"""

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings

from accounts.models import UserRecord
from dashboard.lib import github, metrics
from realtime.gateway import connections_recheck
from runs.reconcile import Report, runs_reconcile, stale_runs
from runs.visibility import visible_repos
from webhooks.redelivery import deliveries_redeliver

logger = logging.getLogger(__name__)


def _visible_to(user_id: int) -> set[str]:
    """The repositories a user may see now; none when the user or their GitHub authorization is gone."""
    try:
        return set(visible_repos(UserRecord.get(user_id)).repos)
    except Exception:  # the user or GitHub is gone: the connection keeps nothing
        return set()


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
        report.subscriptions_dropped = connections_recheck(_visible_to)
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
