"""The dashboard's pages through Django's test client against the simulator: filters in the URL, the run page's
failing step and actions, visibility, insights, and caching of pages and static files."""

import re

import pytest
from django.test import Client

from dashboard.middleware import content_security_policy
from tests.runs.conftest import settle

DEMO_REPOS = ["acme/api", "acme/payroll", "acme/storefront", "globex/data-pipeline", "globex/engine"]
HOSTILE_LINK = "javascript:alert(document.cookie)"


def board_repos(response) -> list[str]:
    return re.findall(r'<article class="repo[^"]*" data-repo="([^"]+)"', response.content.decode())


@pytest.fixture
def runs(github_sim):
    """acme/api: a failing CI run on main; acme/storefront: a passing one on main and a failing pull request."""
    github_sim.trigger("acme/api", "ci", outcome="failure", branch="main", event="push")
    github_sim.trigger("acme/storefront", "ci", outcome="success", branch="main", event="push")
    github_sim.trigger("acme/storefront", "ci", outcome="failure", branch="feature/checkout", event="pull_request")
    settle(github_sim)
    return github_sim


def test_signed_out_pages_offer_sign_in_and_come_back_to_the_same_view(dynamodb):
    response = Client().get("/repos/acme/api?status=failure")
    assert response.status_code == 200
    assert b'href="/auth/github?next=/repos/acme/api%3Fstatus%3Dfailure"' in response.content
    assert "no-cache" in response["Cache-Control"]
    assert "max-age=0" in response["Cache-Control"]


def test_the_overview_shows_every_visible_repository_failures_first(alice, runs):
    response = alice.get("/")
    assert response.status_code == 200
    shown = board_repos(response)
    assert sorted(shown) == DEMO_REPOS
    assert shown[0] == "acme/api"
    assert "globex/skunkworks" not in response.content.decode()  # dana's, not alice's
    assert re.search(rb'data-count="failure">1<', response.content)
    assert "private" in response["Cache-Control"]
    assert "no-store" in response["Cache-Control"]


def test_filters_in_the_url_narrow_the_overview(alice, runs):
    assert board_repos(alice.get("/?status=failure")) == ["acme/api"]
    assert sorted(board_repos(alice.get("/?org=globex"))) == ["globex/data-pipeline", "globex/engine"]
    assert board_repos(alice.get("/?topic=payments")) == ["acme/api"]
    assert board_repos(alice.get("/?q=store")) == ["acme/storefront"]
    # The pull request's failure is not the default branch's: only when every branch is asked for.
    assert sorted(board_repos(alice.get("/?status=failure&branch=*"))) == ["acme/api", "acme/storefront"]
    assert "acme/storefront" not in board_repos(alice.get("/?status=failure&branch=*&hide_pull_requests=1"))


def test_a_malformed_filter_is_refused_clearly_and_filters_nothing(alice, runs):
    response = alice.get("/?status=exploded&branch=bad%20branch&org=acme")
    assert response.status_code == 400
    body = response.content.decode()
    assert "Some filters were not applied" in body
    assert "Select a valid choice" in body
    assert "Not a branch name" in body
    assert sorted(board_repos(response)) == ["acme/api", "acme/payroll", "acme/storefront"]  # org still applies


def test_the_repository_page_lists_runs_of_every_branch_with_filters(alice, runs):
    response = alice.get("/repos/acme/storefront")
    assert response.status_code == 200
    body = response.content.decode()
    assert body.count("<tr data-run=") == 2
    assert "feature/checkout" in body
    filtered = alice.get("/repos/acme/storefront?event=pull_request").content.decode()
    assert filtered.count("<tr data-run=") == 1
    assert 'data-category="failure"' in filtered
    assert alice.get("/repos/globex/skunkworks").status_code == 404


def _failing_run(sim, repo):
    return next(run for run in sim.truth()["runs"] if run["repository"] == repo and run["conclusion"] == "failure")


def test_the_run_page_names_the_failing_step_and_offers_actions_to_writers_only(alice, bob, runs):
    run = _failing_run(runs, "acme/api")
    page = alice.get(f"/repos/acme/api/runs/{run['id']}")
    assert page.status_code == 200
    body = page.content.decode()
    failing = re.search(r'class="step failure failing"[^>]*>(.*?)</li>', body, re.S)
    assert failing
    assert 'data-testid="failing-step"' in failing.group(1)
    assert 'data-testid="rerun"' in body
    assert 'data-testid="rerun-failed"' in body
    assert 'data-testid="cancel"' not in body  # the run has finished
    assert "#step:" in body  # a link to the failing step's log on GitHub

    as_bob = bob.get(f"/repos/acme/api/runs/{run['id']}").content.decode()
    assert 'data-testid="failing-step"' in as_bob
    assert 'data-testid="actions"' not in as_bob


