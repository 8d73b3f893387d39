"""Run the suite as the `test` stage, whatever the shell exports.

This runs before pytest-django sets Django up, so the settings module reads these values.
"""

import os

import pytest


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config, parser, args):
    os.environ["DASHBOARD_STAGE"] = "test"
    for name in ("DJANGO_DEBUG", "DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "LOG_LEVEL"):
        os.environ.pop(name, None)
