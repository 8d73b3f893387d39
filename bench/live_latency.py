"""Change-to-browser latency: a change stored, until the open page in Chromium has it, through the stream path.

Each change is stored as a webhook stores it (runs/cache.py: the run or job and its event in one transaction, in
DynamoDB Local). From there it takes the whole local path: the events table's stream, the reader the ASGI process
runs (pipeline/local.py), the coalescer (realtime/coalesce.py), the hub, the page's WebSocket, live.js. The clock
starts when DynamoDB answers the write's transaction (the change is in the table and its stream from then on) and
stops when the page's live client records the change (`liveClient.arrivals`), both on this machine's wall clock.

Two phases on one page:

- isolated changes (runs' new states), each written REALTIME_COALESCE_SECONDS + 0.25 s after the last. A change
  that follows a quiet interval is sent at once; one that follows another within the interval waits for the
  interval to end, by design. Spaced so, every change measures the path itself, not the coalescing wait; the
  0.25 s margin covers the reader's 50 ms polling and the write's own time, so no change lands inside the
  interval by accident.
- a burst: 100 changes to one repository written within a second (the jobs of a wide matrix finishing together,
  written by 16 writers at once as concurrent webhooks write them), each to arrive within the interval plus
  100 ms of its write, in as few socket messages as coalescing promises (at most 2: the first change at once,
  everything after it at the interval's end).
"""

import time
from concurrent.futures import ThreadPoolExecutor

from bench.report import Figure
from bench.stack import job_change_record, local_stack, percentile, run_change_record

COMMAND = "make bench-live-latency"
REPO = "acme/api"
ISOLATED = 50
QUIET_MARGIN = 0.25  # s beyond the coalescing interval between isolated changes
BURST = 100
BURST_SECONDS = 0.9  # the burst's writes start over this long, so that all of them end within a second
BURST_WRITERS = 16  # a write takes longer than 9 ms here: several at once, as concurrent webhooks write


def _sign_in(context, url):
    page = context.new_page()
    page.goto(f"{url}/auth/github?next=/")
    page.locator('#live-status[data-state="live"]').wait_for(timeout=30_000)
    return page


def _isolated(first_id: int, quiet: float) -> dict[int, float]:
    written = {}
    for run_id in range(first_id, first_id + ISOLATED):
        time.sleep(quiet)
        written[run_id] = run_change_record(run_id, REPO)
    return written


def _burst(run_id: int, first_job: int) -> tuple[dict[int, float], float]:
    """BURST job changes of one run whose writes start evenly over BURST_SECONDS; when each was committed (by job
    id), and the burst's span in s (the first write's start to the last commit)."""
    started = time.monotonic() + 0.05
    first_start = time.time() * 1000 + 50

    def write(index: int) -> tuple[int, float]:
        time.sleep(max(0.0, started + index * BURST_SECONDS / BURST - time.monotonic()))
        return first_job + index, job_change_record(first_job + index, run_id=run_id, repo=REPO)

    with ThreadPoolExecutor(max_workers=BURST_WRITERS) as pool:
        writes = dict(pool.map(write, range(BURST)))
    return writes, (max(writes.values()) - first_start) / 1000


def _arrivals(page, count: int) -> dict[int, float]:
    """Every change the page's live client has, by run id: when it arrived."""
    page.wait_for_function(f"() => window.liveClient.received.length >= {count}", timeout=60_000)
    pairs = page.evaluate("window.liveClient.received.map((e, i) => [e.id, window.liveClient.arrivals[i][1]])")
    return dict(pairs)


def _batches(page) -> int:
    return page.evaluate("window.liveClient.batches")


