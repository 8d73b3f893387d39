"""`make run`: the whole local stack in one command.

Starts (or reuses) DynamoDB Local with its data in `.data/dynamodb/`, creates or updates the tables, starts the
GitHub simulator with its live demo (webhooks to the app, the App's key in `.data/ghsim/`), and serves the app at
http://127.0.0.1:8000 with `manage.py runserver` (ASGI, auto-reload), whose process also reads the events table's
stream as Lambda's event source mapping does deployed (pipeline/local.py). Everything it starts listens on 127.0.0.1
only.

Ctrl-C or SIGTERM stops what it started, and leaves running what it found running (a DynamoDB Local or a
simulator already answering on its port, which it reused), saying which. The handlers are here, in this process,
because this is where every way of stopping `make run` arrives:

- Ctrl-C: the terminal sends SIGINT to its foreground process group, which is make and this process. GNU make
  then waits for this process before it exits.
- SIGTERM to make (`kill`, a process manager): GNU make passes SIGTERM on to the commands it is running and waits
  for them. That command is this process, because the recipe is one simple command, which make runs without a
  shell (a shell in between would take the SIGTERM, die and leave this process running).
- SIGTERM (or SIGHUP, or SIGINT) to this process itself.

What it starts runs in a session of its own, out of the terminal's process group, so that only this process
signals it, once, and waits for all of it (runserver's auto-reloader runs the server in a second process).
"""

import contextlib
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


# How this run may be stopped; SIGINT is Ctrl-C. See the module's docstring for how each one gets here.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
STOP_TIMEOUT = 10  # seconds a server has to stop before it is killed


class Stop(BaseException):
    """A stop signal arrived (a BaseException, like KeyboardInterrupt: nothing may catch it on the way)."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


class StopSignals:
    """Raises `Stop` on a stop signal; while `held`, the signal waits for the end of the block instead.

    Holding it across starting a process and noting how to stop it means no signal can arrive in between, which
    would leave that process running.
    """

    def __init__(self):
        self._held = 0
        self._pending: int | None = None

    def install(self) -> None:
        for signum in STOP_SIGNALS:
            signal.signal(signum, self._arrived)

    def _arrived(self, signum: int, frame) -> None:
        if self._held:
            self._pending = self._pending or signum
        else:
            self.hold_for_good()  # one Stop: a second Ctrl-C must not break into the stopping the first began
            raise Stop(signum)

    @contextlib.contextmanager
    def held(self):
        self._held += 1
        try:
            yield
        finally:
            self._held -= 1
            if not self._held and self._pending:
                signum, self._pending = self._pending, None
                raise Stop(signum)

    def hold_for_good(self) -> None:
        """While stopping: a second Ctrl-C does not cut the stopping short (each stop is bounded in time)."""
        self._held += 1


class Stack:
    """What this run started, with how to stop each, and what it found running and leaves alone."""

    def __init__(self, signals: StopSignals):
        self.signals = signals
        self.stops: list[Callable[[], None]] = []  # in start order
        self.left_running: list[str] = []

    @contextlib.contextmanager
    def starting(self, stop: Callable[[subprocess.Popen], None]):
        """A block that starts a process and appends it to the list it is given, with the stop signals held; the
        process is then stopped with `stop` when this run stops."""
        started: list[subprocess.Popen] = []
        with self.signals.held():
            try:
                yield started
            finally:
                for process in started:
                    self.stops.append(lambda process=process: stop(process))

    def stop_all(self) -> None:
        self.signals.hold_for_good()
        for stop in reversed(self.stops):
            stop()
        for message in self.left_running:
            say(message)


def ensure_dynamodb(stack: Stack) -> None:
    """Reuse a DynamoDB Local already on its port, or start one (and stop it when this run stops)."""
    endpoint = f"http://127.0.0.1:{DYNAMODB_PORT}"
    if dynamodb_local.is_answering(endpoint):
        say(f"DynamoDB Local already answering at {endpoint}: reusing it (it is left running when this stops).")
        stack.left_running.append(
            f"Left DynamoDB Local at {endpoint} running: it was already running, this command only reused it."
        )
        return
    say(f"Starting DynamoDB Local at {endpoint} (data in {DATA / 'dynamodb'}) ...")

    def stop(process: subprocess.Popen) -> None:
        dynamodb_local.stop(process)
        say(f"Stopped DynamoDB Local at {endpoint}: this command started it.")

    with stack.starting(stop) as started:
        process = dynamodb_local.spawn(
            port=DYNAMODB_PORT, data_dir=DATA / "dynamodb", log_path=DATA / "dynamodb-local.log"
        )
        started.append(process)
    dynamodb_local.wait_until_answering(process, DYNAMODB_PORT)
    say("DynamoDB Local is up.")


def ensure_simulator(stack: Stack, env: dict[str, str]) -> None:
    """Reuse a simulator already on its port, or start one in demo mode (and stop it when this run stops)."""
    url = f"http://127.0.0.1:{GHSIM_PORT}"
    if _answers(f"{url}/_sim/health"):
        say(f"GitHub simulator already answering at {url}: reusing it (it is left running when this stops).")
        stack.left_running.append(
            f"Left the GitHub simulator at {url} running: it was already running, this command only reused it."
        )
        return
    say(f"Starting the GitHub simulator at {url} (live demo; webhooks to http://{APP_ADDRESS}/webhooks/github) ...")
    command = [
        sys.executable,
        "-m",
        "ghsim",
        "--demo",
        # Given, so that a GHSIM_HOST in the environment cannot put it on another address.
        "--host",
        "127.0.0.1",
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

    def stop(process: subprocess.Popen) -> None:
        _stop_session(process, signal.SIGTERM)  # the simulator saves its world on SIGTERM (ghsim/__main__.py)
        say(f"Stopped the GitHub simulator at {url}: this command started it.")

    log = open(DATA / "ghsim.log", "ab")  # noqa: SIM115 (the child keeps it open)
    with stack.starting(stop) as started:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        started.append(process)
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


def serve(stack: Stack, env: dict[str, str]) -> subprocess.Popen:
    """runserver on APP_ADDRESS, stopped (with its auto-reloader's child) when this run stops."""

    def stop(process: subprocess.Popen) -> None:
        _stop_session(process, signal.SIGINT)  # Django's and uvicorn's Ctrl-C
        say(f"Stopped the app server at http://{APP_ADDRESS}/.")

    with stack.starting(stop) as started:
        server = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", APP_ADDRESS], cwd=ROOT, env=env, start_new_session=True
        )
        started.append(server)
    return server


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


