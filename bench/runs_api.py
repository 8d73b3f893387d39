"""`GET /api/repos` for 50 repositories with 20 runs each: server time and DynamoDB requests per call.

The user's visibility is kept (as it is for 5 minutes after GitHub was asked), and every repository loaded, so
this is the steady state a dashboard polls or reloads in: nothing is asked of GitHub.
"""

import time

from bench.report import Figure
from bench.stack import DynamoDBRequests, local_stack, percentile, seed_repositories

COMMAND = "make bench-runs-api"
REPOS, RUNS_PER_REPO, CALLS = 50, 20, 200


def run() -> list[Figure]:
    with local_stack():
        from django.test import Client

        user = seed_repositories(42, REPOS, RUNS_PER_REPO)
        client = Client()
        client.force_login(user, backend="accounts.backends.GitHubBackend")
        assert len(client.get("/api/repos").json()["repos"]) == REPOS
        timings = []
        with DynamoDBRequests() as requests_made:
            for _ in range(CALLS):
                started = time.perf_counter()
                response = client.get("/api/repos")
                timings.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200
            per_call = requests_made.total / CALLS
            operations = dict(requests_made.counts)
    p95 = percentile(timings, 0.95)
    return [
        Figure(
            "runs_api.repos_p95",
            f"GET /api/repos server time, {REPOS} repos x {RUNS_PER_REPO} runs, p95",
            p95,
            "ms",
            "(none set; the overview's is ≤ 50 ms)",
            None,
            COMMAND,
            f"{CALLS} calls through Django's request handling (session, user, visibility, summaries) against "
            f"DynamoDB Local; p50 {percentile(timings, 0.5):.1f} ms.",
        ),
        Figure(
            "runs_api.repos_dynamodb_requests",
            "DynamoDB requests per GET /api/repos",
            per_call,
            "requests",
            "≤ 3",
            per_call <= 3,
            COMMAND,
            f"By operation over {CALLS} calls: {operations}.",
        ),
    ]
