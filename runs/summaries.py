"""A run as its repository's summary keeps it: the one shape the board, the JSON API, the feeds and the cards
show.

A field added to `RunSummary` is stored with the summary (`to_item`), read back (`from_item`) and in every JSON
answer (`as_json`); the OpenAPI description's `RunSummary` schema must list it, which
tests/runs/test_summaries.py holds. So showing one more field means the dataclass, the card (dashboard/cards.py)
or template that shows it, and runs/openapi.py: nothing else.
"""

from __future__ import annotations

import json
import types
import typing
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # a type only: runs/cache.py builds summaries from its states, and imports this module
    from runs.cache import RunState

# GitHub's states, as the board groups them. Everything not listed is `neutral` (skipped, stale, neutral).
FAILURE_CONCLUSIONS = {"failure", "timed_out", "startup_failure"}
QUEUED_STATUSES = {"queued", "requested", "waiting", "pending", "action_required"}

# A field's name in the stored item, where it is not the field's name in camelCase (items written since the
# first summaries keep these names).
ITEM_NAME = "item_name"
# A field kept for the cache's own use, never shown.
INTERNAL = "internal"


def run_category(status: str | None, conclusion: str | None) -> str:
    if status == "completed":
        if conclusion in FAILURE_CONCLUSIONS:
            return "failure"
        if conclusion == "success":
            return "success"
        if conclusion == "cancelled":
            return "cancelled"
        return "neutral"
    if status == "in_progress":
        return "running"
    return "queued" if status in QUEUED_STATUSES or status is None else "neutral"


@dataclass(frozen=True)
class RunSummary:
    run_id: int
    workflow_id: int
    workflow_name: str | None
    run_number: int | None
    run_attempt: int
    status: str
    conclusion: str | None
    head_branch: str | None
    event: str | None
    actor: str | None = field(metadata={ITEM_NAME: "actorLogin"})
    actor_type: str | None
    run_started_at: datetime | None
    updated_at: datetime | None
    html_url: str | None
    head_repository: str | None = field(default=None, metadata={ITEM_NAME: "headRepo"})  # set for a fork's run
    # A newer run number wins; the same run's later state wins too (the summary's conditional update).
    order: str = field(default="", metadata={ITEM_NAME: "ord", INTERNAL: True})

    @property
    def category(self) -> str:
        return run_category(self.status, self.conclusion)

    @property
    def finished(self) -> bool:
        return self.status == "completed"

    @classmethod
    def from_state(cls, state: RunState) -> RunSummary:
        """The summary of a state the cache is storing."""
        return cls(
            **{name: getattr(state, source) for name, source in _FROM_STATE.items()},
            order=f"{state.run_number or 0:010d}|{state.order}",
        )

    def to_item(self) -> dict[str, Any]:
        """What the summary stores (as compact JSON): every field that has a value, under its item name (the
        overview reads every summary whole, so absent beats null)."""
        stored = {_item_name(each): _to_stored(getattr(self, each.name)) for each in fields(self)}
        return {name: value for name, value in stored.items() if value is not None}

    @classmethod
    def from_item(cls, item: dict[str, Any] | str) -> RunSummary:
        """A stored summary run, JSON or (written before JSON) a map; what is missing takes its field's default."""
        value = json.loads(item) if isinstance(item, str) else item
        read = {each.name: _from_stored(each, value.get(_item_name(each))) for each in fields(cls)}
        return cls(**{name: found for name, found in read.items() if found is not _MISSING})

    def as_json(self) -> dict[str, Any]:
        """Every shown field, as the JSON API and the feeds give it."""
        return {name: _to_stored(getattr(self, name)) for name in shown_fields()}


def summary_runs(summary: dict[str, Any]) -> tuple[list[RunSummary], list[RunSummary]]:
    """A stored summary's latest run of each workflow on the default branch (`wf_<id>`), and its recent runs of
    any branch (`r_<id>`)."""
    latest = [RunSummary.from_item(value) for key, value in summary.items() if key.startswith("wf_")]
    recent = [RunSummary.from_item(value) for key, value in summary.items() if key.startswith("r_")]
    return latest, recent


def shown_fields() -> list[str]:
    """The fields `as_json` gives: what the OpenAPI `RunSummary` schema must describe."""
    return [each.name for each in fields(RunSummary) if not each.metadata.get(INTERNAL)]


# Where `from_state` reads each field of a RunState (the same name unless listed).
_FROM_STATE = {each.name: each.name for each in fields(RunSummary) if each.name != "order"} | {"actor": "actor_login"}
# Defaults for what a stored item may lack (items written before a field existed).
_MISSING = object()
_DEFAULTS: dict[str, Any] = {"run_attempt": 1, "workflow_id": 0, "status": "queued"}


def _item_name(each) -> str:
    if ITEM_NAME in each.metadata:
        return each.metadata[ITEM_NAME]
    first, *rest = each.name.split("_")
    return first + "".join(part.title() for part in rest)


def _to_stored(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _kinds(each) -> set[type]:
    """The types a field's annotation allows (`int | None` is {int, NoneType})."""
    hint = typing.get_type_hints(RunSummary)[each.name]
    return set(typing.get_args(hint)) if isinstance(hint, types.UnionType) else {hint}


def _from_stored(each, value: Any) -> Any:
    if not value and each.name in _DEFAULTS:
        return _DEFAULTS[each.name]
    if value is None:
        return None if type(None) in _kinds(each) else _MISSING
    kinds = _kinds(each)
    if datetime in kinds:
        try:
            return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            return None
    if int in kinds:
        return int(value)
    return value
