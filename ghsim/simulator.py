"""The simulator: one lock around the world, the activity engine, credentials and the webhook dispatcher.

This is the Python API; the HTTP control API under `/_sim/` (ghsim/control.py) calls the same methods.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter, defaultdict
from dataclasses import replace
from pathlib import Path

from ghsim import payloads, persist
from ghsim.activity import Engine
from ghsim.auth import AppCredentials, Auth
from ghsim.clock import SimClock, iso
from ghsim.config import Config
from ghsim.faults import Faults
from ghsim.hooks import Delivery, Dispatcher, Hook
from ghsim.payloads import Links
from ghsim.world import Installation, Job, Repo, Run, Workflow, build_cast

TICK = 0.25  # real seconds between clock steps in demo mode
SAVE_EVERY = 2.0  # real seconds between saves of the state file in demo mode (and once more on stop)


class SimError(Exception):
    """A control request that names something that does not exist or cannot be done."""

    def __init__(self, message: str, status: int = 404) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class RequestCounters:
    """API requests seen, per caller, per status and per route (for benchmarks that count GitHub calls)."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.by_identity: dict[str, Counter] = defaultdict(Counter)
        self.by_route: dict[str, Counter] = defaultdict(Counter)
        self.by_status: Counter = Counter()

    def add(self, *, identity: str, route: str, status: int) -> None:
        self.by_identity[identity][str(status)] += 1
        self.by_route[route][str(status)] += 1
        self.by_status[str(status)] += 1

    def as_dict(self) -> dict:
        return {
            "total": sum(self.by_status.values()),
            "by_status": dict(self.by_status),
            "by_identity": {key: dict(value) for key, value in self.by_identity.items()},
            "by_route": {key: dict(value) for key, value in self.by_route.items()},
        }


