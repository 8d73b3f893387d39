"""`make run`: the whole local stack in one command.

Starts (or reuses) DynamoDB Local with its data in `.data/dynamodb/`, creates or updates the tables, and serves
the app at http://127.0.0.1:8000 with `manage.py runserver` (ASGI, auto-reload). Ctrl-C stops what it started.
"""

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from devstack import dynamodb_local

ROOT = Path(__file__).resolve().parent.parent
# Where the local stack listens and keeps its data; the tests move them out of the way of a real `make run`.
APP_ADDRESS = os.environ.get("DASHBOARD_RUN_ADDRESS", "127.0.0.1:8000")
DYNAMODB_PORT = int(os.environ.get("DASHBOARD_RUN_DYNAMODB_PORT", "8001"))
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


def _interrupt(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=10)


def main() -> int:
    DATA.mkdir(exist_ok=True)
    env = {**os.environ, "DYNAMODB_ENDPOINT_URL": f"http://127.0.0.1:{DYNAMODB_PORT}"}
    stops: list[Callable[[], None]] = []  # how to stop what this run started, in start order
    try:
        dynamodb = ensure_dynamodb()
        if dynamodb:
            stops.append(lambda: dynamodb_local.stop(dynamodb))
        say("Creating or updating the tables ...")
        subprocess.run([sys.executable, "manage.py", "createtables"], cwd=ROOT, env=env, check=True)
        say(f"Actions Dashboard: http://{APP_ADDRESS}/  (Ctrl-C stops everything this command started)")
        server = subprocess.Popen([sys.executable, "manage.py", "runserver", APP_ADDRESS], cwd=ROOT, env=env)
        stops.append(lambda: _interrupt(server))
        return server.wait()
    except KeyboardInterrupt:
        return 0
    except (subprocess.CalledProcessError, dynamodb_local.DynamoDBLocalError) as error:
        say(f"Could not start: {error}")
        return 1
    finally:
        for stop in reversed(stops):
            stop()


if __name__ == "__main__":
    sys.exit(main())
