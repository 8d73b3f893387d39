"""In a real Chromium: changes reach the open page live, over WebSocket or SSE, and a reconnect loses nothing."""

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from runs.cache import run_record
from runs.states import RunState
from tests.runs.conftest import settle

pytestmark = pytest.mark.browser


@pytest.fixture
def hooked(github_sim, live_app, settings):
    github_sim.set_hook(url=f"{live_app}/webhooks/github", secret=settings.GITHUB_WEBHOOK_SECRET)
    github_sim.trigger("acme/api", "ci", outcome="success", branch="main")
    settle(github_sim)
    return github_sim


# The state of acme/api's CI on the overview, as a word for the test and a data attribute for the script.
STATE = 'article[data-repo="acme/api"] tr[data-workflow] .state'


def _state_is(value: str) -> str:
    """A wait_for_function predicate. A function, which Playwright compiles once: a string it evals at every poll,
    and the pages' Content-Security-Policy refuses eval."""
    return f"() => document.querySelector('{STATE}')?.dataset.state === '{value}'"


def _open(page, query=""):
    page.goto(page.app_url + "/auth/github?next=/" + query)
    page.wait_for_url(page.app_url + "/" + query)
    page.locator('#live-status[data-state="live"]').wait_for()
    return page.locator(STATE)


@pytest.mark.parametrize("transport", ["websocket", "sse"])
def test_a_webhook_change_appears_in_the_open_page_without_reload(page, hooked, transport):
    state = _open(page, "?transport=sse" if transport == "sse" else "")
    assert state.get_attribute("data-state") == "success"

    hooked.trigger("acme/api", "ci", outcome="failure", branch="main")  # its webhooks reach the live app
    hooked.advance(60)

    page.wait_for_function(f"() => !({_state_is('success')})()")
    assert page.locator(STATE).get_attribute("data-state") in ("queued", "running")
    settle(hooked)
    page.wait_for_function(_state_is("failure"))
    assert "Failing" in page.locator(STATE).inner_text()
    assert page.evaluate("window.liveClient.useSocket") is (transport == "websocket")


def test_a_user_without_access_receives_nothing_at_the_socket(signed_in_page, hooked):
    pages = {}
    for login in ("alice", "dana"):
        pages[login] = signed_in_page(login)
        pages[login].locator('#live-status[data-state="live"]').wait_for()
    assert pages["dana"].get_by_test_id("user-name").inner_text() == "Dana Diaz"

    hooked.trigger("acme/api", "ci", outcome="failure", branch="main")
    settle(hooked)
    pages["alice"].wait_for_function("() => window.liveClient.received.some(e => e.repo === 'acme/api')")

    assert pages["dana"].evaluate("window.liveClient.received.filter(e => e.repo === 'acme/api').length") == 0


def test_the_page_reconnects_and_shows_what_changed_while_it_was_cut_off(page, hooked, app_server):
    state = _open(page)
    assert state.get_attribute("data-state") == "success"
    app_server.stop()
    page.locator('#live-status[data-state="stale"]').wait_for()

    # While the page is cut off, a newer run of the workflow is stored (e.g. by reconciliation).
    truth = next(run for run in hooked.truth()["runs"] if run["repository"] == "acme/api")
    run_record(
        RunState.from_github(
            {
                "id": truth["id"] + 1,
                "workflow_id": next(
                    w.id for w in hooked.world.repo_named("acme", "api").workflows if w.spec.key == "ci"
                ),
                "name": "CI",
                "status": "completed",
                "conclusion": "cancelled",
                "run_number": truth["run_number"] + 1,
                "head_branch": "main",
                "updated_at": (datetime.now(UTC) + timedelta(hours=1)).isoformat(),
                "repository": {"full_name": "acme/api", "default_branch": "main"},
            }
        )
    )
    app_server.start()

    page.locator('#live-status[data-state="live"]').wait_for(timeout=30_000)
    page.wait_for_function(_state_is("cancelled"))
    assert json.loads(page.evaluate("JSON.stringify(window.liveClient.state)")) == "live"


def test_the_page_shows_each_change_once_when_the_stream_delivers_it_again(page, hooked, stream, settings):
    """The stream delivers at least once: a reader killed after sending a batch and before keeping its position
    sends that batch again when it starts. Here that state is made by putting the kept position back."""
    from pipeline.local import reader_start, reader_stop

    state = _open(page)
    assert state.get_attribute("data-state") == "success"
    positions = Path(settings.STREAM_LOCAL_STATE_DIR) / "positions.json"
    assert stream.caught_up()
    before = positions.read_text()

    hooked.trigger("acme/api", "ci", outcome="failure", branch="main")
    settle(hooked)
    page.wait_for_function(_state_is("failure"))
    assert stream.caught_up()
    received = page.evaluate("window.liveClient.received.length")
    reader_stop()
    positions.write_text(before)  # as if killed before keeping the position of what it just sent
    again = reader_start()
    assert again.caught_up()

    ids = page.evaluate("window.liveClient.arrivals.map(arrival => arrival[0])")
    assert len(ids) == len(set(ids)) == received  # the batch came again, and nothing was applied twice
    assert page.locator(STATE).get_attribute("data-state") == "failure"
