"""The local stack for in-process benchmarks: DynamoDB Local, the simulator, Django configured against them."""

import contextlib
import os
import shutil
import tempfile
import threading
import time
from collections import Counter

from devstack import dynamodb_local

WRITE_OPERATIONS = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}


def _app_key() -> bytes:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


@contextlib.contextmanager
def local_stack(*, simulator: bool = False, **simulator_options):
    """DynamoDB Local (in memory, free port) with every table, Django set up for it, and optionally ghsim."""
    port = dynamodb_local.free_port()
    sim_port = dynamodb_local.free_port()
    key = _app_key()
    stream_state = tempfile.mkdtemp(prefix="bench-stream-")
    os.environ.update(
        {
            "DASHBOARD_STAGE": "test",
            # The local stream reader's positions and parked records (pipeline/local.py): this run's own, not the
            # ones `make run` keeps beside its data.
            "STREAM_LOCAL_STATE_DIR": stream_state,
            "DJANGO_SETTINGS_MODULE": "dashboard.settings",
            "DYNAMODB_ENDPOINT_URL": f"http://127.0.0.1:{port}",
            "DYNAMODB_TABLE_PREFIX": "bench-",
            "GITHUB_URL": f"http://127.0.0.1:{sim_port}",
            "GITHUB_APP_PRIVATE_KEY": key.decode(),
            "LOG_LEVEL": "WARNING",
        }
    )
    server = dynamodb_local.start(port=port)
    try:
        import django

        django.setup()
        from django.core.management import call_command

        call_command("createtables", stdout=open(os.devnull, "w"))  # noqa: SIM115
        if not simulator:
            yield None
            return
        from ghsim.testing import running_simulator

        with running_simulator(port=sim_port, jwt_clock="wall", private_key_pem=key, **simulator_options) as sim:
            yield sim
    finally:
        dynamodb_local.stop(server)
        shutil.rmtree(stream_state, ignore_errors=True)


class DynamoDBRequests:
    """Counts the DynamoDB API calls made through the shared client (every table's).

    With `capacity`, every call also asks DynamoDB for the capacity it consumed (`ReturnConsumedCapacity`), which
    DynamoDB Local computes as DynamoDB does: item sizes rounded up to 1 KB per write unit and 4 KB per read unit,
    doubled inside transactions, halved for eventually consistent reads. Those units are what on-demand billing
    charges, so the cost model uses them rather than request counts.
    """

    def __init__(self, *, capacity: bool = False):
        self.counts: Counter = Counter()
        self.read_units = 0.0
        self.write_units = 0.0
        self.write_units_by_table: Counter = Counter()
        self._capacity = capacity
        self._lock = threading.Lock()

    def __enter__(self):
        from dashboard.lib.dynamo import shared_client

        self._client = shared_client()
        self._client.meta.events.register("before-call.dynamodb.*", self._count)
        if self._capacity:
            self._client.meta.events.register("provide-client-params.dynamodb.*", self._ask_capacity)
            self._client.meta.events.register("after-call.dynamodb.*", self._add_capacity)
        return self

    def _count(self, model, **kwargs):
        with self._lock:
            self.counts[model.name] += 1

    @staticmethod
    def _ask_capacity(params, **kwargs):
        params.setdefault("ReturnConsumedCapacity", "TOTAL")

    def _add_capacity(self, http_response, parsed, model, **kwargs):
        consumed = parsed.get("ConsumedCapacity") or []
        with self._lock:
            for entry in [consumed] if isinstance(consumed, dict) else consumed:
                units = entry.get("CapacityUnits", 0.0)
                if model.name in WRITE_OPERATIONS:
                    self.write_units += units
                    self.write_units_by_table[_table_kind(entry["TableName"])] += units
                else:
                    self.read_units += units

    def __exit__(self, *exc):
        self._client.meta.events.unregister("before-call.dynamodb.*", self._count)
        if self._capacity:
            self._client.meta.events.unregister("provide-client-params.dynamodb.*", self._ask_capacity)
            self._client.meta.events.unregister("after-call.dynamodb.*", self._add_capacity)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def reset(self):
        with self._lock:
            self.counts.clear()
            self.read_units = self.write_units = 0.0
            self.write_units_by_table.clear()


