"""A live app server and a real Chromium for the browser tests.

The app runs in this process under uvicorn (the same ASGI stack as `make run`), so it shares the test
DynamoDB Local and the simulator settings. Chromium is Debian's, driven by Playwright; Playwright's own
browser download cannot work offline.
"""

import re
import shutil
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Without the background-networking flags Chromium keeps trying hosts this machine cannot reach.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def app_server(dynamodb):
    """The app served over HTTP and WebSocket at a free 127.0.0.1 port, which a test may stop and start."""
    from devstack.live import LiveServer

    server = LiveServer().start()
    yield server
    server.stop()


@pytest.fixture
def live_app(app_server):
    """The live app's base URL."""
    return app_server.url


@pytest.fixture(scope="session")
def chromium():
    """One headless Chromium for the run."""
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is not installed: `make test` installs Debian's chromium package")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium, live_app):
    """A fresh browser context (no cookies) and page, with the live app's URL as `page.app_url`."""
    context = chromium.new_context()
    page = context.new_page()
    page.app_url = live_app
    page.set_default_timeout(15_000)
    yield page
    context.close()


def _with_login_hint(route, login):
    response = route.fetch(max_redirects=0)
    headers = {**response.headers, "location": f"{response.headers['location']}&login={login}"}
    route.fulfill(response=response, headers=headers)


@pytest.fixture
def signed_in_page(chromium, live_app):
    """`signed_in_page(login, path)`: a page of its own, signed in as one of the simulator's cast, at `path`."""
    contexts = []

    def open_as(login: str, path: str = "/", **context_options):
        context = chromium.new_context(**context_options)
        contexts.append(context)
        # GitHub's `login` hint picks the simulated user: added to the app's redirect to the authorize page.
        context.route(re.compile(r"/auth/github"), lambda route, _request: _with_login_hint(route, login))
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.app_url = live_app
        page.goto(f"{live_app}/auth/github?next={path}")
        page.wait_for_url(re.compile(re.escape(live_app) + r"/(?!auth/)"))
        return page

    yield open_as
    for context in contexts:
        context.close()
