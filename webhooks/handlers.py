"""What each GitHub event does, as one dispatch table.

Run and job events go through the run cache's merge rule, in one transaction with the delivery record and the
browser event; installation events make every kept visibility stale; a revoked authorization ends the user's
sessions. Every handler records the delivery only together with, or after, its effect, so a delivery whose effect
failed is applied again when redelivered. Events and actions not in the table are answered and ignored.
"""

from collections.abc import Callable
from datetime import UTC, datetime

from pynamodb.exceptions import PutError

from accounts.flows import user_revoke
from dashboard.lib.shapes import Fields
from runs.cache import AlreadyClaimed, Claim, job_record, run_record
from runs.states import JobState, RunState
from runs.summaries import summary_record
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


def seen(delivery: Delivery) -> bool:
    """Whether the delivery was recorded before (a consistent read, so a record just written is seen)."""
    try:
        WebhookDelivery.get(delivery.delivery_id, consistent_read=True, attributes_to_get=["deliveryId"])
    except WebhookDelivery.DoesNotExist:
        return False
    return True


def remember(delivery: Delivery, state: str) -> bool:
    """Record the delivery; False if it was recorded before (a redelivery or a duplicate)."""
    try:
        delivery_record(delivery, state).save(condition=WebhookDelivery.delivery_id.does_not_exist())
    except PutError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


def _installation_id(payload: Fields) -> int | None:
    installation = payload.obj("installation")
    return installation.int("id") if installation else None


def _applied_or_stale(delivery: Delivery, record: Callable[[Claim], bool]) -> str:
    """Apply a change in one transaction with the delivery's record, which is written only if it is new."""
    claim = Claim(delivery_record(delivery, APPLIED), WebhookDelivery.delivery_id.does_not_exist())
    try:
        if record(claim):
            return APPLIED
    except AlreadyClaimed:
        return DUPLICATE
    # Not later than what is stored: nothing changes, but the delivery is remembered as seen.
    return STALE if remember(delivery, STALE) else DUPLICATE


def workflow_run(delivery: Delivery) -> str:
    payload = Fields(delivery.payload, "")
    workflow = payload.obj("workflow")
    # The run's own `repository` is the short form; the event's carries the default branch.
    state = RunState.from_github(
        payload.obj("workflow_run", required=True).data,
        workflow_name=workflow.str("name") if workflow else None,
        repository=payload.obj("repository", required=True).data,
    )
    installation_id = _installation_id(payload)
    outcome = _applied_or_stale(delivery, lambda claim: run_record(state, installation_id=installation_id, claim=claim))
    if outcome == DUPLICATE:
        # A redelivery can follow a first attempt that stored the run and then failed on its summary update
        # (throttled, timed out): that attempt answered 5xx, and this one finishes it. The summary's own
        # condition makes this a no-op when the summary is already as late.
        summary_record(state)
    return outcome


def workflow_job(delivery: Delivery) -> str:
    payload = Fields(delivery.payload, "")
    repo_id = payload.obj("repository", required=True).str("full_name", required=True)
    state = JobState.from_github(payload.obj("workflow_job", required=True).data, repo_id=repo_id)
    return _applied_or_stale(delivery, lambda claim: job_record(state, claim=claim))


def _act_then_remember(delivery: Delivery, act: Callable[[], object]) -> str:
    """Apply an idempotent effect, then record the delivery.

    In this order, a failure of the effect (throttled, timed out: answered 5xx) leaves the delivery unrecorded,
    so GitHub's redelivery, or reconciliation's, applies it. Recorded first, the redelivery would be answered
    "duplicate" and a removal or a revocation would never happen. Two copies racing may both act: harmless.
    """
    if seen(delivery):
        return DUPLICATE
    act()
    return APPLIED if remember(delivery, APPLIED) else DUPLICATE


def installation_changed(delivery: Delivery) -> str:
    """Repositories were added to or removed from what the App can see: every kept visibility is stale now."""
    return _act_then_remember(delivery, visibility_invalidate)


def authorization_revoked(delivery: Delivery) -> str:
    """The user revoked the App's authorization: their sessions end and their tokens are forgotten."""
    user_id = Fields(delivery.payload, "").obj("sender", required=True).int("id", required=True)
    return _act_then_remember(delivery, lambda: user_revoke(user_id))


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
