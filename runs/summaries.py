"""A run as its repository's summary keeps it: the one shape the board, the JSON API, the feeds and the cards
show.

A field added to `RunSummary` is stored with the summary (`to_item`), read back (`from_item`) and in every JSON
answer (`as_json`); the OpenAPI description's `RunSummary` schema must list it, which
tests/runs/test_summaries.py holds. So showing one more field means the dataclass, the card (dashboard/cards.py)
or template that shows it, and runs/openapi.py: nothing else.

Each repository's summary is one item (runs/models.py RepoSummary): the latest run of every workflow on the
default branch (`wf_<id>`) and its recent runs of any branch (`r_<id>`), each kept by a conditional update that
lets no older state replace a newer one, so the overview reads every repository in one request per 100.
"""

import json
import types
import typing
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from types import NoneType
from typing import Any

from dashboard.lib.dynamo import batch_get, shared_client
from runs.models import RepoSummary
from runs.states import RunState

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
    def from_state(cls, state: RunState) -> "RunSummary":
        """The summary of a state the cache is storing."""
        return cls(
            **{name: getattr(state, source) for name, source in _FROM_STATE.items()},
            order=f"{state.run_number or 0:010d}|{state.order}",
        )

    def to_item(self) -> dict[str, Any]:
        """What the summary stores (as compact JSON): every field that has a value, under its item name (the
        overview reads every summary whole, so absent beats null)."""
        stored = {item_name: _to_stored(getattr(self, name)) for name, item_name, _ in _FIELDS}
        return {name: value for name, value in stored.items() if value is not None}

    @classmethod
    def from_item(cls, item: dict[str, Any] | str) -> "RunSummary":
        """A stored summary run, JSON or (written before JSON) a map; what is missing takes its field's default."""
        value = json.loads(item) if isinstance(item, str) else item
        read = {}
        for name, item_name, kinds in _FIELDS:
            found = _from_stored(name, kinds, value.get(item_name))
            if found is not _MISSING:
                read[name] = found
        return cls(**read)

    def as_json(self) -> dict[str, Any]:
        """Every shown field, as the JSON API and the feeds give it."""
        return {name: _to_stored(getattr(self, name)) for name in _SHOWN}


def summary_runs(summary: dict[str, Any]) -> tuple[list[RunSummary], list[RunSummary]]:
    """A stored summary's latest run of each workflow on the default branch (`wf_<id>`), and its recent runs of
    any branch (`r_<id>`)."""
    latest = [RunSummary.from_item(value) for key, value in summary.items() if key.startswith("wf_")]
    recent = [RunSummary.from_item(value) for key, value in summary.items() if key.startswith("r_")]
    return latest, recent


def shown_fields() -> list[str]:
    """The fields `as_json` gives: what the OpenAPI `RunSummary` schema must describe."""
    return list(_SHOWN)


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


def _kinds(hint: Any) -> frozenset[type]:
    """The types an annotation allows (`int | None` is {int, NoneType})."""
    return frozenset(typing.get_args(hint)) if isinstance(hint, types.UnionType) else frozenset({hint})


# Each field's name, item name and allowed types, worked out once: the overview reads a thousand summaries a view.
_HINTS = typing.get_type_hints(RunSummary)
_FIELDS = tuple((each.name, _item_name(each), _kinds(_HINTS[each.name])) for each in fields(RunSummary))
_SHOWN = tuple(each.name for each in fields(RunSummary) if not each.metadata.get(INTERNAL))


def _from_stored(name: str, kinds: frozenset[type], value: Any) -> Any:
    if not value:
        if name in _DEFAULTS:
            return _DEFAULTS[name]
        if value is None:
            return None if NoneType in kinds else _MISSING
    if str in kinds:
        return value
    if datetime in kinds:
        try:
            return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            return None
    if int in kinds:
        return int(value)
    return value


# How a summary is stored: one item per repository (runs/models.py RepoSummary).


# How many recent runs (any branch, any workflow) a summary keeps for the overview's history marks and filters.
HISTORY_KEEP = 20
# Pruning costs a request, so it waits until this many have gathered.
HISTORY_PRUNE_AT = 30


