"""The overview page for 50 repositories with 20 runs each: server time, DynamoDB requests, and page weight.

Server time is the whole of Django's handling of `GET /` (session, user, visibility, summaries, the board, the
template), through the test client against DynamoDB Local, in the steady state: the user's visibility is kept
and every repository loaded, so nothing is asked of GitHub. Page weight is what a browser fetches for the page:
the HTML and every script and stylesheet it loads, uncompressed (what gzip saves is extra).
"""

import re
import time

from bench.report import Figure
from bench.stack import DynamoDBRequests, local_stack, percentile, seed_repositories

COMMAND = "make bench-overview"
REPOS, RUNS_PER_REPO, VIEWS = 50, 20, 200
# A filtered view, to show that filters cost no extra reads.
FILTERED = "/?branch=*&hide_pull_requests=1&topic=backend&status=success"


def _page_weight(html: str) -> tuple[int, list[str]]:
    """The bytes of the page and of the scripts and stylesheets it loads, and those URLs."""
    from django.contrib.staticfiles import finders

    loaded = re.findall(r'<(?:script|link rel="stylesheet")[^>]+(?:src|href)="([^"]+)"', html)
    total = len(html.encode())
    for url in loaded:
        if not url.startswith("/static/"):
            raise AssertionError(f"the overview loads {url} from another origin")
        with open(finders.find(url.removeprefix("/static/")), "rb") as file:
            total += len(file.read())
    return total, loaded


def _timed(client, path: str) -> tuple[list[float], float, dict]:
    timings = []
    with DynamoDBRequests() as requests_made:
        for _ in range(VIEWS):
            started = time.perf_counter()
            response = client.get(path)
            timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.status_code
    return timings, requests_made.total / VIEWS, dict(requests_made.counts)


def run() -> list[Figure]:
    with local_stack():
        from django.test import Client

        user = seed_repositories(42, REPOS, RUNS_PER_REPO)
        client = Client()
        client.force_login(user, backend="accounts.backends.GitHubBackend")
        html = client.get("/").content.decode()
        assert html.count('<article class="repo') == REPOS
        timings, per_view, operations = _timed(client, "/")
        filtered_timings, filtered_per_view, _ = _timed(client, FILTERED)
        # Apart from the timed views: asking DynamoDB for the capacity consumed makes its answers a little longer.
        with DynamoDBRequests(capacity=True) as metered:
            for _ in range(10):
                client.get("/")
        weight, loaded = _page_weight(html)
    p95 = percentile(timings, 0.95)
    return [
        Figure(
            "overview.server_p95",
            f"Overview page server time, {REPOS} repos x {RUNS_PER_REPO} runs, p95",
            p95,
            "ms",
            "≤ 50 ms",
            p95 <= 50,
            COMMAND,
            f"{VIEWS} views of `GET /` through Django's request handling against DynamoDB Local; p50 "
            f"{percentile(timings, 0.5):.1f} ms. Filtered (`{FILTERED}`): p95 "
            f"{percentile(filtered_timings, 0.95):.1f} ms.",
        ),
        Figure(
            "overview.dynamodb_requests",
            "DynamoDB requests per overview view",
            per_view,
            "requests",
            "≤ 3",
            per_view <= 3 and filtered_per_view <= 3,
            COMMAND,
            f"By operation over {VIEWS} views: {operations}; the filtered view: {filtered_per_view:.2f} per view.",
        ),
        Figure(
            "overview.read_units",
            "DynamoDB read units per overview view",
            metered.read_units / 10,
            "RRU",
            "(none set)",
            None,
            COMMAND,
            f"As DynamoDB Local reports them (ReturnConsumedCapacity) over 10 views of {REPOS} repositories: "
            "eventually consistent reads, half a unit per 4 KB of each item read, so the repository summaries "
            f"(each holding its recent runs) are most of it. Writes per view: {metered.write_units / 10:g} WRU.",
        ),
        Figure(
            "overview.page_weight",
            "Overview page weight: HTML + CSS + JS, uncompressed",
            weight / 1024,
            "KB",
            "≤ 150 KB, nothing from another origin",
            weight <= 150 * 1024,
            COMMAND,
            f"{REPOS} repositories; the HTML and {', '.join(loaded)}; every one from the app's own origin.",
        ),
    ]
