"""`make run` stops what it started (issue 16), and everything it starts listens on 127.0.0.1 only.

Each test starts the real `make run` (the Makefile's recipe, its prerequisites taken as up to date so nothing is
installed), stops it as a user or a process manager would, and then looks at the processes and the sockets.
"""

import ipaddress
import os
import shutil
import signal
import socket
import subprocess
import threading
from pathlib import Path

import pytest

from devstack import dynamodb_local
from devstack.dynamodb_local import is_answering
from tests.conftest import ROOT
from tests.dashboard.test_run_command import LocalStack
from tests.waiting import wait_until

STOP_LIMIT = 60  # seconds for everything to be gone; a bound so a stuck stop fails instead of hanging
MAKE = shutil.which("make")
# `make run` without remaking its prerequisites: the tests must not install anything, whatever is newer.
UP_TO_DATE = ("-o", ".venv/.installed", "-o", "node_modules/.installed", "-o", ".java")

pytestmark = pytest.mark.skipif(MAKE is None, reason="`make run` needs make")


class MakeRun(LocalStack):
    """`make run` in a session of its own (as in a terminal: make leads the foreground process group)."""

    def start(self):
        self.process = subprocess.Popen(
            [MAKE, "--no-print-directory", *UP_TO_DATE, "run"],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self._reader = threading.Thread(target=lambda: self.output.extend(self.process.stdout), daemon=True)
        self._reader.start()
        self._wait_for_http()
        return self

    def started_processes(self) -> set[tuple[int, int]]:
        """make and everything under it, as (pid, start time): a pid reused later is not taken for one of these."""
        return {(pid, _start_time(pid)) for pid in _descendants(self.process.pid)} | {
            (self.process.pid, _start_time(self.process.pid))
        }

    def wait_until_stopped(self) -> str:
        self.process.wait(timeout=STOP_LIMIT)
        self._reader.join(timeout=STOP_LIMIT)
        return "".join(self.output)


def test_sigterm_to_make_stops_everything_it_started_and_all_of_it_listened_on_loopback_only(tmp_path):
    stack = MakeRun(tmp_path / "data").start()
    try:
        started = stack.started_processes()
        ports = {"the app": stack.app_port, "DynamoDB Local": stack.dynamodb_port, "the simulator": stack.ghsim_port}
        for name, port in ports.items():
            addresses = _listening(port)
            assert addresses, f"nothing listens on {name}'s port {port}"
            assert all(_is_ipv4_loopback(address) for address in addresses), f"{name} listens on {addresses}"
            if (outside := _non_loopback_address()) is not None:
                with pytest.raises(ConnectionRefusedError), socket.create_connection((outside, port), timeout=5):
                    pass
        # make, this run's Python, DynamoDB Local, the simulator and runserver with its auto-reloader's child.
        assert len(started) >= 6, started
    finally:
        stack.process.send_signal(signal.SIGTERM)  # to make alone: what `kill <pid of make>` or a supervisor sends
        output = stack.wait_until_stopped()

    _eventually(lambda: not _alive(started), lambda: f"left running: {_alive(started)}\n{output}")
    _eventually(lambda: not any(_listening(port) for port in ports.values()), lambda: "a port is still listened on")
    assert f"Stopped DynamoDB Local at {stack.dynamodb_endpoint}: this command started it." in output
    assert "Stopped the GitHub simulator" in output
    assert "Stopped the app server" in output


def test_ctrl_c_stops_everything_it_started_and_leaves_a_reused_dynamodb_local_running(tmp_path):
    port = dynamodb_local.free_port()
    endpoint = f"http://127.0.0.1:{port}"
    existing = dynamodb_local.start(port=port)
    try:
        assert all(_is_ipv4_loopback(address) for address in _listening(port))
        stack = MakeRun(tmp_path / "data", dynamodb_port=port).start()
        try:
            started = stack.started_processes()
            assert existing.pid not in {pid for pid, _ in started}
        finally:
            os.killpg(stack.process.pid, signal.SIGINT)  # Ctrl-C: the terminal signals the whole foreground group
            output = stack.wait_until_stopped()

        _eventually(lambda: not _alive(started), lambda: f"left running: {_alive(started)}\n{output}")
        _eventually(
            lambda: not _listening(stack.app_port) and not _listening(stack.ghsim_port), lambda: "a port is still open"
        )
        assert f"DynamoDB Local already answering at {endpoint}: reusing it" in output
        assert f"Left DynamoDB Local at {endpoint} running: it was already running, this command only reused it." in (
            output
        )
        assert existing.poll() is None, "the DynamoDB Local that was already running was stopped"
        assert is_answering(endpoint)
    finally:
        dynamodb_local.stop(existing)


def _eventually(check, message, timeout: float = STOP_LIMIT) -> None:
    wait_until(check, timeout=timeout, what=message)


def _stat(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name, or None when there is no such process."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()


def _start_time(pid: int) -> int:
    return int(_stat(pid)[19])


def _descendants(root: int) -> set[int]:
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))):
            parents[int(entry.name)] = int(fields[1])
    found, frontier = set(), {root}
    while frontier:
        frontier = {pid for pid, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def _alive(processes: set[tuple[int, int]]) -> set[tuple[int, int]]:
    """The processes still running (a zombie has finished; a new process on a reused pid is another one)."""
    return {
        (pid, start)
        for pid, start in processes
        if (fields := _stat(pid)) and fields[0] != "Z" and int(fields[19]) == start
    }


def _listening(port: int) -> set[str]:
    """The local addresses with a listening TCP socket on `port`, from /proc/net/tcp and /proc/net/tcp6."""
    found = set()
    for table in ("tcp", "tcp6"):
        try:
            lines = Path(f"/proc/net/{table}").read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            local, state = line.split()[1], line.split()[3]
            address, port_hex = local.split(":")
            if state == "0A" and int(port_hex, 16) == port:  # 0A: LISTEN
                # The kernel prints each 32-bit word of the address in host (little-endian) byte order.
                raw = b"".join(bytes.fromhex(address[i : i + 8])[::-1] for i in range(0, len(address), 8))
                found.add(str(ipaddress.ip_address(raw)))
    return found


def _is_ipv4_loopback(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    ip = getattr(ip, "ipv4_mapped", None) or ip
    return ip == ipaddress.ip_address("127.0.0.1")


def _non_loopback_address() -> str | None:
    """An address of this machine other than loopback (the one it would reach the outside from), if it has one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # no packet is sent: this only picks the route
        except OSError:
            return None
        address = probe.getsockname()[0]
    return None if ipaddress.ip_address(address).is_loopback else address
