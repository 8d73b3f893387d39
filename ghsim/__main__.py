"""`python -m ghsim`: run the simulator in the foreground (see ghsim/README.md for flags and variables)."""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
from pathlib import Path

from ghsim.config import Config, ConfigError, convert, from_environment
from ghsim.simulator import Simulator

FLAGS = (
    ("--host", "host"),
    ("--port", "port"),
    ("--public-url", "public_url"),
    ("--webhook-url", "webhook_url"),
    ("--webhook-secret", "webhook_secret"),
    ("--seed", "seed"),
    ("--client-id", "client_id"),
    ("--client-secret", "client_secret"),
    ("--app-id", "app_id"),
    ("--private-key", "private_key"),
    ("--private-key-out", "private_key_out"),
    ("--token-ttl", "token_ttl"),
    ("--speed", "speed"),
    ("--run-interval", "run_interval"),
    ("--history", "history"),
    ("--start-time", "start_time"),
    ("--jwt-clock", "jwt_clock"),
    ("--state", "state_path"),
)


def parse(argv: list[str], environ: dict[str, str] | None = None) -> Config:
    """Settings from the environment, then the command line (flags win)."""
    parser = argparse.ArgumentParser(prog="python -m ghsim", description="A local GitHub simulator.")
    for flag, name in FLAGS:
        parser.add_argument(flag, dest=name, metavar=name.upper())
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--demo", dest="mode", action="store_const", const="demo", help="clock follows real time")
    mode.add_argument(
        "--manual", dest="mode", action="store_const", const="manual", help="clock moves on /_sim/advance"
    )
    parser.add_argument("--no-auto-approve", dest="auto_approve", action="store_false", default=None)
    parser.add_argument(
        "--no-rate-limit",
        dest="rate_limiting",
        action="store_false",
        default=None,
        help="as GitHub Enterprise Server with rate limiting off: no X-RateLimit-* headers, no limits",
    )
    args = vars(parser.parse_args(argv))
    settings = from_environment(environ)
    for _, name in FLAGS:
        if args[name] is not None:
            settings[name] = convert(name, args[name])
    if args["mode"]:
        settings["mode"] = args["mode"]
    if args["auto_approve"] is not None:
        settings["auto_approve"] = False
    if args["rate_limiting"] is not None:
        settings["rate_limiting"] = False
    return Config(**settings)


def banner(sim: Simulator) -> str:
    """What to print on start: where things are and how to sign in."""
    config = sim.config
    key = f"\n  app private key: {config.private_key_out}" if config.private_key_out else ""
    return (
        f"GitHub simulator ({config.mode} mode, seed {config.seed}"
        f"{'' if config.rate_limiting else ', rate limiting off'}) on {sim.url}\n"
        f"  app GITHUB_URL: {sim.url}   REST: {sim.api_url}   control: {sim.url}/_sim/health\n"
        f"  app id {config.app_id}, client id {config.client_id}; webhooks to {config.webhook_url}{key}\n"
        f"  sign in: you are '{config.default_login}' (demo user); add &login=bob (or charlie, dana) to the "
        f"authorize URL, or &prompt=select_account to pick"
    )


def main(argv: list[str] | None = None) -> int:
    try:
        config = parse(sys.argv[1:] if argv is None else argv)
    except (ConfigError, OSError) as exc:
        print(f"ghsim: {exc}", file=sys.stderr)
        return 2
    if config.private_key_out is None and config.private_key is None and config.mode == "demo":
        config.private_key_out = Path(".data/ghsim/app-private-key.pem")
    if config.private_key is None and config.private_key_out and config.private_key_out.exists():
        config.private_key = config.private_key_out  # keep the key across restarts, so a running app stays valid
    sim = Simulator(config).start()
    print(banner(sim), flush=True)
    if sim.restored:
        print(
            f"  continued the GitHub kept in {config.state_path}: life {sim.restored.life}, "
            f"{sim.restored.runs} runs, {sim.restored.skipped_seconds:.0f} s while stopped skipped",
            flush=True,
        )
    elif config.state_path:
        print(f"  a new GitHub, kept in {config.state_path} from now on", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with contextlib.suppress(KeyboardInterrupt):
        stop.wait()
    sim.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
