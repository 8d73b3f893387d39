"""The contract checks can fail: altered copies of real answers and deliveries are each reported as a departure.

Every case takes a genuine exchange (or delivery) from the journey, which keeps to GitHub's description, changes one
thing the way a simulator bug would, and expects the check to name the change.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import replace

import pytest
from requests.structures import CaseInsensitiveDict


def _first(journey, pattern: str, status: int = 200):
    return next(item for item in journey.exchanges if re.search(pattern, item.url) and item.status == status)


def _with_body(exchange, change):
    body = copy.deepcopy(exchange.json())
    change(body)
    return replace(exchange, body=json.dumps(body).encode())


def _with_headers(exchange, **changes):
    headers = CaseInsensitiveDict(exchange.headers)
    for name, value in changes.items():
        name = name.replace("_", "-")
        if value is None:
            headers.pop(name, None)
        else:
            headers[name] = value
    return replace(exchange, headers=headers)


RUN = r"/actions/runs/\d+$"
JOB = r"/actions/jobs/\d+$"
PAGED_RUNS = r"/repos/acme/api/actions/runs\?per_page=3$"  # page 1 of several, with next and last


def _bad_rel(exchange):
    return _with_headers(exchange, Link=exchange.headers["Link"].replace('rel="next"', 'rel="following"'))


def _by_name(exchange):
    return _with_headers(exchange, Link=re.sub(r"/repositories/\d+/", "/repos/acme/api/", exchange.headers["Link"]))


def _wrong_page(exchange):
    return _with_headers(exchange, Link=exchange.headers["Link"].replace("page=2>", "page=3>", 1))


def _other_operation(exchange):
    return _with_headers(exchange, Link=re.sub(r"/actions/runs\?", "/actions/workflows?", exchange.headers["Link"]))


CASES = {
    "a job status outside the enum": (
        JOB,
        lambda item: _with_body(item, lambda body: body.update(status="paused")),
        "'paused' is not one of",
    ),
    "a run without its id": (
        RUN,
        lambda item: _with_body(item, lambda body: body.pop("id")),
        "'id' is a required property",
    ),
    "a run number as text": (
        RUN,
        lambda item: _with_body(item, lambda body: body.update(run_number="7")),
        "body.run_number: '7' is not of type 'integer'",
    ),
    "an undocumented status": (RUN, lambda item: replace(item, status=418), "status 418 is not one"),
    "a body where none is documented": (
        RUN,
        lambda item: replace(item, status=304, request_headers=CaseInsensitiveDict()),
        "status 304 is not one",
    ),
    "no ETag": (RUN, lambda item: _with_headers(item, ETag=None), "no ETag header"),
    "a malformed ETag": (RUN, lambda item: _with_headers(item, ETag="abc"), "is not an entity tag"),
    "no X-RateLimit-Remaining": (
        RUN,
        lambda item: _with_headers(item, X_RateLimit_Remaining=None),
        "no X-RateLimit-Remaining header",
    ),
    "a reset in milliseconds": (
        RUN,
        lambda item: _with_headers(item, X_RateLimit_Reset="1772452800000"),
        "is not a time in epoch seconds",
    ),
    "used and remaining that do not add up": (
        RUN,
        lambda item: _with_headers(item, X_RateLimit_Used="7"),
        "do not add up",
    ),
    "an unknown rate-limit resource": (
        RUN,
        lambda item: _with_headers(item, X_RateLimit_Resource="actions"),
        "is none of GET /rate_limit's resources",
    ),
    "a Link with a bad rel": (PAGED_RUNS, _bad_rel, "Link rel 'following' is none of"),
    "a Link naming the repository by name": (PAGED_RUNS, _by_name, "GitHub's links use /repositories/{id}"),
    "a Link to the wrong page": (PAGED_RUNS, _wrong_page, "Link next is page 3"),
    "a Link to another operation": (
        PAGED_RUNS,
        _other_operation,
        "is not a page of actions/list-workflow-runs-for-repo",
    ),
    "a Link missing from a listing of several pages": (
        PAGED_RUNS,
        lambda item: _with_headers(item, Link=None),
        "no Link header, yet",
    ),
    "a Link in the wrong order": (
        PAGED_RUNS,
        lambda item: _with_headers(item, Link=", ".join(reversed(item.headers["Link"].split(", ")))),
        "are not in GitHub's order",
    ),
    "a path GitHub does not have": (RUN, lambda item: replace(item, url=item.url + "/logs/zip"), "no operation"),
}


@pytest.mark.parametrize("case", CASES)
def test_an_altered_rest_answer_is_reported(journey, rest, case):
    pattern, alter, expected = CASES[case]
    genuine = _first(journey, pattern)
    assert rest.problems(genuine) == []
    problems = rest.problems(alter(genuine))
    assert any(expected in problem for problem in problems), problems


def _delivery(journey, event: str, action: str):
    return next(item for item in journey.deliveries if (item.event, item.action) == (event, action))


def _altered_payload(item, change):
    payload = copy.deepcopy(item.payload)
    change(payload)
    return item.headers, json.dumps(payload).encode()


def _without_header(item, name):
    return {key: value for key, value in item.headers.items() if key != name}, item.body


WEBHOOK_CASES = {
    "a run status outside the enum": (
        ("workflow_run", "completed"),
        lambda item: _altered_payload(item, lambda payload: payload["workflow_run"].update(status="paused")),
        "payload.workflow_run.status",
    ),
    "a job without its steps": (
        ("workflow_job", "in_progress"),
        lambda item: _altered_payload(item, lambda payload: payload["workflow_job"].pop("steps")),
        "'steps' is a required property",
    ),
    "an installation without its account": (
        ("installation", "created"),
        lambda item: _altered_payload(item, lambda payload: payload["installation"].pop("account")),
        "'account' is a required property",
    ),
    "an action GitHub does not send": (
        ("workflow_run", "requested"),
        lambda item: _altered_payload(item, lambda payload: payload.update(action="started")),
        "GitHub describes no such webhook",
    ),
    "no delivery id": (
        ("workflow_run", "requested"),
        lambda item: _without_header(item, "x-github-delivery"),
        "no X-GitHub-Delivery header",
    ),
    "no signature": (
        ("workflow_job", "queued"),
        lambda item: _without_header(item, "x-hub-signature-256"),
        "no X-Hub-Signature-256 header",
    ),
}


@pytest.mark.parametrize("case", WEBHOOK_CASES)
def test_an_altered_delivery_is_reported(journey, webhooks, case):
    (event, action), alter, expected = WEBHOOK_CASES[case]
    genuine = _delivery(journey, event, action)
    assert webhooks.problems(genuine.headers, genuine.body) == []
    problems = webhooks.problems(*alter(genuine))
    assert any(expected in problem for problem in problems), problems
