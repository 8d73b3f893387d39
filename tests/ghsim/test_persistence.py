"""A simulator given a state file continues the same GitHub when started again, as GitHub never restarts."""

from __future__ import annotations

import pickle

import pytest

from ghsim.simulator import Simulator
from ghsim.testing import receiving_webhooks, running_simulator
from tests.ghsim.conftest import START, Api, until

HOUR = 3600


@pytest.fixture
def state(tmp_path):
    return tmp_path / "ghsim" / "world.pickle"


def life(state, receiver, *, start_time: float):
    return running_simulator(seed=42, start_time=start_time, state_path=state, webhook_url=receiver.url, ping=False)


def test_it_keeps_runs_tokens_and_installations_and_never_repeats_a_guid_or_an_id(state):
    with receiving_webhooks() as receiver:
        with life(state, receiver, start_time=START) as first:
            done = first.trigger("acme/api", "ci", outcome="success")
            until(first, done.id, "completed", step=30, limit=4 * HOUR)
            in_flight = first.trigger("acme/api", "ci", outcome="failure")
            first.advance(20)
            token = first.user_token("alice")
            first.change_installation(70002, "add-repos", repos=["globex/legacy"])
            first_truth = {run["id"]: run for run in first.truth()["runs"]}
            first_guids = {delivery.guid for delivery in first.deliveries()}
            first_job_ids = {job["id"] for run in first_truth.values() for job in run["jobs"]}
            ended_at = first.now()
        assert state.exists()

        with life(state, receiver, start_time=ended_at + 2 * HOUR) as second:
            assert second.life == 2
            kept = {run["id"]: run for run in second.truth()["runs"]}
            assert kept[done.id] == first_truth[done.id]
            assert set(kept) == set(first_truth)
            # The run in flight goes on from where it was, and ends as it would have.
            assert until(second, in_flight.id, "completed", step=30)["conclusion"] == "failure"
            # The user's token and the installation change are still there.
            assert Api(second, token).get("/user").json()["login"] == "alice"
            listed = Api(second, token).get("/user/installations/70002/repositories").json()["repositories"]
            assert "globex/legacy" in {repo["full_name"] for repo in listed}
            new = second.trigger("acme/api", "ci", outcome="success")
            until(second, new.id, "completed", step=30, limit=4 * HOUR)
            truth = {run["id"]: run for run in second.truth()["runs"]}
            second_guids = {delivery.guid for delivery in second.deliveries()} - first_guids

    assert new.id > max(first_truth)
    assert new.run_number > max(run["run_number"] for run in first_truth.values() if run["workflow"] == "CI")
    assert {job["id"] for job in truth[new.id]["jobs"]}.isdisjoint(first_job_ids)
    assert min(job["id"] for job in truth[new.id]["jobs"]) > max(first_job_ids)
    assert truth[new.id]["created_at"] >= truth[in_flight.id]["created_at"]
    # Every delivery of the second life has a GUID no delivery of the first had.
    received = [item.guid for item in receiver.received]
    assert len(received) == len(set(received)), "a GUID was delivered twice"
    assert len(second_guids) > 10


def test_it_starts_afresh_without_a_state_file(state):
    with receiving_webhooks() as receiver, life(state, receiver, start_time=START) as sim:
        assert sim.life == 1
        assert sim.restored is None
        assert sim.truth()["runs"] == []


def test_it_refuses_a_state_file_of_another_format_with_a_clear_message(state):
    state.parent.mkdir(parents=True)
    state.write_bytes(pickle.dumps({"format": 999}))
    with pytest.raises(ValueError, match="remove it to start afresh"):
        Simulator(seed=42, mode="manual", state_path=state)
