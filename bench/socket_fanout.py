"""One local process serving 1,000 open sockets subscribed to one repository: latency from a change's commit to
its arrival at each socket, and every change counted at every socket.

Changes take the whole local path: each is a run's new state stored as a webhook stores it (the run, its event and
the summary, in DynamoDB Local), read from the events table's stream by the reader the ASGI process runs
(pipeline/local.py), coalesced (realtime/coalesce.py), handed to the hub (realtime/hub.py) and sent down each
socket. The app (uvicorn, the reader, the hub) and the writes run in this process; the sockets' clients run in
another (`bench/socket_clients.py`), so the two share the machine's 2 cores.

Three phases in one run, one repository: 10 sockets, then 1,000, given the same isolated changes (each written
after a quiet interval longer than REALTIME_COALESCE_SECONDS, so each goes out at once: what one change costs
to fan out); then the same 1,000 sockets under 6 changes a second for 10 s, which coalescing gathers into about
one message a second per socket.
"""

import contextlib
import json
import math
import subprocess
import sys
import time
from dataclasses import dataclass, field

from bench.report import ROOT, Figure
from bench.stack import local_stack, percentile, run_change_record

COMMAND = "make bench-socket-fanout"
REPO = "acme/api"
FEW, MANY = 10, 1000
ISOLATED = 30  # changes per isolated phase
QUIET_MARGIN = 0.25  # s beyond the coalescing interval between isolated changes: the stream is read every 50 ms
RATE, SECONDS = 6, 10  # the sustained phase: 6 changes a second for 10 s
SETTLE = 2.0  # s after the stream reader has caught up before asking the clients what arrived


class SocketClients:
    """`count` sockets in a process of their own (bench/socket_clients.py), all subscribed to REPO."""

    def __init__(self, url: str, cookie: str, count: int):
        self.count = count
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.socket_clients", url, cookie, str(count), REPO],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        if self.process.stdout.readline().strip() != "ready":
            self.close()
            raise RuntimeError(f"the {count} socket clients did not all subscribe")

    def report(self) -> list[dict]:
        """What each socket received since the last report."""
        self.process.stdin.write("report\n")
        self.process.stdin.flush()
        return json.loads(self.process.stdout.readline())

    def close(self) -> None:
        self.process.kill()  # the clients go first, so the server sees ordinary disconnects
        self.process.wait(timeout=30)


@dataclass
class Tally:
    """One phase's arrivals against what was written: latency per change per socket, from its write."""

    sockets: int
    changes: int
    latencies: list[float] = field(default_factory=list)
    missing: int = 0
    duplicates: int = 0
    unexpected: int = 0
    messages: list[int] = field(default_factory=list)  # per socket
    written_span: float = 0.0  # ms from the first change's commit to the last's
    to_hub: list[float] = field(default_factory=list)  # per change: its commit to its handing to the hub, ms
    first: float = math.inf
    last: float = 0.0

    @property
    def delivered(self) -> int:
        return len(self.latencies)


def tally(report: list[dict], written: dict[int, float], handed: dict[int, float] | None = None) -> Tally:
    """Count each socket's changes: the first arrival of each is its latency; a repeat is a duplicate, a change
    that never came is missing. `handed`: when each change reached the hub, if known."""
    result = Tally(len(report), len(written), written_span=max(written.values()) - min(written.values()))
    result.to_hub = [handed[run_id] - at for run_id, at in written.items() if run_id in (handed or {})]
    for received in report:
        seen: set[int] = set()
        for run_id, at in received["changes"]:
            if run_id not in written:
                result.unexpected += 1
            elif run_id in seen:
                result.duplicates += 1
            else:
                seen.add(run_id)
                result.latencies.append(at - written[run_id])
        result.missing += len(written) - len(seen)
        result.messages.append(received["messages"])
        arrivals = [at for _, at in received["changes"]]
        if arrivals:
            result.first, result.last = min(result.first, *arrivals), max(result.last, *arrivals)
    return result


def _isolated(count: int, first_id: int, quiet: float) -> dict[int, float]:
    """`count` changes, each after `quiet` seconds without one; when each was committed."""
    written = {}
    for run_id in range(first_id, first_id + count):
        time.sleep(quiet)
        written[run_id] = run_change_record(run_id, REPO)
    return written


