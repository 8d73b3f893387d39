"""The overview's board from summaries: which repositories and runs a view shows, in which order, with which counts."""

import pytest

from runs.board import ANY_BRANCH, BoardFilters, board_build
from runs.summaries import run_category
from runs.visibility import RepoAccess


def access(full_name, *, topics=(), default_branch="main"):
    return RepoAccess(
        full_name=full_name,
        id=hash(full_name) % 10_000,
        private=False,
        default_branch=default_branch,
        html_url=f"https://github.com/{full_name}",
        installation_id=1,
        can_write=True,
        topics=topics,
    )


def snapshot(run_id, workflow_id, *, number=None, status="completed", conclusion="success", branch="main",
             event="push", actor="alice", actor_type="User", minute=0, name=None):  # fmt: skip
    number = number or run_id
    return {
        "runId": run_id,
        "runNumber": number,
        "runAttempt": 1,
        "workflowId": workflow_id,
        "workflowName": name or {1: "CI", 2: "Deploy", 3: "CodeQL"}[workflow_id],
        "status": status,
        "conclusion": conclusion if status == "completed" else None,
        "headBranch": branch,
        "event": event,
        "actorLogin": actor,
        "actorType": actor_type,
        "updatedAt": f"2026-11-24T10:{minute:02d}:00+00:00",
        "ord": f"{number:010d}|000001|3|2026-11-24T10:{minute:02d}:00Z|0",
    }


def summary(*runs, latest=()):
    """A summary with `runs` in its recent history and `latest` as the default branch's latest per workflow."""
    item = {"repoId": "x", "backfilledAt": "2026-11-24T09:00:00+00:00"}
    for run in runs:
        item[f"r_{run['runId']}"] = run
    for run in latest:
        item[f"wf_{run['workflowId']}"] = run
    return item


REPOS = {
    "acme/api": access("acme/api", topics=("backend",)),
    "acme/web": access("acme/web", topics=("frontend",)),
    "globex/engine": access("globex/engine", topics=("core", "backend"), default_branch="trunk"),
}
SUMMARIES = {
    "acme/api": summary(
        snapshot(10, 1, minute=1),
        snapshot(11, 1, branch="feature/x", conclusion="failure", event="pull_request", minute=5),
        snapshot(12, 2, status="in_progress", minute=6),
        latest=[snapshot(10, 1, minute=1), snapshot(12, 2, status="in_progress", minute=6)],
    ),
    "acme/web": summary(
        snapshot(20, 1, minute=2),
        snapshot(21, 1, actor="dependabot[bot]", actor_type="Bot", event="pull_request", branch="deps", minute=3),
        latest=[snapshot(20, 1, minute=2)],
    ),
    "globex/engine": summary(
        snapshot(30, 1, branch="trunk", conclusion="failure", minute=4),
        snapshot(5, 3, branch="trunk", minute=0),
        # CodeQL's latest run on trunk has left the recent history; the summary's latest-per-workflow keeps it.
        latest=[snapshot(30, 1, branch="trunk", conclusion="failure", minute=4), snapshot(5, 3, branch="trunk")],
    ),
}


def names(board):
    return [repo.full_name for repo in board.repos]


def test_failures_first_then_most_recent_and_pinned_before_all():
    board = board_build(REPOS, SUMMARIES, BoardFilters())
    assert names(board) == ["globex/engine", "acme/api", "acme/web"]
    assert [run.workflow_name for run in board.repos[0].latest] == ["CI", "CodeQL"]
    assert board.counts["failure"] == 1
    assert board.counts["running"] == 1
    assert board.counts["success"] == 3

    pinned = board_build(REPOS, SUMMARIES, BoardFilters(), pinned=["acme/web"])
    assert names(pinned) == ["acme/web", "globex/engine", "acme/api"]


def test_the_default_view_shows_the_default_branch_only():
    board = board_build(REPOS, SUMMARIES, BoardFilters())
    api = board.repos[1]
    assert [run.run_id for run in api.latest] == [10, 12]  # the failing feature-branch run is not CI's latest
    assert [run.run_id for run in api.history] == [12, 10]


