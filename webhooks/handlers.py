"""What each GitHub event does, as one dispatch table.

Run and job events go through the run cache's merge rule, in one transaction with the delivery record and the
browser event; installation events make every kept visibility stale; a revoked authorization ends the user's
sessions. Events and actions not in the table are answered and ignored.
"""

from collections.abc import Callable
from datetime import UTC, datetime

from pynamodb.exceptions import PutError

from accounts.flows import user_revoke
from runs.cache import DuplicateDelivery, JobState, RunState, job_record, run_record, summary_record
from runs.visibility import visibility_invalidate
from webhooks.models import WebhookDelivery
from webhooks.verify import Delivery

APPLIED, STALE, DUPLICATE, IGNORED, PONG = "applied", "stale", "duplicate", "ignored", "pong"


def delivery_record(delivery: Delivery, state: str) -> WebhookDelivery:
    return WebhookDelivery(
        delivery_id=delivery.delivery_id,
        event=delivery.event,
        action=delivery.action,
        state=state,
        received_at=datetime.now(UTC),
    )


def remember(delivery: Delivery, state: str) -> bool:
    """Record the delivery; False if it was recorded before (a redelivery or a duplicate)."""
    try:
        delivery_record(delivery, state).save(condition=WebhookDelivery.delivery_id.does_not_exist())
    except PutError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


def _installation_id(payload: dict) -> int | None:
    installation = payload.get("installation") or {}
    return installation.get("id")


def _applied_or_stale(delivery: Delivery, record: Callable[[WebhookDelivery], bool]) -> str:
    try:
        if record(delivery_record(delivery, APPLIED)):
            return APPLIED
    except DuplicateDelivery:
        return DUPLICATE
    # Not later than what is stored: nothing changes, but the delivery is remembered as seen.
    return STALE if remember(delivery, STALE) else DUPLICATE


def workflow_run(delivery: Delivery) -> str:
    payload = delivery.payload
    run = payload["workflow_run"]
    # The run's own `repository` is the short form; the event's carries the default branch.
    run = {**run, "repository": {**run.get("repository", {}), **payload.get("repository", {})}}
    state = RunState.from_github(run, workflow_name=(payload.get("workflow") or {}).get("name"))
    installation_id = _installation_id(payload)
    outcome = _applied_or_stale(
        delivery, lambda seen: run_record(state, installation_id=installation_id, delivery=seen)
    )
    if outcome == DUPLICATE:
        # A redelivery can follow a first attempt that stored the run and then failed on its summary update
        # (throttled, timed out): that attempt answered 5xx, and this one finishes it. The summary's own
        # condition makes this a no-op when the summary is already as late.
        summary_record(state)
    return outcome


def workflow_job(delivery: Delivery) -> str:
    payload = delivery.payload
    state = JobState.from_github(payload["workflow_job"], repo_id=payload["repository"]["full_name"])
    return _applied_or_stale(delivery, lambda seen: job_record(state, delivery=seen))


def installation_changed(delivery: Delivery) -> str:
    """Repositories were added to or removed from what the App can see: every kept visibility is stale now."""
    if not remember(delivery, APPLIED):
        return DUPLICATE
    visibility_invalidate()
    return APPLIED


def authorization_revoked(delivery: Delivery) -> str:
    """The user revoked the App's authorization: their sessions end and their tokens are forgotten."""
    if not remember(delivery, APPLIED):
        return DUPLICATE
    user_revoke(int(delivery.payload["sender"]["id"]))
    return APPLIED


def ping(delivery: Delivery) -> str:
    return PONG


# (event, action): handler. An action of None matches every action of the event.
HANDLERS: dict[tuple[str, str | None], Callable[[Delivery], str]] = {
    ("workflow_run", "requested"): workflow_run,
    ("workflow_run", "in_progress"): workflow_run,
    ("workflow_run", "completed"): workflow_run,
    ("workflow_job", "queued"): workflow_job,
    ("workflow_job", "waiting"): workflow_job,
    ("workflow_job", "in_progress"): workflow_job,
    ("workflow_job", "completed"): workflow_job,
    ("installation", "created"): installation_changed,
    ("installation", "deleted"): installation_changed,
    ("installation", "suspend"): installation_changed,
    ("installation", "unsuspend"): installation_changed,
    ("installation", "new_permissions_accepted"): installation_changed,
    ("installation_repositories", "added"): installation_changed,
    ("installation_repositories", "removed"): installation_changed,
    ("github_app_authorization", "revoked"): authorization_revoked,
    ("ping", None): ping,
}

# The events the App must subscribe to (the rest GitHub sends every App unasked); the README lists the same.
SUBSCRIBED_EVENTS = {"workflow_run", "workflow_job"}


def handler_for(event: str, action: str | None) -> Callable[[Delivery], str] | None:
    return HANDLERS.get((event, action)) or HANDLERS.get((event, None))


def handle(delivery: Delivery) -> str:
    handler = handler_for(delivery.event, delivery.action)
    return handler(delivery) if handler else IGNORED
