"""What a request that failed in an unplanned way gets: a clear answer, JSON under /api/ and a plain page elsewhere.

Django calls `server_error` (`handler500`) for any exception nothing else handled, wherever it was raised, in a
view or in a middleware such as the session's. AWS not answering (DynamoDB timing out, throttling past the client's
retries, a refused connection, KMS failing) is a 503 that says so and asks the client to come back; anything else
is a 500. Neither reads the session or the user: the store they live in may be what failed. Django has already
logged the exception (`django.request`), so nothing is logged here.
"""

import sys

from botocore.exceptions import BotoCoreError, ClientError
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.views.defaults import page_not_found
from pynamodb.exceptions import PynamoDBException

RETRY_AFTER_SECONDS = 30
UNAVAILABLE = "The dashboard's storage is not answering right now. Nothing is lost: try again in a minute."
FAILED = "Something went wrong on our side. It has been logged; try again, and tell us if it keeps happening."


# AWS refusing what was asked, rather than failing to answer: a mistake on our side, so a 500.
REFUSALS = {"ValidationException", "SerializationException", "ConditionalCheckFailedException"}


def aws_unavailable(error: BaseException | None) -> bool:
    """Whether `error`, or what caused it, is an AWS service failing (PynamoDB wraps botocore's error in `cause`)."""
    wrapped = False
    while error is not None:
        if isinstance(error, ClientError):
            return error.response.get("Error", {}).get("Code") not in REFUSALS
        if isinstance(error, BotoCoreError):
            return True
        wrapped = wrapped or isinstance(error, PynamoDBException)
        error = getattr(error, "cause", None) or error.__cause__
    return wrapped


def server_error(request) -> HttpResponse:
    unavailable = aws_unavailable(sys.exc_info()[1])
    status, message = (503, UNAVAILABLE) if unavailable else (500, FAILED)
    response: HttpResponse
    if request.path.startswith("/api/") or "application/json" in request.headers.get("Accept", ""):
        response = JsonResponse({"error": message}, status=status)
    else:
        html = render_to_string("dashboard/error.html", {"status": status, "message": message})
        response = HttpResponse(html, status=status)
    if unavailable:
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def not_found(request, exception) -> HttpResponse:
    """A URL no route matches (a run id outside GitHub's range, say): JSON under /api/, as the API's own 404s."""
    if request.path.startswith("/api/"):
        return JsonResponse({"error": "Not found."}, status=404)
    return page_not_found(request, exception)
