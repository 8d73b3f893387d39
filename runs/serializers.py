"""The JSON shapes of the runs API (documented in runs/openapi.py)."""

from datetime import datetime

from runs.models import WorkflowJob, WorkflowRun
from runs.summaries import summary_runs
from runs.visibility import RepoAccess


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _seconds(start: datetime | None, end: datetime | None) -> int | None:
    if start is None or end is None:
        return None
    return max(0, int((end - start).total_seconds()))


def repo_json(access: RepoAccess, summary: dict | None, *, load_error: str | None = None) -> dict:
    body = {
        "full_name": access.full_name,
        "private": access.private,
        "default_branch": access.default_branch,
        "html_url": access.html_url,
        "can_write": access.can_write,
    }
    if summary is not None:
        latest, _ = summary_runs(summary)
        body["workflows"] = [
            run.as_json() for run in sorted(latest, key=lambda run: (run.workflow_name or "", run.workflow_id))
        ]
        body["loaded"] = "backfilledAt" in summary
        body["load_error"] = load_error
    return body


def run_json(run: WorkflowRun) -> dict:
    return {
        "id": run.run_id,
        "run_number": run.run_number,
        "run_attempt": run.run_attempt,
        "workflow_id": run.workflow_id,
        "workflow_name": run.workflow_name,
        "display_title": run.display_title,
        "status": run.status,
        "conclusion": run.conclusion,
        "head_branch": run.head_branch,
        "head_repository": run.head_repository,
        "default_branch": run.default_branch,
        "on_default_branch": run.on_default_branch,
        "head_sha": run.head_sha,
        "commit_message": run.commit_message,
        "event": run.event,
        "actor": run.actor_login,
        "actor_type": run.actor_type,
        "pull_requests": list(run.pull_requests),
        "created_at": _iso(run.created_at),
        "run_started_at": _iso(run.run_started_at),
        "updated_at": _iso(run.updated_at),
        "completed_at": _iso(run.completed_at),
        "queue_seconds": _seconds(run.created_at, run.run_started_at),
        "duration_seconds": _seconds(run.run_started_at, run.completed_at),
        "html_url": run.html_url,
    }


def job_json(job: WorkflowJob) -> dict:
    steps = [
        {
            "number": step.number,
            "name": step.name,
            "status": step.status,
            "conclusion": step.conclusion,
            "started_at": _iso(step.started_at),
            "completed_at": _iso(step.completed_at),
            "duration_seconds": _seconds(step.started_at, step.completed_at),
        }
        for step in sorted(job.steps, key=lambda step: step.number)
    ]
    failing = next((step["name"] for step in steps if step["conclusion"] == "failure"), None)
    return {
        "id": job.job_id,
        "name": job.name,
        "run_attempt": job.run_attempt,
        "status": job.status,
        "conclusion": job.conclusion,
        "started_at": _iso(job.started_at),
        "completed_at": _iso(job.completed_at),
        "duration_seconds": _seconds(job.started_at, job.completed_at),
        "html_url": job.html_url,
        "runner_name": job.runner_name,
        "labels": list(job.labels),
        "steps": steps,
        "failing_step": failing,
    }


# What a job's change announces (the events table, the stream's consumers, the browsers): its state without its steps,
# which no page reads from a change (the run page reads the job again) and which made a job's event three times the
# size of a run's. `order` is the merge rule's (runs/cache.py): a consumer can tell a later state from an earlier.
JOB_EVENT_FIELDS = ("id", "name", "run_attempt", "status", "conclusion", "started_at", "completed_at", "html_url")


def job_event_json(job: WorkflowJob) -> dict:
    full = job_json(job)
    return {**{name: full[name] for name in JOB_EVENT_FIELDS}, "failing_step": full["failing_step"], "order": job.order}
