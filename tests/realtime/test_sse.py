"""`/events`: the catch-up from the event log, and the live stream, both limited to what the user may see."""

import json
import threading
import time

import requests
from django.test import Client

from realtime.models import Event
from runs.cache import run_record
from tests.plugins.github import sign_in
from tests.realtime.test_websocket import _change


def _alice():
    browser = Client()
    sign_in(browser, "alice")
    browser.get("/api/repos")
    return browser


def _frames(body: str) -> list[dict]:
    return [json.loads(line[6:]) for line in body.splitlines() if line.startswith("data: {") and '"kind"' in line]


def test_it_sends_what_was_missed_since_the_last_event_and_says_when_to_come_back(dynamodb, github_sim, settings):
    settings.SSE_STREAM = False
    alice = _alice()
    run_record(_change("acme/api", run_id=1))
    seen = max(event.event_id for event in Event.scan())
    run_record(_change("acme/api", run_id=2))
    run_record(_change("globex/skunkworks", run_id=3))  # dana's: alice may not see it
    run_record(_change("acme/storefront", run_id=4))  # visible, but not asked for

    response = alice.get("/events", {"repos": "acme/api,globex/skunkworks"}, HTTP_LAST_EVENT_ID=seen)

    body = b"".join(response.streaming_content).decode()
    assert response["Content-Type"] == "text/event-stream"
    assert body.startswith("retry: 3000\n\n")
    assert [frame["id"] for frame in _frames(body)] == [2]
    assert "id: " in body


def test_it_tells_the_browser_to_reread_when_the_gap_is_older_than_the_log(dynamodb, github_sim, settings):
    settings.SSE_STREAM = False
    alice = _alice()
    two_hours_ago = int((time.time() - 7200) * 1000)

    response = alice.get("/events", {"repos": "acme/api", "last_event_id": f"{two_hours_ago:013d}-00000000"})

    assert "event: reset" in b"".join(response.streaming_content).decode()


def test_it_refuses_a_signed_out_browser(client, dynamodb):
    assert client.get("/events").status_code == 401


def test_it_streams_live_changes_locally(live_app, github_sim, settings):
    alice = _alice()
    cookie = alice.cookies[settings.SESSION_COOKIE_NAME].value
    lines: list[str] = []
    connected = threading.Event()

    def listen():
        with requests.get(
            f"{live_app}/events",
            params={"repos": "acme/api,globex/skunkworks"},
            cookies={settings.SESSION_COOKIE_NAME: cookie},
            stream=True,
            timeout=10,
        ) as response:
            for line in response.iter_lines(decode_unicode=True):
                lines.append(line)
                if line.startswith("retry:"):
                    connected.set()
                if line.startswith("data: {") and '"kind"' in line:
                    return

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    assert connected.wait(10)  # the stream joined its groups before it sent this
    run_record(_change("globex/skunkworks", run_id=5))
    run_record(_change("acme/api", run_id=6))
    listener.join(10)

    frames = [json.loads(line[6:]) for line in lines if line.startswith("data: {")]
    assert [(frame["repo"], frame["id"]) for frame in frames] == [("acme/api", 6)]
    assert any(line.startswith("id: ") for line in lines)


def test_it_ends_a_stream_when_visibility_changes_so_the_browser_is_checked_again(live_app, github_sim, settings):
    from runs.visibility import visibility_invalidate

    alice = _alice()
    cookie = alice.cookies[settings.SESSION_COOKIE_NAME].value
    ended = threading.Event()
    connected = threading.Event()

    def listen():
        with requests.get(
            f"{live_app}/events",
            params={"repos": "acme/api"},
            cookies={settings.SESSION_COOKIE_NAME: cookie},
            stream=True,
            timeout=10,
        ) as response:
            for line in response.iter_lines(decode_unicode=True):
                if line.startswith("retry:"):
                    connected.set()
        ended.set()

    threading.Thread(target=listen, daemon=True).start()
    assert connected.wait(10)

    visibility_invalidate()

    assert ended.wait(10)