def _sustained(first_id: int, quiet: float) -> dict[int, float]:
    """RATE changes a second for SECONDS, after a quiet interval."""
    time.sleep(quiet)
    written = {}
    started = time.monotonic()
    for index in range(RATE * SECONDS):
        time.sleep(max(0.0, started + index / RATE - time.monotonic()))
        written[first_id + index] = run_change_record(first_id + index, REPO)
    return written


@contextlib.contextmanager
def hub_handoffs():
    """When each change was handed to the hub (realtime/hub.py), by run id, so that a latency splits into the
    stream's part (write, stream, reader, coalescer) and the sockets' part (hub to socket)."""
    from realtime.hub import hub

    handed: dict[int, float] = {}
    publish = hub.publish_changes

    def timed(changes, frame):
        now = time.time() * 1000
        for _, _, data in changes:
            handed.setdefault(json.loads(data).get("id"), now)
        publish(changes, frame)

    hub.publish_changes = timed  # on this instance only: deleting it below brings back the class's method
    try:
        yield handed
    finally:
        del hub.publish_changes


def _arrived(clients: SocketClients, reader, written: dict[int, float], handed: dict[int, float]) -> Tally:
    if not reader.caught_up(timeout=60):
        raise RuntimeError("the stream reader did not catch up within 60 s")
    time.sleep(SETTLE)
    return tally(clients.report(), written, handed)


def _measure(url: str, cookie: str, reader, interval: float) -> tuple[Tally, Tally, Tally]:
    quiet = interval + QUIET_MARGIN
    with hub_handoffs() as handed:
        few = SocketClients(url, cookie, FEW)
        try:
            few_isolated = _arrived(few, reader, _isolated(ISOLATED, 60_000_000, quiet), handed)
        finally:
            few.close()
        many = SocketClients(url, cookie, MANY)
        try:
            many_isolated = _arrived(many, reader, _isolated(ISOLATED, 61_000_000, quiet), handed)
            many_sustained = _arrived(many, reader, _sustained(62_000_000, quiet), handed)
        finally:
            many.close()
    return few_isolated, many_isolated, many_sustained


def run() -> list[Figure]:
    with local_stack(simulator=True):
        from django.conf import settings
        from django.test import Client

        from devstack.live import LiveServer
        from pipeline.local import reader_start, reader_stop
        from realtime.groups import repo_group
        from realtime.hub import hub
        from tests.plugins.github import sign_in

        browser = Client()
        sign_in(browser, "alice")
        browser.get("/api/repos")
        cookie = f"{settings.SESSION_COOKIE_NAME}={browser.cookies[settings.SESSION_COOKIE_NAME].value}"
        interval = settings.REALTIME_COALESCE_SECONDS
        server = LiveServer().start()
        try:
            few, many, sustained = _measure(server.url.replace("http", "ws") + "/ws", cookie, reader_start(), interval)
        finally:
            # Stopping the server while consumers are still handling those disconnects cancels them mid-way,
            # and uvicorn prints a traceback for each: let them finish first.
            deadline = time.monotonic() + 30
            while hub.listeners(repo_group(REPO)) and time.monotonic() < deadline:
                time.sleep(0.1)
            server.stop()
            reader_stop()
    return figures(few, many, sustained, interval)


def _spread(values: list[float]) -> str:
    if not values:
        return "(not measured)"
    return f"p50 {percentile(values, 0.5):.0f} ms, p99 {percentile(values, 0.99):.0f} ms"


