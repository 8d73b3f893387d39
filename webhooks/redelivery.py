"""Redelivery of missed webhook deliveries, once each, within GitHub's 3 days: those GitHub recorded as failed,
and those it saw accepted but the receiver never recorded (answered 202 when its time budget ran out).

https://docs.github.com/en/rest/apps/webhooks#list-deliveries-for-an-app-webhook
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from dashboard.lib import github
from dashboard.lib.dynamo import batch_get
from dashboard.lib.github.state import GitHubState
from webhooks.handlers import handler_for, ping
from webhooks.models import WebhookDelivery

REDELIVERY_WINDOW = timedelta(days=3)  # GitHub keeps deliveries redeliverable for 3 days
REDELIVERY_MEMORY = REDELIVERY_WINDOW  # each delivery is redelivered once: a permanently bad one is not looped


@dataclass
class Redelivery:
    """What one pass over GitHub's recorded deliveries did."""

    checked: int = 0
    redelivered: int = 0
    errors: list[str] = field(default_factory=list)


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


def deliveries_redeliver(*, progress: Callable[[str], None], now: datetime | None = None) -> Redelivery:
    """Redeliver, once, each delivery that failed or was never processed, within GitHub's 3 days."""
    report = Redelivery()
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
        report.checked += 1
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
        report.redelivered += 1
        progress(f"redelivered {latest['event']} delivery {guid}")
    GitHubState(key=SCAN_KEY, updated_at=started, expires_at=started + REDELIVERY_WINDOW).save()
    return report
