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

from devstack import dynamodb_local
from devstack.dynamodb_local import free_port, is_answering
from tests.conftest import ROOT

STARTUP_LIMIT = 90  # seconds; a generous bound so a slow CI machine fails loudly instead of hanging


class LocalStack:
    def __init__(self, data_dir, *, app_port=None, dynamodb_port=None):
        self.app_port, self.dynamodb_port = app_port or free_port(), dynamodb_port or free_port()
        self.ghsim_port = free_port()
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
        }
        self.output: list[str] = []

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

    def _wait_for_http(self):
        deadline = time.monotonic() + STARTUP_LIMIT
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=2) as response:
                    return json.loads(response.read())
            except OSError:
                time.sleep(0.2)
        raise AssertionError("the app never answered:\n" + "".join(self.output))

    def stop(self):
        self.process.send_signal(signal.SIGINT)
        self.process.wait(timeout=30)


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


def test_it_reuses_a_dynamodb_local_already_running_and_leaves_it_running(data_dir):
    port = free_port()
    existing = dynamodb_local.start(port=port)
    try:
        stack = LocalStack(data_dir, dynamodb_port=port).start()
        stack.stop()

        assert f"DynamoDB Local already answering at http://127.0.0.1:{port}: reusing it." in "".join(stack.output)
        assert is_answering(f"http://127.0.0.1:{port}")
    finally:
        dynamodb_local.stop(existing)
