"""`GET /api/repos` for 50 repositories with 20 runs each: server time and DynamoDB requests per call.

The user's visibility is kept (as it is for 5 minutes after GitHub was asked), and every repository loaded, so
this is the steady state a dashboard polls or reloads in: nothing is asked of GitHub.
"""

import json
import time
from datetime import UTC, datetime, timedelta

from bench.report import Figure
from bench.stack import DynamoDBRequests, local_stack, percentile

COMMAND = "make bench-runs-api"
REPOS, RUNS_PER_REPO, CALLS = 50, 20, 200


def _seed(user_id: int) -> None:
    from accounts.models import GitHubUser, UserRecord
    from runs.cache import RunState, run_record
    from runs.visibility import visibility_epoch

    now = datetime.now(UTC)
    repos = {}
    for index in range(REPOS):
        name = f"bench-org/repo-{index:02d}"
        repos[name] = {
            "full_name": name,
            "id": 10_000 + index,
            "private": True,
            "default_branch": "main",
            "html_url": f"https://github.com/{name}",
            "installation_id": 1,
            "can_write": True,
        }
        for number in range(RUNS_PER_REPO):
            at = now - timedelta(minutes=10 * (RUNS_PER_REPO - number))
            run_record(
                RunState.from_github(
                    {
                        "id": 1_000_000 + index * 100 + number,
                        "workflow_id": 500 + number % 3,
                        "name": ["CI", "CodeQL", "Deploy"][number % 3],
                        "status": "completed",
                        "conclusion": "failure" if number % 7 == 0 else "success",
                        "head_branch": "main",
                        "event": "push",
                        "run_number": number + 1,
                        "run_attempt": 1,
                        "created_at": at.isoformat(),
                        "run_started_at": at.isoformat(),
                        "updated_at": (at + timedelta(minutes=4)).isoformat(),
                        "repository": {"full_name": name, "default_branch": "main"},
                    }
                ),
                installation_id=1,
            )
    from dashboard.dynamo import shared_client
    from runs.models import RepoSummary

    for name in repos:
        shared_client().update_item(
            TableName=RepoSummary.Meta.table_name,
            Key={"repoId": {"S": name}},
            UpdateExpression="SET backfilledAt = :now",
            ExpressionAttributeValues={":now": {"S": now.isoformat()}},
        )
    UserRecord(
        user_id=user_id,
        login="bench",
        created_at=now,
        updated_at=now,
        visible_repos=json.dumps(repos),
        visible_at=now + timedelta(days=1),  # kept for the whole run
        visibility_epoch=visibility_epoch(),
    ).save()
    return GitHubUser(id=user_id, login="bench")


def run() -> list[Figure]:
    with local_stack():
        from django.test import Client

        user = _seed(42)
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
