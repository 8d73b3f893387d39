"""Webhook payloads and REST bodies, built from GitHub's own examples in `ghsim/data/`.

Each builder starts from the example object, re-points its URLs at the simulator and overrides the values that
describe the simulated thing, so every field of the example is present and in GitHub's order.
"""

from __future__ import annotations

import base64
import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit

from ghsim.clock import iso
from ghsim.world import Installation, Job, Org, Repo, Run, User, Workflow, World

DATA = Path(__file__).resolve().parent / "data"


@dataclass(frozen=True)
class Links:
    """Where the simulator lives, in GitHub Enterprise Server's layout."""

    web: str

    @property
    def api(self) -> str:
        return f"{self.web}/api/v3"

    @property
    def host(self) -> str:
        """The bare host name, for `git://` and SSH clone URLs."""
        return urlsplit(self.web).hostname or "127.0.0.1"


@functools.cache
def _example(name: str) -> str:
    return (DATA / name).read_text()


def example(name: str) -> dict | list:
    """A fresh copy of one example file, e.g. `webhooks/workflow_run.requested.json`."""
    return json.loads(_example(name))


def node_id(kind: str, number: int) -> str:
    """A legacy GraphQL node id, as in GitHub's examples (`MDQ6VXNlcjE=` is `04:User1`)."""
    return base64.b64encode(f"0{len(kind)}:{kind}{number}".encode()).decode()


def _rebase(text: str, links: Links, renames: dict[str, str]) -> str:
    """Point one URL of an example at the simulator and at the simulated owner/repository."""
    for old, new in (
        ("https://api.github.com", links.api),
        ("http://api.github.com", links.api),
        ("https://svn.github.com", links.web),
        ("https://github.com", links.web),
        ("git://github.com", f"git://{links.host}"),
        ("git:github.com", f"git://{links.host}"),
        ("git@github.com:", f"git@{links.host}:"),
    ):
        if text.startswith(old):
            text = new + text[len(old) :]
            break
    for old, new in renames.items():
        text = re.sub(rf"(?<=[/:]){re.escape(old)}(?=[/.{{?]|$)", new, text)
    return text


def _retarget(obj, links: Links, renames: dict[str, str]):
    """Rebase every URL inside an example object (renames longest first)."""
    ordered = dict(sorted(renames.items(), key=lambda item: -len(item[0])))
    if isinstance(obj, dict):
        return {key: _retarget(value, links, ordered) for key, value in obj.items()}
    if isinstance(obj, list):
        return [_retarget(value, links, ordered) for value in obj]
    if isinstance(obj, str) and obj.startswith(("http", "git")):
        return _rebase(obj, links, ordered)
    return obj


def _memo(builder):
    """Cache a builder of a static object (users, organisations, repositories) per object and base URL.

    Callers get a shallow copy; nested values are shared, so nothing may mutate them in place.
    """
    cache: dict = {}

    @functools.wraps(builder)
    def cached(thing, links: Links) -> dict:
        key = (type(thing).__name__, thing.id, links)
        if key not in cache:
            cache[key] = builder(thing, links)
        return dict(cache[key])

    return cached


def _ordered(keys, values: dict, *, extra: bool) -> dict:
    """The values in the example's key order; with `extra`, keys the example lacks come last."""
    result = {key: values[key] for key in keys if key in values}
    if extra:
        result.update({key: value for key, value in values.items() if key not in result})
    return result


# People and organisations


@_memo
def user(account: User | Org, links: Links) -> dict:
    """A `simple-user` (webhook `sender`, run `actor`, installation `account`)."""
    template = example("webhooks/workflow_run.requested.json")["sender"]
    login = account.login
    obj = _retarget(template, links, {"Codertocat": quote(login)})
    obj.update(
        login=login,
        id=account.id,
        node_id=node_id("Organization" if isinstance(account, Org) else account.type, account.id),
        avatar_url=f"{links.web}/avatars/u/{account.id}?v=4",
        type="Organization" if isinstance(account, Org) else account.type,
        site_admin=False,
    )
    return obj


