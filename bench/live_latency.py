"""Publish-to-browser latency: a change stored and published, until the open page in Chromium has it.

The clock starts before the change is written to DynamoDB (the webhook's transaction) and stops when the page's
live client receives it over the WebSocket, both read from this machine's wall clock.
"""

import time
from datetime import UTC, datetime

from bench.report import Figure
from bench.stack import local_stack, percentile

COMMAND = "make bench-live-latency"
CHANGES = 100


def _sign_in(context, url):
    page = context.new_page()
    page.goto(f"{url}/auth/github?next=/")
    page.locator('#live-status[data-state="live"]').wait_for(timeout=30_000)
    return page


def run() -> list[Figure]:
    from tests.plugins.browser import CHROMIUM, CHROMIUM_ARGS

    with local_stack(simulator=True) as sim:
        from playwright.sync_api import sync_playwright

        from devstack.live import LiveServer
        from runs.cache import run_record
        from runs.states import RunState

        sim.trigger("acme/api", "ci", outcome="success", branch="main")
        for _ in range(30):
            sim.advance(60)
        server = LiveServer().start()
        published: dict[int, float] = {}
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
                page = _sign_in(browser.new_context(), server.url)
                for index in range(CHANGES):
                    run_id = 50_000_000 + index
                    published[run_id] = time.time() * 1000
                    run_record(
                        RunState.from_github(
                            {
                                "id": run_id,
                                "status": "in_progress",
                                "updated_at": datetime.now(UTC).isoformat(),
                                "workflow_id": 1,
                                "name": "CI",
                                "head_branch": "main",
                                "repository": {"full_name": "acme/api", "default_branch": "main"},
                            }
                        )
                    )
                    time.sleep(0.02)
                page.wait_for_function(f"() => window.liveClient.received.length >= {CHANGES}", timeout=30_000)
                received = page.evaluate(
                    "window.liveClient.received.map((e, i) => [e.id, window.liveClient.arrivals[i][1]])"
                )
                browser.close()
        finally:
            server.stop()
    latencies = [arrived - published[run_id] for run_id, arrived in received if run_id in published]
    p50, p95 = percentile(latencies, 0.5), percentile(latencies, 0.95)
    note = (
        f"{len(latencies)} changes, one every ~20 ms, each written to DynamoDB Local and published, received by "
        f"the front page's live client in Debian's Chromium over the local WebSocket (uvicorn, realtime/hub.py)."
    )
    return [
        Figure("live.latency_p50", "Publish-to-browser latency, p50", p50, "ms", "(none set)", None, COMMAND, note),
        Figure("live.latency_p95", "Publish-to-browser latency, p95", p95, "ms", "≤ 100 ms", p95 <= 100, COMMAND),
    ]
