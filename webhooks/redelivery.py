"""Redelivery of missed webhook deliveries, once each, within GitHub's 3 days: those GitHub recorded as failed,
and those it saw accepted but the receiver never recorded (answered 202 when its time budget ran out).

Each pass lists the App's deliveries newest first and stops at the newest one the pass before it listed (its id is
kept in DynamoDB), so each delivery is listed once; the first pass, with no such mark, reads the whole 3 days.
A failure GitHub records below the mark after it was taken is caught by one page of `status=failure` per pass.

https://docs.github.com/en/rest/apps/webhooks#list-deliveries-for-an-app-webhook
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from pynamodb.exceptions import PutError

from dashboard.lib import github
from dashboard.lib.dynamo import batch_get
from dashboard.lib.github.state import GitHubState
from webhooks.handlers import handler_for, ping
from webhooks.models import WebhookDelivery

REDELIVERY_WINDOW = timedelta(days=3)  # GitHub keeps deliveries redeliverable for 3 days
REDELIVERY_MEMORY = REDELIVERY_WINDOW  # each delivery is redelivered once: a permanently bad one is not looped
PER_PAGE = 100  # the most GitHub gives a page

# The id of the newest delivery a pass listed: the next pass lists down to it and no further.
MARK_KEY = "deliveries-listed-through"


@dataclass
class Redelivery:
    """What one pass over GitHub's recorded deliveries did."""

    checked: int = 0
    redelivered: int = 0
    errors: list[str] = field(default_factory=list)
    unsent: set[str] = field(default_factory=set)  # GUIDs whose redelivery GitHub did not take


def _delivered_at(delivery: dict) -> datetime:
    return datetime.fromisoformat(delivery["delivered_at"].replace("Z", "+00:00"))


def _mark() -> int | None:
    try:
        through = GitHubState.get(MARK_KEY).delivery_id
    except GitHubState.DoesNotExist:
        return None
    return None if through is None else int(through)


def _listed_since(mark: int | None, *, oldest: datetime) -> list[dict]:
    """The deliveries newer than the mark (the whole window when there is none), newest first."""
    listed = []
    deliveries = github.paginate(
        "/app/hook/deliveries", token=github.app_jwt(), identity="app", params={"per_page": PER_PAGE}
    )
    for delivery in deliveries:
        if (mark is not None and delivery["id"] <= mark) or _delivered_at(delivery) < oldest:
            break  # newest first: the rest were listed by an earlier pass, or are too old to redeliver
        listed.append(delivery)
    return listed


def _late_failures(mark: int | None, *, oldest: datetime) -> list[dict]:
    """Failures at or below the mark: those GitHub recorded after a newer delivery that a pass had already listed.

    GitHub lists by id and does not promise to record a delivery before a newer one (a slow attempt can land below a
    quick later one); the newest page of `status=failure` (answered 400-599, in GitHub's description) holds them.
    """
    if mark is None:
        return []  # a first pass reads the whole window
    params = {"per_page": PER_PAGE, "status": "failure"}
    failures = github.get("/app/hook/deliveries", token=github.app_jwt(), identity="app", params=params)
    if not isinstance(failures, list):
        raise github.GitHubError("GitHub's list of deliveries is not a list")
    return [delivery for delivery in failures if delivery["id"] <= mark and _delivered_at(delivery) >= oldest]


def _present(table_name: str, key_name: str, keys: Iterable[str]) -> set[str]:
    """Which of the keys have an item in the table, 100 to a BatchGetItem."""
    keys = list(keys)
    found: set[str] = set()
    for start in range(0, len(keys), 100):
        request = [{key_name: {"S": key}} for key in keys[start : start + 100]]
        items = batch_get(
            {table_name: {"Keys": request, "ProjectionExpression": "#k", "ExpressionAttributeNames": {"#k": key_name}}}
        )
        found |= {item[key_name] for item in items.get(table_name, [])}
    return found


def _recently_redelivered(guids: Iterable[str]) -> set[str]:
    keys = {f"redelivered#{guid}": guid for guid in guids}
    return {keys[key] for key in _present(GitHubState.Meta.table_name, "key", keys)}


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
    recorded = _present(WebhookDelivery.Meta.table_name, "deliveryId", handled)
    return {guid for guid in handled if guid not in recorded}


def _mark_move(mark: int | None, listed: list[dict], unsent: set[str], started: datetime) -> None:
    """Keep the newest delivery listed as the next pass's stop, but not past one whose redelivery failed: the next
    pass lists that one again. Never moved back, should two passes overlap."""
    retry = [delivery["id"] - 1 for delivery in listed if delivery["guid"] in unsent]
    through = min([max(delivery["id"] for delivery in listed), *retry]) if listed else mark
    if through is None:
        return
    state = GitHubState(key=MARK_KEY, delivery_id=through, updated_at=started, expires_at=started + REDELIVERY_WINDOW)
    try:
        state.save(condition=GitHubState.delivery_id.does_not_exist() | (GitHubState.delivery_id <= through))
    except PutError as error:
        if error.cause_response_code != "ConditionalCheckFailedException":
            raise


def _redeliver(attempts: dict[str, list[dict]], done: set[str], progress: Callable[[str], None]) -> Redelivery:
    """Redeliver each delivery that no attempt got processed, unless it was redelivered before."""
    report = Redelivery()
    unprocessed = _accepted_but_unrecorded(attempts)
    for guid, tries in attempts.items():
        report.checked += 1
        accepted = any(200 <= (attempt.get("status_code") or 0) < 300 for attempt in tries)
        if (accepted and guid not in unprocessed) or guid in done:
            continue
        latest = max(tries, key=lambda attempt: attempt["delivered_at"])
        try:
            github.post(f"/app/hook/deliveries/{latest['id']}/attempts", token=github.app_jwt(), identity="app")
        except github.GitHubError as error:
            report.errors.append(f"delivery {guid}: {error}")
            report.unsent.add(guid)
            continue
        now = datetime.now(UTC)
        GitHubState(key=f"redelivered#{guid}", updated_at=now, expires_at=now + REDELIVERY_MEMORY).save()
        report.redelivered += 1
        progress(f"redelivered {latest['event']} delivery {guid}")
    return report


def deliveries_redeliver(*, progress: Callable[[str], None], now: datetime | None = None) -> Redelivery:
    """Redeliver, once, each delivery that failed or was never processed, within GitHub's 3 days."""
    started = now or datetime.now(UTC)
    oldest = started - REDELIVERY_WINDOW
    mark = _mark()
    listed = _listed_since(mark, oldest=oldest)
    late = _late_failures(mark, oldest=oldest)
    done = _recently_redelivered({delivery["guid"] for delivery in listed + late})
    attempts: dict[str, list[dict]] = {}
    for delivery in listed + [delivery for delivery in late if delivery["guid"] not in done]:
        attempts.setdefault(delivery["guid"], []).append(delivery)
    report = _redeliver(attempts, done, progress)
    _mark_move(mark, listed, report.unsent, started)
    return report
