"""The seeded engine that starts workflow runs and moves them and their jobs forward in simulated time.

A run goes requested -> queued -> in_progress -> completed. Its jobs go queued (or waiting, for an environment
that needs approval) -> in_progress -> completed, stage by stage (`needs:`); matrix jobs run side by side. Some jobs
fail on every attempt, some are flaky (fail on the first attempt only), now and then a job sits long in the queue
or a newer push cancels a run. Every random choice comes from the engine's own `random.Random`, so the same seed
and the same `advance()` calls give the same history.
"""

from __future__ import annotations

import heapq
import random
from dataclasses import dataclass
from typing import Protocol

from ghsim.clock import SimClock, iso
from ghsim.world import Attempt, Job, JobSpec, Repo, Run, Workflow, World

FAILING = ("failure", "cancelled")
COMMIT_MESSAGES = (
    "Fix flaky checkout test",
    "Add retry to payment webhook",
    "Bump dependencies",
    "Refactor order service",
    "Speed up CI cache",
    "Update README",
    "Handle empty carts",
    "Tidy logging",
    "Add metrics endpoint",
    "Migrate to new DB driver",
)
DEPENDABOT_BUMPS = ("requests-2.32.3", "lodash-4.17.21", "django-5.2.19", "actions/checkout-4")


class Emitter(Protocol):
    """Where the engine reports state changes (the simulator turns them into webhooks)."""

    def run(self, action: str, run: Run) -> None: ...

    def job(self, action: str, job: Job) -> None: ...


@dataclass(frozen=True)
class PlannedJob:
    """One concrete job of a run (a matrix value expanded) and its fate: ok, fail or flaky."""

    name: str
    spec: JobSpec
    fate: str


