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


class Stream:
    """`/events` read on a thread, line by line, as a browser's EventSource would."""

    def __init__(self, live_app, cookie, settings, repos, *, stop_at_first_change=True):
        self.lines: list[str] = []
        self.connected, self.ended = threading.Event(), threading.Event()
        self._arguments = (f"{live_app}/events", {"repos": repos}, {settings.SESSION_COOKIE_NAME: cookie})
        self._stop_at_first_change = stop_at_first_change
        threading.Thread(target=self._listen, daemon=True).start()

    def _listen(self):
        url, params, cookies = self._arguments
        with requests.get(url, params=params, cookies=cookies, stream=True, timeout=10) as response:
            for line in response.iter_lines(decode_unicode=True):
                self.lines.append(line)
                if line.startswith("retry:"):
                    self.connected.set()  # the stream joined its repositories before it sent this
                if self._stop_at_first_change and line.startswith("data: {") and '"kind"' in line:
                    break
        self.ended.set()

    def frames(self) -> list[dict]:
        return [json.loads(line[6:]) for line in self.lines if line.startswith("data: {") and '"kind"' in line]


def test_it_streams_live_changes_locally(live_app, github_sim, settings):
    alice = _alice()
    stream = Stream(live_app, alice.cookies[settings.SESSION_COOKIE_NAME].value, settings, "acme/api,globex/skunkworks")
    assert stream.connected.wait(10)

    run_record(_change("globex/skunkworks", run_id=5))
    run_record(_change("acme/api", run_id=6))

    assert stream.ended.wait(10)
    assert [(frame["repo"], frame["id"]) for frame in stream.frames()] == [("acme/api", 6)]
    assert any(line.startswith("id: ") for line in stream.lines)


def test_it_ends_a_stream_when_visibility_changes_so_the_browser_is_checked_again(live_app, github_sim, settings):
    from runs.visibility import visibility_invalidate

    alice = _alice()
    cookie = alice.cookies[settings.SESSION_COOKIE_NAME].value
    stream = Stream(live_app, cookie, settings, "acme/api", stop_at_first_change=False)
    assert stream.connected.wait(10)

    visibility_invalidate()

    assert stream.ended.wait(10)


def test_it_gives_a_new_browser_an_id_to_come_back_with(dynamodb, github_sim, settings):
    settings.SSE_STREAM = False
    alice = _alice()

    body = b"".join(alice.get("/events", {"repos": "acme/api"}).streaming_content).decode()
    marker = next(line[4:] for line in body.splitlines() if line.startswith("id: "))
    run_record(_change("acme/api", run_id=8))
    again = b"".join(alice.get("/events", {"repos": "acme/api"}, HTTP_LAST_EVENT_ID=marker).streaming_content)

    assert [frame["id"] for frame in _frames(again.decode())] == [8]


def test_it_catches_up_an_older_id_that_committed_after_the_last_one_seen(dynamodb, github_sim, settings):
    from realtime.publish import change_event, event_id

    settings.SSE_STREAM = False
    alice = _alice()
    run_record(_change("acme/api", run_id=1))
    seen = max(event.event_id for event in Event.scan())
    late = change_event("run", "acme/api", {"id": 99})
    late.event_id = event_id(int(seen.split("-")[0]) - 1000)  # another container's clock, a second behind
    late.save()

    body = b"".join(alice.get("/events", {"repos": "acme/api"}, HTTP_LAST_EVENT_ID=seen).streaming_content).decode()

    assert [frame["id"] for frame in _frames(body)] == [99]


def test_it_ends_only_the_stream_of_the_session_that_signs_out(live_app, github_sim, settings):
    from accounts.flows import user_revoke

    alice = Client(enforce_csrf_checks=True)
    sign_in(alice, "alice")
    alice.get("/")
    other_browser = _alice()
    signed_out = Stream(live_app, alice.cookies[settings.SESSION_COOKIE_NAME].value, settings, "acme/api")
    still_in = Stream(live_app, other_browser.cookies[settings.SESSION_COOKIE_NAME].value, settings, "acme/api")
    assert signed_out.connected.wait(10)
    assert still_in.connected.wait(10)

    alice.post("/auth/logout", HTTP_X_CSRFTOKEN=alice.cookies[settings.CSRF_COOKIE_NAME].value)

    assert signed_out.ended.wait(10)
    assert not still_in.ended.wait(1)
    user_revoke(1001)  # every stream of the user ends, so none is cut by the server stopping
    assert still_in.ended.wait(10)
