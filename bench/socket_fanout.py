"""One local process with 1,000 open sockets subscribed to one repository: messages per second and p99 latency.

The app (uvicorn, realtime/hub.py) runs in this process; the 1,000 clients run in another
(`bench/socket_clients.py`), so the two share the machine's 2 cores. Changes are published straight to the
repository's group at a steady rate (the path a webhook's change takes after its DynamoDB write), each carrying
its send time; the clients count what arrives and when.
"""

import json
import subprocess
import sys
import time

from bench.report import ROOT, Figure
from bench.stack import local_stack, percentile

COMMAND = "make bench-socket-fanout"
SOCKETS, RATE, SECONDS = 1000, 6, 10  # 6 changes a second to 1,000 sockets: 6,000 messages a second


def run() -> list[Figure]:
    with local_stack(simulator=True):
        from django.conf import settings
        from django.test import Client

        from devstack.live import LiveServer
        from realtime.groups import repo_group
        from realtime.hub import hub
        from tests.plugins.github import sign_in

        browser = Client()
        sign_in(browser, "alice")
        browser.get("/api/repos")
        cookie = f"{settings.SESSION_COOKIE_NAME}={browser.cookies[settings.SESSION_COOKIE_NAME].value}"
        server = LiveServer().start()
        clients = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bench.socket_clients",
                server.url.replace("http", "ws") + "/ws",
                cookie,
                str(SOCKETS),
                "acme/api",
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert clients.stdout.readline().strip() == "ready"
            sent = 0
            started = time.monotonic()
            while time.monotonic() - started < SECONDS:
                due = started + sent / RATE
                time.sleep(max(0.0, due - time.monotonic()))
                text = json.dumps({"type": "change", "id": str(sent), "event": {"sent_at": time.time() * 1000}})
                hub.publish(repo_group("acme/api"), text)
                sent += 1
            result = json.loads(clients.stdout.readline())
        finally:
            clients.kill()  # the clients go first, so the server sees ordinary disconnects
            clients.wait(timeout=30)
            # Stopping the server while consumers are still handling those disconnects cancels them mid-way,
            # and uvicorn prints a traceback for each: let them finish first.
            deadline = time.monotonic() + 30
            while hub.listeners(repo_group("acme/api")) and time.monotonic() < deadline:
                time.sleep(0.1)
            server.stop()
    expected = sent * SOCKETS
    rate = result["received"] / max(0.001, (result["last"] - result["first"]) / 1000)
    p99 = percentile(result["latencies"], 0.99)
    note = (
        f"{sent} changes at {RATE}/s for {SECONDS} s to {SOCKETS} sockets: {result['received']:,} of {expected:,} "
        f"messages arrived ({expected - result['received']} missing); "
        f"p50 {percentile(result['latencies'], 0.5):.0f} ms."
    )
    return [
        Figure(
            "sockets.rate",
            f"Messages per second delivered, {SOCKETS} sockets, one process",
            rate,
            "/s",
            "≥ 5,000/s",
            rate >= 5000 and result["received"] == expected,
            COMMAND,
            note,
        ),
        Figure("sockets.p99", f"Message latency at {SOCKETS} sockets, p99", p99, "ms", "≤ 200 ms", p99 <= 200, COMMAND),
        Figure(
            "sockets.missing",
            f"Messages not delivered, {SOCKETS} sockets",
            expected - result["received"],
            "messages",
            "0",
            result["received"] == expected,
            COMMAND,
        ),
    ]
