"""Fixtures for the GitHub simulator's tests: a running simulator, API helpers, and GitHub's webhook schemas."""

from __future__ import annotations

import pytest
import requests

from ghsim.clock import parse_iso
from ghsim.testing import running_simulator
from tests.contract.descriptions import webhook_contract

START = parse_iso("2026-03-02T12:00:00Z")  # a Monday, noon UTC: dates in tests are predictable


@pytest.fixture
def sim():
    """A manual-mode simulator with its own webhook receiver; runs start only when a test triggers them."""
    with running_simulator(seed=42, start_time=START) as simulator:
        yield simulator


# Every change an installation can go through, in an order the simulator accepts: each sends its webhook.
INSTALLATION_CHANGES = (
    ("add-repos", ["globex/legacy"]),
    ("remove-repos", ["globex/legacy"]),
    ("suspend", None),
    ("unsuspend", None),
    ("delete", None),
    ("create", None),
    ("accept-permissions", None),
)


class Api:
    """A thin REST client for one token (or none)."""

    def __init__(self, sim, token: str | None = None) -> None:
        self.sim = sim
        self.session = requests.Session()
        if token:
            self.session.headers["Authorization"] = f"token {token}"

    def url(self, path: str) -> str:
        return path if path.startswith("http") else f"{self.sim.api_url}{path}"

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.session.get(self.url(path), timeout=10, **kwargs)

    def post(self, path: str, **kwargs) -> requests.Response:
        return self.session.post(self.url(path), timeout=10, **kwargs)

    def delete(self, path: str, **kwargs) -> requests.Response:
        return self.session.delete(self.url(path), timeout=10, **kwargs)


@pytest.fixture
def api_as(sim):
    """`api_as("alice")`: a REST client with a fresh user token; `api_as(None)` is anonymous."""

    def make(login: str | None) -> Api:
        return Api(sim, sim.user_token(login) if login else None)

    return make


def finish(sim, run_id: int, *, step: float = 30, limit: float = 3600) -> dict:
    """Advance until the run has completed; its truth."""
    waited = 0.0
    while waited <= limit:
        run = next(item for item in sim.truth()["runs"] if item["id"] == run_id)
        if run["status"] == "completed":
            return run
        sim.advance(step)
        waited += step
    raise AssertionError(f"run {run_id} did not complete")


def until(sim, run_id: int, status: str, *, step: float = 5, limit: float = 900) -> dict:
    """Advance until the run reaches `status`; its truth."""
    waited = 0.0
    while waited <= limit:
        run = next(item for item in sim.truth()["runs"] if item["id"] == run_id)
        if run["status"] == status:
            return run
        sim.advance(step)
        waited += step
    raise AssertionError(f"run {run_id} never reached {status}")


@pytest.fixture(scope="session")
def webhook_validator():
    """`webhook_validator(event, action)`: a validator for GitHub's schema of that event and action.

    The schemas are GitHub's webhooks description from npm (`@octokit/openapi-webhooks`, see
    tests/contract/descriptions.py); a missing package is an error, not a skip.
    """
    return webhook_contract().validator