@_memo
def organization(org: Org, links: Links) -> dict:
    """A webhook `organization` object."""
    template = example("webhooks/workflow_run.requested.json")["organization"]
    obj = _retarget(template, links, {"octo-org": org.login})
    obj.update(
        login=org.login,
        id=org.id,
        node_id=node_id("Organization", org.id),
        avatar_url=f"{links.web}/avatars/u/{org.id}?v=4",
        description=org.description,
    )
    return obj


def authenticated_user(account: User, links: Links, *, private_repos: int) -> dict:
    """`GET /user` for the token's owner."""
    obj = _retarget(example("rest/users/get-authenticated.200.json"), links, {"octocat": account.login})
    obj.update(user(account, links))
    obj.update(
        name=account.name,
        company=None,
        blog="",
        location=None,
        email=account.email,
        hireable=None,
        bio=None,
        twitter_username=None,
        public_repos=0,
        public_gists=0,
        followers=0,
        following=0,
        created_at=iso(account.created_at),
        updated_at=iso(account.created_at),
        private_gists=0,
        total_private_repos=private_repos,
        owned_private_repos=0,
        disk_usage=0,
        collaborators=0,
        two_factor_authentication=True,
        plan={"name": "free", "space": 976562499, "private_repos": 10000, "collaborators": 0},
    )
    return obj


def user_emails(account: User) -> list[dict]:
    """`GET /user/emails`: the primary address and the noreply one."""
    noreply = f"{account.id}+{account.login}@users.noreply.github.com"
    return [
        {"email": account.email, "primary": True, "verified": True, "visibility": "public"},
        {"email": noreply, "primary": False, "verified": True, "visibility": None},
    ]


# Repositories


def _repo_values(repo: Repo, links: Links) -> dict:
    return {
        "id": repo.id,
        "node_id": node_id("Repository", repo.id),
        "name": repo.name,
        "full_name": repo.full_name,
        "private": repo.private,
        "owner": user(repo.owner, links),
        "description": repo.description,
        "fork": False,
    }


def _repo_renames(repo: Repo, old_full: str) -> dict[str, str]:
    return {old_full: repo.full_name, old_full.split("/")[0]: repo.owner.login}


@_memo
def repository(repo: Repo, links: Links) -> dict:
    """A webhook top-level `repository` (full shape, as in the workflow_run examples)."""
    template = example("webhooks/workflow_run.requested.json")["repository"]
    obj = _retarget(template, links, _repo_renames(repo, "octo-org/octo-repo"))
    obj.update(_repo_values(repo, links))
    obj.update(
        created_at=iso(repo.created_at),
        updated_at=iso(repo.created_at),
        pushed_at=iso(repo.created_at),
        homepage=None,
        language=repo.language,
        license=None,
        default_branch=repo.default_branch,
        has_pages=False,
        open_issues=0,
        open_issues_count=0,
        stargazers_count=0,
        watchers=0,
        watchers_count=0,
        topics=list(repo.topics),
        visibility="private" if repo.private else "public",
        custom_properties={},
        has_discussions=False,  # newer fields, present in the workflow_job examples
        allow_forking=not repo.private,
    )
    return obj


@_memo
def repository_lite(repo: Repo, links: Links) -> dict:
    """A run's `repository`/`head_repository` in webhooks (`repository-lite`)."""
    template = example("webhooks/workflow_run.requested.json")["workflow_run"]["repository"]
    obj = _retarget(template, links, _repo_renames(repo, "octo-org/octo-repo"))
    obj.update(_repo_values(repo, links))
    return obj


@_memo
def repository_minimal(repo: Repo, links: Links) -> dict:
    """A run's `repository` in REST (`minimal-repository`: lite plus `git_url`/`ssh_url`)."""
    template = example("rest/actions/get-workflow-run.200.json")["repository"]
    obj = _retarget(template, links, _repo_renames(repo, "octocat/Hello-World"))
    obj.update(_repo_values(repo, links))
    obj["hooks_url"] = f"{links.api}/repos/{repo.full_name}/hooks"
    return obj


