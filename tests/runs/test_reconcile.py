"""Reconciliation heals what webhooks missed: stuck runs re-read, failed deliveries redelivered."""

from datetime import UTC, datetime, timedelta

from django.core.management import call_command

from dashboard.reconciliation import reconcile
from runs.models import WorkflowJob, WorkflowRun
from tests.runs.conftest import settle

NOW = timedelta(0)


def sim_now(sim):
    """The simulator's clock, which runs ahead of the wall clock as tests advance it."""
    return datetime.fromtimestamp(sim.now(), UTC)


def test_it_repairs_a_run_stuck_unfinished_in_the_cache(alice, github_sim):
    run = github_sim.trigger("acme/api", "ci", outcome="success")
    github_sim.advance(60)
    alice.get("/api/repos/acme/api")  # cached while running; no webhook will tell the app it finished
    assert WorkflowRun.get("acme/api", run.id).status != "completed"
    settle(github_sim)

    report = reconcile(older_than=NOW, redeliver=False, now=sim_now(github_sim))

    assert (report.runs_checked, report.runs_repaired) == (1, 1)
    stored = WorkflowRun.get("acme/api", run.id)
    assert (stored.status, stored.conclusion, stored.active_status) == ("completed", "success", None)
    assert WorkflowJob.count(f"acme/api#{run.id}") > 0
    assert (
        reconcile(older_than=NOW, redeliver=False, now=sim_now(github_sim)).runs_checked == 0
    )  # completed runs left the index


def test_it_rereads_an_unchanged_run_with_a_conditional_request(alice, github_sim):
    github_sim.trigger("acme/api", "ci", outcome="success")
    github_sim.advance(60)
    alice.get("/api/repos/acme/api")
    reconcile(older_than=NOW, redeliver=False, now=sim_now(github_sim))
    github_sim.reset_counters()

    report = reconcile(older_than=NOW, redeliver=False, now=sim_now(github_sim))

    assert (report.runs_checked, report.runs_unchanged, report.runs_repaired) == (1, 1, 0)
    assert github_sim.request_counts()["by_status"] == {"304": 1}


def test_it_leaves_recent_runs_to_the_webhooks(alice, github_sim):
    github_sim.trigger("acme/api", "ci", outcome="success")
    github_sim.advance(60)
    alice.get("/api/repos/acme/api")

    assert reconcile(older_than=timedelta(minutes=10), redeliver=False, now=sim_now(github_sim)).runs_checked == 0


def test_it_redelivers_failed_deliveries_once(dynamodb, github_sim):
    github_sim.receiver.status = 500
    github_sim.trigger("acme/api", "ci", outcome="success")
    github_sim.advance(30)
    failed = {delivery.guid for delivery in github_sim.deliveries() if delivery.status_code != 200}
    assert failed
    github_sim.receiver.status = 200
    github_sim.receiver.clear()

    report = reconcile(redeliver=True)
    github_sim.advance(0)

    assert report.deliveries_redelivered == len(failed)
    assert {received.guid for received in github_sim.receiver.received} >= failed
    assert reconcile(redeliver=True).deliveries_redelivered == 0


def test_it_reports_as_a_management_command(alice, github_sim, capsys):
    github_sim.receiver.status = 500
    github_sim.trigger("acme/api", "ci", outcome="success")
    github_sim.advance(30)
    github_sim.receiver.status = 200

    call_command("reconcile", "--older-than-minutes", "10")

    output = capsys.readouterr().out
    assert "runs: 0 checked, 0 repaired, 0 unchanged, 0 could not be read" in output
    assert "redelivered workflow_run delivery" in output


def test_it_redelivers_deliveries_accepted_but_never_recorded(dynamodb, github_sim):
    # A receiver that answers 202 and records nothing: what the app does when its time budget runs out.
    github_sim.receiver.status = 202
    github_sim.trigger("acme/api", "ci", outcome="success")
    github_sim.advance(30)
    accepted = {delivery.guid for delivery in github_sim.deliveries()}
    github_sim.receiver.clear()

    report = reconcile(redeliver=True)
    github_sim.advance(0)

    assert report.deliveries_redelivered == len(accepted)
    assert {received.guid for received in github_sim.receiver.received} == accepted


def test_it_tells_operators_what_it_repaired(alice, github_sim, caplog):
    caplog.set_level("INFO", logger="dashboard.lib.metrics")
    run = github_sim.trigger("acme/api", "ci", outcome="success")
    github_sim.advance(60)
    alice.get("/api/repos/acme/api")
    settle(github_sim)
    assert WorkflowRun.get("acme/api", run.id).status != "completed"

    reconcile(older_than=NOW, redeliver=False, now=sim_now(github_sim))

    (document,) = [record.emf for record in caplog.records if hasattr(record, "emf") and "RunsRepaired" in record.emf]
    assert (document["ReconcileCompleted"], document["RunsRepaired"], document["ReconcileErrors"]) == (1, 1, 0)