def test_the_run_buttons_ask_github_and_show_its_answer(alice, bob, runs):
    run = _failing_run(runs, "acme/api")
    done = alice.post(f"/repos/acme/api/runs/{run['id']}/rerun-failed-jobs", follow=True)
    assert done.status_code == 200
    assert "Re-run of the failed jobs requested." in done.content.decode()
    assert any(r["id"] == run["id"] and r["status"] != "completed" for r in runs.truth()["runs"])

    refused = bob.post(f"/repos/acme/api/runs/{run['id']}/rerun", follow=True)
    assert "GitHub refused" in refused.content.decode()
    assert "need write access" in refused.content.decode()
    assert alice.post(f"/repos/acme/api/runs/{run['id']}/explode").status_code == 404
    assert alice.get(f"/repos/acme/api/runs/{run['id']}/rerun").status_code == 405


def test_insights_are_computed_from_stored_runs_without_asking_github(alice, github_sim):
    for outcome in ("success", "failure", "success"):
        github_sim.trigger("acme/api", "ci", outcome=outcome, branch="main")
    settle(github_sim)
    alice.get("/repos/acme/api")  # loads the repository's runs
    before = github_sim.request_counts()["total"]

    response = alice.get("/repos/acme/api/insights")

    assert response.status_code == 200
    body = response.content.decode()
    assert re.search(r'data-testid="success-rate">67%<', body)
    assert "<svg" in body
    assert body.count("<rect") == 3
    assert github_sim.request_counts()["total"] - before <= 2  # at most the user's visibility check, no run reads


def _with_hostile_link(builder):
    def build(*args, **kwargs):
        return {**builder(*args, **kwargs), "html_url": HOSTILE_LINK}

    return build


@pytest.fixture
def hostile_links(github_sim, monkeypatch):
    """A GitHub that gives every repository, run and job a `javascript:` html_url; acme/api has a failed run."""
    from ghsim import payloads

    for builder in ("repository_rest", "workflow_run", "workflow_job"):
        monkeypatch.setattr(payloads, builder, _with_hostile_link(getattr(payloads, builder)))
    github_sim.trigger("acme/api", "ci", outcome="failure", branch="main", event="push")
    settle(github_sim)
    return github_sim


def test_a_link_from_github_is_shown_only_if_it_is_safe_to_follow(hostile_links, alice):
    run = _failing_run(hostile_links, "acme/api")
    paths = ["/", "/repos/acme/api", f"/repos/acme/api/runs/{run['id']}", "/repos/acme/api/insights"]

    for path in [*paths, "/overview.json", "/cctray.xml"]:
        response = alice.get(path)
        assert response.status_code == 200, path
        assert b"javascript:" not in response.content, path
    run_page = alice.get(f"/repos/acme/api/runs/{run['id']}").content.decode()
    assert 'data-testid="failing-step"' in run_page  # the run and its jobs are shown, without their links
    assert "step log" not in run_page
    assert "On GitHub" not in alice.get("/repos/acme/api").content.decode()


def test_every_page_answers_with_a_strict_content_security_policy(alice, runs):
    run = _failing_run(runs, "acme/api")
    pages = {
        "/": 200,
        "/repos/acme/api": 200,
        f"/repos/acme/api/runs/{run['id']}": 200,
        "/repos/acme/api/insights": 200,
        "/settings/": 200,
        "/?status=exploded": 400,
        "/repos/globex/skunkworks": 404,
    }

    for path, status in pages.items():
        response = alice.get(path)
        assert response.status_code == status, path
        assert response["Content-Security-Policy"] == content_security_policy(), path
    assert Client().get("/")["Content-Security-Policy"] == content_security_policy()
    policy = dict(directive.split(" ", 1) for directive in content_security_policy().split("; "))
    assert policy["default-src"] == policy["object-src"] == policy["base-uri"] == policy["frame-ancestors"] == "'none'"
    assert policy["script-src"] == policy["style-src"] == policy["connect-src"] == "'self'"
