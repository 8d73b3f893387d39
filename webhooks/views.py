"""`POST /webhooks/github`: GitHub's deliveries, verified before anything else, answered within 10 seconds."""

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as BudgetExceeded
from datetime import datetime

from django.conf import settings
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from dashboard.lib import metrics
from dashboard.lib.shapes import Malformed
from webhooks.handlers import APPLIED, IGNORED, handle
from webhooks.verify import MAX_BODY_BYTES, Refused, verified_delivery

logger = logging.getLogger(__name__)

# GitHub gives up after 10 seconds; the answer must leave before that even if DynamoDB hangs.
BUDGET_SECONDS = 8.0
_workers = ThreadPoolExecutor(max_workers=8, thread_name_prefix="webhook")


def _secrets() -> list[str]:
    return [secret for secret in (settings.GITHUB_WEBHOOK_SECRET, settings.GITHUB_WEBHOOK_SECRET_PREVIOUS) if secret]


def _body(request) -> bytes:
    declared = request.META.get("CONTENT_LENGTH") or "0"
    if not declared.isdigit():
        raise Refused(400, "Malformed Content-Length.")
    if int(declared) > MAX_BODY_BYTES:
        raise Refused(413, "The delivery is too large; reconciliation will read the run from the API.")
    body = request.read(MAX_BODY_BYTES + 1)
    if len(body) > MAX_BODY_BYTES:
        raise Refused(413, "The delivery is too large; reconciliation will read the run from the API.")
    return body


def _changed_at(delivery) -> datetime | None:
    """When GitHub says the run or job changed: the start of the webhook's lag."""
    item = delivery.payload.get(delivery.event) if delivery.event in ("workflow_run", "workflow_job") else None
    if not isinstance(item, dict):
        return None
    for name in ("updated_at", "completed_at", "started_at", "created_at"):
        value = item.get(name)
        if isinstance(value, str):
            try:
                return datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                return None
    return None


def _measure(delivery, outcome: str) -> None:
    """What operators watch: deliveries handled, and how long after GitHub's change a change was applied."""
    values: dict[str, float] = {"WebhookProcessed": 1}
    changed_at = _changed_at(delivery) if outcome == APPLIED else None
    if changed_at is not None and changed_at.tzinfo is not None:
        values["WebhookLag"] = max(0, round((time.time() - changed_at.timestamp()) * 1000))
    metrics.emit(values, event=delivery.event, outcome=outcome)


@csrf_exempt
@require_POST
def github_webhook(request):
    try:
        delivery = verified_delivery(
            headers=request.headers,
            content_type=request.META.get("CONTENT_TYPE"),
            body=_body(request),
            secrets=_secrets(),
        )
    except Refused as refusal:
        # Never the headers or the body: GitHub once sent a secret in a header.
        logger.info("webhook refused (%s): %s", refusal.status, refusal.message)
        metrics.emit({"WebhookRefused": 1}, status=refusal.status)
        return JsonResponse({"error": refusal.message}, status=refusal.status)

    work = _workers.submit(handle, delivery)
    try:
        outcome = work.result(timeout=BUDGET_SECONDS)
    except BudgetExceeded:
        # Accepted: the work may still finish; if it does not, the run is re-read by reconciliation.
        metrics.emit({"WebhookFailed": 1}, event=delivery.event, reason="budget exceeded")
        logger.warning(
            "webhook %s %s: still working after %.0f s", delivery.event, delivery.delivery_id, BUDGET_SECONDS
        )
        return JsonResponse({"delivery": delivery.delivery_id, "outcome": "accepted"}, status=202)
    except Malformed as malformed:
        # The field's name only, never its value: payloads are not logged.
        logger.info("webhook %s %s: unexpected payload: %s", delivery.event, delivery.delivery_id, malformed)
        metrics.emit({"WebhookFailed": 1}, event=delivery.event, reason="unexpected payload")
        return JsonResponse({"error": f"The payload does not have the shape of this event: {malformed}."}, status=400)
    except (KeyError, TypeError, ValueError) as error:
        logger.info("webhook %s %s: unexpected payload: %s", delivery.event, delivery.delivery_id, type(error).__name__)
        metrics.emit({"WebhookFailed": 1}, event=delivery.event, reason="unexpected payload")
        return JsonResponse({"error": "The payload does not have the shape of this event."}, status=400)
    except Exception as error:
        # Answered 500 by Django, so GitHub records a failure that reconciliation redelivers.
        metrics.emit({"WebhookFailed": 1}, event=delivery.event, reason=type(error).__name__)
        raise
    _measure(delivery, outcome)
    logger.info("webhook %s.%s %s: %s", delivery.event, delivery.action, delivery.delivery_id, outcome)
    status = 202 if outcome == IGNORED else 200
    return JsonResponse({"delivery": delivery.delivery_id, "outcome": outcome}, status=status)
