"""Runs move forward in simulated time; re-run and cancel change them, send webhooks, and need write access."""

from __future__ import annotations

from tests.ghsim.conftest import finish, until


def events_for(sim, run_id: int) -> list[tuple[str, str, int]]:
    """(event, action, run_attempt) of the webhooks received about one run."""
    seen = []
    for item in sim.receiver.received:
        body = item.payload
        if item.event == "workflow_run" and body["workflow_run"]["id"] == run_id:
            seen.append((item.event, item.action, body["workflow_run"]["run_attempt"]))
        elif item.event == "workflow_job" and body["workflow_job"]["run_id"] == run_id:
            seen.append((item.event, item.action, body["workflow_job"]["run_attempt"]))
    return seen


def test_it_moves_a_run_through_its_states_and_reports_each_change(sim):
    run = sim.trigger("acme/api", "ci", outcome="success")
    assert sim.truth()["runs"][0]["status"] == "queued"
    finished = finish(sim, run.id)
    assert finished["conclusion"] == "success"
    assert {job["name"] for job in finished["jobs"]} == {"lint", "test (3.11)", "test (3.12)", "build"}
    runs = [action for event, action, _ in events_for(sim, run.id) if event == "workflow_run"]
    assert runs == ["requested", "in_progress", "completed"]
    jobs = [action for event, action, _ in events_for(sim, run.id) if event == "workflow_job"]
    assert jobs.count("queued") == jobs.count("in_progress") == jobs.count("completed") == 4


def test_it_shows_steps_progressing_in_the_rest_api(sim, api_as):
    run = sim.trigger("acme/api", "ci", outcome="success")
    until(sim, run.id, "in_progress")
    alice = api_as("alice")
    job = next(
        job
        for job in alice.get(f"/repos/acme/api/actions/runs/{run.id}/jobs").json()["jobs"]
        if job["status"] == "in_progress"
    )
    assert {step["status"] for step in job["steps"]} <= {"completed", "in_progress", "queued"}
    assert job["runner_name"].startswith("GitHub Actions")
    finish(sim, run.id)
    done = alice.get(f"/repos/acme/api/actions/jobs/{job['id']}").json()
    assert {step["conclusion"] for step in done["steps"]} == {"success"}


def test_it_waits_for_an_environment_before_deploying(sim):
    run = sim.trigger("acme/storefront", "deploy", outcome="success")
    finish(sim, run.id)
    deploy = [action for event, action, _ in events_for(sim, run.id) if event == "workflow_job"]
    assert "waiting" in deploy


def test_it_reruns_a_flaky_run_to_success(sim, api_as):
    run = sim.trigger("acme/api", "ci", outcome="flaky")
    assert finish(sim, run.id)["conclusion"] == "failure"
    alice = api_as("alice")
    response = alice.post(f"/repos/acme/api/actions/runs/{run.id}/rerun-failed-jobs")
    assert response.status_code == 201
    assert response.json() == {}
    assert alice.get(f"/repos/acme/api/actions/runs/{run.id}").json()["run_attempt"] == 2
    finished = finish(sim, run.id)
    assert finished["conclusion"] == "success"
    assert ("workflow_run", "requested", 2) in events_for(sim, run.id)
    assert ("workflow_run", "completed", 2) in events_for(sim, run.id)
    second = alice.get(f"/repos/acme/api/actions/runs/{run.id}").json()
    assert second["previous_attempt_url"].endswith(f"/actions/runs/{run.id}/attempts/1")
    assert second["triggering_actor"]["login"] == "alice"
    first = alice.get(f"/repos/acme/api/actions/runs/{run.id}/attempts/1").json()
    assert (first["run_attempt"], first["conclusion"]) == (1, "failure")


def test_it_reruns_only_failed_jobs_and_carries_the_rest_over(sim, api_as):
    run = sim.trigger("acme/api", "ci", outcome="flaky")
    finish(sim, run.id)
    api_as("alice").post(f"/repos/acme/api/actions/runs/{run.id}/rerun-failed-jobs")
    finish(sim, run.id)
    rerun_jobs = {
        action for event, action, attempt in events_for(sim, run.id) if event == "workflow_job" and attempt == 2
    }
    assert rerun_jobs == {"queued", "in_progress", "completed"}
    second = [job for job in sim.truth()["runs"][0]["jobs"] if job["run_attempt"] == 2]
    assert len(second) == 4
    assert {job["conclusion"] for job in second} == {"success"}


def test_it_keeps_failing_a_broken_run_on_rerun(sim, api_as):
    run = sim.trigger("acme/api", "ci", outcome="failure")
    finish(sim, run.id)
    assert api_as("alice").post(f"/repos/acme/api/actions/runs/{run.id}/rerun").status_code == 201
    assert finish(sim, run.id)["conclusion"] == "failure"


def test_it_cancels_an_unfinished_run_and_refuses_a_second_cancel(sim, api_as):
    run = sim.trigger("acme/api", "ci", outcome="success")
    until(sim, run.id, "in_progress")
    alice = api_as("alice")
    assert alice.post(f"/repos/acme/api/actions/runs/{run.id}/cancel").status_code == 202
    sim.advance(0)
    truth = sim.truth()["runs"][0]
    assert (truth["status"], truth["conclusion"]) == ("completed", "cancelled")
    assert ("workflow_run", "completed", 1) in events_for(sim, run.id)
    cancelled = [
        item
        for item in sim.receiver.received
        if item.event == "workflow_job" and item.payload["workflow_job"]["conclusion"] == "cancelled"
    ]
    assert cancelled
    again = alice.post(f"/repos/acme/api/actions/runs/{run.id}/cancel")
    assert again.status_code == 409
    assert again.json()["message"] == "Cannot cancel a workflow run that is completed."


def test_it_refuses_rerun_and_cancel_to_a_read_only_user(sim, api_as):
    run = sim.trigger("acme/api", "ci", outcome="failure")
    bob = api_as("bob")
    assert bob.get(f"/repos/acme/api/actions/runs/{run.id}").status_code == 200
    refused = bob.post(f"/repos/acme/api/actions/runs/{run.id}/cancel")
    assert refused.status_code == 403
    assert refused.json()["message"] == "Must have admin rights to Repository."
    finish(sim, run.id)
    assert bob.post(f"/repos/acme/api/actions/runs/{run.id}/rerun").status_code == 403
    assert bob.post(f"/repos/acme/api/actions/runs/{run.id}/rerun-failed-jobs").status_code == 403
    assert sim.truth()["runs"][0]["run_attempt"] == 1


def test_it_refuses_rerun_when_the_app_lacks_actions_write(sim, api_as):
    run = sim.trigger("acme/api", "ci", outcome="failure")
    finish(sim, run.id)
    sim.set_installation_permissions(70001, {"actions": "read"})
    refused = api_as("alice").post(f"/repos/acme/api/actions/runs/{run.id}/rerun")
    assert refused.status_code == 403
    assert refused.json()["message"] == "Resource not accessible by integration"


def test_it_refuses_to_rerun_a_running_run(sim, api_as):
    run = sim.trigger("acme/api", "ci")
    assert api_as("alice").post(f"/repos/acme/api/actions/runs/{run.id}/rerun").status_code == 403


def test_it_lets_an_installation_token_rerun(sim):
    from tests.ghsim.conftest import Api

    run = sim.trigger("acme/api", "ci", outcome="failure")
    finish(sim, run.id)
    assert (
        Api(sim, sim.installation_token(70001)).post(f"/repos/acme/api/actions/runs/{run.id}/rerun").status_code == 201
    )
