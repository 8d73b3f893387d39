"""The actions on a run: re-run, re-run the failed jobs, cancel.

They go to GitHub with the user's own token, so GitHub itself decides whether this user may act; a refusal is
shown in GitHub's own words.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.http import Http404

from accounts.models import UserRecord
from accounts.tokens import user_access_token
from dashboard.lib import github
from runs.visibility import repo_access

# The actions, named as GitHub's endpoints are, and what to say when GitHub accepted one.
ACTIONS = {
    "rerun": "Re-run requested.",
    "rerun-failed-jobs": "Re-run of the failed jobs requested.",
    "cancel": "Cancellation requested.",
}
# "You can re-run a workflow run ... up to 30 days after its initial run."
# https://docs.github.com/en/actions/how-tos/manage-workflow-runs/re-run-workflows-and-jobs
RERUN_WINDOW = timedelta(days=30)


@dataclass(frozen=True)
class ActionResult:
    status: int  # as the JSON API answers it
    message: str

    @property
    def ok(self) -> bool:
        return self.status == 202


def _refused(refusal: github.GitHubError, explanation: str | None = None) -> str:
    """GitHub's refusal in GitHub's own words (its `message`), then what the dashboard can add to them."""
    words = str(refusal).strip()
    if not words or words == f"GitHub answered {refusal.status}":  # no `message` in GitHub's answer
        said = f"GitHub refused (HTTP {refusal.status}) without saying why."
    else:
        said = f"GitHub refused: {words}"
    if not explanation:
        return said
    return f"{said if said.endswith(('.', '!', '?')) else said + '.'} {explanation}"


def run_act(record: UserRecord, full_name: str, run_id: int, action: str) -> ActionResult:
    """Re-run, re-run failed jobs, or cancel with the user's own token; a refusal is shown in GitHub's words."""
    if action not in ACTIONS:
        raise Http404("No such action.")
    access = repo_access(record, full_name)
    try:
        github.post(
            f"/repos/{access.full_name}/actions/runs/{run_id}/{action}",
            token=user_access_token(int(record.user_id)),
            identity=f"user:{record.user_id}",
        )
    except github.Forbidden as refusal:
        # GitHub's 403 has many causes (no write access, a run still running, one older than 30 days...): the
        # write-access hint is added only for a user GitHub last said cannot write here.
        hint = None if access.can_write else f"Re-running and cancelling need write access to {access.full_name}."
        return ActionResult(403, _refused(refusal, hint))
    except github.NotFound as missing:
        return ActionResult(404, _refused(missing, "GitHub does not know this run, or will not let you act on it."))
    except github.Conflict as conflict:
        return ActionResult(409, _refused(conflict))
    except github.ValidationFailed as invalid:
        return ActionResult(422, _refused(invalid))
    return ActionResult(202, ACTIONS[action])