def _summary_update(client, state: RunState, snapshot: dict, keys: list[str]) -> dict | None:
    """Set `snapshot` under each key of the summary where the stored one is earlier; the new item, or None.

    A snapshot is stored as compact JSON, its order beside it (`ord_<key>`) for the condition: one string per run
    is far cheaper for the overview to read back than a map of a dozen attributes.
    """
    names = {}
    for index, key in enumerate(keys):
        names[f"#k{index}"] = key
        names[f"#o{index}"] = f"ord_{key}"
    updates = [f"#k{index} = :snapshot, #o{index} = :ord" for index in range(len(keys))]
    conditions = [f"(attribute_not_exists(#o{index}) OR #o{index} < :ord)" for index in range(len(keys))]
    try:
        answer = client.update_item(
            TableName=RepoSummary.Meta.table_name,
            Key={"repoId": {"S": state.repo_id}},
            UpdateExpression="SET " + ", ".join(updates) + ", updatedAt = :now",
            ConditionExpression=" AND ".join(conditions),
            ExpressionAttributeNames=names,
            ExpressionAttributeValues={
                ":snapshot": {"S": json.dumps(snapshot, separators=(",", ":"))},
                ":ord": {"S": snapshot["ord"]},
                ":now": {"S": datetime.now(UTC).isoformat()},
            },
            ReturnValues="ALL_NEW",
        )
    except client.exceptions.ConditionalCheckFailedException:
        return None
    return answer["Attributes"]


def summary_record(state: RunState) -> bool:
    """Put this run on its repository's summary: in the recent history, and as its workflow's latest on the
    default branch unless a later run is there. True when it changed the summary.

    Both go in one conditional update; only when one of them is older than what is stored (a late delivery of
    an older run) are they tried apart.
    """
    if state.workflow_id is None:
        return False
    snapshot = RunSummary.from_state(state).to_item()
    client = shared_client()
    history_key = f"r_{state.run_id}"
    keys = [history_key]
    # A run whose default branch is unknown, or from a fork's branch of the same name, is not the default branch's.
    if state.on_default_branch:
        keys.append(f"wf_{state.workflow_id}")
    item = _summary_update(client, state, snapshot, keys)
    if item is None and len(keys) > 1:
        item = _summary_update(client, state, snapshot, [history_key])
        item = _summary_update(client, state, snapshot, keys[1:]) or item
    if item is None:
        return False
    _history_prune(client, state.repo_id, item)
    return True


def _history_prune(client, repo_id: str, item: dict) -> None:
    """Drop all but the newest HISTORY_KEEP runs once HISTORY_PRUNE_AT have gathered.

    Unconditional: a run removed here is older than the kept ones, and if it changes again it comes back
    as an entry of its own, to be pruned next time.
    """
    runs = sorted((int(key[2:]) for key in item if key.startswith("r_")), reverse=True)
    if len(runs) < HISTORY_PRUNE_AT:
        return
    names = {}
    for index, run_id in enumerate(runs[HISTORY_KEEP:]):
        names[f"#r{index}"] = f"r_{run_id}"
        names[f"#o{index}"] = f"ord_r_{run_id}"
    client.update_item(
        TableName=RepoSummary.Meta.table_name,
        Key={"repoId": {"S": repo_id}},
        UpdateExpression="REMOVE " + ", ".join(names),
        ExpressionAttributeNames=names,
    )


def summaries_request(repo_ids: list[str]) -> dict[str, dict]:
    return {RepoSummary.Meta.table_name: {"Keys": [{"repoId": {"S": repo_id}} for repo_id in repo_ids]}}


def summaries_read(repo_ids: list[str]) -> dict[str, dict]:
    """The summaries of many repositories in as few requests as DynamoDB allows (100 keys per BatchGetItem)."""
    found: dict[str, dict] = {}
    for start in range(0, len(repo_ids), 100):
        items = batch_get(summaries_request(repo_ids[start : start + 100]))
        found.update({item["repoId"]: item for item in items.get(RepoSummary.Meta.table_name, [])})
    return found
