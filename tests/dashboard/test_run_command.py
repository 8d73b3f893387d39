"""`make run`'s stack: DynamoDB Local with data kept on disk, the tables, and the ASGI server."""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

import pytest
import requests
from websockets.sync.client import connect

from devstack.dynamodb_local import free_port, is_answering
from tests.conftest import ROOT
from tests.waiting import wait_until

STARTUP_LIMIT = 90  # seconds; a generous bound so a slow CI machine fails loudly instead of hanging


class LocalStack:
    def __init__(self, data_dir, *, app_port=None, dynamodb_port=None, ghsim_port=None, env=None):
        self.app_port, self.dynamodb_port = app_port or free_port(), dynamodb_port or free_port()
        self.ghsim_port = ghsim_port or free_port()
        self.ghsim_url = f"http://127.0.0.1:{self.ghsim_port}"
        self.url = f"http://127.0.0.1:{self.app_port}"
        self.dynamodb_endpoint = f"http://127.0.0.1:{self.dynamodb_port}"
        self.env = {
            # GITHUB_APP_PRIVATE_KEY (the tests' key) stays: `make run` must ignore it for the simulator's.
            **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DASHBOARD_", "DYNAMODB_"))},
            "DASHBOARD_RUN_ADDRESS": f"127.0.0.1:{self.app_port}",
            "DASHBOARD_RUN_DYNAMODB_PORT": str(self.dynamodb_port),
            "DASHBOARD_RUN_DATA_DIR": str(data_dir),
            "DASHBOARD_RUN_GHSIM_PORT": str(self.ghsim_port),
            "DYNAMODB_TABLE_PREFIX": "runtest-",
            **(env or {}),
        }
        self.output: list[str] = []
        self.data_dir, self.extra_env = data_dir, env

    def start(self):
        self.process = subprocess.Popen(
            [sys.executable, "-u", "-m", "devstack.run"],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        deadline = time.monotonic() + STARTUP_LIMIT
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            self.output.append(line)
            if "System check identified" in line or self.process.poll() is not None:
                break
        self._wait_for_http()
        return self

    def _healthz(self) -> dict | None:
        try:
            with urllib.request.urlopen(f"{self.url}/healthz", timeout=2) as response:
                return json.loads(response.read())
        except OSError:
            return None

    def _wait_for_http(self):
        return wait_until(
            self._healthz, timeout=STARTUP_LIMIT, what=lambda: "the app to answer:\n" + "".join(self.output)
        )

    def stop(self):
        self.process.send_signal(signal.SIGINT)
        self.process.wait(timeout=30)

    def restarted(self):
        """The same command again on the same ports and data, as a user starts `make run` a second time."""
        return LocalStack(
            self.data_dir,
            app_port=self.app_port,
            dynamodb_port=self.dynamodb_port,
            ghsim_port=self.ghsim_port,
            env=self.extra_env,
        ).start()

    def deliveries(self) -> list[dict]:
        return requests.get(f"{self.ghsim_url}/_sim/deliveries", timeout=10).json()["deliveries"]


@pytest.fixture
def data_dir(tmp_path):
    return tmp_path / "data"


def test_it_serves_the_app_with_tables_created_and_prints_the_url(data_dir):
    stack = LocalStack(data_dir).start()
    try:
        with urllib.request.urlopen(f"{stack.url}/healthz", timeout=5) as response:
            assert json.loads(response.read()) == {"status": "ok", "dynamodb": "ok"}
        assert f"Actions Dashboard: {stack.url}/" in "".join(stack.output)
        assert "created table runtest-workflow-cache" in "".join(stack.output)
    finally:
        stack.stop()
    assert not is_answering(stack.dynamodb_endpoint), "DynamoDB Local was left running"
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{stack.ghsim_port}/_sim/health", timeout=2)


def test_it_signs_in_as_the_demo_user_by_following_redirects(data_dir):
    stack = LocalStack(data_dir).start()
    try:
        browser = requests.Session()
        landed = browser.get(f"{stack.url}/auth/github", timeout=30)

        assert landed.url == f"{stack.url}/"
        assert 'data-testid="user-name">Alice Archer<' in landed.text
        # The demo's runs were loaded with the App key the simulator wrote into this run's data folder.
        assert "could not be loaded" not in landed.text
        assert "data-state=" in landed.text
        assert "GitHub simulator is up. Sign in as its demo user, alice" in "".join(stack.output)
    finally:
        stack.stop()


def test_it_serves_the_websocket_from_the_same_process(data_dir):
    stack = LocalStack(data_dir).start()
    try:
        browser = requests.Session()
        browser.get(f"{stack.url}/auth/github", timeout=30)  # signs in as the demo user
        cookie = "; ".join(f"{name}={value}" for name, value in browser.cookies.items())
        with connect(
            f"ws://127.0.0.1:{stack.app_port}/ws",
            origin=stack.url,
            additional_headers={"Cookie": cookie},
            open_timeout=10,
        ) as socket:
            assert json.loads(socket.recv(timeout=10)) == {"type": "hello", "login": "alice"}
            socket.send(json.dumps({"type": "ping"}))
            assert json.loads(socket.recv(timeout=10)) == {"type": "pong"}
    finally:
        stack.stop()


def test_it_keeps_the_tables_and_their_items_across_restarts(data_dir):
    stack = LocalStack(data_dir).start()
    item = {"userId": {"N": "583231"}, "login": {"S": "octocat"}}
    subprocess.run([sys.executable, "-c", _PUT_ITEM, stack.dynamodb_endpoint, json.dumps(item)], check=True)
    stack.stop()

    restarted = LocalStack(data_dir, app_port=stack.app_port, dynamodb_port=stack.dynamodb_port).start()
    try:
        assert "runtest-users is up to date" in "".join(restarted.output)
        stored = subprocess.run(
            [sys.executable, "-c", _GET_ITEM, stack.dynamodb_endpoint], check=True, capture_output=True, text=True
        )
        assert json.loads(stored.stdout)["login"] == {"S": "octocat"}
    finally:
        restarted.stop()


_CLIENT = (
    "import sys, json, botocore.session\n"
    "s = botocore.session.get_session(); s.set_credentials('local', 'local')\n"
    "c = s.create_client('dynamodb', 'eu-west-2', endpoint_url=sys.argv[1])\n"
)
_PUT_ITEM = _CLIENT + "c.put_item(TableName='runtest-users', Item=json.loads(sys.argv[2]))\n"
_GET_ITEM = (
    _CLIENT + "print(json.dumps(c.get_item(TableName='runtest-users', Key={'userId': {'N': '583231'}})['Item']))\n"
)


# A run every few seconds, so a restarted demo shows a change quickly.
BUSY_DEMO = {"GHSIM_RUN_INTERVAL": "6"}
ALICE_REPOS = {"acme/storefront", "acme/api", "acme/payroll", "globex/engine", "globex/data-pipeline"}


def _latest_on_main(truth: dict) -> dict[tuple[str, str], int]:
    """The simulator's truth as the board shows it: each workflow's newest run on the default branch."""
    latest: dict[tuple[str, str], int] = {}
    for run in truth["runs"]:
        key = (run["repository"], run["workflow"])
        if run["repository"] in ALICE_REPOS and run["head_branch"] == "main" and run["id"] > latest.get(key, 0):
            latest[key] = run["id"]
    return latest


def _board(browser, stack) -> dict[tuple[str, str], int]:
    overview = browser.get(f"{stack.url}/overview.json", timeout=30).json()
    return {
        (repo["full_name"], run["workflow_name"]): run["run_id"] for repo in overview["repos"] for run in repo["latest"]
    }


def _wait_for_change(socket, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        message = json.loads(socket.recv(timeout=left))
        if message.get("type") == "changes":
            return message["changes"][0]["event"]
    raise AssertionError("no live change reached the page")


def test_it_continues_the_demo_on_kept_data_after_a_second_start(data_dir):
    """Issue 23: a second `make run` on kept data must go on showing live changes, with no GUID sent twice."""
    first = LocalStack(data_dir, env=BUSY_DEMO).start()
    browser = requests.Session()
    try:
        browser.get(f"{first.url}/auth/github", timeout=30)  # signs in as alice; her repositories are backfilled
        wait_until(
            lambda: len([item for item in first.deliveries() if item["event"] == "workflow_job"]) >= 5,
            timeout=60,
            what="the demo to deliver",
        )
        first_guids = {item["guid"] for item in first.deliveries()}
    finally:
        first.stop()

    second = first.restarted()
    try:
        output = "".join(second.output)
        assert "Kept data: 5 repositories and" in output
        assert "GitHub simulator continues the GitHub kept in" in output
        # The session and alice's token are both kept: the same browser is still signed in.
        cookie = "; ".join(f"{name}={value}" for name, value in browser.cookies.items())
        with connect(
            f"ws://127.0.0.1:{second.app_port}/ws", origin=second.url, additional_headers={"Cookie": cookie}
        ) as socket:
            assert json.loads(socket.recv(timeout=10))["login"] == "alice"
            socket.send(json.dumps({"type": "subscribe", "repos": sorted(ALICE_REPOS)}))
            change = _wait_for_change(socket, timeout=60)
        assert change["repo"] in ALICE_REPOS, change

        later = [item for item in second.deliveries() if item["guid"] not in first_guids]
        assert later, "the second start delivered nothing new"
        answers = [item["response"]["payload"] or "" for item in second.deliveries() if not item["redelivery"]]
        duplicates = [answer for answer in answers if '"duplicate"' in answer]
        assert not duplicates, f"{len(duplicates)} deliveries answered duplicate"

        # The board converges on the simulator's truth: no run of the earlier life stands for another's history.
        wait_until(
            lambda: _board(browser, second) == _latest_on_main(second_truth(second)),
            timeout=60,
            what=lambda: f"board {_board(browser, second)} to be the truth {_latest_on_main(second_truth(second))}",
        )
    finally:
        second.stop()


def second_truth(stack) -> dict:
    return requests.get(f"{stack.ghsim_url}/_sim/truth", timeout=10).json()
