"""Unplanned failures get a clear answer (dashboard/errors.py): 503 with Retry-After when AWS is not answering,
500 otherwise; JSON under /api/, a standalone page elsewhere; never a traceback or the exception's text."""

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from django.urls import path
from pynamodb.exceptions import GetError

from dashboard import errors, urls
from dashboard.middleware import content_security_policy


def _client_error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "secret detail"}}, "GetItem")


FAILURES = {
    "bug": RuntimeError("secret detail"),
    "pynamodb": GetError("Failed to get item: secret detail", _client_error("ProvisionedThroughputExceededException")),
    "connection": EndpointConnectionError(endpoint_url="http://dynamodb.invalid"),
    "kms": _client_error("KMSInvalidStateException"),
    "refused": GetError("Failed to get item: secret detail", _client_error("ValidationException")),
}


def _raise(request, failure):
    raise FAILURES[failure]


urlpatterns = [
    path("api/fail/<str:failure>", _raise),
    path("fail/<str:failure>", _raise),
]
handler500 = "dashboard.errors.server_error"


@pytest.fixture
def failing(client, settings):
    settings.ROOT_URLCONF = __name__
    client.raise_request_exception = False
    return client


def test_the_real_urls_use_it():
    assert urls.handler500 == "dashboard.errors.server_error"


@pytest.mark.parametrize(
    ("failure", "status"), [("bug", 500), ("pynamodb", 503), ("connection", 503), ("kms", 503), ("refused", 500)]
)
def test_the_api_answers_json_saying_what_to_do(failing, failure, status):
    response = failing.get(f"/api/fail/{failure}")

    assert response.status_code == status
    assert response.json() == {"error": errors.UNAVAILABLE if status == 503 else errors.FAILED}
    assert response.get("Retry-After") == ("30" if status == 503 else None)
    assert b"secret detail" not in response.content


@pytest.mark.parametrize(("failure", "status"), [("bug", 500), ("pynamodb", 503)])
def test_pages_answer_a_standalone_page(failing, failure, status):
    response = failing.get(f"/fail/{failure}")

    assert response.status_code == status
    assert response["Content-Type"].startswith("text/html")
    assert b"<h1>" in response.content
    assert b"secret detail" not in response.content
    assert b"Traceback" not in response.content


def test_the_error_page_carries_the_content_security_policy(failing):
    response = failing.get("/fail/bug")

    assert response.status_code == 500
    assert response["Content-Security-Policy"] == content_security_policy()


def test_a_json_client_gets_json_anywhere(failing):
    response = failing.get("/fail/pynamodb", headers={"Accept": "application/json"})

    assert response.status_code == 503
    assert response.json() == {"error": errors.UNAVAILABLE}