def figures(few: Tally, many: Tally, sustained: Tally, interval: float) -> list[Figure]:
    """The phases' figures (a function of its own so that a test can hand it arrivals)."""
    p99_few, p99_many = percentile(few.latencies, 0.99), percentile(many.latencies, 0.99)
    ratio = p99_many / p99_few
    missing = few.missing + many.missing + sustained.missing
    duplicates = few.duplicates + many.duplicates + sustained.duplicates
    rate = sustained.delivered / max(0.001, (sustained.last - sustained.first) / 1000)
    # Coalescing's promise, at most one message per interval: while changes keep coming, a message at the first and
    # then one each interval, and one more after the last change.
    allowed = math.floor(sustained.written_span / 1000 / interval) + 2 if interval else sustained.changes
    over = max(sustained.messages) - allowed
    how = (
        f"Each change a run's new state stored as a webhook stores it in DynamoDB Local, then the real path: the "
        f"events table's stream, the reader the ASGI process runs (polling every 50 ms), the coalescer "
        f"(REALTIME_COALESCE_SECONDS={interval:g}), the hub, uvicorn's sockets; the clients in another process. "
        f"Latency from DynamoDB's answer to the write's transaction (the change is in the stream from then on) to "
        f"each socket's arrival (this machine's clock, both processes)."
    )
    isolated = (
        f"{ISOLATED} changes to {REPO}, each {interval + QUIET_MARGIN:g} s after the last (longer than the "
        f"coalescing interval, so each goes out at once), to {many.sockets:,} sockets: {many.delivered:,} of "
        f"{many.changes * many.sockets:,} arrivals, p50 {percentile(many.latencies, 0.5):.0f} ms, max "
        f"{max(many.latencies):.0f} ms; the same changes to {few.sockets} sockets in the same run: p99 "
        f"{p99_few:.0f} ms. Of it, from the write to the hub (stream, reader, coalescer), per change: "
        f"{_spread(many.to_hub)} at {many.sockets:,} sockets, {_spread(few.to_hub)} at {few.sockets}; the rest "
        f"is the hub's sending to every socket and the clients' reading. "
    )
    return [
        Figure(
            "sockets.p99",
            f"Change latency at {many.sockets:,} sockets on one repository, write to arrival, p99",
            p99_many,
            "ms",
            "≤ 150 ms",
            p99_many <= 150,
            COMMAND,
            isolated + how,
        ),
        Figure(
            "sockets.p99_ratio",
            f"Change latency p99 at {many.sockets:,} sockets ÷ at {few.sockets}, measured in the same run",
            ratio,
            "×",
            "≤ 5",
            ratio <= 5,
            COMMAND,
            f"{p99_many:.0f} ms ÷ {p99_few:.0f} ms: the same {ISOLATED} isolated changes, the {few.sockets} sockets "
            f"first, then the {many.sockets:,}.",
        ),
        Figure(
            "sockets.p99_few",
            f"Change latency at {few.sockets} sockets on one repository, write to arrival, p99",
            p99_few,
            "ms",
            "(comparison)",
            None,
            COMMAND,
        ),
        Figure(
            "sockets.missing",
            "Changes not delivered to a socket, every phase",
            missing,
            "changes",
            "0",
            missing == 0,
            COMMAND,
            f"Counted per socket against what was written: {few.sockets} sockets × {few.changes} changes, "
            f"{many.sockets:,} × {many.changes}, and {sustained.sockets:,} × {sustained.changes} (sustained); "
            f"what had not arrived {SETTLE:g} s after the stream reader caught up is missing. "
            f"Changes not written by this run: {few.unexpected + many.unexpected + sustained.unexpected}.",
        ),
        Figure(
            "sockets.duplicates",
            "Changes delivered to the same socket more than once, every phase",
            duplicates,
            "changes",
            "(counted; delivery is at least once, the browser ignores an id it has)",
            None,
            COMMAND,
        ),
        Figure(
            "sockets.rate",
            f"Changes delivered per second at {sustained.sockets:,} sockets, {RATE} a second for {SECONDS} s, "
            "one process",
            rate,
            "/s",
            "≥ 5,000/s",
            rate >= 5000 and sustained.missing == 0,
            COMMAND,
            f"{sustained.changes} changes at {RATE}/s to {sustained.sockets:,} sockets: {sustained.delivered:,} of "
            f"{sustained.changes * sustained.sockets:,} arrived ({sustained.missing} missing), in "
            f"{min(sustained.messages)}–{max(sustained.messages)} messages per socket (coalesced), p50 "
            f"{percentile(sustained.latencies, 0.5):.0f} ms, p99 {percentile(sustained.latencies, 0.99):.0f} ms, "
            f"max {max(sustained.latencies):.0f} ms. Each message carries every change since the socket's last, "
            f"so the rate counts changes, not messages.",
        ),
        Figure(
            "sockets.messages_over",
            f"Messages a socket got beyond one per {interval:g} s, {RATE} changes a second for {SECONDS} s",
            over,
            "messages",
            "≤ 0",
            over <= 0,
            COMMAND,
            f"The most messages one socket got, less what one per interval allows while the changes were written "
            f"({sustained.written_span / 1000:.1f} s: a message at the first change, one each {interval:g} s, one "
            f"after the last: {allowed}). Messages per socket: {min(sustained.messages)}–{max(sustained.messages)} "
            f"for {sustained.changes} changes.",
        ),
    ]