def repository_rest(repo: Repo, links: Links, *, permission: str | None) -> dict:
    """A REST `repository` (`/repos/{o}/{r}`, installation repository lists); `permissions` for user tokens."""
    template = example("rest/apps/create-installation-access-token.201.json")["repositories"][0]
    obj = _retarget(template, links, _repo_renames(repo, "octocat/Hello-World"))
    obj.update(_repo_values(repo, links))
    level = {"read": 1, "write": 2, "admin": 3}.get(permission or "", 0)
    obj.update(
        mirror_url=None,
        homepage=None,
        language=repo.language,
        forks_count=0,
        stargazers_count=0,
        watchers_count=0,
        default_branch=repo.default_branch,
        is_template=False,
        topics=list(repo.topics),
        has_pages=False,
        visibility="private" if repo.private else "public",
        pushed_at=iso(repo.created_at),
        created_at=iso(repo.created_at),
        updated_at=iso(repo.created_at),
        permissions={
            "admin": level >= 3,
            "maintain": level >= 3,
            "push": level >= 2,
            "triage": level >= 2,
            "pull": True,
        },
        template_repository=None,
        temp_clone_token="",  # a string in GitHub's `repository` schema (null only in `full-repository`)
        subscribers_count=0,
        # Required by GitHub's current description, absent from the 2020 example this object starts from.
        forks=0,
        open_issues=0,
        watchers=0,
        license=None,
        has_discussions=False,
    )
    if permission is None:
        del obj["permissions"]
    return obj


def repository_ref(repo: Repo) -> dict:
    """The short repository object in installation payloads."""
    return {
        "id": repo.id,
        "node_id": node_id("Repository", repo.id),
        "name": repo.name,
        "full_name": repo.full_name,
        "private": repo.private,
    }


# Installations and the app


def installation_lite(inst: Installation) -> dict:
    """The `installation` field of a repository event."""
    return {"id": inst.id, "node_id": node_id("IntegrationInstallation", inst.id)}


def _installation_values(inst: Installation, links: Links, app: dict, world: World) -> dict:
    suspender = world.users.get(inst.suspended_by or "")
    return {
        "id": inst.id,
        "account": user(inst.account, links),
        "repository_selection": inst.repository_selection,
        "access_tokens_url": f"{links.api}/app/installations/{inst.id}/access_tokens",
        "repositories_url": f"{links.api}/installation/repositories",
        "html_url": f"{links.web}/organizations/{inst.account.login}/settings/installations/{inst.id}",
        "app_id": app["id"],
        "app_slug": app["slug"],
        "target_id": inst.account.id,
        "target_type": "Organization",
        "permissions": dict(inst.permissions),
        "events": list(inst.events),
        "created_at": iso(inst.created_at),
        "updated_at": iso(inst.created_at),
        "single_file_name": None,
        "has_multiple_single_files": False,
        "single_file_paths": [],
        "suspended_at": iso(inst.suspended_at) if inst.suspended_at else None,
        "suspended_by": user(suspender, links) if suspender else None,
    }


def installation(inst: Installation, links: Links, app: dict, world: World) -> dict:
    """A webhook `installation` object (full shape)."""
    template = example("webhooks/installation.suspend.json")["installation"]
    return _ordered(template, _installation_values(inst, links, app, world), extra=False)


def installation_rest(inst: Installation, links: Links, app: dict, world: World) -> dict:
    """A REST installation (`/user/installations`, `/app/installations`)."""
    template = example("rest/apps/list-installations-for-authenticated-user.200.json")["installations"][0]
    values = _installation_values(inst, links, app, world)
    values["account"] = {**values["account"], **organization(inst.account, links)}
    return _ordered(template, values, extra=True)