class Engine:
    """Schedules and applies every state change of runs and jobs."""

    def __init__(
        self, *, world: World, clock: SimClock, rng: random.Random, emit: Emitter, run_interval: float
    ) -> None:
        self.world = world
        self.clock = clock
        self.rng = rng
        self.emit = emit
        self.run_interval = run_interval
        self.spawning = run_interval > 0
        self._queue: list[tuple[float, int, str, tuple]] = []
        self._seq = 0
        self._run_numbers: dict[int, int] = {}
        self._in_progress_sent: set[tuple[int, int]] = set()
        self.plans: dict[int, list[PlannedJob]] = {}
        if self.spawning:
            self._schedule(self.rng.expovariate(1 / run_interval), "spawn")

    # Scheduling

    def _schedule(self, delay: float, kind: str, *args) -> None:
        self._seq += 1
        heapq.heappush(self._queue, (self.clock.now() + delay, self._seq, kind, args))

    def advance_to(self, target: float) -> int:
        """Apply every scheduled change up to `target`, in time order; the number applied."""
        applied = 0
        while self._queue and self._queue[0][0] <= target:
            when, _, kind, args = heapq.heappop(self._queue)
            self.clock.move_to(when)
            getattr(self, f"_on_{kind}")(*args)
            applied += 1
        self.clock.move_to(target)
        return applied

    # New runs

    def _on_spawn(self) -> None:
        repo = self.rng.choice(sorted(self.world.repos.values(), key=lambda item: item.id))
        self.start_run(repo, self.rng.choice(repo.workflows), queue_after=self.rng.uniform(1, 3))
        if self.spawning:
            self._schedule(self.rng.expovariate(1 / self.run_interval), "spawn")

    def start_run(
        self,
        repo: Repo,
        workflow: Workflow,
        *,
        queue_after: float | None = None,
        event: str | None = None,
        branch: str | None = None,
        actor: str | None = None,
        outcome: str | None = None,
    ) -> Run:
        """Create a run (status requested); it is queued after `queue_after` seconds, or at once if None."""
        rng = self.rng
        event = event or self._pick_event(workflow, repo)
        actor = actor or self._pick_actor(repo, event)
        branch = branch or self._pick_branch(repo, workflow, event, actor)
        now = self.clock.now()
        message = rng.choice(COMMIT_MESSAGES)
        sha = _hex(rng, 40)
        author = self.world.users[actor]
        self._run_numbers[workflow.id] = self._run_numbers.get(workflow.id, 0) + 1
        run = Run(
            id=self.world.next_id("run"),
            repo_id=repo.id,
            workflow_id=workflow.id,
            run_number=self._run_numbers[workflow.id],
            event=event,
            head_branch=branch,
            head_sha=sha,
            head_commit={
                "id": sha,
                "tree_id": _hex(rng, 40),
                "message": message,
                "timestamp": iso(now - rng.randint(5, 120)),
                "author": {"name": author.name, "email": author.email},
                "committer": {"name": "GitHub", "email": "noreply@github.com"},
            },
            display_title=workflow.spec.name if event == "schedule" else message,
            actor=actor,
            triggering_actor=actor,
            check_suite_id=self.world.next_id("suite"),
            created_at=now,
            updated_at=now,
            run_started_at=now,
            fate={},
        )
        if event == "pull_request":
            number = rng.randint(10, 400)
            run.pull_requests = [{"number": number, "id": 1_700_000_000 + number, "base_sha": _hex(rng, 40)}]
        self.world.runs[run.id] = run
        self.plans[run.id] = self._plan(workflow, outcome)
        if outcome is None and rng.random() < 0.04:
            self._schedule(rng.uniform(20, 90), "auto_cancel", run.id, 1)
        if queue_after is None:
            self._on_queue_run(run.id)
        else:
            self._schedule(queue_after, "queue_run", run.id)
        return run

    def _pick_event(self, workflow: Workflow, repo: Repo) -> str:
        events = workflow.spec.events
        if events == ("schedule",):
            return "schedule"
        if "pull_request" in events and len(repo.branches) > 1 and self.rng.random() < 0.4:
            return "pull_request"
        return "push"

    def _pick_actor(self, repo: Repo, event: str) -> str:
        if event == "pull_request" and self.rng.random() < 0.25:
            return "dependabot[bot]"
        writers = sorted(login for login, level in repo.access.items() if level in ("write", "admin"))
        return self.rng.choice(writers)

    def _pick_branch(self, repo: Repo, workflow: Workflow, event: str, actor: str) -> str:
        features = [branch for branch in repo.branches if branch != repo.default_branch]
        if actor == "dependabot[bot]":
            return f"dependabot/pip/{self.rng.choice(DEPENDABOT_BUMPS)}"
        if event == "pull_request" and features:
            return self.rng.choice(features)
        if workflow.spec.main_only or not features or self.rng.random() < 0.5:
            return repo.default_branch
        return self.rng.choice(features)

    def _plan(self, workflow: Workflow, outcome: str | None) -> list[PlannedJob]:
        """Expand the matrix and pick which job (if any) fails for good or is flaky."""
        names = [
            (f"{spec.name} ({value})" if value else spec.name, spec)
            for spec in workflow.spec.jobs
            for value in (spec.matrix or ("",))
        ]
        roll = self.rng.random()
        unlucky = self.rng.randrange(len(names))
        fate = outcome or ("fail" if roll < 0.08 else "flaky" if roll < 0.18 else "ok")
        fate = {"success": "ok", "failure": "fail"}.get(fate, fate)
        return [PlannedJob(name, spec, fate if index == unlucky else "ok") for index, (name, spec) in enumerate(names)]

    # Run progress

    def _on_queue_run(self, run_id: int) -> None:
        run = self.world.runs[run_id]
        if run.status != "requested":
            return
        self._set_run_status(run, "queued")
        self.emit.run("requested", run)
        self._advance_run(run)

    def _advance_run(self, run: Run) -> None:
        """Start the next stage, skip what can no longer run, or finish the run."""
        jobs = run.jobs_of(run.attempt)
        if any(job.status != "completed" for job in jobs):
            self._refresh_run_status(run, jobs)
            return
        done = {job.name for job in jobs}
        pending = [planned for planned in self.plans[run.id] if planned.name not in done]
        if pending and any(job.conclusion in FAILING for job in jobs):
            for planned in pending:
                self._skip_job(run, planned)
            pending = []
        if not pending:
            self._finish_run(run)
            return
        stage = min(planned.spec.stage for planned in pending)
        for planned in pending:
            if planned.spec.stage == stage:
                self._create_job(run, planned)

    def _refresh_run_status(self, run: Run, jobs: list[Job]) -> None:
        if any(job.status == "in_progress" for job in jobs):
            status = "in_progress"
        elif any(job.status == "waiting" for job in jobs):
            status = "waiting"
        else:
            return
        if run.status != status:
            self._set_run_status(run, status)

    def _set_run_status(self, run: Run, status: str) -> None:
        run.status = status
        run.updated_at = self.clock.now()

    def _finish_run(self, run: Run, conclusion: str | None = None) -> None:
        jobs = run.jobs_of(run.attempt)
        if conclusion is None:
            conclusion = "failure" if any(job.conclusion == "failure" for job in jobs) else "success"
        run.conclusion = conclusion
        self._set_run_status(run, "completed")
        self.emit.run("completed", run)

    # Jobs

    def _add_job(self, run: Run, planned: PlannedJob, **state) -> Job:
        """A new job of the run's current attempt, in the world and on the run; `state` sets its status."""
        job = Job(
            id=self.world.next_id("job"),
            run_id=run.id,
            attempt=run.attempt,
            name=planned.name,
            spec=planned.spec,
            created_at=self.clock.now(),
            fail_step=None,
            **state,
        )
        self.world.jobs[job.id] = job
        run.jobs.append(job)
        return job

    def _create_job(self, run: Run, planned: PlannedJob) -> Job:
        status = "waiting" if planned.spec.environment else "queued"
        job = self._add_job(run, planned, status=status, step_plan=self._step_plan(planned.spec))
        fails = planned.fate == "fail" or (planned.fate == "flaky" and run.attempt == 1)
        if fails:
            job.fail_step = self.rng.randrange(2, 2 + len(planned.spec.steps))
        if job.status == "waiting":
            self.emit.job("waiting", job)
            self._schedule(self.rng.uniform(20, 90), "approve", job.id)
            self._refresh_run_status(run, run.jobs_of(run.attempt))
        else:
            self._queue_job(job)
        return job

    def _step_plan(self, spec: JobSpec) -> list[tuple[str, int]]:
        low, high = spec.step_seconds
        plan = [("Set up job", self.rng.randint(1, 3)), ("Run actions/checkout@v4", self.rng.randint(1, 4))]
        plan += [(name, self.rng.randint(low, high)) for name in spec.steps]
        plan += [("Post Run actions/checkout@v4", self.rng.randint(0, 1)), ("Complete job", self.rng.randint(0, 1))]
        return plan

    def _queue_job(self, job: Job) -> None:
        self.emit.job("queued", job)
        long_queue = self.rng.random() < 0.07
        self._schedule(self.rng.uniform(60, 300) if long_queue else self.rng.uniform(2, 12), "start_job", job.id)

    def _on_approve(self, job_id: int) -> None:
        job = self.world.jobs[job_id]
        if job.status != "waiting":
            return
        job.status = "queued"
        self._queue_job(job)

    def _on_start_job(self, job_id: int) -> None:
        job = self.world.jobs[job_id]
        run = self.world.runs[job.run_id]
        if job.status != "queued" or job.attempt != run.attempt:
            return
        job.status = "in_progress"
        job.started_at = self.clock.now()
        job.runner_id = self.rng.randint(1, 80)
        if (run.id, run.attempt) not in self._in_progress_sent:
            self._in_progress_sent.add((run.id, run.attempt))
            self._set_run_status(run, "in_progress")
            self.emit.run("in_progress", run)
        else:
            self._refresh_run_status(run, run.jobs_of(run.attempt))
        self.emit.job("in_progress", job)
        seconds = [duration for _, duration in job.step_plan]
        # A failing job stops after its failing step; `Complete job` still takes a second.
        ends = seconds[: job.fail_step + 1] + [1] if job.fail_step is not None else seconds
        self._schedule(sum(ends), "complete_job", job.id)

    def _on_complete_job(self, job_id: int) -> None:
        job = self.world.jobs[job_id]
        if job.status != "in_progress":
            return
        job.status = "completed"
        job.conclusion = "failure" if job.fail_step is not None else "success"
        job.completed_at = self.clock.now()
        self.emit.job("completed", job)
        self._advance_run(self.world.runs[job.run_id])

    def _skip_job(self, run: Run, planned: PlannedJob) -> None:
        job = self._add_job(
            run, planned, status="completed", conclusion="skipped", completed_at=self.clock.now(), step_plan=[]
        )
        self.emit.job("completed", job)

    # Re-runs and cancels (from the REST API or the engine itself)

    def rerun(self, run: Run, *, actor: str, failed_only: bool) -> None:
        """Start the next attempt: every job, or only failed ones and their dependents (the rest carried over)."""
        previous = run.jobs_of(run.attempt)
        run.attempts.append(
            Attempt(run.attempt, run.status, run.conclusion, run.run_started_at, run.updated_at, run.triggering_actor)
        )
        now = self.clock.now()
        run.attempt += 1
        run.conclusion = None
        run.run_started_at = now
        run.triggering_actor = actor
        self._set_run_status(run, "queued")
        self.emit.run("requested", run)
        if failed_only:
            for job in previous:
                if job.conclusion == "success":
                    self._carry_over(run, job)
        self._advance_run(run)

    def _carry_over(self, run: Run, job: Job) -> None:
        copy = Job(
            id=self.world.next_id("job"),
            run_id=run.id,
            attempt=run.attempt,
            name=job.name,
            spec=job.spec,
            status="completed",
            conclusion=job.conclusion,
            created_at=job.created_at,
            started_at=job.started_at,
            completed_at=job.completed_at,
            step_plan=list(job.step_plan),
            fail_step=None,
            runner_id=job.runner_id,
            carried_over=True,
        )
        self.world.jobs[copy.id] = copy
        run.jobs.append(copy)

    def cancel(self, run: Run) -> None:
        """Cancel every unfinished job of the current attempt, then the run."""
        now = self.clock.now()
        for job in run.jobs_of(run.attempt):
            if job.status == "completed":
                continue
            job.status = "completed"
            job.conclusion = "cancelled"
            job.completed_at = now
            self.emit.job("completed", job)
        self._finish_run(run, "cancelled")

    def _on_auto_cancel(self, run_id: int, attempt: int) -> None:
        run = self.world.runs[run_id]
        if run.attempt == attempt and run.status not in ("requested", "completed"):
            self.cancel(run)

    def pending_changes(self) -> int:
        """How many state changes are scheduled."""
        return len(self._queue)


def _hex(rng: random.Random, length: int) -> str:
    return f"{rng.getrandbits(length * 4):0{length}x}"
