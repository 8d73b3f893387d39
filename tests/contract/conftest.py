"""The contract tests' fixtures: GitHub's descriptions, and one realistic session with the simulator, recorded.

`journey` drives a simulator the way the dashboard and GitHub's own clients do (see `travel`) and records every
REST exchange at the HTTP level (a `requests` response hook) and every webhook at the simulator's receiver.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import requests

from ghsim.clock import parse_iso
from ghsim.testing import Received, running_simulator
from tests.contract.descriptions import Exchange, RestContract, WebhookContract, rest_contract, webhook_contract
from tests.ghsim.conftest import INSTALLATION_CHANGES, Api, finish, until

START = parse_iso("2026-03-02T12:00:00Z")
PAGES_LIMIT = 40  # a bound on the pages one listing may have in the journey


@pytest.fixture(scope="session")
def rest() -> RestContract:
    return rest_contract()


@pytest.fixture(scope="session")
def webhooks() -> WebhookContract:
    return webhook_contract()


class Client(Api):
    """A REST client for one credential whose every exchange lands in the journal."""

    def __init__(self, sim, journal: list[Exchange], authorization: str | None = None) -> None:
        super().__init__(sim)
        self.session.headers.update({"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"})
        if authorization:
            self.session.headers["Authorization"] = authorization
        self.session.hooks["response"].append(lambda response, *args, **kwargs: journal.append(Exchange.of(response)))

    def walk(self, path: str, **params) -> list[requests.Response]:
        """The first page, then every page its Links and theirs name (next, last, prev, first), each once."""
        first = self.get(path, params=params or None)
        pages, seen, todo = [first], {first.url}, [first]
        while todo:
            for link in todo.pop(0).links.values():
                if link["url"] not in seen:
                    seen.add(link["url"])
                    pages.append(self.get(link["url"]))
                    todo.append(pages[-1])
            assert len(pages) <= PAGES_LIMIT, f"{path} has more pages than the journey expects"
        return pages

    def conditional(self, path: str, **params) -> tuple[requests.Response, requests.Response]:
        """A GET, then the same GET with its ETag in `If-None-Match`."""
        first = self.get(path, params=params or None)
        return first, self.get(path, params=params or None, headers={"If-None-Match": first.headers["ETag"]})


@dataclass
class Journey:
    sim: object
    exchanges: list[Exchange]
    deliveries: list[Received]
    counted: int  # API requests the simulator counted


def read_run(client: Client, repo: str, run_id: int) -> None:
    """What the dashboard reads of one run: the run, its jobs page by page, one job."""
    client.get(f"/repos/{repo}/actions/runs/{run_id}")
    pages = client.walk(f"/repos/{repo}/actions/runs/{run_id}/jobs", per_page=2)
    jobs = pages[0].json()["jobs"]
    if jobs:
        client.get(f"/repos/{repo}/actions/jobs/{jobs[0]['id']}")


def travel(sim) -> list[Exchange]:
    """A realistic session: sign-in, the app's own calls, runs through their life, re-runs, cancels, errors."""
    journal: list[Exchange] = []
    app = Client(sim, journal, f"Bearer {sim.app_jwt()}")
    alice = Client(sim, journal, f"Bearer {sim.user_token('alice')}")
    anonymous = Client(sim, journal)

    # Signing in, and what the dashboard learns about the user's reach (runs/visibility.py).
    alice.get("/user")
    alice.get("/user/emails")
    alice.walk("/user/installations", per_page=1)
    alice.walk("/user/installations/70001/repositories", per_page=1)
    alice.conditional("/user/installations", per_page=100)
    alice.get("/rate_limit")

    # The app itself: who it is, where it is installed, a token for an installation (whole, then narrowed).
    app.get("/app")
    app.walk("/app/installations", per_page=1)
    app.get("/app/installations/70001")
    app.get("/repos/acme/api/installation")
    token = app.post("/app/installations/70001/access_tokens", json={}).json()["token"]
    app.post("/app/installations/70002/access_tokens", json={"repositories": ["engine"]})
    installation = Client(sim, journal, f"Bearer {token}")
    installation.walk("/installation/repositories", per_page=2)
    installation.get("/rate_limit")
    anonymous.get("/rate_limit")

    # Runs through their life: requested/queued, in progress (jobs waiting for an environment), completed.
    passing = sim.trigger("acme/api", "ci", outcome="success")
    failing = sim.trigger("acme/api", "ci", outcome="failure")
    flaky = sim.trigger("acme/storefront", "ci", outcome="flaky")
    doomed = sim.trigger("acme/api", "ci", outcome="success")
    deploy = sim.trigger("acme/api", "deploy", outcome="success")
    for run in (passing, deploy):
        read_run(installation, "acme/api", run.id)
    until(sim, passing.id, "in_progress")
    for run in (passing, failing, doomed, deploy):
        read_run(alice, "acme/api", run.id)
    read_run(anonymous, "acme/storefront", flaky.id)
    assert alice.post(f"/repos/acme/api/actions/runs/{doomed.id}/cancel").status_code == 202
    sim.advance(0)
    for run in (passing, failing, doomed, deploy):
        finish(sim, run.id)
    finish(sim, flaky.id)
    assert alice.post(f"/repos/acme/api/actions/runs/{doomed.id}/cancel").status_code == 409
    # A run that awaits no approval (none in the simulator does) cannot be approved: 403, which GitHub documents.
    assert alice.post(f"/repos/acme/api/actions/runs/{doomed.id}/approve").status_code == 403
    for run in (passing, failing, doomed, deploy):
        read_run(installation, "acme/api", run.id)
        alice.conditional(f"/repos/acme/api/actions/runs/{run.id}")

    # Re-runs: the whole run, the failed jobs, and the first attempt kept beside the second.
    assert alice.post(f"/repos/acme/api/actions/runs/{passing.id}/rerun").status_code == 201
    assert alice.post(f"/repos/acme/api/actions/runs/{failing.id}/rerun-failed-jobs").status_code == 201
    assert installation.post(f"/repos/acme/storefront/actions/runs/{flaky.id}/rerun-failed-jobs").status_code == 201
    sim.advance(0)
    read_run(alice, "acme/api", failing.id)
    alice.get(f"/repos/acme/api/actions/runs/{failing.id}/attempts/1")
    alice.walk(f"/repos/acme/api/actions/runs/{failing.id}/attempts/1/jobs", per_page=2)
    alice.walk(f"/repos/acme/api/actions/runs/{failing.id}/jobs", filter="all", per_page=3)
    for run in (passing, failing, flaky):
        finish(sim, run.id)

    # Listings, a page at a time through GitHub's own page links (which name the repository by id).
    for _ in range(4):
        sim.trigger("acme/api", "ci", outcome="success")
    alice.walk("/repos/acme/api/actions/runs", per_page=3)
    installation.walk("/repos/acme/api/actions/runs", per_page=2, status="completed", exclude_pull_requests="true")
    alice.conditional("/repos/acme/api/actions/runs", per_page=100)
    workflows = alice.walk("/repos/acme/storefront/actions/workflows", per_page=1)
    workflow = workflows[0].json()["workflows"][0]
    alice.get(f"/repos/acme/storefront/actions/workflows/{workflow['id']}")
    alice.walk(f"/repos/acme/storefront/actions/workflows/{workflow['path'].rsplit('/', 1)[-1]}/runs", per_page=1)
    alice.get("/repos/acme/api")

    # The webhook deliveries the app reconciles with (webhooks/redelivery.py), and a redelivery.
    deliveries = app.walk("/app/hook/deliveries", per_page=25)
    newest = deliveries[0].json()[0]["id"]
    app.get(f"/app/hook/deliveries/{newest}")
    assert app.post(f"/app/hook/deliveries/{newest}/attempts").status_code == 202

    # Refusals GitHub documents for these operations.
    assert anonymous.get("/user").status_code == 401
    assert anonymous.get("/repos/acme/api").status_code == 404
    assert alice.get("/repos/acme/nope").status_code == 404
    assert app.get("/app/installations/99999").status_code == 404

    # Installation changes and a revoked authorization: their webhooks.
    for action, repos in INSTALLATION_CHANGES:
        sim.change_installation(70002, action, repos=repos)
    sim.revoke("bob")
    sim.advance(0)
    return journal


@pytest.fixture(scope="session")
def journey() -> Journey:
    with running_simulator(seed=42, start_time=START, ping=True) as sim:
        exchanges = travel(sim)
        sent = len(sim.deliveries())
        assert sim.receiver.wait_for(sent), "some webhooks did not arrive"
        yield Journey(sim, exchanges, list(sim.receiver.received), sim.request_counts()["total"])
