"""Who and what exists in the simulated GitHub: users, organisations, repositories, the app's installations, runs, jobs.

The cast (also in ghsim/README.md):

* `alice` (the demo user): member of `acme` and `globex`, write access on every repository she is on;
  `acme/payroll` is hers alone. She cannot see `globex/skunkworks`.
* `bob`: read-only member of `acme` (`acme/storefront`, `acme/api`): can see those runs, cannot re-run or cancel.
* `charlie`: on no installed repository: sees nothing.
* `dana`: member of `globex` with write access there, including private `globex/skunkworks` that alice cannot
  see; dana cannot see alice's `acme/payroll`.
* `dependabot[bot]`: a bot actor on some pull-request runs.

`globex/legacy` is on GitHub (alice can write to it) but not in the app's globex installation, so nobody sees it
through the app until the control API adds it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ACCESS_LEVELS = {"read": 1, "write": 2, "admin": 3}


@dataclass
class User:
    """A GitHub account that can sign in (or a bot that only acts)."""

    id: int
    login: str
    name: str
    email: str
    type: str = "User"
    created_at: float = 1_600_000_000.0


@dataclass
class Org:
    """A GitHub organisation that owns repositories."""

    id: int
    login: str
    description: str


@dataclass(frozen=True)
class JobSpec:
    """One job of a workflow file; `matrix` expands it into one job per value."""

    name: str
    stage: int = 0
    steps: tuple[str, ...] = ()
    matrix: tuple[str, ...] = ()
    environment: str | None = None
    labels: tuple[str, ...] = ("ubuntu-latest",)
    step_seconds: tuple[int, int] = (2, 25)


@dataclass(frozen=True)
class WorkflowSpec:
    """A workflow file: its name, the events that start it and its jobs."""

    key: str
    name: str
    file: str
    events: tuple[str, ...]
    jobs: tuple[JobSpec, ...]
    main_only: bool = False


WORKFLOW_SPECS: dict[str, WorkflowSpec] = {
    spec.key: spec
    for spec in (
        WorkflowSpec(
            key="ci",
            name="CI",
            file="ci.yml",
            events=("push", "pull_request"),
            jobs=(
                JobSpec("lint", steps=("Set up Python", "Install ruff", "Run ruff check")),
                JobSpec("test", steps=("Set up Python", "Install dependencies", "Run pytest"), matrix=("3.11", "3.12")),
                JobSpec("build", stage=1, steps=("Build package", "Upload artifact")),
            ),
        ),
        WorkflowSpec(
            key="codeql",
            name="CodeQL",
            file="codeql.yml",
            events=("push", "pull_request"),
            jobs=(
                JobSpec(
                    "Analyze",
                    steps=("Initialize CodeQL", "Autobuild", "Perform CodeQL Analysis"),
                    matrix=("python", "javascript"),
                    step_seconds=(5, 40),
                ),
            ),
        ),
        WorkflowSpec(
            key="deploy",
            name="Deploy",
            file="deploy.yml",
            events=("push",),
            main_only=True,
            jobs=(
                JobSpec("build", steps=("Set up Node", "npm ci", "npm run build")),
                JobSpec("deploy", stage=1, steps=("Configure credentials", "Deploy"), environment="production"),
            ),
        ),
        WorkflowSpec(
            key="nightly",
            name="Nightly",
            file="nightly.yml",
            events=("schedule",),
            main_only=True,
            jobs=(
                JobSpec(
                    "e2e",
                    steps=("Start services", "Run end-to-end suite"),
                    labels=("self-hosted", "linux", "x64"),
                    step_seconds=(20, 90),
                ),
                JobSpec("report", stage=1, steps=("Publish report",)),
            ),
        ),
    )
}


@dataclass
class Workflow:
    """A workflow file in one repository."""

    id: int
    repo_id: int
    spec: WorkflowSpec
    created_at: float

    @property
    def path(self) -> str:
        return f".github/workflows/{self.spec.file}"


@dataclass
class Repo:
    """A repository with its collaborators' access levels."""

    id: int
    owner: Org
    name: str
    private: bool
    description: str
    language: str
    access: dict[str, str]
    branches: tuple[str, ...]
    workflows: list[Workflow] = field(default_factory=list)
    default_branch: str = "main"
    created_at: float = 1_650_000_000.0
    topics: tuple[str, ...] = ()

    @property
    def full_name(self) -> str:
        return f"{self.owner.login}/{self.name}"