def app(app_id: int, slug: str, client_id: str, owner: Org, links: Links, created_at: float) -> dict:
    """`GET /app`: the GitHub App itself."""
    return {
        "id": app_id,
        "slug": slug,
        "node_id": node_id("Integration", app_id),
        "client_id": client_id,
        "owner": user(owner, links),
        "name": "Actions Dashboard (local)",
        "description": "The Actions Dashboard, as registered on the GitHub simulator.",
        "external_url": "http://127.0.0.1:8000",
        "html_url": f"{links.web}/apps/{slug}",
        "created_at": iso(created_at),
        "updated_at": iso(created_at),
        "permissions": {"actions": "write", "checks": "read", "contents": "read", "metadata": "read"},
        "events": ["workflow_job", "workflow_run"],
        "installations_count": 2,
    }


# Workflows, runs and jobs


def workflow(wf: Workflow, repo: Repo, links: Links) -> dict:
    """A workflow, identical in webhooks and REST."""
    template = example("rest/actions/get-workflow.200.json")
    full = repo.full_name
    values = {
        "id": wf.id,
        "node_id": node_id("Workflow", wf.id),
        "name": wf.spec.name,
        "path": wf.path,
        "state": "active",
        "created_at": iso(wf.created_at),
        "updated_at": iso(wf.created_at),
        "url": f"{links.api}/repos/{full}/actions/workflows/{wf.id}",
        "html_url": f"{links.web}/{full}/blob/{repo.default_branch}/{wf.path}",
        "badge_url": f"{links.web}/{full}/workflows/{quote(wf.spec.name)}/badge.svg",
    }
    return _ordered(template, values, extra=True)


def _pull_requests(run: Run, repo: Repo, links: Links) -> list[dict]:
    ref = {"id": repo.id, "url": f"{links.api}/repos/{repo.full_name}", "name": repo.name}
    return [
        {
            "url": f"{links.api}/repos/{repo.full_name}/pulls/{pr['number']}",
            "id": pr["id"],
            "number": pr["number"],
            "head": {"ref": run.head_branch, "sha": run.head_sha, "repo": dict(ref)},
            "base": {"ref": repo.default_branch, "sha": pr["base_sha"], "repo": dict(ref)},
        }
        for pr in run.pull_requests
    ]


def workflow_run(run: Run, world: World, links: Links, *, rest: bool, exclude_pull_requests: bool = False) -> dict:
    """A workflow run, as the REST API (`rest=True`) or a `workflow_run` webhook shows it."""
    repo = world.repos[run.repo_id]
    wf = world.workflows[run.workflow_id]
    base = f"{links.api}/repos/{repo.full_name}/actions/runs/{run.id}"
    lite = repository_lite(repo, links)
    values = {
        "id": run.id,
        "name": wf.spec.name,
        "node_id": node_id("WorkflowRun", run.id),
        "check_suite_id": run.check_suite_id,
        "check_suite_node_id": node_id("CheckSuite", run.check_suite_id),
        "head_branch": run.head_branch,
        "head_sha": run.head_sha,
        "path": wf.path,
        "run_number": run.run_number,
        "event": run.event,
        "display_title": run.display_title,
        "status": run.status,
        "conclusion": run.conclusion,
        "workflow_id": wf.id,
        "url": base,
        "html_url": f"{links.web}/{repo.full_name}/actions/runs/{run.id}",
        "pull_requests": [] if exclude_pull_requests else _pull_requests(run, repo, links),
        "created_at": iso(run.created_at),
        "updated_at": iso(run.updated_at),
        "actor": user(world.users[run.actor], links),
        "run_attempt": run.attempt,
        "referenced_workflows": [],
        "run_started_at": iso(run.run_started_at),
        "triggering_actor": user(world.users[run.triggering_actor], links),
        "jobs_url": f"{base}/jobs",
        "logs_url": f"{base}/logs",
        "check_suite_url": f"{links.api}/repos/{repo.full_name}/check-suites/{run.check_suite_id}",
        "artifacts_url": f"{base}/artifacts",
        "cancel_url": f"{base}/cancel",
        "rerun_url": f"{base}/rerun",
        "previous_attempt_url": f"{base}/attempts/{run.attempt - 1}" if run.attempt > 1 else None,
        "workflow_url": f"{links.api}/repos/{repo.full_name}/actions/workflows/{wf.id}",
        "head_commit": dict(run.head_commit),
        "repository": repository_minimal(repo, links) if rest else lite,
        "head_repository": lite,
    }
    if rest:
        return _ordered(example("rest/actions/get-workflow-run.200.json"), values, extra=True)
    template = example("webhooks/workflow_run.requested.json")["workflow_run"]
    return _ordered(template, values, extra=False)


