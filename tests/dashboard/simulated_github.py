"""The GitHub simulator at settings.GITHUB_URL with options of its own, for tests that need a GitHub other than
tests/plugins/github.py's `github_sim` (which takes no options): one started weeks ago, or a GitHub Enterprise Server
with rate limiting turned off."""

from collections.abc import Iterator
from contextlib import contextmanager

from django.test import Client

from tests.plugins.github import _PORT, _app_key, sign_in


@contextmanager
def github_at_settings_url(**options) -> Iterator:
    """A fresh simulator in manual mode where the app looks for GitHub, as `github_sim` is, with `options`."""
    from dashboard.lib import github
    from ghsim.testing import running_simulator

    github.forget_process_state()
    try:
        with running_simulator(port=_PORT, private_key_pem=_app_key(), jwt_clock="wall", **options) as sim:
            yield sim
    finally:
        # Pooled keep-alive connections belong to this simulator; the next test's must get new ones.
        github.transport.session.close()


def signed_in(login: str) -> Client:
    """A browser signed in as `login` through the simulator's OAuth pages, now (its tokens start now)."""
    browser = Client()
    sign_in(browser, login)
    return browser
