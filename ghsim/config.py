"""The simulator's settings, from keyword arguments, the environment (`GHSIM_*`) or the command line."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path

from ghsim.clock import parse_iso

# Local-only placeholders so `python -m ghsim` works out of the box; they protect nothing and the environment
# overrides them. They are not, and must never become, real secrets.
LOCAL_CLIENT_SECRET = "ghsim-local-client-secret-not-a-real-secret"  # noqa: S105
LOCAL_WEBHOOK_SECRET = "ghsim-local-webhook-secret-not-a-real-secret"  # noqa: S105


class ConfigError(ValueError):
    """A setting with a value the simulator cannot use."""


@dataclass
class Config:
    """Every setting, with the defaults for a local run."""

    host: str = "127.0.0.1"
    port: int = 8002
    public_url: str | None = None  # the base URL written into payloads; default http://HOST:PORT
    webhook_url: str = "http://127.0.0.1:8000/webhooks/github"
    webhook_secret: str = LOCAL_WEBHOOK_SECRET
    seed: int = 1
    mode: str = "demo"  # "demo": clock follows real time (times `speed`); "manual": only advance() moves it
    client_id: str = "Iv1.local-dashboard"
    client_secret: str = LOCAL_CLIENT_SECRET
    app_id: int = 1
    app_slug: str = "actions-dashboard-local"
    hook_id: int = 500_001
    private_key: Path | None = None  # PEM to load; without it a fresh key pair is generated
    private_key_pem: bytes | None = field(default=None, repr=False)
    private_key_out: Path | None = None  # where to write the private key PEM for the app to sign JWTs
    token_ttl: int = 8 * 3600
    speed: float = 1.0
    run_interval: float = 40.0  # mean simulated seconds between new runs; 0 stops new runs
    history: float | None = None  # simulated seconds of runs made (without webhooks) before start; demo 3600, manual 0
    start_time: float | None = None  # epoch seconds of the simulated clock at start; default now
    jwt_clock: str | None = None  # "simulated" or "wall": what JWT iat/exp are checked against; default by mode
    auto_approve: bool = True  # authorize redirects at once (as the `login` user or the default one)
    default_login: str = "alice"
    ping: bool = True  # send a `ping` delivery when the hook starts
    state_path: Path | None = None  # where to keep the world across restarts (ghsim/persist.py); none: start afresh
    # GitHub Enterprise Server lets its administrator turn API rate limiting off; then no answer carries an
    # `X-RateLimit-*` header, nothing is ever refused for a limit and `GET /rate_limit` answers 404.
    rate_limiting: bool = True

    def __post_init__(self) -> None:
        if self.mode not in ("demo", "manual"):
            raise ConfigError(f"mode must be 'demo' or 'manual', not {self.mode!r}")
        if self.speed <= 0:
            raise ConfigError("speed must be positive")
        if self.jwt_clock not in (None, "simulated", "wall"):
            raise ConfigError(f"jwt_clock must be 'simulated' or 'wall', not {self.jwt_clock!r}")
        if self.token_ttl <= 0:
            raise ConfigError("token_ttl must be positive")

    @property
    def history_seconds(self) -> float:
        if self.history is not None:
            return self.history
        return 3600.0 if self.mode == "demo" else 0.0

    @property
    def jwt_uses_wall_clock(self) -> bool:
        """Demo mode checks JWTs against the wall clock, since the app signs with it and `speed` may run ahead."""
        return (self.jwt_clock or ("wall" if self.mode == "demo" else "simulated")) == "wall"

    def key_pem(self) -> bytes | None:
        """The private key PEM to load, from `private_key_pem` or the `private_key` file."""
        if self.private_key_pem:
            return self.private_key_pem
        return self.private_key.read_bytes() if self.private_key else None


ENVIRONMENT = {
    "GHSIM_HOST": "host",
    "GHSIM_PORT": "port",
    "GHSIM_PUBLIC_URL": "public_url",
    "GHSIM_WEBHOOK_URL": "webhook_url",
    "GHSIM_WEBHOOK_SECRET": "webhook_secret",
    "GHSIM_SEED": "seed",
    "GHSIM_MODE": "mode",
    "GHSIM_CLIENT_ID": "client_id",
    "GHSIM_CLIENT_SECRET": "client_secret",
    "GHSIM_APP_ID": "app_id",
    "GHSIM_PRIVATE_KEY": "private_key",
    "GHSIM_PRIVATE_KEY_OUT": "private_key_out",
    "GHSIM_TOKEN_TTL": "token_ttl",
    "GHSIM_SPEED": "speed",
    "GHSIM_RUN_INTERVAL": "run_interval",
    "GHSIM_HISTORY": "history",
    "GHSIM_START_TIME": "start_time",
    "GHSIM_AUTO_APPROVE": "auto_approve",
    "GHSIM_JWT_CLOCK": "jwt_clock",
    "GHSIM_STATE": "state_path",
    "GHSIM_RATE_LIMITING": "rate_limiting",
}


def convert(name: str, value: str):
    """One setting from its text form (environment variable or command-line flag)."""
    kind = {item.name: str(item.type) for item in fields(Config)}[name]
    try:
        if name == "start_time":
            return float(value) if value.replace(".", "", 1).isdigit() else parse_iso(value)
        if kind.startswith("bool"):
            if value.lower() not in ("1", "true", "yes", "on", "0", "false", "no", "off"):
                raise ValueError(value)
            return value.lower() in ("1", "true", "yes", "on")
        if kind.startswith("int"):
            return int(value)
        if kind.startswith("float"):
            return float(value)
        if kind.startswith("Path"):
            return Path(value)
    except ValueError as exc:
        raise ConfigError(f"{name}: cannot use {value!r} ({kind})") from exc
    return value


def from_environment(environ: dict[str, str] | None = None) -> dict:
    """Settings named by `GHSIM_*` variables, converted to their types."""
    environ = os.environ if environ is None else environ
    return {name: convert(name, environ[var]) for var, name in ENVIRONMENT.items() if environ.get(var, "") != ""}
