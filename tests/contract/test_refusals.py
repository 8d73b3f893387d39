"""The run actions' refusals, held to GitHub's description, and to GitHub's real answers where it is silent.

GitHub's REST description documents only 201 for `POST …/rerun` and `…/rerun-failed-jobs`, and 202 and 409 for
`…/cancel`, yet GitHub refuses them with 403 and 404 (recorded exchanges, below). The simulator answers as GitHub
does, so those answers cannot keep to the description's statuses: each is listed here with where GitHub was seen
answering so, and held to everything else the description says (GitHub's error body, its headers). Any other
departure, or an undocumented answer not listed, fails.

The same checks hold a simulator in GitHub Enterprise Server's mode with rate limiting off, where the only departure
allowed is the absence of the `X-RateLimit-*` headers (api.github.com always sends them; such a GHES sends none).
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from ghsim.testing import running_simulator
from tests.contract.conftest import START, Client
from tests.contract.descriptions import RATE_LIMIT_HEADERS
from tests.ghsim.conftest import finish, until

DAY = 86_400
PYGITHUB = "PyGithub/PyGithub tests/ReplayData/WorkflowRun.{}.txt (api.github.com, recorded 2023-01-13)"
# (operation, status, GitHub's message): where GitHub was recorded answering so.
UNDOCUMENTED = {
    ("actions/re-run-workflow", 403, "Must have admin rights to Repository."): PYGITHUB.format("test_rerun"),
    ("actions/re-run-workflow-failed-jobs", 403, "Must have admin rights to Repository."): (
        "the same refusal as …/rerun's (PyGithub's recording above); the simulator's guess for this endpoint"
    ),
    ("actions/cancel-workflow-run", 403, "Must have admin rights to Repository."): PYGITHUB.format("test_cancel"),
    ("actions/re-run-workflow", 403, "This workflow is already running"): (
        "cli/cli#9221 (GH_DEBUG=api: 403 to re-running an unfinished run), and clients that match this message"
    ),
    ("actions/re-run-workflow-failed-jobs", 403, "This workflow is already running"): "cli/cli#9221",
    (
        "actions/re-run-workflow",
        403,
        "Unable to re-run this workflow run because it was created over a month ago",
    ): "a public script matching the `message` of POST `rerun_url`; cli/cli#9989",
    (
        "actions/re-run-workflow-failed-jobs",
        403,
        "Unable to retry this workflow run because it was created over a month ago",
    ): "a recorded POST …/rerun-failed-jobs (2026-07-28) quoted in a public design note; cli/cli#9989",
    ("actions/re-run-workflow-failed-jobs", 403, "This workflow run has no failed jobs to re-run"): (
        "the simulator's guess: GitHub's answer to this is not on record"
    ),
    ("actions/re-run-workflow", 404, "Not Found"): (
        "GitHub answers 404 for a resource that does not exist or the caller may not see "
        "(docs: rest/using-the-rest-api/troubleshooting-the-rest-api)"
    ),
    ("actions/cancel-workflow-run", 404, "Not Found"): "as above",
}


def _refusals(sim) -> list:
    """Every refusal of a run action the simulator gives, each asked for once, and their successes beside them."""
    journal: list = []
    alice = Client(sim, journal, f"Bearer {sim.user_token('alice')}")
    bob = Client(sim, journal, f"Bearer {sim.user_token('bob')}")
    running = sim.trigger("acme/api", "ci", outcome="success")
    failed = sim.trigger("acme/api", "ci", outcome="failure")
    passed = sim.trigger("acme/api", "ci", outcome="success")
    until(sim, running.id, "in_progress")
    for action in ("rerun", "rerun-failed-jobs", "approve"):
        alice.post(f"/repos/acme/api/actions/runs/{running.id}/{action}")
    bob.post(f"/repos/acme/api/actions/runs/{running.id}/cancel")
    for run in (running, failed, passed):
        finish(sim, run.id)
    for action in ("rerun", "rerun-failed-jobs", "cancel"):
        bob.post(f"/repos/acme/api/actions/runs/{failed.id}/{action}")
    alice.post(f"/repos/acme/api/actions/runs/{passed.id}/rerun-failed-jobs")
    alice.post(f"/repos/acme/api/actions/runs/{passed.id}/cancel")
    alice.post("/repos/acme/api/actions/runs/1/rerun")
    alice.post("/repos/acme/api/actions/runs/1/cancel")
    alice.post(f"/repos/acme/api/actions/runs/{failed.id}/rerun-failed-jobs")
    finish(sim, failed.id)
    sim.advance(31 * DAY)
    alice = Client(sim, journal, f"Bearer {sim.user_token('alice')}")  # the first token has expired meanwhile
    alice.post(f"/repos/acme/api/actions/runs/{failed.id}/rerun")
    alice.post(f"/repos/acme/api/actions/runs/{failed.id}/rerun-failed-jobs")
    return journal


@pytest.fixture(scope="module")
def refusals():
    with running_simulator(seed=42, start_time=START) as sim:
        yield _refusals(sim)


def _case(rest, exchange):
    return (rest.operation_for(exchange.method, exchange.url).id, exchange.status, exchange.json().get("message"))


def test_every_refusal_keeps_to_the_description_or_to_a_recorded_answer_of_githubs(refusals, rest):
    basic_error = rest.validator(rest.operation("POST", "/repos/-/-/actions/runs/1/approve"), "403")
    departures = []
    for exchange in refusals:
        problems = rest.problems(exchange)
        if exchange.status < 400 or _case(rest, exchange) not in UNDOCUMENTED:
            departures += problems
            continue
        undocumented = [problem for problem in problems if "is not one the operation documents" in problem]
        departures += [problem for problem in problems if problem not in undocumented]
        assert len(undocumented) == 1, exchange.label()
        departures += [f"{exchange.label()}: {error.message}" for error in basic_error.iter_errors(exchange.json())]
    assert not departures, "\n".join(departures)


def test_every_listed_refusal_was_given(refusals, rest):
    given = {_case(rest, exchange) for exchange in refusals if exchange.status >= 400}
    assert not set(UNDOCUMENTED) - given, sorted(set(UNDOCUMENTED) - given)
    assert ("actions/cancel-workflow-run", 409, "Cannot cancel a workflow run that is completed.") in given
    assert (
        "actions/approve-workflow-run",
        403,
        "This run is not from a fork pull request or queued by the Actions bot",
    ) in given


def test_an_unlisted_undocumented_refusal_is_still_a_departure(refusals, rest):
    exchange = next(item for item in refusals if item.status == 403 and item.url.endswith("/rerun"))
    changed = replace(exchange, body=b'{"message": "Something else", "documentation_url": "https://docs.github.com"}')

    assert _case(rest, changed) not in UNDOCUMENTED
    assert any("is not one the operation documents" in problem for problem in rest.problems(changed))


# GitHub Enterprise Server with rate limiting turned off


def test_without_rate_limiting_answers_depart_only_by_sending_no_rate_limit_headers(rest):
    journal: list = []
    with running_simulator(seed=42, start_time=START, rate_limiting=False) as sim:
        alice = Client(sim, journal, f"Bearer {sim.user_token('alice')}")
        app = Client(sim, journal, f"Bearer {sim.app_jwt()}")
        alice.get("/user")
        alice.walk("/user/installations", per_page=1)
        alice.conditional("/repos/acme/api")
        limits = alice.get("/rate_limit")
        app.get("/app")
        app.post("/app/installations/70001/access_tokens", json={})
        run = sim.trigger("acme/api", "ci", outcome="failure")
        finish(sim, run.id)
        alice.walk("/repos/acme/api/actions/runs", per_page=1)
        alice.post(f"/repos/acme/api/actions/runs/{run.id}/cancel")
        alice.post(f"/repos/acme/api/actions/runs/{run.id}/rerun")

    allowed = {f"no {name} header" for name in (*RATE_LIMIT_HEADERS, "X-RateLimit-Resource")}
    departures = [
        problem
        for exchange in journal
        for problem in rest.problems(exchange)
        if problem.rsplit(": ", 1)[-1] not in allowed
    ]
    assert not departures, "\n".join(departures)
    assert (limits.status_code, limits.json()["message"]) == (404, "Rate limiting is not enabled.")
    assert {exchange.status for exchange in journal} >= {200, 201, 304, 404, 409}
