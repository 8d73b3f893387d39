"""The REST API under `/api/v3/` (GitHub Enterprise Server's layout), with GitHub's HTTP behaviour.

Every endpoint goes through one pipeline: injected faults (timeouts, 5xx), authentication, secondary and primary
rate limits, the handler, then ETag/304 and the `x-ratelimit-*` headers. References:
https://docs.github.com/en/rest/actions/workflow-runs, https://docs.github.com/en/rest/actions/workflow-jobs,
https://docs.github.com/en/rest/apps, https://docs.github.com/en/rest/using-the-rest-api/best-practices-for-using-the-rest-api
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import re
import time
from dataclasses import dataclass, replace
from urllib.parse import urlencode

from ghsim import payloads
from ghsim.auth import AuthError, Principal
from ghsim.clock import day_start, iso, parse_iso
from ghsim.server import Request, Response, Router, json_response
from ghsim.simulator import Simulator
from ghsim.world import ACCESS_LEVELS, Job, Repo, Run

DOCS = "https://docs.github.com/rest"
RATE_DOCS = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
SECONDARY_MESSAGE = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. "
    "If you reach out to GitHub Support for help, please include the request ID {request_id}."
)
NOT_INTEGRATION = "Resource not accessible by integration"
RATE_LIMITING_OFF = "Rate limiting is not enabled."  # GHES's `GET /rate_limit` with limits off (404)
# GitHub's own refusals of run actions, as GitHub words them. Re-run and re-run-failed-jobs document only 201 in
# GitHub's REST description, yet GitHub refuses them with 403 (recorded exchanges; tests/contract/test_refusals.py
# lists the sources).
NO_WRITE = "Must have admin rights to Repository."  # a user without write access re-runs, cancels or approves
ALREADY_RUNNING = "This workflow is already running"  # re-running a run that has not finished
RERUN_TOO_OLD = "Unable to re-run this workflow run because it was created over a month ago"
RETRY_TOO_OLD = "Unable to retry this workflow run because it was created over a month ago"  # rerun-failed-jobs
NO_FAILED_JOBS = "This workflow run has no failed jobs to re-run"  # this simulator's guess: GitHub's is unrecorded
CANCEL_COMPLETED = "Cannot cancel a workflow run that is completed."  # 409
NOT_AWAITING_APPROVAL = "This run is not from a fork pull request or queued by the Actions bot"  # approve, 403
# "You can re-run a workflow run ... up to 30 days after its initial run."
# https://docs.github.com/en/actions/how-tos/manage-workflow-runs/re-run-workflows-and-jobs
RERUN_WINDOW_SECONDS = 30 * 86_400
RUN_STATUSES = {"completed", "in_progress", "queued", "requested", "waiting", "pending"}
RUN_CONCLUSIONS = {"action_required", "cancelled", "failure", "neutral", "skipped", "stale", "success", "timed_out"}
FILTERED_LIMIT = 1000  # GitHub returns at most 1,000 runs for a filtered listing
REPO_PATH = re.compile(r"^(?P<api>.*?)/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)(?P<tail>/.*)?$")
EXPOSED = (
    "ETag, Link, Location, Retry-After, X-GitHub-OTP, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Used, "
    "X-RateLimit-Resource, X-RateLimit-Reset, X-OAuth-Scopes, X-Accepted-OAuth-Scopes, X-Poll-Interval, "
    "X-GitHub-Media-Type, X-GitHub-SSO, X-GitHub-Request-Id, Deprecation, Sunset"
)


class ApiError(Exception):
    """An error response in GitHub's shape."""

    def __init__(self, status: int, message: str, *, docs: str = DOCS, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.docs = docs
        self.headers = headers or {}

    def response(self) -> Response:
        return json_response(payloads.error(self.message, self.docs, self.status), self.status, self.headers)


def not_found() -> ApiError:
    return ApiError(404, "Not Found")


@dataclass(frozen=True)
class FaultPlan:
    """The faults drawn for one request."""

    sleep: float
    error: int | None
    secondary: bool


def api(*kinds: str, counted: bool = True):
    """Make a function `(sim, request, principal) -> Response` an endpoint callable by these kinds of caller."""

    def wrap(handler):
        def endpoint(sim: Simulator, request: Request) -> Response:
            return serve(sim, request, handler, kinds=kinds, counted=counted)

        endpoint.__doc__ = handler.__doc__
        return endpoint

    return wrap


def serve(sim: Simulator, request: Request, handler, *, kinds: tuple[str, ...], counted: bool) -> Response:
    """Run one API request through faults, auth, rate limits, the handler and conditional-request handling."""
    plan = _draw_faults(sim)
    if plan.sleep:
        time.sleep(plan.sleep)  # real time: the client's own timeout must fire
    with sim.lock:
        request_id = f"{sim.api_rng.getrandbits(32):08X}:{sim.api_rng.getrandbits(32):08X}"
        try:
            principal = sim.auth.authenticate(request.header("authorization"))
        except AuthError as exc:
            response = ApiError(exc.status, exc.message).response()
            sim.counters.add(identity="invalid", route=request.route, status=response.status)
            return _finish(response, request_id, None)
        limited = sim.config.rate_limiting  # off: GitHub Enterprise Server with rate limiting disabled
        bucket = sim.auth.bucket(principal, limit=sim.faults.rate_limit)
        charge = counted and limited
        try:
            if plan.error:
                charge = False
                raise ApiError(plan.error, "Server Error")
            _check_caller(sim, principal, kinds)
            if plan.secondary and limited:
                charge = False
                retry = {"Retry-After": str(sim.faults.secondary_retry_after)}
                raise ApiError(403, SECONDARY_MESSAGE.format(request_id=request_id), docs=RATE_DOCS, headers=retry)
            if charge and (sim.faults.rate_limit_exhausted or bucket.used >= bucket.limit):
                charge = False
                raise _primary_limit(sim, principal)
            response = handler(sim, request, principal)
        except ApiError as exc:
            response = exc.response()
        response = _conditional(request, principal, response)
        if charge and response.status != 304:
            bucket.used += 1
        if limited:
            remaining = 0 if sim.faults.rate_limit_exhausted else max(bucket.limit - bucket.used, 0)
            response.headers.update(
                {
                    "X-RateLimit-Limit": str(bucket.limit),
                    "X-RateLimit-Remaining": str(remaining),
                    "X-RateLimit-Used": str(bucket.limit - remaining),
                    "X-RateLimit-Reset": str(int(bucket.reset)),
                    "X-RateLimit-Resource": "core",
                }
            )
        sim.counters.add(identity=principal.label, route=request.route, status=response.status)
        return _finish(response, request_id, principal)


def _draw_faults(sim: Simulator) -> FaultPlan:
    with sim.lock:
        faults, rng = sim.faults, sim.api_rng
        sleep = (
            faults.api_timeout_seconds if faults.api_timeout_rate and rng.random() < faults.api_timeout_rate else 0.0
        )
        error = faults.api_error_status if faults.api_error_rate and rng.random() < faults.api_error_rate else None
        secondary = bool(faults.secondary_rate_limit_rate) and rng.random() < faults.secondary_rate_limit_rate
        return FaultPlan(sleep, error, secondary)


def _check_caller(sim: Simulator, principal: Principal, kinds: tuple[str, ...]) -> None:
    if principal.kind not in kinds:
        if principal.kind == "anonymous":
            raise ApiError(401, "Requires authentication")
        if kinds == ("app",):
            raise ApiError(401, "A JSON web token could not be decoded")
        raise ApiError(403, NOT_INTEGRATION)
    if principal.kind == "installation":
        inst = sim.world.installations[principal.installation_id]
        if inst.deleted:
            raise ApiError(401, "Bad credentials")
        if inst.suspended_at is not None:
            raise ApiError(403, "This installation has been suspended")


def _primary_limit(sim: Simulator, principal: Principal) -> ApiError:
    if principal.kind == "user":
        who = f"user ID {sim.world.users[principal.login].id}"
    elif principal.kind == "installation":
        who = f"installation ID {principal.installation_id}"
    else:
        who = "this client"
    message = f"API rate limit exceeded for {who}."
    return ApiError(sim.faults.rate_limit_status, message, docs=RATE_DOCS)


def _conditional(request: Request, principal: Principal, response: Response) -> Response:
    """Tag GET 200s with an ETag; answer a matching `If-None-Match` with 304 and no body."""
    if request.method not in ("GET", "HEAD") or response.status != 200:
        return response
    digest = hashlib.sha256(response.body + principal.label.encode()).hexdigest()[:32]
    etag = f'W/"{digest}"'
    response.headers["ETag"] = etag
    wanted = request.header("if-none-match")
    if wanted and (wanted.strip() == "*" or _opaque(etag) in {_opaque(tag) for tag in wanted.split(",")}):
        return Response(304, b"", {"ETag": etag})
    return response


def _opaque(tag: str) -> str:
    tag = tag.strip()
    return tag[2:] if tag.startswith("W/") else tag


def _finish(response: Response, request_id: str, principal: Principal | None) -> Response:
    response.headers.update(
        {
            "X-GitHub-Media-Type": "github.v3; format=json",
            "X-GitHub-Api-Version-Selected": "2022-11-28",
            "X-GitHub-Request-Id": request_id,
            "Access-Control-Expose-Headers": EXPOSED,
            "Access-Control-Allow-Origin": "*",
            "Vary": "Accept, Authorization, Cookie, X-GitHub-OTP",
        }
    )
    if response.status in (200, 304) and principal is not None:
        response.headers["Cache-Control"] = "private, max-age=60, s-maxage=60"
    return response


# Helpers shared by the endpoints


def paginate(sim: Simulator, request: Request, items: list) -> tuple[list, dict[str, str]]:
    """One page of `items` (per_page ≤ 100, default 30) and its `Link` header, with absolute URLs."""
    per_page = min(max(_int(request.arg("per_page"), 30), 1), 100)
    page = max(_int(request.arg("page"), 1), 1)
    last = max(math.ceil(len(items) / per_page), 1)
    chunk = items[(page - 1) * per_page : page * per_page]
    rels = []
    if page > 1:
        rels.append(("prev", min(page - 1, last)))
    if page < last:
        rels += [("next", page + 1), ("last", last)]
    if page > 1:
        rels.append(("first", 1))
    headers = {"Link": ", ".join(f'<{_page_url(sim, request, number)}>; rel="{rel}"' for rel, number in rels)}
    return chunk, headers if rels else {}


def _page_url(sim: Simulator, request: Request, page: int) -> str:
    query = [(key, value) for key, values in request.query.items() if key != "page" for value in values]
    query.append(("page", str(page)))
    return f"{sim.links.web}{_by_id(sim, request.path)}?{urlencode(query)}"


def _by_id(sim: Simulator, path: str) -> str:
    """A repository's resource as GitHub's Link URLs name it: `/repositories/{id}/...`, not `/repos/{owner}/{repo}`.

    GitHub answers both forms alike (see `register`); its page links always use the id form (a recorded exchange:
    octokit/fixtures `scenarios/api.github.com/paginate-issues`).
    """
    match = REPO_PATH.match(path)
    repo = sim.world.repo_named(match["owner"], match["repo"]) if match else None
    return f"{match['api']}/repositories/{repo.id}{match['tail'] or ''}" if repo else path


def _int(text: str | None, default: int) -> int:
    try:
        return int(text) if text is not None else default
    except ValueError:
        return default


def visible(sim: Simulator, principal: Principal, repo: Repo) -> bool:
    """Whether the caller may see the repository (a user token sees user access ∩ the app's installations)."""
    if principal.kind == "user":
        return repo.id in sim.world.visible_repo_ids(principal.login)
    if principal.kind == "installation":
        inst = sim.world.installations[principal.installation_id]
        in_scope = principal.repo_ids is None or repo.id in principal.repo_ids
        return inst.active and repo.id in inst.repo_ids and in_scope
    if principal.kind == "anonymous":
        return not repo.private
    return False


def repo_in_path(sim: Simulator, request: Request) -> Repo | None:
    """The repository a path names, as `/repos/{owner}/{repo}/...` or as `/repositories/{repository_id}/...`."""
    if "repository_id" in request.params:
        return sim.world.repos.get(_int(request.params["repository_id"], 0))
    return sim.world.repo_named(request.params["owner"], request.params["repo"])


def repo_for(sim: Simulator, request: Request, principal: Principal) -> Repo:
    """The path's repository, or GitHub's 404 if the caller may not see it."""
    repo = repo_in_path(sim, request)
    if repo is None or not visible(sim, principal, repo):
        raise not_found()
    return repo


def run_for(sim: Simulator, request: Request, principal: Principal) -> tuple[Repo, Run]:
    repo = repo_for(sim, request, principal)
    run = sim.world.runs.get(_int(request.params["run_id"], 0))
    if run is None or run.repo_id != repo.id:
        raise not_found()
    return repo, run


def _flag(request: Request, name: str) -> bool:
    return (request.arg(name) or "").lower() == "true"


# Users and installations


@api("user")
def get_user(sim: Simulator, request: Request, principal: Principal) -> Response:
    """GET /user."""
    account = sim.world.users[principal.login]
    private = sum(1 for repo_id in sim.world.visible_repo_ids(account.login) if sim.world.repos[repo_id].private)
    return json_response(payloads.authenticated_user(account, sim.links, private_repos=private))


@api("user")
def get_user_emails(sim: Simulator, request: Request, principal: Principal) -> Response:
    """GET /user/emails."""
    page, headers = paginate(sim, request, payloads.user_emails(sim.world.users[principal.login]))
    return json_response(page, headers=headers)


@api("user")
def list_user_installations(sim: Simulator, request: Request, principal: Principal) -> Response:
    """GET /user/installations: installations where the user sees at least one repository."""
    installations = sim.world.user_installations(principal.login)
    page, headers = paginate(sim, request, installations)
    app = sim.app_json()
    body = {
        "total_count": len(installations),
        "installations": [payloads.installation_rest(inst, sim.links, app, sim.world) for inst in page],
    }
    return json_response(body, headers=headers)


@api("user")
def list_user_installation_repos(sim: Simulator, request: Request, principal: Principal) -> Response:
    """GET /user/installations/{installation_id}/repositories: the user's share of one installation."""
    inst = sim.world.installations.get(_int(request.params["installation_id"], 0))
    if inst is None or inst not in sim.world.user_installations(principal.login):
        raise not_found()
    visible_ids = sim.world.visible_repo_ids(principal.login) & inst.repo_ids
    repos = [sim.world.repos[repo_id] for repo_id in sorted(visible_ids)]
    return _repo_list(sim, request, repos, inst.repository_selection, principal.login)


@api("installation")
def list_installation_repos(sim: Simulator, request: Request, principal: Principal) -> Response:
    """GET /installation/repositories: what an installation token can reach."""
    inst = sim.world.installations[principal.installation_id]
    repos = [
        sim.world.repos[repo_id]
        for repo_id in sorted(inst.repo_ids)
        if visible(sim, principal, sim.world.repos[repo_id])
    ]
    return _repo_list(sim, request, repos, inst.repository_selection, None)


def _repo_list(sim: Simulator, request: Request, repos: list[Repo], selection: str, login: str | None) -> Response:
    page, headers = paginate(sim, request, repos)
    body = {
        "total_count": len(repos),
        "repository_selection": selection,
        "repositories": [
            payloads.repository_rest(repo, sim.links, permission=repo.access.get(login) if login else None)
            for repo in page
        ],
    }
    return json_response(body, headers=headers)


@api("user", "installation", "anonymous")
def get_repo(sim: Simulator, request: Request, principal: Principal) -> Response:
    """GET /repos/{owner}/{repo}."""
    repo = repo_for(sim, request, principal)
    permission = repo.access.get(principal.login or "") if principal.kind == "user" else None
    return json_response(payloads.repository_rest(repo, sim.links, permission=permission))


# Workflows and runs


def _workflow_for(sim: Simulator, repo: Repo, wanted: str):
    for workflow in repo.workflows:
        if wanted in (str(workflow.id), workflow.spec.file):
            return workflow
    raise not_found()


@api("user", "installation", "anonymous")
def list_workflows(sim: Simulator, request: Request, principal: Principal) -> Response:
    """GET /repos/{owner}/{repo}/actions/workflows."""
    repo = repo_for(sim, request, principal)
    page, headers = paginate(sim, request, repo.workflows)
    body = {
        "total_count": len(repo.workflows),
        "workflows": [payloads.workflow(workflow, repo, sim.links) for workflow in page],
    }
    return json_response(body, headers=headers)


@api("user", "installation", "anonymous")
def get_workflow(sim: Simulator, request: Request, principal: Principal) -> Response:
    """GET /repos/{owner}/{repo}/actions/workflows/{workflow_id} (id or file name)."""
    repo = repo_for(sim, request, principal)
    return json_response(payloads.workflow(_workflow_for(sim, repo, request.params["workflow_id"]), repo, sim.links))


@api("user", "installation", "anonymous")
def list_runs(sim: Simulator, request: Request, principal: Principal) -> Response:
    """GET /repos/{owner}/{repo}/actions/runs (and …/workflows/{workflow_id}/runs), newest first, filtered."""
    repo = repo_for(sim, request, principal)
    runs = [run for run in sim.world.runs.values() if run.repo_id == repo.id]
    if "workflow_id" in request.params:
        workflow = _workflow_for(sim, repo, request.params["workflow_id"])
        runs = [run for run in runs if run.workflow_id == workflow.id]
    runs = filter_runs(sim, runs, request)
    runs.sort(key=lambda run: run.id, reverse=True)
    filters = ("actor", "branch", "check_suite_id", "created", "event", "head_sha", "status")
    if any(request.arg(name) for name in filters):
        runs = runs[:FILTERED_LIMIT]
    page, headers = paginate(sim, request, runs)
    exclude = _flag(request, "exclude_pull_requests")
    body = {
        "total_count": len(runs),
        "workflow_runs": [
            payloads.workflow_run(run, sim.world, sim.links, rest=True, exclude_pull_requests=exclude) for run in page
        ],
    }
    return json_response(body, headers=headers)


def filter_runs(sim: Simulator, runs: list[Run], request: Request) -> list[Run]:
    """Apply GitHub's run filters: branch, status (or conclusion), event, actor, created, head_sha, check_suite_id."""
    branch, status, event = request.arg("branch"), request.arg("status"), request.arg("event")
    actor, head_sha, suite = request.arg("actor"), request.arg("head_sha"), request.arg("check_suite_id")
    created = request.arg("created")
    if status and status not in RUN_STATUSES | RUN_CONCLUSIONS:
        raise ApiError(422, "Validation Failed")
    window = created_window(created) if created else None
    result = []
    for run in runs:
        if branch and run.head_branch != branch or event and run.event != event:
            continue
        if actor and run.actor.lower() != actor.lower() or head_sha and run.head_sha != head_sha:
            continue
        if suite and str(run.check_suite_id) != suite:
            continue
        if status and (run.status if status in RUN_STATUSES else run.conclusion) != status:
            continue
        if window and not window[0] <= run.created_at < window[1]:
            continue
        result.append(run)
    return result


def created_window(text: str) -> tuple[float, float]:
    """GitHub's date-range search syntax as a half-open [start, end) in epoch seconds.

    Accepts `D`, `>=D`, `>D`, `<=D`, `<D`, `A..B`, `A..*`, `*..B`, where each bound is a date (a whole day) or a
    date-time. See https://docs.github.com/en/search-github/getting-started-with-searching-on-github/understanding-the-search-syntax#query-for-dates
    """
    text = text.strip()
    try:
        if ".." in text:
            low, high = text.split("..", 1)
            start = -math.inf if low == "*" else _bound(low)[0]
            end = math.inf if high == "*" else _bound(high)[1]
            return start, end
        for prefix, pick in ((">=", lambda b: (b[0], math.inf)), ("<=", lambda b: (-math.inf, b[1]))):
            if text.startswith(prefix):
                return pick(_bound(text[2:]))
        if text.startswith(">"):
            return _bound(text[1:])[1], math.inf
        if text.startswith("<"):
            return -math.inf, _bound(text[1:])[0]
        return _bound(text)
    except ValueError as exc:
        raise ApiError(422, "Validation Failed") from exc


def _bound(text: str) -> tuple[float, float]:
    """A date covers its whole UTC day; a date-time covers its second."""
    if len(text) == 10:
        start = day_start(text)
        return start, start + 86_400
    start = parse_iso(text)
    return start, start + 1


@api("user", "installation", "anonymous")
def get_run(sim: Simulator, request: Request, principal: Principal) -> Response:
    """GET /repos/{owner}/{repo}/actions/runs/{run_id}."""
    _, run = run_for(sim, request, principal)
    exclude = _flag(request, "exclude_pull_requests")
    return json_response(payloads.workflow_run(run, sim.world, sim.links, rest=True, exclude_pull_requests=exclude))


@api("user", "installation", "anonymous")
def get_run_attempt(sim: Simulator, request: Request, principal: Principal) -> Response:
    """GET /repos/{owner}/{repo}/actions/runs/{run_id}/attempts/{attempt_number}."""
    _, run = run_for(sim, request, principal)
    number = _int(request.params["attempt"], 0)
    if not 1 <= number <= run.attempt:
        raise not_found()
    if number < run.attempt:
        past = run.attempts[number - 1]
        run = replace(
            run,
            attempt=number,
            status=past.status,
            conclusion=past.conclusion,
            run_started_at=past.run_started_at,
            updated_at=past.updated_at,
            triggering_actor=past.triggering_actor,
        )
    return json_response(payloads.workflow_run(run, sim.world, sim.links, rest=True))


def _job_list(sim: Simulator, request: Request, jobs: list[Job]) -> Response:
    jobs = sorted(jobs, key=lambda job: job.id)
    page, headers = paginate(sim, request, jobs)
    now = sim.clock.now()
    body = {
        "total_count": len(jobs),
        "jobs": [payloads.workflow_job(job, sim.world, sim.links, now, rest=True) for job in page],
    }
    return json_response(body, headers=headers)


@api("user", "installation", "anonymous")
def list_jobs(sim: Simulator, request: Request, principal: Principal) -> Response:
    """GET /repos/{owner}/{repo}/actions/runs/{run_id}/jobs (`filter=latest|all`)."""
    _, run = run_for(sim, request, principal)
    which = request.arg("filter", "latest")
    if which not in ("latest", "all"):
        raise ApiError(422, "Validation Failed")
    return _job_list(sim, request, run.jobs if which == "all" else run.jobs_of(run.attempt))


@api("user", "installation", "anonymous")
def list_attempt_jobs(sim: Simulator, request: Request, principal: Principal) -> Response:
    """GET /repos/{owner}/{repo}/actions/runs/{run_id}/attempts/{attempt_number}/jobs."""
    _, run = run_for(sim, request, principal)
    number = _int(request.params["attempt"], 0)
    if not 1 <= number <= run.attempt:
        raise not_found()
    return _job_list(sim, request, run.jobs_of(number))


@api("user", "installation", "anonymous")
def get_job(sim: Simulator, request: Request, principal: Principal) -> Response:
    """GET /repos/{owner}/{repo}/actions/jobs/{job_id}."""
    repo = repo_for(sim, request, principal)
    job = sim.world.jobs.get(_int(request.params["job_id"], 0))
    if job is None or sim.world.runs[job.run_id].repo_id != repo.id:
        raise not_found()
    return json_response(payloads.workflow_job(job, sim.world, sim.links, sim.clock.now(), rest=True))


def require_write(sim: Simulator, principal: Principal, repo: Repo) -> None:
    """Run actions need `actions: write` for the app and write access for the user."""
    inst = sim.world.installation_of(repo)
    if inst is None or inst.permissions.get("actions") != "write":
        raise ApiError(403, NOT_INTEGRATION)
    if principal.kind == "user" and ACCESS_LEVELS.get(repo.access.get(principal.login or "", ""), 0) < 2:
        raise ApiError(403, NO_WRITE)


def _actor(sim: Simulator, principal: Principal, run: Run) -> str:
    # An installation token re-runs as the app's bot on GitHub; the simulator credits the run's actor instead.
    return principal.login if principal.kind == "user" else run.actor


def _rerunnable(sim: Simulator, run: Run, *, too_old: str) -> None:
    """GitHub re-runs a run only within 30 days of its creation, and only once it has finished."""
    if sim.clock.now() - run.created_at > RERUN_WINDOW_SECONDS:
        raise ApiError(403, too_old)
    if run.status != "completed":
        raise ApiError(403, ALREADY_RUNNING)


@api("user", "installation")
def rerun(sim: Simulator, request: Request, principal: Principal) -> Response:
    """POST /repos/{owner}/{repo}/actions/runs/{run_id}/rerun."""
    repo, run = run_for(sim, request, principal)
    require_write(sim, principal, repo)
    _rerunnable(sim, run, too_old=RERUN_TOO_OLD)
    sim.engine.rerun(run, actor=_actor(sim, principal, run), failed_only=False)
    return json_response({}, 201)


@api("user", "installation")
def rerun_failed(sim: Simulator, request: Request, principal: Principal) -> Response:
    """POST /repos/{owner}/{repo}/actions/runs/{run_id}/rerun-failed-jobs."""
    repo, run = run_for(sim, request, principal)
    require_write(sim, principal, repo)
    _rerunnable(sim, run, too_old=RETRY_TOO_OLD)
    if not any(job.conclusion in ("failure", "cancelled") for job in run.jobs_of(run.attempt)):
        raise ApiError(403, NO_FAILED_JOBS)
    sim.engine.rerun(run, actor=_actor(sim, principal, run), failed_only=True)
    return json_response({}, 201)


@api("user", "installation")
def cancel(sim: Simulator, request: Request, principal: Principal) -> Response:
    """POST /repos/{owner}/{repo}/actions/runs/{run_id}/cancel (409 once completed)."""
    repo, run = run_for(sim, request, principal)
    require_write(sim, principal, repo)
    if run.status == "completed":
        raise ApiError(409, CANCEL_COMPLETED)
    sim.engine.cancel(run)
    return json_response({}, 202)


@api("user", "installation")
def approve(sim: Simulator, request: Request, principal: Principal) -> Response:
    """POST /repos/{owner}/{repo}/actions/runs/{run_id}/approve.

    GitHub approves only a run held for approval that a fork's pull request (or the Actions bot) started. The
    simulator starts no such run, so it refuses every one, as GitHub refuses a run that needs no approval.
    """
    repo, _ = run_for(sim, request, principal)
    require_write(sim, principal, repo)
    raise ApiError(403, NOT_AWAITING_APPROVAL)


@api("user", "installation", "app", "anonymous", counted=False)
def rate_limit(sim: Simulator, request: Request, principal: Principal) -> Response:
    """GET /rate_limit (does not count against the primary limit; 404 when rate limiting is off, as on GHES)."""
    if not sim.config.rate_limiting:
        raise ApiError(404, RATE_LIMITING_OFF)
    bucket = sim.auth.bucket(principal, limit=sim.faults.rate_limit)
    remaining = 0 if sim.faults.rate_limit_exhausted else max(bucket.limit - bucket.used, 0)
    core = {"limit": bucket.limit, "used": bucket.limit - remaining, "remaining": remaining, "reset": int(bucket.reset)}
    body = payloads.example("rest/rate-limit/get.200.json")
    reset = int(sim.clock.now()) + 3600
    for name, resource in body["resources"].items():
        resource.update(used=0, remaining=resource["limit"], reset=reset)
        if name == "core":
            resource.update(core)
    body["rate"] = dict(core)
    return json_response(body)


# The app itself (JWT)


@api("app")
def get_app(sim: Simulator, request: Request, principal: Principal) -> Response:
    """GET /app."""
    return json_response(sim.app_json())


@api("app")
def list_app_installations(sim: Simulator, request: Request, principal: Principal) -> Response:
    """GET /app/installations."""
    installations = [inst for inst in sim.world.installations.values() if not inst.deleted]
    page, headers = paginate(sim, request, installations)
    app = sim.app_json()
    return json_response(
        [payloads.installation_rest(inst, sim.links, app, sim.world) for inst in page], headers=headers
    )


def _installation_for(sim: Simulator, request: Request):
    inst = sim.world.installations.get(_int(request.params["installation_id"], 0))
    if inst is None or inst.deleted:
        raise not_found()
    return inst


@api("app")
def get_app_installation(sim: Simulator, request: Request, principal: Principal) -> Response:
    """GET /app/installations/{installation_id}."""
    inst = _installation_for(sim, request)
    return json_response(payloads.installation_rest(inst, sim.links, sim.app_json(), sim.world))


@api("app")
def get_repo_installation(sim: Simulator, request: Request, principal: Principal) -> Response:
    """GET /repos/{owner}/{repo}/installation."""
    repo = repo_in_path(sim, request)
    inst = sim.world.installation_of(repo) if repo else None
    if inst is None:
        raise not_found()
    return json_response(payloads.installation_rest(inst, sim.links, sim.app_json(), sim.world))


@api("app")
def create_installation_token(sim: Simulator, request: Request, principal: Principal) -> Response:
    """POST /app/installations/{installation_id}/access_tokens (optionally narrowed to some repositories)."""
    inst = _installation_for(sim, request)
    if inst.suspended_at is not None:
        raise ApiError(403, "This installation has been suspended")
    try:
        body = request.json()
    except ValueError as exc:
        raise ApiError(400, "Problems parsing JSON") from exc
    repo_ids = _narrowed(sim, inst, body)
    token = sim.auth.issue_installation_token(inst.id, ttl=sim.faults.installation_token_ttl, repo_ids=repo_ids)
    repos = [sim.world.repos[repo_id] for repo_id in sorted(repo_ids if repo_ids is not None else inst.repo_ids)]
    permission = "write" if inst.permissions.get("actions") == "write" else "read"
    result = {
        "token": token.value,
        "expires_at": iso(token.expires_at),
        "permissions": dict(inst.permissions),
        "repository_selection": "selected" if repo_ids is not None else inst.repository_selection,
        "repositories": [payloads.repository_rest(repo, sim.links, permission=permission) for repo in repos],
    }
    return json_response(result, 201)


def _narrowed(sim: Simulator, inst, body: dict) -> frozenset[int] | None:
    ids = set(body.get("repository_ids") or [])
    for name in body.get("repositories") or []:
        repo = sim.world.repo_named(inst.account.login, name)
        if repo is None:
            raise ApiError(
                422,
                "There is at least one repository that does not exist or is not accessible to the parent installation.",
            )
        ids.add(repo.id)
    if not ids:
        return None
    if not ids <= inst.repo_ids:
        raise ApiError(
            422, "There is at least one repository that does not exist or is not accessible to the parent installation."
        )
    return frozenset(ids)


# The app's webhook deliveries (JWT)


def delivery_outcome(status_code: int) -> str | None:
    """`success` or `failure`, as GitHub's `status` filter of the deliveries list classes an attempt's `status_code`.

    GitHub's description: success is 200-399, failure 400-599. An attempt that got no answer (failed to connect,
    timed out) has no status code here (0); the description's own example records "failed to connect" as 502.
    """
    if 200 <= status_code <= 399:
        return "success"
    if 400 <= status_code <= 599 or status_code == 0:
        return "failure"
    return None


@api("app")
def list_deliveries(sim: Simulator, request: Request, principal: Principal) -> Response:
    """GET /app/hook/deliveries: newest first, cursor pagination (`per_page`, `cursor`), `status=success|failure`."""
    per_page = min(max(_int(request.arg("per_page"), 30), 1), 100)
    items = sorted(sim.dispatcher.log, key=lambda item: item.id, reverse=True)
    wanted = request.arg("status")
    if wanted is not None:
        if wanted not in ("success", "failure"):
            raise ApiError(422, "Validation Failed")
        items = [item for item in items if delivery_outcome(item.status_code) == wanted]
    cursor = request.arg("cursor")
    if cursor:
        start = _decode_cursor(cursor)
        items = [item for item in items if item.id <= start]
    page = items[:per_page]
    headers = {}
    if len(items) > per_page:
        query = [(key, values[0]) for key, values in request.query.items() if key != "cursor"]
        query.append(("cursor", _encode_cursor(items[per_page].id)))
        headers["Link"] = f'<{sim.links.web}{request.path}?{urlencode(query)}>; rel="next"'
    return json_response([item.summary() for item in page], headers=headers)


def _encode_cursor(delivery_id: int) -> str:
    return base64.urlsafe_b64encode(f"v1:{delivery_id}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        return int(text.removeprefix("v1:"))
    except ValueError as exc:
        raise ApiError(422, "Validation Failed") from exc


def _delivery_for(sim: Simulator, request: Request):
    delivery_id = _int(request.params["delivery_id"], 0)
    delivery = next((item for item in sim.dispatcher.log if item.id == delivery_id), None)
    if delivery is None:
        raise not_found()
    return delivery


@api("app")
def get_delivery(sim: Simulator, request: Request, principal: Principal) -> Response:
    """GET /app/hook/deliveries/{delivery_id}."""
    return json_response(_delivery_for(sim, request).detail())


@api("app")
def redeliver(sim: Simulator, request: Request, principal: Principal) -> Response:
    """POST /app/hook/deliveries/{delivery_id}/attempts (202; sent on the next advance or delivery tick)."""
    sim.dispatcher.redeliver(_delivery_for(sim, request).id)
    return json_response({}, 202)


# OAuth grant and token revocation (client credentials in Basic auth)


def _revoke(sim: Simulator, request: Request, *, whole_grant: bool) -> Response:
    """DELETE /applications/{client_id}/grant or /token."""
    with sim.lock:
        response = _revoke_locked(sim, request, whole_grant=whole_grant)
        sim.counters.add(identity="oauth-app", route=request.route, status=response.status)
    return _finish(response, "0000:0000", None)


def _revoke_locked(sim: Simulator, request: Request, *, whole_grant: bool) -> Response:
    creds = sim.credentials
    scheme, _, encoded = (request.header("authorization") or "").partition(" ")
    try:
        client_id, _, secret = base64.b64decode(encoded).decode().partition(":")
    except ValueError:
        client_id, secret = "", ""
    if (
        scheme.lower() != "basic"
        or client_id != creds.client_id
        or not hmac.compare_digest(secret, creds.client_secret)
    ):
        return ApiError(401, "Requires authentication").response()
    if request.params["client_id"] != creds.client_id:
        return not_found().response()
    try:
        value = request.json().get("access_token", "")
    except ValueError:
        return ApiError(400, "Problems parsing JSON").response()
    token = sim.auth.tokens.get(value)
    if token is None or token.kind != "user":
        return not_found().response()
    if whole_grant:
        # The app ends the grant itself, so it needs no webhook; a user revoking (POST /_sim/revoke) sends one.
        sim.auth.revoke_user(token.login)
    else:
        sim.auth.revoke_token(value)
    return Response(204, b"", {})


def revoke_grant(sim: Simulator, request: Request) -> Response:
    """DELETE /applications/{client_id}/grant: every token of the user's authorization."""
    return _revoke(sim, request, whole_grant=True)


def revoke_token(sim: Simulator, request: Request) -> Response:
    """DELETE /applications/{client_id}/token: one token."""
    return _revoke(sim, request, whole_grant=False)


def register(router: Router) -> None:
    """Add the REST routes.

    Every repository resource answers under `/repos/{owner}/{repo}` and, as on GitHub, under
    `/repositories/{repository_id}` too: the form GitHub's page links use.
    """
    for repo in ("/api/v3/repos/{owner}/{repo}", "/api/v3/repositories/{repository_id}"):
        run = f"{repo}/actions/runs/{{run_id}}"
        for method, path, handler in (
            ("GET", repo, get_repo),
            ("GET", f"{repo}/installation", get_repo_installation),
            ("GET", f"{repo}/actions/workflows", list_workflows),
            ("GET", f"{repo}/actions/workflows/{{workflow_id}}", get_workflow),
            ("GET", f"{repo}/actions/workflows/{{workflow_id}}/runs", list_runs),
            ("GET", f"{repo}/actions/runs", list_runs),
            ("GET", run, get_run),
            ("GET", f"{run}/attempts/{{attempt}}", get_run_attempt),
            ("GET", f"{run}/jobs", list_jobs),
            ("GET", f"{run}/attempts/{{attempt}}/jobs", list_attempt_jobs),
            ("GET", f"{repo}/actions/jobs/{{job_id}}", get_job),
            ("POST", f"{run}/rerun", rerun),
            ("POST", f"{run}/rerun-failed-jobs", rerun_failed),
            ("POST", f"{run}/cancel", cancel),
            ("POST", f"{run}/approve", approve),
        ):
            router.add(method, path, handler)
    for method, path, handler in (
        ("GET", "/api/v3/user", get_user),
        ("GET", "/api/v3/user/emails", get_user_emails),
        ("GET", "/api/v3/user/installations", list_user_installations),
        ("GET", "/api/v3/user/installations/{installation_id}/repositories", list_user_installation_repos),
        ("GET", "/api/v3/installation/repositories", list_installation_repos),
        ("GET", "/api/v3/rate_limit", rate_limit),
        ("GET", "/api/v3/app", get_app),
        ("GET", "/api/v3/app/installations", list_app_installations),
        ("GET", "/api/v3/app/installations/{installation_id}", get_app_installation),
        ("POST", "/api/v3/app/installations/{installation_id}/access_tokens", create_installation_token),
        ("GET", "/api/v3/app/hook/deliveries", list_deliveries),
        ("GET", "/api/v3/app/hook/deliveries/{delivery_id}", get_delivery),
        ("POST", "/api/v3/app/hook/deliveries/{delivery_id}/attempts", redeliver),
        ("DELETE", "/api/v3/applications/{client_id}/grant", revoke_grant),
        ("DELETE", "/api/v3/applications/{client_id}/token", revoke_token),
    ):
        router.add(method, path, handler)
