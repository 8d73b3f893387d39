"""Each fault knob does what it says, and redelivery heals what was lost."""

from __future__ import annotations

import pytest
import requests

from tests.ghsim.conftest import Api


def as_app(sim) -> Api:
    client = Api(sim)
    client.session.headers["Authorization"] = f"Bearer {sim.app_jwt()}"
    return client


def test_it_duplicates_deliveries_with_the_same_guid(sim):
    sim.set_faults(duplicate_rate=1.0)
    sim.trigger("acme/api", "ci")
    sim.advance(5)
    guids = [item.guid for item in sim.receiver.received]
    assert len(guids) == 2 * len(set(guids))


def test_it_reorders_deliveries_within_the_window(sim):
    sim.set_faults(reorder_window=30)
    for _ in range(3):
        sim.trigger("acme/api", "ci")
    sim.advance(600)
    order = [delivery.seq for delivery in sim.deliveries()]
    assert order != sorted(order)
    assert len(order) == len(set(order))
    assert len(sim.receiver.received) == len(order)


def test_it_delivers_in_order_without_the_reorder_knob(sim):
    for _ in range(3):
        sim.trigger("acme/api", "ci")
    sim.advance(600)
    order = [delivery.seq for delivery in sim.deliveries()]
    assert order == sorted(order)


def test_it_records_dropped_deliveries_as_failed_and_heals_them_by_redelivery(sim):
    sim.set_faults(drop_rate=1.0)
    sim.trigger("acme/api", "ci")
    sim.advance(5)
    assert sim.receiver.received == []
    app = as_app(sim)
    failed = app.get("/app/hook/deliveries", params={"status": "failure"}).json()
    assert failed
    assert {item["status"] for item in failed} == {"failed to connect to host"}
    sim.set_faults(drop_rate=0.0)
    for item in failed:
        assert app.post(f"/app/hook/deliveries/{item['id']}/attempts").status_code == 202
    sim.advance(0)
    assert sorted(item.guid for item in sim.receiver.received) == sorted(item["guid"] for item in failed)
    redelivered = app.get("/app/hook/deliveries", params={"per_page": len(failed)}).json()
    assert all(item["redelivery"] and item["status"] == "OK" for item in redelivered)


def test_it_fails_every_delivery_during_an_outage_window(sim):
    sim.set_faults(webhook_outage_seconds=60)
    sim.trigger("acme/api", "ci", outcome="success")
    sim.advance(30)
    during = len(sim.deliveries())
    assert during > 0
    assert sim.receiver.received == []
    assert {delivery.status for delivery in sim.deliveries()} == {"failed to connect to host"}
    sim.advance(600)
    assert len(sim.receiver.received) > 0
    assert sim.receiver.received[0].guid not in {delivery.guid for delivery in sim.deliveries()[:during]}


def test_it_pages_deliveries_with_a_cursor(sim):
    for _ in range(3):
        sim.trigger("acme/api", "ci")
    app = as_app(sim)
    first = app.get("/app/hook/deliveries", params={"per_page": 2})
    assert len(first.json()) == 2
    ids = [item["id"] for item in first.json()]
    assert ids == sorted(ids, reverse=True)
    following = app.get(first.links["next"]["url"])
    assert following.json()[0]["id"] < ids[-1]
    detail = app.get(f"/app/hook/deliveries/{ids[0]}").json()
    assert detail["request"]["headers"]["X-GitHub-Event"] == detail["event"]
    assert detail["response"]["payload"] is None or isinstance(detail["response"]["payload"], str)


def test_it_answers_api_requests_with_server_errors_without_charging_them(sim, api_as):
    alice = api_as("alice")
    sim.set_faults(api_error_rate=1.0, api_error_status=503)
    failed = alice.get("/user")
    assert failed.status_code == 503
    assert failed.json()["message"] == "Server Error"
    sim.set_faults(api_error_rate=0.0)
    assert alice.get("/user").headers["X-RateLimit-Remaining"] == "4999"


def test_it_times_out_by_answering_too_late(sim, api_as):
    alice = api_as("alice")
    sim.set_faults(api_timeout_rate=1.0, api_timeout_seconds=1.0)
    with pytest.raises(requests.Timeout):
        alice.session.get(alice.url("/user"), timeout=0.2)
    sim.set_faults(api_timeout_rate=0.0)
    assert alice.get("/user").status_code == 200


def test_it_rejects_an_unknown_fault(sim):
    from ghsim.faults import FaultError

    with pytest.raises(FaultError):
        sim.set_faults(gremlins=1)
    with pytest.raises(FaultError):
        sim.set_faults(drop_rate=2)
