"""`python -m ghsim`: flags, environment variables, and a real start."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from ghsim.__main__ import parse
from ghsim.config import LOCAL_CLIENT_SECRET, ConfigError

ROOT = Path(__file__).resolve().parents[2]


def test_it_has_local_defaults():
    config = parse([], environ={})
    assert (config.host, config.port, config.app_id) == ("127.0.0.1", 8002, 1)
    assert config.client_id == "Iv1.local-dashboard"
    assert config.client_secret == LOCAL_CLIENT_SECRET
    assert config.webhook_url == "http://127.0.0.1:8000/webhooks/github"
    assert config.mode == "demo"


def test_it_reads_the_environment_and_lets_flags_win():
    environ = {"GHSIM_PORT": "9000", "GHSIM_WEBHOOK_SECRET": "from-env", "GHSIM_SEED": "5", "GHSIM_TOKEN_TTL": "600"}
    config = parse(["--port", "9100", "--manual", "--speed", "10"], environ=environ)
    assert (config.port, config.webhook_secret, config.seed, config.token_ttl) == (9100, "from-env", 5, 600)
    assert (config.mode, config.speed) == ("manual", 10.0)


def test_it_refuses_a_bad_value():
    with pytest.raises(ConfigError):
        parse([], environ={"GHSIM_PORT": "eighty"})


def test_it_starts_prints_the_url_and_writes_the_private_key(tmp_path):
    key = tmp_path / "app-private-key.pem"
    process = subprocess.Popen(
        [sys.executable, "-m", "ghsim", "--manual", "--port", "0", "--private-key-out", str(key)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        first = process.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+", first).group(0)
        assert requests.get(f"{url}/_sim/health", timeout=10).json()["ok"] is True
        assert key.read_text().startswith("-----BEGIN RSA PRIVATE KEY-----")
        rest = "".join(process.stdout.readline() for _ in range(4))
        assert "sign in: you are 'alice'" in rest
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_it_checks_jwts_against_the_wall_clock_in_demo_mode_only():
    assert parse([], environ={}).jwt_uses_wall_clock is True
    assert parse(["--manual"], environ={}).jwt_uses_wall_clock is False
    assert parse(["--manual", "--jwt-clock", "wall"], environ={}).jwt_uses_wall_clock is True
