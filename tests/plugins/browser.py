"""A live app server and a real Chromium for the browser tests.

The app runs in this process under uvicorn (the same ASGI stack as `make run`), so it shares the test
DynamoDB Local and the simulator settings. Chromium is Debian's, driven by Playwright; Playwright's own
browser download cannot work offline.
"""

import shutil
import threading
import time

import pytest

from devstack.dynamodb_local import free_port

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
def live_app(dynamodb):
    """The app served over HTTP and WebSocket at a free 127.0.0.1 port; yields its base URL."""
    import uvicorn
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

    from dashboard.asgi import application

    port = free_port()
    config = uvicorn.Config(
        ASGIStaticFilesHandler(application), host="127.0.0.1", port=port, lifespan="off", log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the live app did not start")
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def chromium():
    """One headless Chromium for the run."""
    if not shutil.which("chromium") and not shutil.os.path.exists(CHROMIUM):
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
