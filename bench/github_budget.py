"""GitHub requests per user per hour for 50 repositories, counted at the simulator: the first view, then an hour.

The user (the simulator's bob, given 48 more repositories: 50 in one installation) signs in, then opens the
overview: that is the cold figure. Then one simulated hour of steady work: runs start every minute and their
webhooks reach the live app; the user reloads the overview every 30 seconds and a repository page every 5
minutes. The app's clock is the wall clock while the simulator's runs an hour in seconds, so the kept
visibility is aged by hand every 5 simulated minutes, as its 5-minute lifetime would. Reconciliation, which
works for all users of the App at once, is counted separately.

For comparison, the same hour for a dashboard that polls every repository's runs every 10 seconds with ETags
(what a user would otherwise run): its requests are counted at the simulator in the same run, for 10 simulated
minutes, and scaled to the hour.
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


def _polling_baseline(sim, repos: list[str]) -> int:
    """Requests of polling every repository's runs every 10 s with ETags, for 10 simulated minutes."""
    token = sim.installation_token(70001)
    etags: dict[str, str] = {}
    sim.reset_counters()
    for _ in range(60):  # 10 minutes at one poll per 10 s
        for repo in repos:
            headers = {"Authorization": f"Bearer {token}"}
            if repo in etags:
                headers["If-None-Match"] = etags[repo]
            response = requests.get(f"{sim.api_url}/repos/{repo}/actions/runs", headers=headers, timeout=10)
            if response.headers.get("etag"):
                etags[repo] = response.headers["etag"]
        sim.advance(10)
    return sim.request_counts()["total"] * 6


def run() -> list[Figure]:
    with local_stack(simulator=True) as sim:
        from django.conf import settings
        from django.test import Client

        from devstack.live import live_app
        from runs.reconcile import reconcile

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
            baseline = _polling_baseline(sim, repos)
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
            f"Polling every repository every 10 s with ETags would send {baseline:,} requests in the hour: "
            f"{baseline / max(1, steady + steady_304):,.0f} times this dashboard's {steady + steady_304}.",
        ),
        Figure(
            "github.polling_baseline_per_hour",
            "For comparison: polling 50 repos every 10 s with ETags, requests per hour",
            baseline,
            "requests/h",
            "(comparison)",
            None,
            COMMAND,
        ),
    ]
