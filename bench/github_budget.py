"""GitHub requests per user per hour for 50 repositories, counted at the simulator: the first view, then an hour.

The user (the simulator's bob, given 48 more repositories: 50 in one installation) signs in, then opens the
overview: that is the cold figure. Then one simulated hour of steady work: runs start every minute and their
webhooks reach the live app; the user reloads the overview every 30 seconds and a repository page every 5
minutes. The app's clock is the wall clock while the simulator's runs an hour in seconds, so the kept
visibility is aged by hand every 5 simulated minutes, as its 5-minute lifetime would. Reconciliation, which
works for all users of the App at once, is counted separately.

For comparison, in the same run, what the user would do instead: poll every repository they can see every 10
seconds with their own token, with ETags (conditional requests, which GitHub answers 304 without charging the
rate limit while nothing changed), through another simulated hour of the same activity (a new run every
minute). Both sides are counted at the simulator in requests sent, 304s included; ours also carries all of the
App's reconciliation for that hour (with one user, that user bears all of it), and the ratio is printed.
"""

import random
import urllib.parse
from datetime import UTC, datetime, timedelta

import requests

from bench.report import Figure
from bench.stack import local_stack

COMMAND = "make bench-github-budget"
USER = "bob"


def _total(sim, *, without_304: bool = True) -> int:
    counts = sim.request_counts()["by_status"]
    return sum(count for status, count in counts.items() if not (without_304 and status == "304"))


def _sign_in(client, sim):
    start = client.get("/auth/github")
    approved = requests.get(start["Location"], params={"login": USER}, allow_redirects=False, timeout=10)
    callback = urllib.parse.urlsplit(approved.headers["Location"])
    client.get(f"{callback.path}?{callback.query}")


def _age_visibility(user_id: int) -> None:
    from accounts.models import UserRecord

    UserRecord(user_id=user_id).update(actions=[UserRecord.visible_at.set(datetime.now(UTC) - timedelta(minutes=6))])


def _polling_hour(sim, repos: list[str], rng: random.Random) -> tuple[int, int]:
    """Requests, and of those 304s, of polling every repository's runs every 10 s with ETags for a simulated hour."""
    token = sim.user_token(USER)
    etags: dict[str, str] = {}
    session = requests.Session()
    sim.reset_counters()
    for second in range(0, 3600, 10):
        if second % 60 == 0:
            sim.trigger(rng.choice(repos), outcome=rng.choice(["success", "failure"]))
        for repo in repos:
            headers = {"Authorization": f"Bearer {token}"}
            if repo in etags:
                headers["If-None-Match"] = etags[repo]
            response = session.get(f"{sim.api_url}/repos/{repo}/actions/runs", headers=headers, timeout=10)
            if response.headers.get("etag"):
                etags[repo] = response.headers["etag"]
        sim.advance(10)
    counts = sim.request_counts()
    return counts["total"], counts["by_status"].get("304", 0)


def run() -> list[Figure]:
    with local_stack(simulator=True) as sim:
        from django.conf import settings
        from django.test import Client

        from dashboard.reconciliation import reconcile
        from devstack.live import live_app

        added = sim.add_repositories("acme", 48, access={USER: "read", "alice": "write"})
        repos = ["acme/storefront", "acme/api", *added]
        with live_app() as url:
            sim.set_hook(url=f"{url}/webhooks/github", secret=settings.GITHUB_WEBHOOK_SECRET)
            rng = random.Random(3)
            for _ in range(60):  # an hour of history before the user first looks
                sim.trigger(rng.choice(repos), outcome=rng.choice(["success", "failure"]))
                sim.advance(60)
            client = Client()
            _sign_in(client, sim)
            sim.reset_counters()
            assert len(client.get("/api/repos").json()["repos"]) == 50
            cold = sim.request_counts()["total"]

            sim.reset_counters()
            app_requests = 0
            for second in range(0, 3600, 30):
                if second % 60 == 0:
                    sim.trigger(rng.choice(repos), outcome=rng.choice(["success", "failure"]))
                if second % 300 == 0:
                    _age_visibility(1002)
                    client.get(f"/api/repos/{rng.choice(repos)}")
                    before = sim.request_counts()
                    reconcile(now=datetime.fromtimestamp(sim.now(), UTC))
                    after = sim.request_counts()
                    app_requests += after["by_identity"].get("app", {}).get("200", 0) - before["by_identity"].get(
                        "app", {}
                    ).get("200", 0)
                client.get("/api/repos")
                sim.advance(30)
            counts = sim.request_counts()
            reconcile_total = sum(
                sum(value.values()) for identity, value in counts["by_identity"].items() if identity == "app"
            )
            steady = _total(sim) - reconcile_total
            steady_304 = counts["by_status"].get("304", 0)
            ours = counts["total"]  # everything the app sent GitHub in the hour, for the user and for the App
        polling, polling_304 = _polling_hour(sim, repos, rng)
    ratio = polling / max(1, ours)
    print(f"   polling every 10 s with ETags: {polling:,} requests/h; ours: {ours:,}; ratio {ratio:,.0f}x", flush=True)
    return [
        Figure(
            "github.cold_first_view",
            "GitHub requests for a user's first view, 50 repos",
            cold,
            "requests",
            "≤ 54 (50 + 1 + 3)",
            cold <= 54,
            COMMAND,
            "One page of runs per repository (up to 100 runs), the user's installations, the installation's "
            "repositories, and one installation token.",
        ),
        Figure(
            "github.steady_per_hour",
            "GitHub requests per user per hour, steady state with webhooks (not 304)",
            steady,
            "requests/h",
            "≤ 10",
            steady <= 10,
            COMMAND,
            f"Besides these, {steady_304} conditional requests answered 304 (no rate limit) renewed the kept "
            f"visibility. Reconciliation for the whole App made {reconcile_total} requests in the hour "
            f"(listing deliveries every 5 minutes, re-reading stuck runs), shared by all its users. "
            f"Polling every repository every 10 s with ETags would send {polling:,} requests in the hour: "
            f"{ratio:,.0f} times this dashboard's {ours} (see the ratio below).",
        ),
        Figure(
            "github.polling_baseline_per_hour",
            "For comparison: polling 50 repos every 10 s with ETags, requests per user per hour",
            polling,
            "requests/h",
            "(comparison)",
            None,
            COMMAND,
            f"The user's own token, every repository's runs listed every 10 s with If-None-Match, through a "
            f"simulated hour with a new run every minute: {polling_304:,} of the {polling:,} were answered 304 (not "
            f"charged), {polling - polling_304:,} counted against the user's 5,000 an hour.",
        ),
        Figure(
            "github.polling_vs_ours_ratio",
            "GitHub requests per user per hour: polling every 10 s with ETags ÷ this dashboard",
            ratio,
            "×",
            "(comparison)",
            None,
            COMMAND,
            f"Polling: {polling:,} requests. This dashboard, measured in the same run: {ours}, every request it sent "
            f"GitHub in the hour: the user's {steady} charged and {steady_304} answered 304, and the App's own "
            f"{reconcile_total} (reconciliation, installation tokens), all counted against this one user although "
            f"they serve every user of the App.",
        ),
    ]