class _Webhooks:
    """The engine's emitter: state changes become webhooks."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim

    def run(self, action: str, run: Run) -> None:
        self.sim.emit_run(action, run)

    def job(self, action: str, job: Job) -> None:
        self.sim.emit_job(action, job)


class Simulator:
    """A simulated GitHub for one GitHub App: state, clock, credentials, webhooks, and the HTTP server."""

    def __init__(self, config: Config | None = None, **options) -> None:
        config = replace(config or Config(), **options)
        self.config = config
        self.lock = threading.RLock()
        root = random.Random(config.seed)
        # Separate streams drawn from the one seed, so API traffic cannot change the simulated history.
        activity_rng, hooks_rng, auth_rng, api_rng = (random.Random(root.getrandbits(64)) for _ in range(4))
        self.api_rng = api_rng
        start = float(int(time.time()) if config.start_time is None else config.start_time)
        self.clock = SimClock(start - config.history_seconds)
        self.world = build_cast(created_at=start - 30 * 86_400)
        self.faults = Faults(token_ttl=config.token_ttl)
        self.credentials = AppCredentials.create(
            app_id=config.app_id,
            client_id=config.client_id,
            client_secret=config.client_secret,
            private_key_pem=config.key_pem(),
        )
        self._jwt_now = time.time if config.jwt_uses_wall_clock else self.clock.now
        self.auth = Auth(clock=self.clock, rng=auth_rng, credentials=self.credentials, jwt_now=self._jwt_now)
        self.hook = Hook(id=config.hook_id, url=config.webhook_url, secret=config.webhook_secret)
        self.dispatcher = Dispatcher(
            clock=self.clock, rng=hooks_rng, faults=self.faults, hook=self.hook, app_id=config.app_id, lock=self.lock
        )
        self.engine = Engine(
            world=self.world, clock=self.clock, rng=activity_rng, emit=_Webhooks(self), run_interval=config.run_interval
        )
        self.counters = RequestCounters()
        self.links = Links(config.public_url or f"http://{config.host}:{config.port}")
        self.started_at = start
        self.receiver = None  # set by ghsim.testing when it starts its own webhook receiver
        self._server = None
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()
        self.life = 1  # how many times this GitHub has been started on its state file
        self.restored: persist.Restored | None = None
        saved = persist.load(config.state_path) if config.state_path else None
        if saved is None:
            self._prime_history(start)
        else:
            self.restored = persist.restore(self, saved, start=start)

    def _prime_history(self, start: float) -> None:
        """Make `history` seconds of runs before the hook exists, so nothing from then is delivered."""
        self.dispatcher.enabled = False
        self.engine.advance_to(start)
        self.dispatcher.enabled = True

    # Lifecycle

    @property
    def url(self) -> str:
        """The web root, e.g. http://127.0.0.1:8002 (the app's GITHUB_URL)."""
        return self.links.web

    @property
    def api_url(self) -> str:
        """The REST root, e.g. http://127.0.0.1:8002/api/v3."""
        return self.links.api

    @property
    def manual(self) -> bool:
        return self.config.mode == "manual"

    def start(self) -> Simulator:
        """Serve HTTP on a thread; in demo mode also drive the clock and deliveries from real time."""
        from ghsim.server import make_server

        self._server = make_server(self, self.config.host, self.config.port)
        if self.config.public_url is None:
            host, port = self._server.server_address[:2]
            self.links = Links(f"http://{host}:{port}")
        if self.config.private_key_out:
            self.write_private_key(self.config.private_key_out)
        if self.config.ping:
            with self.lock:
                self._enqueue_ping()
        self._spawn(self._serve)
        if not self.manual:
            self._spawn(self._tick_forever)
            self._spawn(self._deliver_forever)
        return self

    def _serve(self) -> None:
        self._server.serve_forever(poll_interval=0.05)

    def _spawn(self, target) -> None:
        thread = threading.Thread(target=target, daemon=True, name=f"ghsim-{target.__name__}")
        thread.start()
        self._threads.append(thread)

    def stop(self) -> None:
        """Stop serving and the background threads."""
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server.close_connections()
        for thread in self._threads:
            thread.join(timeout=5)
        self.dispatcher.close()
        self.save()

    def _tick_forever(self) -> None:
        last = saved = time.monotonic()
        while not self._stopping.wait(TICK):
            now = time.monotonic()
            with self.lock:
                self.engine.advance_to(self.clock.now() + (now - last) * self.config.speed)
            last = now
            if now - saved >= SAVE_EVERY:
                self.save()
                saved = now

    def save(self) -> None:
        """Write the state file (if there is one), so the next start continues this GitHub."""
        if self.config.state_path is None:
            return
        with self.lock:
            data = persist.snapshot(self)
        persist.write(self.config.state_path, data)

    def _deliver_forever(self) -> None:
        while not self._stopping.wait(0.1):
            self.dispatcher.flush()

    def write_private_key(self, path: Path | str) -> Path:
        """Write the app's private key PEM (mode 0600) where the app can read it to sign JWTs."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600, exist_ok=True)
        path.write_bytes(self.credentials.private_key_pem())
        return path

    # Time

    def now(self) -> float:
        """The simulated time, in epoch seconds."""
        with self.lock:
            return self.clock.now()

    def advance(self, seconds: float) -> list[Delivery]:
        """Move the clock forward, applying every change on the way; in manual mode, deliver what fell due."""
        if seconds < 0:
            raise SimError("seconds must not be negative", 400)
        with self.lock:
            self.engine.advance_to(self.clock.now() + seconds)
        return self.flush() if self.manual else []

    def flush(self) -> list[Delivery]:
        """Send every delivery due now (in manual mode control calls and advance() do this for you)."""
        return self.dispatcher.flush()

    def _settle(self) -> None:
        """After a control call: deliver its webhooks now in manual mode (demo mode has a delivery thread)."""
        if self.manual:
            self.flush()

    # Webhooks for the engine's state changes

    def emit_run(self, action: str, run: Run) -> None:
        """Queue a `workflow_run` webhook if the app is installed (and active) on the run's repository."""
        repo = self.world.repos[run.repo_id]
        if self._delivering_for(repo):
            payload = payloads.run_event(action, run, self.world, self.links)
            self._enqueue("workflow_run", payload, repo)

    def emit_job(self, action: str, job: Job) -> None:
        """Queue a `workflow_job` webhook if the app is installed (and active) on the job's repository."""
        repo = self.world.repos[self.world.runs[job.run_id].repo_id]
        if self._delivering_for(repo):
            payload = payloads.job_event(action, job, self.world, self.links, self.clock.now())
            self._enqueue("workflow_job", payload, repo)

    def _delivering_for(self, repo: Repo) -> bool:
        return self.dispatcher.enabled and self.world.active_installation_of(repo) is not None

    def _enqueue(self, event: str, payload: dict, repo: Repo | None, installation: Installation | None = None) -> None:
        inst = installation or (self.world.installation_of(repo) if repo else None)
        self.dispatcher.enqueue(
            event, payload, installation_id=inst.id if inst else None, repository_id=repo.id if repo else None
        )

    def _enqueue_ping(self) -> None:
        payload = payloads.ping_event(self.hook.id, self.config.app_id, self.hook.url, self.links, self.clock.now())
        self._enqueue("ping", payload, None)

    def app_json(self) -> dict:
        """`GET /app`."""
        owner = self.world.orgs["acme"]
        return payloads.app(
            self.config.app_id, self.config.app_slug, self.config.client_id, owner, self.links, self.started_at - 86_400
        )

    # Faults

    def set_faults(self, **changes) -> dict:
        """Change fault knobs (see ghsim.faults.Faults); the knobs after the change."""
        with self.lock:
            self.faults.update(changes, now=self.clock.now())
            return self.faults.as_dict()

    def fault_settings(self) -> dict:
        """The current fault knobs."""
        with self.lock:
            return self.faults.as_dict()

    # Activity control

    def trigger(
        self,
        repo: str,
        workflow: str | None = None,
        *,
        event: str | None = None,
        branch: str | None = None,
        actor: str | None = None,
        outcome: str | None = None,
    ) -> Run:
        """Start a run now on `owner/name`; `outcome` is success, failure or flaky (default: random)."""
        if outcome not in (None, "success", "failure", "flaky"):
            raise SimError("outcome must be success, failure or flaky", 422)
        with self.lock:
            target = self._repo(repo)
            chosen = self._workflow(target, workflow)
            if actor is not None and actor not in self.world.users:
                raise SimError(f"no user {actor!r}")
            run = self.engine.start_run(target, chosen, event=event, branch=branch, actor=actor, outcome=outcome)
        self._settle()
        return run

    def _repo(self, full_name: str) -> Repo:
        owner, _, name = full_name.partition("/")
        repo = self.world.repo_named(owner, name)
        if repo is None:
            raise SimError(f"no repository {full_name!r}")
        return repo

    def _workflow(self, repo: Repo, wanted: str | None) -> Workflow:
        if wanted is None:
            return repo.workflows[0]
        for workflow in repo.workflows:
            if wanted in (workflow.spec.key, workflow.spec.file, workflow.spec.name, str(workflow.id)):
                return workflow
        raise SimError(f"no workflow {wanted!r} in {repo.full_name}")

    def rerun(self, run_id: int, *, actor: str, failed_only: bool = False) -> Run:
        """Re-run a completed run as `actor` (the REST endpoints check permissions first)."""
        with self.lock:
            run = self._run(run_id)
            self.engine.rerun(run, actor=actor, failed_only=failed_only)
            return run

    def cancel(self, run_id: int) -> Run:
        """Cancel an unfinished run."""
        with self.lock:
            run = self._run(run_id)
            self.engine.cancel(run)
            return run

    def _run(self, run_id: int) -> Run:
        run = self.world.runs.get(int(run_id))
        if run is None:
            raise SimError(f"no run {run_id}")
        return run

    # Users and installations

    def user_token(self, login: str, *, ttl: int | None = None) -> str:
        """A fresh user token for `login`, skipping the OAuth dance (for tests)."""
        with self.lock:
            if login not in self.world.users:
                raise SimError(f"no user {login!r}")
            return self.auth.issue_user_token(login, ttl=ttl or self.faults.token_ttl)["access_token"]

    def user_tokens(self, login: str, *, ttl: int | None = None) -> dict:
        """A fresh token response (access and refresh token) for `login`."""
        with self.lock:
            return self.auth.issue_user_token(login, ttl=ttl or self.faults.token_ttl)

    def app_jwt(self, **claims) -> str:
        """An app JWT signed with the app's key, at the time JWTs are checked against (see AppCredentials.sign_jwt)."""
        with self.lock:
            return self.credentials.sign_jwt(self._jwt_now(), **claims)

    def installation_token(self, installation_id: int) -> str:
        """A fresh installation token (for tests)."""
        with self.lock:
            inst = self._installation(installation_id)
            ttl = self.faults.installation_token_ttl
            return self.auth.issue_installation_token(inst.id, ttl=ttl, repo_ids=None).value

    def revoke(self, login: str) -> int:
        """The user revokes the app's authorization: tokens die and a `github_app_authorization` webhook goes out."""
        with self.lock:
            account = self.world.users.get(login)
            if account is None:
                raise SimError(f"no user {login!r}")
            count = self.auth.revoke_user(login)
            self._enqueue("github_app_authorization", payloads.authorization_revoked_event(account, self.links), None)
        self._settle()
        return count

    def expire_tokens(self, *, login: str | None = None, kind: str | None = None) -> int:
        """Make live tokens (of one user, or of one kind: user/installation) expire now."""
        with self.lock:
            return self.auth.expire_tokens(login=login, kind=kind)

    def _installation(self, installation_id: int) -> Installation:
        inst = self.world.installations.get(int(installation_id))
        if inst is None:
            raise SimError(f"no installation {installation_id}")
        return inst

    def add_repositories(
        self, owner: str, count: int, *, access: dict[str, str], workflows: tuple[str, ...] = ("ci",)
    ) -> list[str]:
        """Add `count` repositories to `owner` and its installation (for scale tests); no webhook is sent."""
        from ghsim.world import WORKFLOW_SPECS, Repo, Workflow

        with self.lock:
            org = self.world.orgs[owner]
            installation = next(inst for inst in self.world.installations.values() if inst.account is org)
            added = []
            for _ in range(count):
                repo_id = self.world.next_id("repo")
                repo = Repo(
                    repo_id, org, f"service-{repo_id}", True, "A scale-test service", "Python", dict(access), ("main",)
                )
                self.world.repos[repo.id] = repo
                for key in workflows:
                    workflow = Workflow(self.world.next_id("workflow"), repo.id, WORKFLOW_SPECS[key], repo.created_at)
                    repo.workflows.append(workflow)
                    self.world.workflows[workflow.id] = workflow
                installation.repo_ids.add(repo.id)
                added.append(repo.full_name)
            return added

    def change_installation(
        self, installation_id: int, action: str, *, repos: list[str] | None = None, sender: str = "alice"
    ) -> Installation:
        """Apply an installation change and send its webhook.

        Actions: add-repos, remove-repos, suspend, unsuspend, delete, create (re-install after delete),
        accept-permissions.
        """
        with self.lock:
            inst = self._installation(installation_id)
            if sender not in self.world.users:
                raise SimError(f"no user {sender!r}")
            handler = {
                "add-repos": self._add_repos,
                "remove-repos": self._remove_repos,
                "suspend": self._suspend,
                "unsuspend": self._unsuspend,
                "delete": self._delete,
                "create": self._create,
                "accept-permissions": self._accept_permissions,
            }.get(action)
            if handler is None:
                raise SimError(f"unknown installation action {action!r}", 400)
            handler(inst, [self._repo(name) for name in repos or []], sender)
        self._settle()
        return inst

    def _installation_event(self, action: str, inst: Installation, sender: str) -> None:
        payload = payloads.installation_event(action, inst, self.world, self.links, self.app_json(), sender)
        self._enqueue("installation", payload, None, inst)

    def _add_repos(self, inst: Installation, repos: list[Repo], sender: str) -> None:
        for repo in repos:
            if repo.owner is not inst.account:
                raise SimError(f"{repo.full_name} is not owned by {inst.account.login}", 422)
        added = [repo for repo in repos if repo.id not in inst.repo_ids]
        inst.repo_ids |= {repo.id for repo in added}
        if added:
            payload = payloads.installation_repositories_event(
                "added", inst, added, self.world, self.links, self.app_json(), sender
            )
            self._enqueue("installation_repositories", payload, None, inst)

    def _remove_repos(self, inst: Installation, repos: list[Repo], sender: str) -> None:
        removed = [repo for repo in repos if repo.id in inst.repo_ids]
        inst.repo_ids -= {repo.id for repo in removed}
        if removed:
            inst.repository_selection = "selected"
            payload = payloads.installation_repositories_event(
                "removed", inst, removed, self.world, self.links, self.app_json(), sender
            )
            self._enqueue("installation_repositories", payload, None, inst)

    def _suspend(self, inst: Installation, _repos: list[Repo], sender: str) -> None:
        if inst.deleted or inst.suspended_at is not None:
            raise SimError("installation is not active", 409)
        inst.suspended_at, inst.suspended_by = self.clock.now(), sender
        self._installation_event("suspend", inst, sender)

    def _unsuspend(self, inst: Installation, _repos: list[Repo], sender: str) -> None:
        if inst.deleted or inst.suspended_at is None:
            raise SimError("installation is not suspended", 409)
        inst.suspended_at, inst.suspended_by = None, None
        self._installation_event("unsuspend", inst, sender)

    def _delete(self, inst: Installation, _repos: list[Repo], sender: str) -> None:
        if inst.deleted:
            raise SimError("installation is already deleted", 409)
        self._installation_event("deleted", inst, sender)
        inst.deleted = True
        for token in self.auth.tokens.values():
            if token.installation_id == inst.id:
                token.revoked = True

    def _create(self, inst: Installation, _repos: list[Repo], sender: str) -> None:
        if not inst.deleted:
            raise SimError("installation exists; delete it first", 409)
        inst.deleted, inst.suspended_at, inst.suspended_by = False, None, None
        inst.created_at = self.clock.now()
        self._installation_event("created", inst, sender)

    def _accept_permissions(self, inst: Installation, _repos: list[Repo], sender: str) -> None:
        inst.permissions = {**inst.permissions, "actions": "write"}
        self._installation_event("new_permissions_accepted", inst, sender)

    def set_installation_permissions(self, installation_id: int, permissions: dict[str, str]) -> Installation:
        """Change what the app may do in one installation (no webhook; GitHub sends one when accepted)."""
        with self.lock:
            inst = self._installation(installation_id)
            inst.permissions = {**inst.permissions, **permissions}
            return inst

    def set_hook(self, *, url: str | None = None, secret: str | None = None, active: bool | None = None) -> dict:
        """Re-point, re-key or pause the app's webhook."""
        with self.lock:
            if url is not None:
                self.hook.url = url
            if secret is not None:
                self.hook.secret = secret
            if active is not None:
                self.hook.active = active
            return {"id": self.hook.id, "url": self.hook.url, "active": self.hook.active}

    # Observation

    def truth(self) -> dict:
        """Every run and job with its current state, for tests to compare with the app's cache."""
        with self.lock:
            return {
                "now": iso(self.clock.now()),
                "runs": [self.run_truth(run) for run in sorted(self.world.runs.values(), key=lambda r: r.id)],
            }

    def run_truth(self, run: Run) -> dict:
        """One run and its jobs as `/_sim/truth` shows them (call under the lock)."""
        repo = self.world.repos[run.repo_id]
        inst = self.world.active_installation_of(repo)
        return {
            "id": run.id,
            "repository": repo.full_name,
            "installation_id": inst.id if inst else None,
            "workflow": self.world.workflows[run.workflow_id].spec.name,
            "run_number": run.run_number,
            "event": run.event,
            "head_branch": run.head_branch,
            "actor": run.actor,
            "run_attempt": run.attempt,
            "status": run.status,
            "conclusion": run.conclusion,
            "created_at": iso(run.created_at),
            "updated_at": iso(run.updated_at),
            "jobs": [
                {
                    "id": job.id,
                    "name": job.name,
                    "run_attempt": job.attempt,
                    "status": job.status,
                    "conclusion": job.conclusion,
                }
                for job in run.jobs
            ],
        }

    def deliveries(self) -> list[Delivery]:
        """Every delivery sent or failed so far, oldest first."""
        with self.lock:
            return list(self.dispatcher.log)

    def request_counts(self) -> dict:
        """API requests per caller, status and route."""
        with self.lock:
            return self.counters.as_dict()

    def reset_counters(self) -> None:
        """Start counting API requests from zero."""
        with self.lock:
            self.counters.reset()

    def health(self) -> dict:
        """A summary for `/_sim/health` and the start-up banner."""
        with self.lock:
            return {
                "ok": True,
                "mode": self.config.mode,
                "seed": self.config.seed,
                "rate_limiting": self.config.rate_limiting,
                "now": iso(self.clock.now()),
                "url": self.url,
                "api_url": self.api_url,
                "webhook_url": self.hook.url,
                "app_id": self.config.app_id,
                "client_id": self.config.client_id,
                "runs": len(self.world.runs),
                "life": self.life,
                "pending_deliveries": len(self.dispatcher.pending),
                "deliveries": len(self.dispatcher.log),
            }
