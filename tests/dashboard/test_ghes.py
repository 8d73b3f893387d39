"""A GitHub Enterprise Server with API rate limiting turned off sends no `X-RateLimit-*` header at all: the app's
client must work the same, remember no limit, emit no metric for one, and never hold back.

https://docs.github.com/en/enterprise-server/admin/configuration/configuring-your-enterprise/configuring-rate-limits
"""

import logging

import pytest
import requests
from requests.structures import CaseInsensitiveDict

from dashboard.lib import github
from dashboard.lib.github import budgets
from dashboard.lib.github.state import GitHubState
from tests.dashboard.simulated_github import github_at_settings_url, signed_in
from tests.runs.conftest import settle

ALICE = 1001
NO_LIMIT = {"remaining": None, "limit": None, "reset_at": None, "blocked_until": None}


@pytest.fixture
def emitted(caplog):
    """The metric documents emitted during the test."""
    caplog.set_level(logging.INFO, logger="dashboard.lib.metrics")
    return lambda: [record.emf for record in caplog.records if hasattr(record, "emf")]


@pytest.fixture
def ghes(dynamodb):
    """The simulator as a GitHub Enterprise Server whose administrator has turned API rate limiting off."""
    with github_at_settings_url(rate_limiting=False) as sim:
        yield sim


def test_the_app_works_against_a_github_enterprise_server_without_rate_limits(ghes, emitted):
    # Were limits on, these knobs would refuse every request; with them off GitHub never refuses for a limit.
    ghes.set_faults(rate_limit=1, rate_limit_exhausted=True)
    failed = ghes.trigger("acme/api", "ci", outcome="failure")
    ghes.trigger("globex/engine", "ci", outcome="success")
    settle(ghes)
    alice = signed_in("alice")

    overview = alice.get("/api/repos").json()
    history = alice.get("/api/repos/acme/api").json()
    page = alice.get(f"/repos/acme/api/runs/{failed.id}")
    rerun = alice.post(f"/api/repos/acme/api/runs/{failed.id}/rerun-failed-jobs")
    user = alice.get("/api/user").json()

    assert overview["stale"] is False
    assert all(repo["loaded"] for repo in overview["repos"])
    assert failed.id in {run["id"] for run in history["runs"]}
    assert page.status_code == 200
    assert 'data-testid="rerun-failed"' in page.content.decode()
    assert rerun.status_code == 202
    # Every identity the app used: a user token, installation tokens, the App's own JWT.
    used = set(ghes.request_counts()["by_identity"])
    assert {"alice", "installation:70001", "installation:70002"} <= used
    assert set(ghes.request_counts()["by_status"]) <= {"200", "201", "202", "304"}
    # No limit remembered, none reported, nothing held back here or for other containers.
    assert user["github_rate_limit"] == NO_LIMIT
    for identity in (f"user:{ALICE}", "installation:70001", "installation:70002", "app"):
        assert github.budget(identity).as_json() == NO_LIMIT
    assert not [document for document in emitted() if "GitHubRateLimitRemaining" in document]
    assert not [state.key for state in GitHubState.scan() if state.key.startswith("budget#")]


def _answer(status: int = 200, **headers) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response.headers = CaseInsensitiveDict({name.replace("_", "-"): value for name, value in headers.items()})
    return response


@pytest.fixture
def fresh_budgets():
    budgets.forget()
    yield
    budgets.forget()


def test_a_limit_said_earlier_is_forgotten_once_githubs_answers_carry_none(dynamodb, fresh_budgets, emitted):
    limited = {"x_ratelimit_limit": "5000", "x_ratelimit_remaining": "4999", "x_ratelimit_reset": "1900000000"}
    budgets.note("user:1", _answer(**limited))
    budgets.note("user:1", _answer(502))  # a proxy's 5xx says nothing about GitHub's limits
    kept = github.budget("user:1").as_json()

    budgets.note("user:1", _answer(200))  # rate limiting turned off since
    budgets.note("user:1", _answer(404))

    assert kept["remaining"] == 4999
    assert kept["limit"] == 5000
    assert github.budget("user:1").as_json() == NO_LIMIT
    assert len([document for document in emitted() if "GitHubRateLimitRemaining" in document]) == 1
    budgets.check("user:1")  # nothing blocked


@pytest.mark.parametrize(
    "value",
    ["", " 1", "-1", "1.5", "1e3", "²", "٣", "99999999999999999999", "abc"],
)
def test_a_rate_limit_header_that_is_not_a_whole_number_is_ignored(fresh_budgets, emitted, value):
    budgets.note(
        "user:1",
        _answer(x_ratelimit_limit=value, x_ratelimit_remaining=value, x_ratelimit_reset=value),
    )

    assert github.budget("user:1").as_json() == NO_LIMIT
    assert not emitted()


def test_a_reset_time_no_clock_can_hold_is_ignored(fresh_budgets):
    budgets.note("user:1", _answer(x_ratelimit_remaining="10", x_ratelimit_reset="999999999999999999"))

    assert github.budget("user:1").remaining == 10
    assert github.budget("user:1").reset_at is None
