import pytest
from django.test import Client

from tests.plugins.github import sign_in


def settle(sim, limit=7200):
    """Let the simulator's runs progress until all have completed, a simulated minute at a time."""
    for _ in range(int(limit // 60)):
        if all(run["status"] == "completed" for run in sim.truth()["runs"]):
            return
        sim.advance(60)
    raise AssertionError("the simulator's runs did not complete")


@pytest.fixture
def alice(dynamodb, github_sim):
    browser = Client()
    sign_in(browser, "alice")
    return browser


@pytest.fixture
def bob(dynamodb, github_sim):
    browser = Client()
    sign_in(browser, "bob")
    return browser


@pytest.fixture
def dana(dynamodb, github_sim):
    browser = Client()
    sign_in(browser, "dana")
    return browser