def steps(job: Job, now: float) -> list[dict]:
    """The job's steps as GitHub shows them at `now`: done, running, or still queued."""
    if job.status in ("queued", "waiting") or job.started_at is None:
        return []
    result = []
    start = job.started_at
    stopped = job.completed_at if job.status == "completed" else None
    for number, (name, seconds) in enumerate(job.step_plan, start=1):
        end = start + seconds
        result.append(_step(job, number, name, start, end, now, stopped))
        start = end
    return result


def _step(job: Job, number: int, name: str, start: float, end: float, now: float, stopped: float | None) -> dict:
    step = {"name": name, "status": "queued", "conclusion": None, "number": number}
    if stopped is not None:
        outcome, begin, finish = _finished_step(job, number, start, end, stopped)
        return {
            **step,
            "status": "completed",
            "conclusion": outcome,
            "started_at": iso(begin),
            "completed_at": iso(finish),
        }
    if end <= now:
        return {
            **step,
            "status": "completed",
            "conclusion": "success",
            "started_at": iso(start),
            "completed_at": iso(end),
        }
    if start <= now:
        return {**step, "status": "in_progress", "started_at": iso(start), "completed_at": None}
    return {**step, "started_at": None, "completed_at": None}


def _finished_step(job: Job, number: int, start: float, end: float, stopped: float) -> tuple[str, float, float]:
    """How one step of a finished job ended: GitHub still runs `Complete job` after a failure or a cancel."""
    index = number - 1
    if job.conclusion == "failure" and job.fail_step is not None:
        if index < job.fail_step:
            return "success", start, end
        if index == job.fail_step:
            return "failure", start, end
    elif end <= stopped:
        return "success", start, end
    elif start < stopped:
        return "cancelled", start, stopped
    return ("success" if number == len(job.step_plan) else "skipped"), stopped, stopped


def workflow_job(job: Job, world: World, links: Links, now: float, *, rest: bool) -> dict:
    """A job with its steps, as the REST API (`rest=True`) or a `workflow_job` webhook shows it."""
    run = world.runs[job.run_id]
    repo = world.repos[run.repo_id]
    wf = world.workflows[run.workflow_id]
    running = job.runner_id is not None
    values = {
        "id": job.id,
        "run_id": run.id,
        "workflow_name": wf.spec.name,
        "head_branch": run.head_branch,
        "run_url": f"{links.api}/repos/{repo.full_name}/actions/runs/{run.id}",
        "run_attempt": job.attempt,
        "node_id": node_id("CheckRun", job.id),
        "head_sha": run.head_sha,
        "url": f"{links.api}/repos/{repo.full_name}/actions/jobs/{job.id}",
        "html_url": f"{links.web}/{repo.full_name}/actions/runs/{run.id}/job/{job.id}",
        "status": job.status,
        "conclusion": job.conclusion,
        "created_at": iso(job.created_at),
        "started_at": iso(job.started_at if job.started_at is not None else job.created_at),
        "completed_at": iso(job.completed_at) if job.completed_at is not None else None,
        "name": job.name,
        "steps": steps(job, now),
        "check_run_url": f"{links.api}/repos/{repo.full_name}/check-runs/{job.id}",
        "labels": list(job.spec.labels),
        "runner_id": job.runner_id if running else None,
        "runner_name": f"GitHub Actions {job.runner_id}" if running else None,
        "runner_group_id": 2 if running else None,
        "runner_group_name": "GitHub Actions" if running else None,
    }
    if rest:
        return _ordered(example("rest/actions/get-job-for-workflow-run.200.json"), values, extra=True)
    return _ordered(example("webhooks/workflow_job.waiting.json")["workflow_job"], values, extra=False)


