"""The control API under /_sim/ (JSON in and out) drives the same simulator as the Python API."""

from __future__ import annotations

import requests

from ghsim.testing import running_simulator


def control(sim, method: str, path: str, body: dict | None = None) -> requests.Response:
    return requests.request(method, f"{sim.url}/_sim/{path}", json=body, timeout=10)


def test_it_reports_health(sim):
    health = control(sim, "GET", "health").json()
    assert health["ok"] is True
    assert health["mode"] == "manual"
    assert health["api_url"] == sim.api_url


def test_it_reads_and_switches_faults(sim):
    assert control(sim, "GET", "faults").json()["drop_rate"] == 0.0
    changed = control(sim, "POST", "faults", {"drop_rate": 0.5, "webhook_outage_seconds": 30}).json()
    assert changed["drop_rate"] == 0.5
    assert changed["outage"] is not None
    refused = control(sim, "POST", "faults", {"drop_rate": "lots"})
    assert refused.status_code == 400
    assert "drop_rate" in refused.json()["error"]


def test_it_triggers_advances_and_tells_the_truth(sim):
    started = control(sim, "POST", "trigger", {"repo": "globex/engine", "workflow": "codeql.yml", "outcome": "success"})
    assert started.status_code == 200
    run_id = started.json()["id"]
    advanced = control(sim, "POST", "advance", {"seconds": 3600}).json()
    assert advanced["delivered"] > 0
    truth = control(sim, "GET", "truth").json()
    run = next(item for item in truth["runs"] if item["id"] == run_id)
    assert (run["status"], run["conclusion"], run["workflow"]) == ("completed", "success", "CodeQL")
    assert [job["name"] for job in run["jobs"]] == ["Analyze (python)", "Analyze (javascript)"]


def test_it_refuses_to_trigger_on_an_unknown_repository(sim):
    assert control(sim, "POST", "trigger", {"repo": "acme/nope"}).status_code == 404


def test_it_changes_installations_and_sends_their_webhooks(sim):
    changed = control(sim, "POST", "installations/70002/add-repos", {"repos": ["globex/legacy"]})
    assert "globex/legacy" in next(i for i in changed.json()["installations"] if i["id"] == 70002)["repositories"]
    control(sim, "POST", "installations/70001/suspend")
    control(sim, "POST", "installations/70001/unsuspend")
    assert [(item.event, item.action) for item in sim.receiver.received] == [
        ("installation_repositories", "added"),
        ("installation", "suspend"),
        ("installation", "unsuspend"),
    ]
    assert control(sim, "POST", "installations/70001/explode").status_code == 400


def test_it_revokes_a_user_and_issues_tokens(sim):
    token = control(sim, "POST", "tokens", {"login": "dana"}).json()["access_token"]
    headers = {"Authorization": f"token {token}"}
    assert requests.get(f"{sim.api_url}/user", headers=headers, timeout=10).status_code == 200
    assert control(sim, "POST", "revoke", {"login": "dana"}).json() == {"revoked_tokens": 1}
    assert requests.get(f"{sim.api_url}/user", headers=headers, timeout=10).status_code == 401


def test_it_counts_requests_per_caller_and_status_and_resets(sim, api_as):
    alice = api_as("alice")
    etag = alice.get("/repos/acme/api").headers["ETag"]
    alice.get("/repos/acme/api", headers={"If-None-Match": etag})
    api_as("bob").get("/repos/acme/payroll")
    counts = control(sim, "GET", "requests").json()
    assert counts["total"] == 3
    assert counts["by_identity"] == {"alice": {"200": 1, "304": 1}, "bob": {"404": 1}}
    assert counts["by_route"]["GET /api/v3/repos/{owner}/{repo}"] == {"200": 1, "304": 1, "404": 1}
    assert control(sim, "POST", "reset-counters").json()["total"] == 0


def test_it_lists_deliveries_with_payloads(sim):
    sim.trigger("acme/api", "ci")
    deliveries = control(sim, "GET", "deliveries").json()["deliveries"]
    assert deliveries[0]["request"]["payload"]["action"] == "requested"


def test_it_repoints_the_hook(sim):
    from ghsim.testing import receiving_webhooks

    with receiving_webhooks() as other:
        control(sim, "POST", "hook", {"url": other.url})
        sim.trigger("acme/api", "ci")
        assert other.events()[0] == ("workflow_run", "requested")
    assert sim.receiver.received == []


def test_it_moves_on_its_own_in_demo_mode():
    with running_simulator(mode="demo", speed=120, run_interval=5, history=600) as sim:
        assert any(run["status"] == "completed" for run in sim.truth()["runs"])  # history made before start
        assert sim.deliveries() == []  # ... without webhooks
        assert sim.receiver.wait_for(1, timeout=20)