@dataclass
class Installation:
    """The GitHub App installed on one organisation, for some of its repositories."""

    id: int
    account: Org
    repo_ids: set[int]
    repository_selection: str
    permissions: dict[str, str]
    events: list[str]
    created_at: float
    suspended_at: float | None = None
    suspended_by: str | None = None
    deleted: bool = False

    @property
    def active(self) -> bool:
        return not self.deleted and self.suspended_at is None


@dataclass
class Job:
    """One job of one attempt of a run; its steps are derived from `step_plan` and the clock."""

    id: int
    run_id: int
    attempt: int
    name: str
    spec: JobSpec
    status: str
    created_at: float
    step_plan: list[tuple[str, int]]
    fail_step: int | None
    conclusion: str | None = None
    started_at: float | None = None
    completed_at: float | None = None
    runner_id: int | None = None
    carried_over: bool = False


@dataclass
class Attempt:
    """What a finished attempt looked like, for `/runs/{id}/attempts/{n}`."""

    number: int
    status: str
    conclusion: str | None
    run_started_at: float
    updated_at: float
    triggering_actor: str


@dataclass
class Run:
    """A workflow run; `jobs` holds the jobs of every attempt."""

    id: int
    repo_id: int
    workflow_id: int
    run_number: int
    event: str
    head_branch: str
    head_sha: str
    head_commit: dict
    display_title: str
    actor: str
    triggering_actor: str
    check_suite_id: int
    created_at: float
    updated_at: float
    run_started_at: float
    fate: dict[str, str]
    pull_requests: list[dict] = field(default_factory=list)
    status: str = "requested"
    conclusion: str | None = None
    attempt: int = 1
    jobs: list[Job] = field(default_factory=list)
    attempts: list[Attempt] = field(default_factory=list)

    def jobs_of(self, attempt: int) -> list[Job]:
        """The jobs of one attempt, in creation order."""
        return [job for job in self.jobs if job.attempt == attempt]


class World:
    """Everything that exists, with the access rules the REST API applies."""

    def __init__(self) -> None:
        self.users: dict[str, User] = {}
        self.orgs: dict[str, Org] = {}
        self.repos: dict[int, Repo] = {}
        self.workflows: dict[int, Workflow] = {}
        self.installations: dict[int, Installation] = {}
        self.runs: dict[int, Run] = {}
        self.jobs: dict[int, Job] = {}
        self._next = {
            "run": 9_100_000_000,
            "job": 31_000_000_000,
            "suite": 21_000_000_000,
            "repo": 5_000,
            "workflow": 170_000,
        }

    def next_id(self, kind: str) -> int:
        """A fresh, increasing id for runs, jobs, check suites, and repositories and workflows added later."""
        self._next[kind] += 1
        return self._next[kind]

    def repo_named(self, owner: str, name: str) -> Repo | None:
        """The repository `owner/name`, case-insensitively as GitHub matches it."""
        wanted = f"{owner}/{name}".lower()
        return next((repo for repo in self.repos.values() if repo.full_name.lower() == wanted), None)

    def installation_of(self, repo: Repo) -> Installation | None:
        """The app installation (active or not, but not deleted) that covers the repository."""
        return next(
            (inst for inst in self.installations.values() if not inst.deleted and repo.id in inst.repo_ids),
            None,
        )

    def active_installation_of(self, repo: Repo) -> Installation | None:
        """The installation that covers the repository, if it is neither suspended nor deleted."""
        inst = self.installation_of(repo)
        return inst if inst and inst.active else None

    def visible_repo_ids(self, login: str) -> set[int]:
        """Repositories a user token sees: the user's access intersected with the app's active installations."""
        return {repo.id for repo in self.repos.values() if login in repo.access and self.active_installation_of(repo)}

    def user_installations(self, login: str) -> list[Installation]:
        """Active installations through which the user sees at least one repository."""
        visible = self.visible_repo_ids(login)
        return [inst for inst in self.installations.values() if inst.active and inst.repo_ids & visible]


