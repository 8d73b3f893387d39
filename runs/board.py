"""The overview as a board: which repositories and runs a view shows, in which order, with which counts.

Everything here works on what one overview read returns (runs/overview.py): each repository's summary, with
the latest run of every workflow on the default branch (`wf_<id>`) and its recent runs on any branch
(`r_<id>`). Filters that need other branches or other events are answered from those recent runs, so a
filtered view costs no more reads than the plain one.
"""

from dataclasses import dataclass, field
from datetime import datetime

from runs.summaries import RunSummary, summary_runs
from runs.visibility import RepoAccess

CATEGORIES = ("failure", "running", "queued", "success", "cancelled", "neutral")
# How bad a repository looks, for "failures first": its worst latest run decides.
SEVERITY = {"failure": 0, "running": 1, "queued": 2, "cancelled": 3, "success": 4, "neutral": 5}
HISTORY_MARKS = 10
ANY_BRANCH = "*"


@dataclass(frozen=True)
class BoardFilters:
    """What a view asks for; the empty value of each field means "no filter" (the branch: the default one)."""

    q: str = ""
    status: str = ""
    branch: str = ""
    event: str = ""
    hide_pull_requests: bool = False
    hide_bots: bool = False
    workflow: str = ""
    actor: str = ""
    org: str = ""
    topic: str = ""

    @property
    def active(self) -> bool:
        return self != BoardFilters()

    @property
    def filters_runs(self) -> bool:
        """Whether runs are filtered (not only repositories): a repository with no run left is then left out."""
        return any(
            (self.status, self.branch, self.event, self.hide_pull_requests, self.hide_bots, self.workflow, self.actor)
        )

    def repo_matches(self, access: RepoAccess) -> bool:
        if self.org and access.owner.lower() != self.org.lower():
            return False
        return not self.topic or self.topic.lower() in {topic.lower() for topic in access.topics}

    def run_matches(self, run: "RunSummary", default_branch: str) -> bool:
        """Whether a run is in this view; the status filter applies to the latest runs, not to each run."""
        if self.branch != ANY_BRANCH and run.head_repository is not None:
            return False  # a fork's branch is not this repository's branch, whatever its name
        if self.branch == "":
            if run.head_branch != default_branch:
                return False
        elif self.branch != ANY_BRANCH and run.head_branch != self.branch:
            return False
        if self.event and run.event != self.event:
            return False
        if self.hide_pull_requests and run.event in ("pull_request", "pull_request_target"):
            return False
        if self.hide_bots and run.actor_type == "Bot":
            return False
        if self.workflow and (run.workflow_name or "").lower() != self.workflow.lower():
            return False
        return not (self.actor and (run.actor or "").lower() != self.actor.lower())


@dataclass
class BoardRepo:
    access: RepoAccess
    pinned: bool
    latest: list[RunSummary]  # one per workflow, by workflow name
    history: list[RunSummary]  # newest first, at most HISTORY_MARKS
    loaded: bool
    load_error: str | None = None
    url: str = ""  # the repository's page, set by the view

    @property
    def full_name(self) -> str:
        return self.access.full_name

    @property
    def category(self) -> str:
        categories = [run.category for run in self.latest]
        return min(categories, key=SEVERITY.__getitem__) if categories else "neutral"

    @property
    def updated_at(self) -> datetime | None:
        return max((run.updated_at for run in self.latest if run.updated_at), default=None)


@dataclass
class Board:
    repos: list[BoardRepo]
    counts: dict[str, int] = field(default_factory=dict)
    hidden: int = 0  # visible repositories this view leaves out
    workflows: list[str] = field(default_factory=list)  # for the filter's choices
    branches: list[str] = field(default_factory=list)
    events: list[str] = field(default_factory=list)
    orgs: list[str] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)


