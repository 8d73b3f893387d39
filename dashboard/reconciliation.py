"""Reconciliation, the schedule's Lambda entry point (infra/schedule.tf) and `manage.py reconcile`: what webhooks
missed, healed from GitHub's API every few minutes.

One pass, each part failing alone: unfinished runs read again (runs/reconcile.py), missed deliveries redelivered
(webhooks/redelivery.py), and, deployed, live subscriptions to repositories their users may no longer see
dropped (realtime/gateway.py).
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings

from dashboard.lib import github, metrics
from realtime.gateway import connections_recheck
from runs.reconcile import runs_reconcile, stale_runs
from runs.visibility import visible_names
from webhooks.redelivery import deliveries_redeliver

logger = logging.getLogger(__name__)


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


def _visible_to(user_id: int) -> set[str]:
    """The repositories a user may see now; none when the user or their GitHub authorization is gone."""
    try:
        return visible_names(user_id)
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
    runs = runs_reconcile(older_than=older_than, progress=progress, now=now)
    report.runs_checked, report.runs_repaired = runs.checked, runs.repaired
    report.runs_unchanged, report.runs_failed = runs.unchanged, runs.failed
    report.errors.extend(runs.errors)
    if redeliver:
        try:
            redelivery = deliveries_redeliver(progress=progress, now=now)
        except github.GitHubError as error:
            report.errors.append(f"deliveries could not be listed: {error}")
        else:
            report.deliveries_checked, report.deliveries_redelivered = redelivery.checked, redelivery.redelivered
            report.errors.extend(redelivery.errors)
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
