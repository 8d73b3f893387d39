"""GitHub's HTTP behaviour: ETags and 304s, Link pagination, rate limits, error bodies."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from tests.ghsim.conftest import finish, until


def links(response) -> dict[str, str]:
    """rel -> URL from a Link header."""
    return {rel: url for rel, url in ((link["rel"], link["url"]) for link in response.links.values())}


def test_it_tags_every_get_and_answers_304_when_unchanged(sim, api_as):
    alice = api_as("alice")
    first = alice.get("/repos/acme/api")
    assert first.headers["ETag"].startswith('W/"')
    again = alice.get("/repos/acme/api", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    assert again.content == b""


def test_it_does_not_count_a_304_against_the_rate_limit(sim, api_as):
    alice = api_as("alice")
    first = alice.get("/repos/acme/api/actions/runs")
    remaining = int(first.headers["X-RateLimit-Remaining"])
    again = alice.get("/repos/acme/api/actions/runs", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    assert int(again.headers["X-RateLimit-Remaining"]) == remaining
    assert sim.request_counts()["by_identity"]["alice"] == {"200": 1, "304": 1}


def test_it_changes_the_etag_when_the_resource_changes(sim, api_as):
    alice = api_as("alice")
    run = sim.trigger("acme/api", "ci")
    first = alice.get(f"/repos/acme/api/actions/runs/{run.id}")
    sim.advance(60)
    again = alice.get(f"/repos/acme/api/actions/runs/{run.id}", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 200
    assert again.headers["ETag"] != first.headers["ETag"]


def test_it_paginates_runs_with_absolute_link_urls(sim, api_as):
    for _ in range(7):
        sim.trigger("acme/api", "ci")
    alice = api_as("alice")
    first = alice.get("/repos/acme/api/actions/runs", params={"per_page": 3})
    assert first.json()["total_count"] == 7
    assert set(links(first)) == {"next", "last"}
    assert links(first)["next"].startswith(sim.api_url)
    second = alice.get(links(first)["next"])
    assert set(links(second)) == {"prev", "next", "last", "first"}
    last = alice.get(links(first)["last"])
    assert set(links(last)) == {"prev", "first"}
    assert parse_qs(urlsplit(links(first)["last"]).query) == {"per_page": ["3"], "page": ["3"]}
    seen = [run["id"] for page in (first, second, last) for run in page.json()["workflow_runs"]]
    assert seen == sorted(seen, reverse=True)
    assert len(set(seen)) == 7


def test_it_links_pages_by_repository_id_and_answers_that_form_like_the_named_one(sim, api_as):
    """GitHub's page links name a repository by id (`/repositories/{id}/...`), and GitHub answers that form."""
    for _ in range(3):
        sim.trigger("acme/api", "ci")
    alice = api_as("alice")
    first = alice.get("/repos/acme/api/actions/runs", params={"per_page": 2})
    run = first.json()["workflow_runs"][0]
    repo_id = run["repository"]["id"]
    assert links(first) == {
        "next": f"{sim.api_url}/repositories/{repo_id}/actions/runs?per_page=2&page=2",
        "last": f"{sim.api_url}/repositories/{repo_id}/actions/runs?per_page=2&page=2",
    }
    second = alice.get(links(first)["next"])
    assert links(second)["first"] == f"{sim.api_url}/repositories/{repo_id}/actions/runs?per_page=2&page=1"
    for tail in (
        "",
        "/actions/runs",
        f"/actions/runs/{run['id']}",
        f"/actions/runs/{run['id']}/jobs",
        "/actions/workflows",
    ):
        by_id = alice.get(f"/repositories/{repo_id}{tail}")
        assert by_id.status_code == 200
        assert by_id.json() == alice.get(f"/repos/acme/api{tail}").json()
    assert alice.post(f"/repositories/{repo_id}/actions/runs/{run['id']}/cancel").status_code == 202
    assert api_as(None).get(f"/repositories/{repo_id}").status_code == 404  # private, as by name
    assert alice.get("/repositories/999999/actions/runs").status_code == 404


def test_it_caps_per_page_at_100_and_defaults_to_30(sim, api_as):
    for _ in range(31):
        sim.trigger("acme/storefront", "ci")
    alice = api_as("alice")
    assert len(alice.get("/repos/acme/storefront/actions/runs").json()["workflow_runs"]) == 30
    assert len(alice.get("/repos/acme/storefront/actions/runs", params={"per_page": 500}).json()["workflow_runs"]) == 31


def test_it_paginates_jobs_and_keeps_old_attempts_under_filter_all(sim, api_as):
    run = sim.trigger("acme/api", "ci", outcome="failure")
    finish(sim, run.id)
    alice = api_as("alice")
    page = alice.get(f"/repos/acme/api/actions/runs/{run.id}/jobs", params={"per_page": 2})
    assert page.json()["total_count"] == 4
    assert "next" in links(page)
    assert alice.post(f"/repos/acme/api/actions/runs/{run.id}/rerun").status_code == 201
    latest = alice.get(f"/repos/acme/api/actions/runs/{run.id}/jobs").json()
    every = alice.get(f"/repos/acme/api/actions/runs/{run.id}/jobs", params={"filter": "all"}).json()
    assert {job["run_attempt"] for job in latest["jobs"]} == {2}
    assert every["total_count"] == 4 + latest["total_count"]
    first_attempt = alice.get(f"/repos/acme/api/actions/runs/{run.id}/attempts/1/jobs").json()
    assert {job["run_attempt"] for job in first_attempt["jobs"]} == {1}