def _table_kind(table_name: str) -> str:
    """`bench-repo-summaries` -> `repo-summaries`: the table without the stage's prefix."""
    from django.conf import settings

    return table_name.removeprefix(settings.DYNAMODB_TABLE_PREFIX)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def seed_repositories(user_id: int, count: int, runs_per_repo: int):
    """`count` repositories with `runs_per_repo` runs of three workflows each, visible to a signed-in user
    whose visibility is kept for the whole run (so that nothing is asked of GitHub); the user, to log in."""
    import json
    from datetime import UTC, datetime, timedelta

    from accounts.models import GitHubUser, UserRecord
    from runs.cache import run_record
    from runs.states import RunState
    from runs.visibility import visibility_epoch

    now = datetime.now(UTC)
    repos = {}
    for index in range(count):
        name = f"bench-org/repo-{index:02d}"
        repos[name] = {
            "full_name": name,
            "id": 10_000 + index,
            "private": True,
            "default_branch": "main",
            "html_url": f"https://github.com/{name}",
            "installation_id": 1,
            "can_write": True,
            "topics": ["bench", "backend" if index % 2 else "frontend"],
        }
        for number in range(runs_per_repo):
            at = now - timedelta(minutes=10 * (runs_per_repo - number))
            run_record(
                RunState.from_github(
                    {
                        "id": 1_000_000 + index * 100 + number,
                        "workflow_id": 500 + number % 3,
                        "name": ["CI", "CodeQL", "Deploy"][number % 3],
                        "status": "completed",
                        "conclusion": "failure" if number % 7 == 0 else "success",
                        # Every fourth run is a pull request's, on its own branch.
                        "head_branch": "main" if number % 4 else f"feature/{number}",
                        "event": "push" if number % 4 else "pull_request",
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
    from dashboard.lib.dynamo import shared_client
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


_committed = threading.local()


def _commit_seen(**kwargs) -> None:
    _committed.at = time.time() * 1000


def _commits_timed() -> None:
    """Note in each thread when DynamoDB last answered one of its TransactWriteItems: when a change's event was
    committed, so in the stream. Registered once on the shared client."""
    from dashboard.lib.dynamo import shared_client

    client = shared_client()
    client.meta.events.register("after-call.dynamodb.TransactWriteItems", _commit_seen, unique_id="bench-commits")


def run_change_record(run_id: int, repo: str = "acme/api") -> float:
    """Store a new state of run `run_id` as a webhook does (runs/cache.py: the run and its event in one
    transaction, then the summary); the wall clock in ms when the transaction was answered, from which a change's
    latency is counted (its event is in the stream from then on)."""
    from datetime import UTC, datetime

    from runs.cache import run_record
    from runs.states import RunState

    state = RunState.from_github(
        {
            "id": run_id,
            "status": "in_progress",
            "updated_at": datetime.now(UTC).isoformat(),
            "workflow_id": 1,
            "name": "CI",
            "head_branch": "main",
            "repository": {"full_name": repo, "default_branch": "main"},
        }
    )
    _commits_timed()
    if not run_record(state):
        raise RuntimeError(f"run {run_id} was not stored: is it new?")
    return _committed.at


def job_change_record(job_id: int, *, run_id: int, repo: str = "acme/api") -> float:
    """Store a job's completion as a webhook does (runs/cache.py: the job and its event in one transaction); the
    wall clock in ms when the transaction was answered."""
    from datetime import UTC, datetime

    from runs.cache import job_record
    from runs.states import JobState

    now = datetime.now(UTC).isoformat()
    state = JobState.from_github(
        {
            "id": job_id,
            "run_id": run_id,
            "name": f"test ({job_id})",
            "status": "completed",
            "conclusion": "success",
            "started_at": now,
            "completed_at": now,
            "steps": [],
        },
        repo_id=repo,
    )
    _commits_timed()
    if not job_record(state):
        raise RuntimeError(f"job {job_id} was not stored: is it new?")
    return _committed.at
