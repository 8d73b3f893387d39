"""Every REST answer the simulator gives on a realistic journey keeps to GitHub's own REST description.

The description is `@octokit/openapi` (GitHub's api.github.com OpenAPI, from npm). Each recorded exchange is matched
to its operation by method and path template; its status must be one the operation documents (or a 304 to a
conditional GET), its JSON body must validate under that status's schema, and its `ETag`, `Link` and
`X-RateLimit-*` headers must be as GitHub sends them. See descriptions.py for the checks, conftest.py for the journey.
"""

from __future__ import annotations

from urllib.parse import urlsplit

# The operations the dashboard calls (dashboard/lib/github/, runs/), and those the journey adds around them.
APP_OPERATIONS = {
    "users/get-authenticated",
    "users/list-emails-for-authenticated-user",
    "apps/list-installations-for-authenticated-user",
    "apps/list-installation-repos-for-authenticated-user",
    "apps/create-installation-access-token",
    "actions/list-workflow-runs-for-repo",
    "actions/get-workflow-run",
    "actions/list-jobs-for-workflow-run",
    "actions/re-run-workflow",
    "actions/re-run-workflow-failed-jobs",
    "actions/cancel-workflow-run",
    "apps/list-webhook-deliveries",
    "apps/redeliver-webhook-delivery",
}
MORE_OPERATIONS = {
    "apps/get-authenticated",
    "apps/list-installations",
    "apps/get-installation",
    "apps/get-repo-installation",
    "apps/list-repos-accessible-to-installation",
    "apps/get-webhook-delivery",
    "actions/get-job-for-workflow-run",
    "actions/get-workflow-run-attempt",
    "actions/list-jobs-for-workflow-run-attempt",
    "actions/list-repo-workflows",
    "actions/get-workflow",
    "actions/list-workflow-runs",
    "actions/approve-workflow-run",
    "repos/get",
    "rate-limit/get",
}


def test_every_rest_answer_keeps_to_githubs_description(journey, rest):
    problems = [problem for exchange in journey.exchanges for problem in rest.problems(exchange)]
    assert not problems, f"{len(problems)} departures from GitHub's REST description:\n" + "\n".join(problems[:40])


def test_every_answer_the_simulator_gave_was_checked(journey):
    assert len(journey.exchanges) == journey.counted


def test_the_journey_covers_what_the_app_calls(journey, rest):
    called = {rest.operation_for(item.method, item.url).id for item in journey.exchanges}
    assert not (APP_OPERATIONS | MORE_OPERATIONS) - called, sorted((APP_OPERATIONS | MORE_OPERATIONS) - called)
    statuses = {item.status for item in journey.exchanges}
    assert {200, 201, 202, 304, 401, 403, 404, 409} <= statuses


def test_the_journey_pages_through_githubs_own_links(journey):
    """Later pages come from `Link`, in GitHub's `/repositories/{id}/...` form, and every rel is followed."""
    by_id = [item for item in journey.exchanges if urlsplit(item.url).path.startswith("/api/v3/repositories/")]
    assert {urlsplit(item.url).path.split("/")[-1] for item in by_id} >= {"runs", "jobs", "workflows"}
    assert all(item.status == 200 for item in by_id)
    rels = {part.split('rel="')[1].rstrip('"') for item in by_id for part in item.headers["Link"].split(", ")}
    assert rels == {"first", "prev", "next", "last"}