# Webhook envelopes


def run_event(action: str, run: Run, world: World, links: Links) -> dict:
    """A `workflow_run` webhook payload."""
    repo = world.repos[run.repo_id]
    payload = {
        "action": action,
        "workflow_run": workflow_run(run, world, links, rest=False),
        "workflow": workflow(world.workflows[run.workflow_id], repo, links),
    }
    return _repo_event(payload, repo, world, links, sender=run.triggering_actor)


def job_event(action: str, job: Job, world: World, links: Links, now: float) -> dict:
    """A `workflow_job` webhook payload."""
    run = world.runs[job.run_id]
    repo = world.repos[run.repo_id]
    payload = {"action": action, "workflow_job": workflow_job(job, world, links, now, rest=False)}
    return _repo_event(payload, repo, world, links, sender=run.triggering_actor)


def _repo_event(payload: dict, repo: Repo, world: World, links: Links, *, sender: str) -> dict:
    payload["repository"] = repository(repo, links)
    payload["organization"] = organization(repo.owner, links)
    payload["sender"] = user(world.users[sender], links)
    inst = world.installation_of(repo)
    if inst is not None:
        payload["installation"] = installation_lite(inst)
    return payload


def installation_event(action: str, inst: Installation, world: World, links: Links, app: dict, sender: str) -> dict:
    """An `installation` webhook payload (created, deleted, suspend, unsuspend, new_permissions_accepted)."""
    payload: dict = {"action": action, "installation": installation(inst, links, app, world)}
    if action != "suspend" and action != "unsuspend":
        repos = [world.repos[repo_id] for repo_id in sorted(inst.repo_ids)]
        payload["repositories"] = [repository_ref(repo) for repo in repos]
    if action != "created":
        payload["requester"] = None
    payload["sender"] = user(world.users[sender], links)
    return payload


def installation_repositories_event(
    action: str, inst: Installation, repos: list[Repo], world: World, links: Links, app: dict, sender: str
) -> dict:
    """An `installation_repositories` webhook payload (added or removed)."""
    refs = [repository_ref(repo) for repo in repos]
    return {
        "action": action,
        "installation": installation(inst, links, app, world),
        "repository_selection": inst.repository_selection,
        "repositories_added": refs if action == "added" else [],
        "repositories_removed": refs if action == "removed" else [],
        "requester": user(world.users[sender], links),
        "sender": user(world.users[sender], links),
    }


def authorization_revoked_event(account: User, links: Links) -> dict:
    """A `github_app_authorization` `revoked` payload."""
    return {"action": "revoked", "sender": user(account, links)}


def ping_event(hook_id: int, app_id: int, url: str, links: Links, created_at: float) -> dict:
    """The `ping` GitHub sends when an app's webhook is set up."""
    hook_url = f"{links.api}/app/hook"
    return {
        "zen": "Design for failure.",
        "hook_id": hook_id,
        "hook": {
            "type": "App",
            "id": hook_id,
            "name": "web",
            "active": True,
            "events": ["workflow_job", "workflow_run"],
            "config": {"content_type": "json", "url": url, "insecure_ssl": "0"},
            "updated_at": iso(created_at),
            "created_at": iso(created_at),
            "app_id": app_id,
            "url": f"{hook_url}/config",
            "ping_url": f"{hook_url}/pings",
            "deliveries_url": f"{hook_url}/deliveries",
        },
    }


def not_found() -> dict:
    """GitHub's 404 body."""
    return error("Not Found", "https://docs.github.com/rest", 404)


def error(message: str, documentation_url: str, status: int) -> dict:
    """GitHub's error body: `message`, `documentation_url` and (since 2023) `status` as a string."""
    return {"message": message, "documentation_url": documentation_url, "status": str(status)}
