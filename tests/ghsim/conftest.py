"""Fixtures for the GitHub simulator's tests: a running simulator, API helpers, and octokit's webhook schemas."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from jsonschema import FormatChecker, validators
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from ghsim.clock import parse_iso
from ghsim.testing import running_simulator

SHARED = (Path(__file__).resolve().parents[2] / "../shared/github").resolve()
START = parse_iso("2026-03-02T12:00:00Z")  # a Monday, noon UTC: dates in tests are predictable


def shared(relative: str) -> Path:
    """A file of the shared GitHub reference folder (beside the repo), or skip when it is absent."""
    path = SHARED / relative
    if not path.exists():
        pytest.skip(f"shared GitHub reference data not found at {SHARED}")
    return path


@pytest.fixture
def sim():
    """A manual-mode simulator with its own webhook receiver; runs start only when a test triggers them."""
    with running_simulator(seed=42, start_time=START) as simulator:
        yield simulator


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


def _date_time(value) -> bool:
    if not isinstance(value, str):
        return True
    datetime.fromisoformat(value.replace("Z", "+00:00"))
    return True


def _uri(value) -> bool:
    if not isinstance(value, str):
        return True
    parts = urlsplit(value)
    return bool(parts.scheme and (parts.netloc or parts.path)) and " " not in value


def format_checker() -> FormatChecker:
    """jsonschema's checker plus `date-time` and `uri`, which otherwise need extra packages."""
    checker = FormatChecker()
    checker.checks("date-time", raises=ValueError)(_date_time)
    checker.checks("uri")(_uri)
    return checker


@pytest.fixture(scope="session")
def webhook_validator():
    """`webhook_validator(event, action)`: a validator for octokit's schema of that event and action."""
    root = shared("webhooks/schemas")
    resources = []
    for path in root.rglob("*.schema.json"):
        contents = json.loads(path.read_text())
        resources.append((contents["$id"], Resource.from_contents(contents, default_specification=DRAFT7)))
    registry = Registry().with_resources(resources)
    checker = format_checker()
    cache = {}

    def make(event: str, action: str | None):
        if (event, action) not in cache:
            schema = json.loads((root / event / f"{action or 'event'}.schema.json").read_text())
            cache[event, action] = validators.validator_for(schema)(schema, registry=registry, format_checker=checker)
        return cache[event, action]

    return make
