"""Screenshots of the dashboard for the README: `make screenshots` writes docs/screenshots/*.png.

It runs `make run`'s stack on ports and a data directory of its own (so a running `make run` is not disturbed),
with a day of the simulator's history, signs in as alice in Debian's Chromium, and photographs the overview, a
repository page and a failed run's page, in the light and the dark theme.
"""

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
APP_PORT, DYNAMODB_PORT, GHSIM_PORT = 8100, 8101, 8102


def _wait_for(url: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=2).status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise SystemExit(f"{url} did not answer within {seconds:.0f} s")


def _photograph(app: str) -> None:
    from playwright.sync_api import sync_playwright

    from tests.plugins.browser import CHROMIUM, CHROMIUM_ARGS

    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        for scheme in ("light", "dark"):
            context = browser.new_context(viewport={"width": 1280, "height": 900}, color_scheme=scheme)
            page = context.new_page()
            page.goto(f"{app}/auth/github?next=/")
            page.locator('#live-status[data-state="live"]').wait_for(timeout=30_000)
            page.screenshot(path=OUT / f"overview-{scheme}.png", full_page=True)
            page.goto(f"{app}/repos/acme/storefront")
            page.screenshot(path=OUT / f"repo-{scheme}.png")  # the newest runs; the history goes on below
            failed = page.locator('#history tr[data-category="failure"] a').first
            (failed if failed.count() else page.locator("#history tr[data-run] a").first).click()
            page.wait_for_selector("#jobs")
            page.screenshot(path=OUT / f"run-{scheme}.png", full_page=True)
            context.close()
        browser.close()
    print(f"Screenshots written to {OUT.relative_to(ROOT)}/")


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="dashboard-screenshots-") as data:
        env = {
            **os.environ,
            "DASHBOARD_RUN_ADDRESS": f"127.0.0.1:{APP_PORT}",
            "DASHBOARD_RUN_DYNAMODB_PORT": str(DYNAMODB_PORT),
            "DASHBOARD_RUN_GHSIM_PORT": str(GHSIM_PORT),
            "DASHBOARD_RUN_DATA_DIR": data,
            "GHSIM_HISTORY": str(24 * 3600),
            "GHSIM_SEED": "3",
        }
        stack = subprocess.Popen([sys.executable, "-m", "devstack.run"], cwd=ROOT, env=env)
        try:
            _wait_for(f"http://127.0.0.1:{APP_PORT}/healthz")
            _photograph(f"http://127.0.0.1:{APP_PORT}")
        finally:
            stack.send_signal(2)  # SIGINT: the stack stops what it started
            stack.wait(timeout=60)
    return 0


if __name__ == "__main__":
    sys.exit(main())
