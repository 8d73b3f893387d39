"""The run cache: workflow runs and their jobs as GitHub last told us, kept for 30 days."""

from datetime import timedelta

from pynamodb.attributes import (
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from dashboard.lib.dynamo import TableMeta, TableModel, table

# DynamoDB deletes a run or job this long after its last write; a later write pushes it back.
RETENTION = timedelta(days=30)


def on_default_branch(head_branch: str | None, default_branch: str | None, head_repository: str | None) -> bool:
    """A run counts for the default branch only when its head is that branch of the repository itself.

    A fork's pull request from a branch named like ours carries `head_repository` (the fork): on a public
    repository anyone could otherwise turn the board and the CCTray feed red or green.
    """
    return default_branch is not None and head_branch == default_branch and head_repository is None


class ActiveRunsIndex(GlobalSecondaryIndex):
    """Unfinished runs by status and last update, for reconciliation.

    Sparse on purpose: only runs that are not completed carry `activeStatus`, so the index holds the handful
    of live runs rather than every run ever seen (a GSI keyed on the bare `status` would put every completed
    run in one hot partition).
    """

    class Meta:
        index_name = "active-status-index"
        projection = AllProjection()

    active_status = UnicodeAttribute(hash_key=True, attr_name="activeStatus")
    updated_at = UTCDateTimeAttribute(range_key=True, attr_name="updatedAt")


class WorkflowRun(TableModel):
    """One workflow run of one repository (`repoId` is `owner/repo`)."""

    class Meta(TableMeta):
        table_name = table("workflow-cache")

    repo_id = UnicodeAttribute(hash_key=True, attr_name="repoId")
    run_id = NumberAttribute(range_key=True, attr_name="runId")
    workflow_id = NumberAttribute(null=True, attr_name="workflowId")
    workflow_name = UnicodeAttribute(null=True, attr_name="workflowName")
    name = UnicodeAttribute(null=True)
    display_title = UnicodeAttribute(null=True, attr_name="displayTitle")
    status = UnicodeAttribute()
    conclusion = UnicodeAttribute(null=True)
    active_status = UnicodeAttribute(null=True, attr_name="activeStatus")
    # The merge order of this state (attempt, status rank, updated_at): only a later state replaces it.
    order = UnicodeAttribute(null=True, attr_name="ord")
    head_branch = UnicodeAttribute(null=True, attr_name="headBranch")
    # Set only when the run's head is another repository (a fork's pull request): its branch is not ours.
    head_repository = UnicodeAttribute(null=True, attr_name="headRepo")
    default_branch = UnicodeAttribute(null=True, attr_name="defaultBranch")
    head_sha = UnicodeAttribute(null=True, attr_name="headSha")
    commit_message = UnicodeAttribute(null=True, attr_name="commitMessage")
    event = UnicodeAttribute(null=True)
    actor_login = UnicodeAttribute(null=True, attr_name="actorLogin")
    actor_type = UnicodeAttribute(null=True, attr_name="actorType")
    pull_requests = ListAttribute(of=NumberAttribute, default=list, attr_name="pullRequests")
    run_number = NumberAttribute(null=True, attr_name="runNumber")
    run_attempt = NumberAttribute(default=1, attr_name="runAttempt")
    created_at = UTCDateTimeAttribute(null=True, attr_name="createdAt")
    run_started_at = UTCDateTimeAttribute(null=True, attr_name="runStartedAt")
    updated_at = UTCDateTimeAttribute(attr_name="updatedAt")
    completed_at = UTCDateTimeAttribute(null=True, attr_name="completedAt")
    html_url = UnicodeAttribute(null=True, attr_name="htmlUrl")
    # The App installation that can read this run again (reconciliation uses its token).
    installation_id = NumberAttribute(null=True, attr_name="installationId")
    jobs_fetched_at = UTCDateTimeAttribute(null=True, attr_name="jobsFetchedAt")
    # PynamoDB's stub types the default as a datetime; a timedelta (expiry that long from now) is documented and works.
    expires_at = TTLAttribute(default=lambda: RETENTION, attr_name="expiresAt")  # type: ignore[arg-type,return-value]

    active = ActiveRunsIndex()

    @property
    def on_default_branch(self) -> bool:
        """Whether this run stands for the repository's default branch (never a fork's branch of that name)."""
        return on_default_branch(self.head_branch, self.default_branch, self.head_repository)


class Step(MapAttribute):
    """One step of a job."""

    number = NumberAttribute()
    name = UnicodeAttribute()
    status = UnicodeAttribute()
    conclusion = UnicodeAttribute(null=True)
    started_at = UTCDateTimeAttribute(null=True, attr_name="startedAt")
    completed_at = UTCDateTimeAttribute(null=True, attr_name="completedAt")


class WorkflowJob(TableModel):
    """One job of a run, with its steps (`runKey` is `owner/repo#runId`)."""

    class Meta(TableMeta):
        table_name = table("workflow-jobs")

    run_key = UnicodeAttribute(hash_key=True, attr_name="runKey")
    job_id = NumberAttribute(range_key=True, attr_name="jobId")
    run_id = NumberAttribute(null=True, attr_name="runId")
    run_attempt = NumberAttribute(default=1, attr_name="runAttempt")
    name = UnicodeAttribute()
    status = UnicodeAttribute()
    conclusion = UnicodeAttribute(null=True)
    order = UnicodeAttribute(null=True, attr_name="ord")
    started_at = UTCDateTimeAttribute(null=True, attr_name="startedAt")
    completed_at = UTCDateTimeAttribute(null=True, attr_name="completedAt")
    updated_at = UTCDateTimeAttribute(attr_name="updatedAt")
    html_url = UnicodeAttribute(null=True, attr_name="htmlUrl")
    runner_name = UnicodeAttribute(null=True, attr_name="runnerName")
    labels = ListAttribute(of=UnicodeAttribute, default=list)
    steps = ListAttribute(of=Step, default=list)
    # PynamoDB's stub types the default as a datetime; a timedelta (expiry that long from now) is documented and works.
    expires_at = TTLAttribute(default=lambda: RETENTION, attr_name="expiresAt")  # type: ignore[arg-type,return-value]


class RepoSummary(TableModel):
    """Per repository, the latest run of each workflow on the default branch, for the overview in one read.

    Each workflow's latest run on the default branch is `wf_<workflowId>`, and each recent run of any branch
    `r_<runId>`: compact JSON, with its order beside it in `ord_<name>` for the conditional update (runs/summaries.py)
    that keeps an older state from replacing a newer one. The model declares only the key.
    """

    class Meta(TableMeta):
        table_name = table("repo-summaries")

    repo_id = UnicodeAttribute(hash_key=True, attr_name="repoId")