def test_every_branch_and_one_branch():
    every = board_build(REPOS, SUMMARIES, BoardFilters(branch=ANY_BRANCH))
    api = next(repo for repo in every.repos if repo.full_name == "acme/api")
    assert [run.run_id for run in api.latest] == [11, 12]
    assert api.category == "failure"

    feature = board_build(REPOS, SUMMARIES, BoardFilters(branch="feature/x"))
    assert names(feature) == ["acme/api"]
    assert feature.hidden == 2


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (BoardFilters(status="failure"), ["globex/engine"]),
        (BoardFilters(status="running"), ["acme/api"]),
        (BoardFilters(org="ACME"), ["acme/api", "acme/web"]),
        (BoardFilters(topic="backend"), ["globex/engine", "acme/api"]),
        (BoardFilters(q="engine"), ["globex/engine"]),
        (BoardFilters(q="codeql"), ["globex/engine"]),  # by a workflow's name
        (BoardFilters(workflow="deploy"), ["acme/api"]),
        (BoardFilters(branch=ANY_BRANCH, event="pull_request"), ["acme/api", "acme/web"]),
        (BoardFilters(branch=ANY_BRANCH, hide_pull_requests=True), ["globex/engine", "acme/api", "acme/web"]),
        (BoardFilters(branch=ANY_BRANCH, actor="dependabot[bot]"), ["acme/web"]),
        (BoardFilters(branch=ANY_BRANCH, hide_bots=True, event="pull_request"), ["acme/api"]),
        (BoardFilters(q="nothing-like-this"), []),
    ],
)
def test_filters_narrow_the_board(filters, expected):
    assert names(board_build(REPOS, SUMMARIES, filters)) == expected


def test_hiding_pull_requests_changes_the_latest_run_shown():
    board = board_build(REPOS, SUMMARIES, BoardFilters(branch=ANY_BRANCH, hide_pull_requests=True))
    api = next(repo for repo in board.repos if repo.full_name == "acme/api")
    assert [run.run_id for run in api.latest] == [10, 12]


def test_selected_repositories_only_when_some_are_selected():
    board = board_build(REPOS, SUMMARIES, BoardFilters(), selected=["acme/web", "gone/repo"])
    assert names(board) == ["acme/web"]
    assert board.hidden == 2


def test_a_later_state_of_the_same_run_wins_between_history_and_latest():
    later = snapshot(40, 1, minute=9, conclusion="failure")
    earlier = {**snapshot(40, 1, minute=1, status="in_progress"), "ord": "0000000040|000001|2|2026-11-24T10:01:00Z|0"}
    board = board_build({"acme/api": REPOS["acme/api"]}, {"acme/api": summary(earlier, latest=[later])}, BoardFilters())
    assert [run.category for run in board.repos[0].history] == ["failure"]


def test_a_repository_without_a_summary_is_shown_empty_unless_filtered():
    board = board_build({"new/repo": access("new/repo")}, {}, BoardFilters())
    assert names(board) == ["new/repo"]
    assert board.repos[0].latest == []
    assert not board.repos[0].loaded
    assert names(board_build({"new/repo": access("new/repo")}, {}, BoardFilters(status="failure"))) == []


@pytest.mark.parametrize(
    ("status", "conclusion", "category"),
    [
        ("completed", "success", "success"),
        ("completed", "failure", "failure"),
        ("completed", "timed_out", "failure"),
        ("completed", "startup_failure", "failure"),
        ("completed", "cancelled", "cancelled"),
        ("completed", "skipped", "neutral"),
        ("in_progress", None, "running"),
        ("queued", None, "queued"),
        ("waiting", None, "queued"),
        ("requested", None, "queued"),
    ],
)
def test_states_are_grouped_as_the_board_counts_them(status, conclusion, category):
    assert run_category(status, conclusion) == category
