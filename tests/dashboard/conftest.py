import json
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from tests.conftest import ROOT

# GitHub's documented example of a workflow run (REST "Get a workflow run"), as the simulator serves it.
EXAMPLE_RUN = json.loads((ROOT / "ghsim" / "data" / "rest" / "actions" / "get-workflow-run.200.json").read_text())


# Set on the parsed state rather than on GitHub's object (see store_run).
TEXT_FIELDS = ("name", "display_title", "head_branch")


@pytest.fixture
def store_run(dynamodb):
    """`store_run(repo, run_id, **fields)`: store a finished run of `repo` (default branch `main`) as GitHub would
    send it, with `fields` of GitHub's run object changed: what a hostile name or link looks like once stored."""
    from runs.cache import run_record
    from runs.states import RunState

    def store(repo: str, run_id: int, **fields) -> None:
        now = datetime.now(UTC).isoformat()
        run = {
            **EXAMPLE_RUN,
            "id": run_id,
            "repository": {**EXAMPLE_RUN["repository"], "full_name": repo},
            "head_repository": {**EXAMPLE_RUN["head_repository"], "full_name": repo},
            "status": "completed",
            "conclusion": "failure",
            "created_at": now,
            "run_started_at": now,
            "updated_at": now,
            **{key: value for key, value in fields.items() if key not in TEXT_FIELDS},
        }
        state = RunState.from_github(run, default_branch="main")
        # Names are set after parsing, which refuses some of them (a lone surrogate): what the pages and feeds hold
        # must not depend on that boundary alone.
        names = {key: fields[key] for key in TEXT_FIELDS if key in fields}
        if "name" in names:
            names["workflow_name"] = names["name"]
        assert run_record(replace(state, **names))

    return store