def run() -> list[Figure]:
    from tests.plugins.browser import CHROMIUM, CHROMIUM_ARGS

    with local_stack(simulator=True) as sim:
        from django.conf import settings
        from playwright.sync_api import sync_playwright

        from devstack.live import LiveServer
        from pipeline.local import reader_stop

        interval = settings.REALTIME_COALESCE_SECONDS
        sim.trigger(REPO, "ci", outcome="success", branch="main")
        for _ in range(30):
            sim.advance(60)
        server = LiveServer().start()
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
                page = _sign_in(browser.new_context(), server.url)
                isolated = _isolated(50_000_000, interval + QUIET_MARGIN)
                arrived = _arrivals(page, len(isolated))
                time.sleep(interval + QUIET_MARGIN)  # the burst starts after a quiet interval
                before = _batches(page)
                burst, span = _burst(51_000_000, 52_000_000)
                arrived = _arrivals(page, len(isolated) + len(burst))
                time.sleep(interval + 0.5)  # anything sent late, or twice, is counted too
                messages = _batches(page) - before
                arrived = _arrivals(page, len(isolated) + len(burst))
                browser.close()
        finally:
            server.stop()
            reader_stop()
    return figures(isolated, burst, arrived, messages=messages, span=span, interval=interval)


def figures(
    isolated: dict[int, float],
    burst: dict[int, float],
    arrived: dict[int, float],
    *,
    messages: int,
    span: float,
    interval: float,
) -> list[Figure]:
    """The figures from when each change was written and when the page had it (run ids as keys)."""
    latencies = [arrived[run_id] - at for run_id, at in isolated.items() if run_id in arrived]
    burst_latencies = [arrived[run_id] - at for run_id, at in burst.items() if run_id in arrived]
    missing = len(isolated) + len(burst) - len(latencies) - len(burst_latencies)
    p50, p95 = percentile(latencies, 0.5), percentile(latencies, 0.95)
    worst = max(burst_latencies) if burst_latencies else float("inf")
    allowed = (interval + 0.1) * 1000
    path = (
        "written to DynamoDB Local as a webhook writes it (the run or job and its event in one transaction), then "
        "the events table's stream, the reader the ASGI process runs (polling every 50 ms), the coalescer, the hub "
        "and the front page's WebSocket in Debian's Chromium; from DynamoDB's answer to the transaction to "
        "live.js recording the change."
    )
    return [
        Figure(
            "live.latency_p50",
            "Change-to-browser latency, isolated changes, p50",
            p50,
            "ms",
            "(none set)",
            None,
            COMMAND,
            f"{len(latencies)} changes to {REPO}, each {interval + QUIET_MARGIN:g} s after the last "
            f"(REALTIME_COALESCE_SECONDS={interval:g} plus {QUIET_MARGIN:g} s, so each is the first after a quiet "
            f"interval and goes at once; closer together they would wait for coalescing by design), " + path,
        ),
        Figure(
            "live.latency_p95",
            "Change-to-browser latency, isolated changes, p95",
            p95,
            "ms",
            "≤ 100 ms",
            p95 <= 100 and missing == 0,
            COMMAND,
        ),
        Figure(
            "live.burst_latency_max",
            f"Change-to-browser latency under a burst of {BURST} changes within a second, the slowest change",
            worst,
            "ms",
            f"≤ {allowed:,.0f} ms (the coalescing interval + 100 ms), every change",
            worst <= allowed and missing == 0,
            COMMAND,
            f"{BURST} job changes of one run of {REPO} by {BURST_WRITERS} writers at once, their writes starting "
            f"evenly over {BURST_SECONDS:g} s (the first write's start to the last commit: {span:.2f} s), after a "
            f"quiet interval; "
            f"{len(burst_latencies)} arrived, p50 {percentile(burst_latencies, 0.5):.0f} ms. Missing, every "
            f"phase: {missing}. Same path: " + path,
        ),
        Figure(
            "live.burst_messages",
            f"Socket messages the page got for a burst of {BURST} changes within a second",
            messages,
            "messages",
            "≤ 2",
            messages <= 2,
            COMMAND,
            "Counted by live.js (`liveClient.batches`: messages that carried changes), from before the burst to "
            f"{interval + 0.5:g} s after its last change arrived.",
        ),
    ]
