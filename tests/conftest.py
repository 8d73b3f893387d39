import logging
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# The app's own settings: a subprocess gets only the ones a test gives it, not the test run's.
OWN_SETTINGS = ("DJANGO_", "DASHBOARD_", "GITHUB_", "TOKEN_")

# What a deployed stage needs at the least; tests start from this and break one value at a time.
PRODUCTION_ENV = {
    "DASHBOARD_STAGE": "prod",
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
    "DJANGO_ALLOWED_HOSTS": "dashboard.example.com",
    "GITHUB_CLIENT_ID": "Iv1.0123456789abcdef",
    "GITHUB_CLIENT_SECRET": secrets.token_hex(20),
    "TOKEN_KMS_KEY_ID": "alias/actions-dashboard-tokens",
    "GITHUB_APP_ID": "123456",
    "GITHUB_APP_PRIVATE_KEY": "-----BEGIN PRIVATE KEY-----\nnot a key, only its shape\n-----END PRIVATE KEY-----\n",
    "GITHUB_WEBHOOK_SECRET": secrets.token_hex(20),
}


@pytest.fixture
def run_manage():
    """Run `manage.py` in a fresh process with exactly the given environment on top of a clean one."""

    def run(*args: str, env: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
        base = {key: value for key, value in os.environ.items() if not key.startswith(OWN_SETTINGS)}
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env={**base, **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    return run


@pytest.fixture
def every_log(caplog):
    """caplog at DEBUG for every logger, botocore's and the others the settings keep at WARNING included."""
    caplog.set_level(logging.DEBUG)
    for name in list(logging.root.manager.loggerDict):
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


def logged(records: list[logging.LogRecord]) -> str:
    """Everything the records hold: each message as printed, and its arguments and extra fields."""
    return "\n".join(f"{record.getMessage()} {vars(record)!r}" for record in records)
