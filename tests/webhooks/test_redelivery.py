"""Each reconciliation pass lists GitHub's deliveries on from where the last one stopped, so each is listed once,
and still redelivers what failed, including a failure GitHub records below where the last pass stopped."""

import math
from datetime import UTC, datetime

import pytest

from dashboard.lib import github
from tests.runs.conftest import settle
from webhooks.redelivery import PER_PAGE, deliveries_redeliver

LISTING = "GET /api/v3/app/hook/deliveries"
PASS_EVERY = 300  # seconds: the schedule of reconciliation (infra/schedule.tf)


@pytest.fixture
def hooked(github_sim, live_app, settings):
    """The simulator delivering its webhooks to the live app, which records each one."""
    github_sim.set_hook(url=f"{live_app}/webhooks/github", secret=settings.GITHUB_WEBHOOK_SECRET)
    return github_sim


def redeliver(sim):
    """One pass at the simulator's time: its report, what it said, and how many listing requests GitHub got."""
    said: list[str] = []
    sim.reset_counters()
    report = deliveries_redeliver(progress=said.append, now=datetime.fromtimestamp(sim.now(), UTC))
    listed = sum(sim.request_counts()["by_route"].get(LISTING, {}).values())
    return report, said, listed


def newest_id(sim) -> int:
    return max(delivery.id for delivery in sim.deliveries())


def numbered_in_flight(sim):
    """A new run's first deliveries, numbered but not yet recorded in GitHub's list: the first is the slow one."""
    repo = sim.world.repo_named("acme", "api")
    with sim.lock:
        sim.engine.start_run(repo, repo.workflows[0], event=None, branch=None, actor=None, outcome="success")
        return sim.dispatcher.take_due(sim.clock.now())


def test_it_lists_each_delivery_once_a_page_of_new_ones_at_a_time(hooked):
    hooked.trigger("acme/api", "ci", outcome="success")
    settle(hooked)
    redeliver(hooked)  # the first pass reads the whole window

    for _ in range(3):  # a pass every 5 minutes, with more than a page of new deliveries before each
        mark, started = newest_id(hooked), hooked.now()
        for _ in range(10):
            hooked.trigger("acme/api", "ci", outcome="success")
        settle(hooked)
        hooked.advance(max(0, PASS_EVERY - (hooked.now() - started)))
        new = [delivery for delivery in hooked.deliveries() if delivery.id > mark]

        report, _, listed = redeliver(hooked)

        # The new deliveries down to the last pass's newest, a page at a time, and one page of failures: 3
        # requests a pass here, where rescanning the last 20 minutes took 2, 4, then 5 (7 once 20 minutes full).
        assert listed == math.ceil((len(new) + 1) / PER_PAGE) + 1
        assert report.checked == len({delivery.guid for delivery in new})
        assert (report.redelivered, report.errors) == (0, [])


def test_it_reads_the_whole_window_on_its_first_pass(dynamodb, github_sim):
    for _ in range(8):
        github_sim.trigger("acme/api", "ci", outcome="success")
    settle(github_sim)
    every = github_sim.deliveries()

    report, _, listed = redeliver(github_sim)

    assert listed == math.ceil(len(every) / PER_PAGE)  # no mark yet, so no page of failures either
    assert report.checked == len({delivery.guid for delivery in every})


def test_it_keeps_where_it_stopped_in_dynamodb_across_a_restart(dynamodb, github_sim):
    for _ in range(8):
        github_sim.trigger("acme/api", "ci", outcome="success")
    settle(github_sim)
    redeliver(github_sim)
    github.forget_process_state()  # a new container: nothing kept in memory

    report, _, listed = redeliver(github_sim)

    assert listed == 2  # one page down to the mark, one page of failures
    assert report.checked == 0


def test_it_redelivers_a_failure_github_records_below_where_the_last_pass_stopped(dynamodb, github_sim):
    slow, *quick = numbered_in_flight(github_sim)
    for delivery in quick:
        github_sim.dispatcher.send(delivery)
    redeliver(github_sim)  # lists the quick ones, newer than the slow one
    github_sim.receiver.status = 500
    github_sim.dispatcher.send(slow)  # now recorded: failed, and older than where the pass stopped
    github_sim.receiver.status = 200
    github_sim.receiver.clear()

    report, said, listed = redeliver(github_sim)
    github_sim.advance(0)

    assert listed == 2
    assert (report.checked, report.redelivered) == (1, 1)
    assert said == [f"redelivered {slow.event} delivery {slow.guid}"]
    assert slow.guid in {received.guid for received in github_sim.receiver.received}


def test_it_lists_again_a_delivery_whose_redelivery_github_did_not_take(dynamodb, github_sim, monkeypatch):
    github_sim.receiver.status = 500
    github_sim.trigger("acme/api", "ci", outcome="success")
    failed = {delivery.guid for delivery in github_sim.deliveries()}
    github_sim.receiver.status = 200

    def refused(path, **kwargs):
        raise github.GitHubUnavailable("GitHub did not answer: ReadTimeout")

    with monkeypatch.context() as patched:  # GitHub's answer lost: a fault the simulator cannot aim at one call
        patched.setattr(github, "post", refused)
        first, _, _ = redeliver(github_sim)
    second, _, _ = redeliver(github_sim)

    assert (first.redelivered, len(first.errors)) == (0, len(failed))
    assert (second.checked, second.redelivered, second.errors) == (len(failed), len(failed), [])
