"""The GitHub simulator for the tests, on a port fixed for the run so Django's settings can point at it.

allauth computes its GitHub URLs when Django starts, so GITHUB_URL is set before that, and each test that asks
for `github_sim` gets a fresh simulator (same port, same App key, clean state) in manual mode.
"""

import os
import re
import urllib.parse
from functools import cache

import pytest
import requests

from devstack.dynamodb_local import free_port

_PORT = free_port()


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config, parser, args):
    os.environ["GITHUB_URL"] = f"http://127.0.0.1:{_PORT}"
    for name in (
        "GITHUB_CLIENT_ID",
        "GITHUB_CLIENT_SECRET",
        "GITHUB_TIMEOUT",
        "GITHUB_WEBHOOK_SECRET",
        "GITHUB_APP_ID",
    ):
        os.environ.pop(name, None)
    # The App's private key, as the simulator in the tests uses it.
    os.environ["GITHUB_APP_PRIVATE_KEY"] = _app_key().decode()


@cache
def _app_key() -> bytes:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


@pytest.fixture
def github_sim():
    """A fresh GitHub simulator in manual mode at settings.GITHUB_URL."""
    from dashboard.lib import github
    from ghsim.testing import running_simulator

    github.forget_process_state()
    # The app signs its JWTs with the wall clock; the simulator checks them against the same clock.
    with running_simulator(port=_PORT, private_key_pem=_app_key(), jwt_clock="wall") as sim:
        yield sim
    # Pooled keep-alive connections belong to this simulator; the next test's must get new ones.
    github.transport.session.close()


def sign_in(client, login: str = "alice", *, next_url: str | None = None):
    """Sign a Django test client in through the simulator's OAuth pages, as `login`; return the last response."""
    start = client.get("/auth/github", {"next": next_url} if next_url else {})
    assert start.status_code == 302, start.content
    authorize = start["Location"]
    assert authorize.startswith(os.environ["GITHUB_URL"] + "/login/oauth/authorize")
    approved = requests.get(authorize, params={"login": login}, allow_redirects=False, timeout=10)
    assert approved.status_code == 302, approved.text
    callback = urllib.parse.urlsplit(approved.headers["Location"])
    assert callback.path == "/auth/callback"
    return client.get(f"{callback.path}?{callback.query}")


def state_of(authorize_url: str) -> str:
    return re.search(r"[?&]state=([^&]+)", authorize_url).group(1)


def _signed_in_as(login: str):
    from django.test import Client

    browser = Client()
    sign_in(browser, login)
    return browser


# The simulator's cast (ghsim/README.md), each signed in through its OAuth pages with a test client of their own.
@pytest.fixture
def alice(dynamodb, github_sim):
    """Write access to acme and globex; the only one to see acme/payroll."""
    return _signed_in_as("alice")


@pytest.fixture
def bob(dynamodb, github_sim):
    """Read-only on acme/storefront and acme/api: can see, cannot re-run or cancel."""
    return _signed_in_as("bob")


@pytest.fixture
def dana(dynamodb, github_sim):
    """Write access to globex; the only one to see globex/skunkworks."""
    return _signed_in_as("dana")
