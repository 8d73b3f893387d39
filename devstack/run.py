"""`make run`: the whole local stack in one command.

Starts (or reuses) DynamoDB Local with its data in `.data/dynamodb/`, creates or updates the tables, starts the
GitHub simulator with its live demo (webhooks to the app, the App's key in `.data/ghsim/`), and serves the app at
http://127.0.0.1:8000 with `manage.py runserver` (ASGI, auto-reload). Ctrl-C stops what it started.
"""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

from devstack import dynamodb_local

ROOT = Path(__file__).resolve().parent.parent
# Where the local stack listens and keeps its data; the tests move them out of the way of a real `make run`.
APP_ADDRESS = os.environ.get("DASHBOARD_RUN_ADDRESS", "127.0.0.1:8000")
DYNAMODB_PORT = int(os.environ.get("DASHBOARD_RUN_DYNAMODB_PORT", "8001"))
GHSIM_PORT = int(os.environ.get("DASHBOARD_RUN_GHSIM_PORT", "8002"))
# The app and the simulator share the webhook secret; setting it before `make run` overrides the local default.
WEBHOOK_SECRET = os.environ.get("GITHUB_WEBHOOK_SECRET") or "ghsim-local-webhook-secret-not-a-real-secret"
DATA = Path(os.environ.get("DASHBOARD_RUN_DATA_DIR", ROOT / ".data"))


def say(message: str) -> None:
    print(f"[run] {message}", flush=True)


def ensure_dynamodb() -> subprocess.Popen | None:
    """Reuse a DynamoDB Local already on its port, or start one; return the process if this run started it."""
    endpoint = f"http://127.0.0.1:{DYNAMODB_PORT}"
    if dynamodb_local.is_answering(endpoint):
        say(f"DynamoDB Local already answering at {endpoint}: reusing it.")
        return None
    say(f"Starting DynamoDB Local at {endpoint} (data in {DATA / 'dynamodb'}) ...")
    process = dynamodb_local.start(port=DYNAMODB_PORT, data_dir=DATA / "dynamodb", log_path=DATA / "dynamodb-local.log")
    say("DynamoDB Local is up.")
    return process


def ensure_simulator(env: dict[str, str]) -> subprocess.Popen | None:
    """Reuse a simulator already on its port, or start one in demo mode; return the process if this run started it."""
    url = f"http://127.0.0.1:{GHSIM_PORT}"
    if _answers(f"{url}/_sim/health"):
        say(f"GitHub simulator already answering at {url}: reusing it.")
        return None
    say(f"Starting the GitHub simulator at {url} (live demo; webhooks to http://{APP_ADDRESS}/webhooks/github) ...")
    command = [
        sys.executable,
        "-m",
        "ghsim",
        "--demo",
        "--port",
        str(GHSIM_PORT),
        "--webhook-url",
        f"http://{APP_ADDRESS}/webhooks/github",
        "--private-key-out",
        str(DATA / "ghsim" / "app-private-key.pem"),
        # The simulated GitHub is kept beside the app's data, so a restart continues it (ghsim/persist.py).
        "--state",
        str(DATA / "ghsim" / "world.pickle"),
    ]
    log = open(DATA / "ghsim.log", "ab")  # noqa: SIM115 (the child keeps it open)
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while not _answers(f"{url}/_sim/health"):
        if process.poll() is not None or time.monotonic() > deadline:
            raise SimulatorError(f"the GitHub simulator did not start: see {DATA / 'ghsim.log'}")
        time.sleep(0.1)
    health = _health(url)
    if health.get("life", 1) > 1:
        kept = DATA / "ghsim"
        say(f"GitHub simulator continues the GitHub kept in {kept}: {health['runs']} runs (start {health['life']}).")
    say("GitHub simulator is up. Sign in as its demo user, alice: no password, the sign-in approves itself.")
    return process


class SimulatorError(RuntimeError):
    """The GitHub simulator could not be started."""


def _health(url: str) -> dict:
    with urllib.request.urlopen(f"{url}/_sim/health", timeout=5) as response:
        return json.loads(response.read())


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


def _interrupt(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=10)


def main() -> int:
    DATA.mkdir(exist_ok=True)
    # The app is pointed at the simulator below, so an App key meant for a real GitHub must not be used.
    env = {
        **{name: value for name, value in os.environ.items() if name != "GITHUB_APP_PRIVATE_KEY"},
        "DYNAMODB_ENDPOINT_URL": f"http://127.0.0.1:{DYNAMODB_PORT}",
        "GITHUB_URL": f"http://127.0.0.1:{GHSIM_PORT}",
        "GITHUB_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "GHSIM_WEBHOOK_SECRET": WEBHOOK_SECRET,
        # The simulator writes its App key here; the app signs its JWTs with it.
        "GITHUB_APP_PRIVATE_KEY_PATH": str(DATA / "ghsim" / "app-private-key.pem"),
    }
    stops: list[Callable[[], None]] = []  # how to stop what this run started, in start order
    try:
        dynamodb = ensure_dynamodb()
        if dynamodb:
            stops.append(lambda: dynamodb_local.stop(dynamodb))
        say("Creating or updating the tables ...")
        subprocess.run([sys.executable, "manage.py", "createtables", "--count"], cwd=ROOT, env=env, check=True)
        simulator = ensure_simulator(env)
        if simulator:
            stops.append(lambda: _interrupt(simulator))
        say(f"Actions Dashboard: http://{APP_ADDRESS}/  (Ctrl-C stops everything this command started)")
        server = subprocess.Popen([sys.executable, "manage.py", "runserver", APP_ADDRESS], cwd=ROOT, env=env)
        stops.append(lambda: _interrupt(server))
        return server.wait()
    except KeyboardInterrupt:
        return 0
    except (subprocess.CalledProcessError, dynamodb_local.DynamoDBLocalError, SimulatorError) as error:
        say(f"Could not start: {error}")
        return 1
    finally:
        for stop in reversed(stops):
            stop()


if __name__ == "__main__":
    sys.exit(main())