def _summary_runs(summary: dict) -> tuple[list[RunSummary], list[RunSummary]]:
    """The summary's latest-per-workflow runs and its recent runs, each run once, in its latest state."""
    latest, recent_runs = summary_runs(summary)
    recent: dict[int, RunSummary] = {}
    for run in recent_runs:
        recent[run.run_id] = run
    # The same run can sit in both places; whichever was written later is the truth for both.
    for run in latest:
        if run.run_id not in recent or recent[run.run_id].order < run.order:
            recent[run.run_id] = run
    return latest, sorted(recent.values(), key=lambda run: run.run_id, reverse=True)


def _latest_per_workflow(runs: list[RunSummary]) -> list[RunSummary]:
    chosen: dict[int, RunSummary] = {}
    for run in runs:
        current = chosen.get(run.workflow_id)
        if current is None or (run.run_number or 0, run.order) > (current.run_number or 0, current.order):
            chosen[run.workflow_id] = run
    return sorted(chosen.values(), key=lambda run: ((run.workflow_name or "").lower(), run.workflow_id))


def board_build(
    repos: dict[str, RepoAccess],
    summaries: dict[str, dict],
    filters: BoardFilters,
    *,
    selected: list[str] | tuple[str, ...] = (),
    pinned: list[str] | tuple[str, ...] = (),
    failed: dict[str, str] | None = None,
) -> Board:
    """The board for these visible repositories: pinned first, then failures first, then most recent."""
    failed = failed or {}
    chosen = [repos[name] for name in selected if name in repos] or list(repos.values())
    pinned_set = set(pinned)
    board_repos: list[BoardRepo] = []
    workflows, branches, events = set(), set(), set()
    for access in chosen:
        summary = summaries.get(access.full_name, {})
        stored_latest, recent = _summary_runs(summary)
        for run in recent:
            workflows.add(run.workflow_name or "")
            branches.add(run.head_branch or "")
            events.add(run.event or "")
        if not filters.repo_matches(access):
            continue
        if not _search_matches(filters.q.lower(), access, stored_latest + recent):
            continue
        in_view = [run for run in recent if filters.run_matches(run, access.default_branch)]
        if filters.branch == "" and not (filters.event or filters.hide_pull_requests or filters.hide_bots):
            # The default view: the stored latest-per-workflow is complete even for workflows whose runs
            # have left the recent history.
            latest = [run for run in stored_latest if filters.run_matches(run, access.default_branch)]
            latest = _latest_per_workflow(latest + in_view)
        else:
            latest = _latest_per_workflow(in_view)
        if filters.status:
            latest = [run for run in latest if run.category == filters.status]
        if filters.filters_runs and not latest:
            continue
        board_repos.append(
            BoardRepo(
                access=access,
                pinned=access.full_name in pinned_set,
                latest=latest,
                history=in_view[:HISTORY_MARKS],
                loaded="backfilledAt" in summary,
                load_error=failed.get(access.full_name),
            )
        )
    board_repos.sort(key=_repo_order)
    counts = dict.fromkeys(CATEGORIES, 0)
    for repo in board_repos:
        for run in repo.latest:
            counts[run.category] += 1
    return Board(
        repos=board_repos,
        counts=counts,
        hidden=len(repos) - len(board_repos),
        workflows=sorted(name for name in workflows if name),
        branches=sorted(name for name in branches if name),
        events=sorted(name for name in events if name),
        orgs=sorted({access.owner for access in repos.values()}),
        topics=sorted({topic for access in repos.values() for topic in access.topics}),
    )


def _search_matches(needle: str, access: RepoAccess, runs: list[RunSummary]) -> bool:
    """A search finds a repository by its name, or by one of its workflows' names."""
    if not needle or needle in access.full_name.lower():
        return True
    return any(needle in (run.workflow_name or "").lower() for run in runs)


def _repo_order(repo: BoardRepo):
    updated = repo.updated_at.timestamp() if repo.updated_at else 0.0
    return (not repo.pinned, SEVERITY[repo.category] != 0, -updated, repo.full_name.lower())