def test_it_counts_the_rate_limit_down_per_user(sim, api_as):
    alice, other_alice, bob = api_as("alice"), api_as("alice"), api_as("bob")
    seen = [int(alice.get("/user").headers["X-RateLimit-Remaining"]) for _ in range(3)]
    assert seen == [4999, 4998, 4997]
    assert other_alice.get("/user").headers["X-RateLimit-Remaining"] == "4996"  # shared by all of alice's tokens
    response = bob.get("/user")
    assert response.headers["X-RateLimit-Remaining"] == "4999"
    assert response.headers["X-RateLimit-Used"] == "1"
    assert response.headers["X-RateLimit-Resource"] == "core"
    assert int(response.headers["X-RateLimit-Reset"]) == int(sim.now()) + 3600


@pytest.mark.parametrize("status", [403, 429])
def test_it_refuses_with_remaining_zero_once_the_primary_limit_is_spent(sim, api_as, status):
    sim.set_faults(rate_limit=2, rate_limit_status=status)
    alice = api_as("alice")
    assert [alice.get("/user").status_code for _ in range(2)] == [200, 200]
    refused = alice.get("/user")
    assert refused.status_code == status
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    assert refused.json()["message"] == "API rate limit exceeded for user ID 1001."
    assert "documentation_url" in refused.json()
    assert alice.get("/rate_limit").json()["resources"]["core"]["remaining"] == 0
    sim.advance(3600)
    assert alice.get("/user").status_code == 200


def test_it_exhausts_every_bucket_on_demand(sim, api_as):
    sim.set_faults(rate_limit_exhausted=True)
    response = api_as("bob").get("/user")
    assert response.status_code == 403
    assert response.headers["X-RateLimit-Remaining"] == "0"
    sim.set_faults(rate_limit_exhausted=False)
    assert api_as("bob").get("/user").status_code == 200


def test_it_answers_a_secondary_limit_with_retry_after(sim, api_as):
    sim.set_faults(secondary_rate_limit_rate=1.0, secondary_retry_after=42)
    response = api_as("alice").get("/user")
    assert response.status_code == 403
    assert response.headers["Retry-After"] == "42"
    assert response.json()["message"].startswith("You have exceeded a secondary rate limit")
    sim.set_faults(secondary_rate_limit_rate=0.0)
    assert api_as("alice").get("/user").status_code == 200


def test_it_does_not_count_rate_limit_queries(sim, api_as):
    alice = api_as("alice")
    body = [alice.get("/rate_limit").json() for _ in range(2)][-1]
    assert body["resources"]["core"]["remaining"] == 5000
    assert body["rate"] == body["resources"]["core"]


def test_it_answers_bad_credentials_with_githubs_body(sim):
    from tests.ghsim.conftest import Api

    response = Api(sim, "ghu_not_a_token").get("/user")
    assert response.status_code == 401
    assert response.json() == {
        "message": "Bad credentials",
        "documentation_url": "https://docs.github.com/rest",
        "status": "401",
    }


def test_it_filters_runs_as_github_documents(sim, api_as):
    pushed = sim.trigger("acme/api", "ci", event="push", branch="main", actor="alice", outcome="success")
    finish(sim, pushed.id)
    sim.advance(2 * 86_400)
    failed = sim.trigger("acme/api", "ci", event="pull_request", branch="feature/checkout", outcome="failure")
    finish(sim, failed.id)
    running = sim.trigger("acme/api", "ci", event="push", branch="main")
    until(sim, running.id, "in_progress")
    alice = api_as("alice")

    def ids(**params) -> set[int]:
        response = alice.get("/repos/acme/api/actions/runs", params=params)
        assert response.status_code == 200, response.text
        return {run["id"] for run in response.json()["workflow_runs"]}

    assert ids(branch="feature/checkout") == {failed.id}
    assert ids(event="push") == {pushed.id, running.id}
    assert ids(status="completed") == {pushed.id, failed.id}
    assert ids(status="failure") == {failed.id}
    assert ids(status="success") == {pushed.id}
    assert ids(status="in_progress") == {running.id}
    assert ids(actor="alice") >= {pushed.id}
    assert ids(head_sha=pushed.head_sha) == {pushed.id}
    assert ids(created="2026-03-02") == {pushed.id}
    assert ids(created=">=2026-03-03") == {failed.id, running.id}
    assert ids(created="<2026-03-04") == {pushed.id}
    assert ids(created="2026-03-01..2026-03-02") == {pushed.id}
    assert ids(created="2026-03-04..*") == {failed.id, running.id}
    assert ids(created=">2026-03-02T12:00:00Z") >= {failed.id}
    assert alice.get("/repos/acme/api/actions/runs", params={"created": "yesterday"}).status_code == 422
    body = alice.get("/repos/acme/api/actions/runs", params={"exclude_pull_requests": "true"}).json()
    assert all(run["pull_requests"] == [] for run in body["workflow_runs"])
    with_prs = alice.get(f"/repos/acme/api/actions/runs/{failed.id}").json()
    assert with_prs["pull_requests"][0]["head"]["ref"] == "feature/checkout"