def _stop_session(process: subprocess.Popen, signum: int) -> None:
    """Stop a process started in a session of its own, and whatever it started there; kill what does not stop."""
    if process.poll() is None:
        _signal_group(process.pid, signum)
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            _signal_group(process.pid, signal.SIGKILL)
            process.wait()
    deadline = time.monotonic() + STOP_TIMEOUT
    while _signal_group(process.pid, 0):  # the rest of its group, runserver's auto-reloader child
        if time.monotonic() > deadline:
            _signal_group(process.pid, signal.SIGKILL)
            break
        time.sleep(0.05)


def _signal_group(pgid: int, signum: int) -> bool:
    """Send a signal to a process group; False when no process is left in it."""
    try:
        os.killpg(pgid, signum)
    except ProcessLookupError:
        return False
    return True


def _on_loopback(address: str) -> bool:
    host, _, port = address.rpartition(":")
    return host == "127.0.0.1" and port.isdigit()


def main() -> int:
    if not _on_loopback(APP_ADDRESS):
        say(f"DASHBOARD_RUN_ADDRESS is {APP_ADDRESS!r}: it must be 127.0.0.1:PORT (the local stack is this machine's).")
        return 2
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
        # Where the stream reader keeps its positions and parked records: beside the tables they belong to.
        "STREAM_LOCAL_STATE_DIR": str(DATA / "stream"),
    }
    signals = StopSignals()
    signals.install()
    stack = Stack(signals)
    try:
        ensure_dynamodb(stack)
        say("Creating or updating the tables ...")
        subprocess.run([sys.executable, "manage.py", "createtables", "--count"], cwd=ROOT, env=env, check=True)
        ensure_simulator(stack, env)
        say(f"Actions Dashboard: http://{APP_ADDRESS}/  (Ctrl-C stops everything this command started)")
        return serve(stack, env).wait()
    except Stop as stop:
        say(f"{signal.Signals(stop.signum).name}: stopping what this command started ...")
        return 0
    except (subprocess.CalledProcessError, dynamodb_local.DynamoDBLocalError, SimulatorError) as error:
        say(f"Could not start: {error}")
        return 1
    finally:
        stack.stop_all()


if __name__ == "__main__":
    sys.exit(main())
