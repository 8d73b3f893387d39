"""Keeping the simulated GitHub across restarts, so a new life of the simulator continues the same GitHub.

GitHub never forgets a run and never hands out a delivery GUID or an id twice. A simulator that started from its
seed on every start would send the GUIDs of its earlier life again (the app rightly answers "duplicate") and give
new runs the ids of runs the app already stores. So, given a state file (`make run` keeps it in `.data/ghsim/`
beside the app's DynamoDB data), the simulator saves its world there every few seconds and when it stops, and a
new life loads it and carries on: the same runs, jobs, tokens and installations, later ids, new GUIDs.

What a new life changes on purpose:
- the time it was stopped is skipped: runs in flight resume from where they were (GitHub had no new runs meanwhile);
- every id counter (runs, jobs, check suites, deliveries) jumps by `ID_MARGIN`, and the random streams are seeded
  anew from (seed, life), so nothing made after the last save of a killed life can be made again;
- only the last `KEPT_DELIVERIES` deliveries of the log are kept (bodies make it large), enough for redelivery.

The file is a pickle written by this simulator for itself, in a git-ignored local folder; it is never read from
anywhere else and never shipped.
"""

from __future__ import annotations

import os
import pickle
import random
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ghsim.simulator import Simulator

FORMAT = 1
ID_MARGIN = 1_000_000  # ids are sparse on GitHub too (one sequence for all of GitHub), so a jump is faithful
KEPT_DELIVERIES = 2_000


@dataclass
class Restored:
    """What a new life found in the state file."""

    life: int
    runs: int
    skipped_seconds: float


def snapshot(sim: Simulator) -> bytes:
    """The simulator's state as bytes (call under the simulator lock)."""
    engine, dispatcher, auth = sim.engine, sim.dispatcher, sim.auth
    state = {
        "format": FORMAT,
        "seed": sim.config.seed,
        "life": sim.life,
        "now": sim.clock.now(),
        "world": sim.world,
        "hook_active": sim.hook.active,
        "engine": {
            "queue": engine._queue,
            "seq": engine._seq,
            "run_numbers": engine._run_numbers,
            "in_progress_sent": engine._in_progress_sent,
            "plans": engine.plans,
        },
        "dispatcher": {
            "pending": dispatcher.pending,
            "log": dispatcher.log[-KEPT_DELIVERIES:],
            "next_id": dispatcher._next_id,
            "seq": dispatcher._seq,
        },
        "auth": {
            "codes": auth.codes,
            "tokens": auth.tokens,
            "refresh_tokens": auth.refresh_tokens,
            "buckets": auth.buckets,
        },
    }
    return pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)


def write(path: Path, data: bytes) -> None:
    """Replace the state file atomically, so a crash mid-write leaves the previous one whole."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(data)
    os.replace(partial, path)


def load(path: Path) -> dict | None:
    """The saved state, or None if there is none yet."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    # Written by this simulator into its own local data folder (see the module docstring), never from outside.
    state = pickle.loads(data)  # noqa: S301
    if state.get("format") != FORMAT:
        raise ValueError(f"{path} was written by another version of the simulator; remove it to start afresh")
    return state


def restore(sim: Simulator, state: dict, *, start: float) -> Restored:
    """Continue the saved GitHub in `sim` (freshly built, not started): skip the stopped time, move ids on."""
    life = state["life"] + 1
    skipped = max(0.0, start - state["now"])
    world = state["world"]
    for kind in ("run", "job", "suite"):
        world._next[kind] += ID_MARGIN
    sim.world = sim.engine.world = world
    sim.life = life
    sim.hook.active = state["hook_active"]
    sim.clock.move_to(state["now"] + skipped)

    engine = sim.engine
    engine._queue = [(when + skipped, seq, kind, args) for when, seq, kind, args in state["engine"]["queue"]]
    engine._seq = state["engine"]["seq"]
    engine._run_numbers = state["engine"]["run_numbers"]
    engine._in_progress_sent = state["engine"]["in_progress_sent"]
    engine.plans = state["engine"]["plans"]

    dispatcher = sim.dispatcher
    dispatcher.pending = state["dispatcher"]["pending"]
    for delivery in dispatcher.pending:
        delivery.due += skipped
    dispatcher.log = state["dispatcher"]["log"]
    dispatcher._next_id = state["dispatcher"]["next_id"] + ID_MARGIN
    dispatcher._seq = state["dispatcher"]["seq"]

    auth = sim.auth
    auth.codes = state["auth"]["codes"]
    auth.tokens = state["auth"]["tokens"]
    auth.refresh_tokens = state["auth"]["refresh_tokens"]
    auth.buckets = state["auth"]["buckets"]

    # New random streams for the new life: GUIDs, tokens and activity never repeat an earlier life's.
    root = random.Random(f"{state['seed']}:{life}")
    engine.rng, dispatcher.rng, auth.rng, sim.api_rng = (random.Random(root.getrandbits(64)) for _ in range(4))
    return Restored(life=life, runs=len(world.runs), skipped_seconds=skipped)