def build_cast(created_at: float) -> World:
    """The fixed cast of users, organisations, repositories and installations."""
    world = World()
    for user in (
        User(1001, "alice", "Alice Archer", "alice@example.com"),
        User(1002, "bob", "Bob Baker", "bob@example.com"),
        User(1003, "charlie", "Charlie Chen", "charlie@example.com"),
        User(1004, "dana", "Dana Diaz", "dana@example.com"),
        User(
            49699333, "dependabot[bot]", "dependabot[bot]", "49699333+dependabot[bot]@users.noreply.github.com", "Bot"
        ),
    ):
        world.users[user.login] = user
    acme = Org(2001, "acme", "Acme Corporation: storefront and back office")
    globex = Org(2002, "globex", "Globex: engines and data")
    world.orgs = {"acme": acme, "globex": globex}
    main_and = ("main", "feature/checkout", "fix/flaky-login", "refactor/db-layer")
    repos = (
        Repo(
            4101,
            acme,
            "storefront",
            False,
            "The public web shop",
            "TypeScript",
            {"alice": "write", "bob": "read"},
            main_and,
        ),
        Repo(4102, acme, "api", True, "Orders and payments API", "Python", {"alice": "admin", "bob": "read"}, main_and),
        Repo(
            4103, acme, "payroll", True, "Salaries (alice only)", "Python", {"alice": "admin"}, ("main", "fix/rounding")
        ),
        Repo(4201, globex, "engine", False, "The Globex engine", "Go", {"alice": "write", "dana": "admin"}, main_and),
        Repo(
            4202,
            globex,
            "data-pipeline",
            True,
            "Nightly data pipeline",
            "Python",
            {"alice": "write", "dana": "write"},
            ("main", "feature/parquet"),
        ),
        Repo(4203, globex, "skunkworks", True, "Dana's secret projects", "Rust", {"dana": "admin"}, ("main", "feat/x")),
        Repo(4204, globex, "legacy", True, "Not in the app's installation", "Java", {"alice": "write"}, ("main",)),
    )
    kinds = {
        "storefront": ("ci", "codeql", "deploy"),
        "api": ("ci", "deploy"),
        "payroll": ("ci",),
        "engine": ("ci", "codeql"),
        "data-pipeline": ("ci", "nightly"),
        "skunkworks": ("ci",),
        "legacy": ("ci",),
    }
    next_workflow = 161_000
    topics = {
        "storefront": ("web", "frontend"),
        "api": ("backend", "payments"),
        "payroll": ("backend", "internal"),
        "engine": ("core",),
        "data-pipeline": ("data", "backend"),
        "skunkworks": ("research",),
        "legacy": ("legacy",),
    }
    for repo in repos:
        repo.topics = topics[repo.name]
        world.repos[repo.id] = repo
        for key in kinds[repo.name]:
            next_workflow += 1
            workflow = Workflow(next_workflow, repo.id, WORKFLOW_SPECS[key], repo.created_at + 86_400)
            repo.workflows.append(workflow)
            world.workflows[workflow.id] = workflow
    permissions = {"actions": "write", "checks": "read", "contents": "read", "metadata": "read"}
    events = ["workflow_job", "workflow_run"]
    world.installations = {
        70001: Installation(70001, acme, {4101, 4102, 4103}, "all", dict(permissions), list(events), created_at),
        70002: Installation(70002, globex, {4201, 4202, 4203}, "selected", dict(permissions), list(events), created_at),
    }
    return world
