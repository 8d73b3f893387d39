"""The same seed and the same advance() calls replay exactly the same history and payloads."""

from __future__ import annotations

from urllib.parse import urlsplit

from ghsim.testing import receiving_webhooks, running_simulator
from tests.ghsim.conftest import START


def history(seed: int, receiver_url: str) -> list[tuple[str, str, str | None, bytes]]:
    """(guid, event, action, body with the simulator's own URL masked) of every delivery of a seeded run."""
    options = {"seed": seed, "start_time": START, "run_interval": 20, "webhook_url": receiver_url, "ping": True}
    with running_simulator(**options) as sim:
        sim.set_faults(duplicate_rate=0.1, drop_rate=0.1, reorder_window=5)
        for seconds in (0, 300, 17.5, 900):
            sim.advance(seconds)
        sim.trigger("globex/engine", "codeql")
        sim.advance(600)
        own, host = sim.url.encode(), urlsplit(sim.url).netloc.encode()
        return [
            (d.guid, d.event, d.action, d.body.replace(own, b"SIM").replace(host, b"HOST")) for d in sim.deliveries()
        ]


def test_it_replays_the_same_deliveries_for_the_same_seed():
    with receiving_webhooks() as receiver:
        first, second = history(7, receiver.url), history(7, receiver.url)
    assert len(first) > 100
    assert first == second


def test_it_makes_a_different_history_for_another_seed():
    with receiving_webhooks() as receiver:
        assert history(7, receiver.url) != history(8, receiver.url)
