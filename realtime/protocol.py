"""The socket protocol, one for both stacks: what a browser may send on `/ws`, and every frame it gets back.

The local consumer (`realtime/consumers.py`) and the WebSocket Lambda (`realtime/lambda_ws.py`, through
`realtime/gateway.py`) both hand each incoming message to `respond` and carry out the `Outcome` it returns: the
subscriptions to join and leave, the frames to send, the close. Neither parses, validates, limits or frames
anything itself, so the two cannot answer differently. Pure: no I/O, no imports of `accounts` or `runs`; what a
user may see is handed in by the caller.

The browser sends (one JSON object per text frame):

- `{"type": "ping"}`: the heartbeat; answered `{"type": "pong"}`.
- `{"type": "subscribe", "repos": [...]}`: adds to the socket's subscriptions; answered
  `{"type": "subscribed", "repos": [every subscription now], "denied": [asked for, not visible]}`.
- `{"type": "unsubscribe", "repos": [...]}`: removes; answered `subscribed` with `denied: []`.

Refused with `{"type": "error", "message": ...}`, one wording each, the socket staying open and its
subscriptions unchanged: a frame that is not a JSON object (`NOT_AN_OBJECT`), an unknown or missing `type`
(`UNKNOWN_TYPE`), `repos` missing or not a list of `owner/repo` names (`BAD_REPOS`), and a subscription that
would leave more than `MAX_SUBSCRIPTIONS` (`too_many()`).

Closed, as API Gateway closes them before any Lambda runs (so the local stack does what the deployed one does):
a binary frame (1003) and a message over `MAX_MESSAGE_BYTES` (1009).
https://docs.aws.amazon.com/apigateway/latest/developerguide/websocket-api-develop-binary-media-types.html
https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-execution-service-websocket-limits-table.html

The server sends on its own: `changes` (every change since the socket's last message, at most one such message a
second: `{"type": "changes", "changes": [{"id": ..., "event": {...}}, ...]}`, oldest first; delivery is at
least once, so a browser ignores an id it already has), `reset` (a change was too big to send: the browser
re-reads its snapshot), `resubscribe` (what users may see changed: the browser subscribes again and its
repositories are checked afresh, so it gains what became visible), `subscribed` when a periodic re-check found
subscriptions the user may no longer see, and locally `hello` on connecting (API Gateway cannot send a frame
during `$connect`; nothing depends on it).

Visibility, then the limit. A subscribe keeps `(current | asked) & visible`: subscriptions the user may no
longer see are dropped at the same time, and the names the user may not see are answered as `denied`, which
costs nothing. The limit counts what would be subscribed after that filter, not what was asked: a user asking
for 600 repositories of which 400 are visible is subscribed to the 400 (and told the 200 denied); one who would
end with 501 visible subscriptions gets `at most 500 subscriptions` and keeps exactly what they had. The limit
bounds what a socket costs (fan-out rows, hub membership), and invisible names cost nothing, so counting them
would refuse a user for repositories they cannot have; all-or-nothing, because half a subscription the page
does not know about is worse than a clear refusal. The request itself is bounded by `MAX_MESSAGE_BYTES`:
500 names of typical length fit in one subscribe; a page with hundreds of long names would have to send them in
several subscribes (they add up), which live.js does not do yet.
"""

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

MAX_SUBSCRIPTIONS = 500
# API Gateway's WebSocket frame quota ("32 KB"; read as the smaller 32,000 bytes): a browser sends a message as
# one frame, and a bigger one is closed with 1009 before the Lambda is called.
MAX_MESSAGE_BYTES = 32_000

CLOSE_BINARY = 1003  # "unsupported data", as API Gateway closes a binary frame
CLOSE_TOO_BIG = 1009  # "message too big", as API Gateway closes an oversized frame
CLOSE_ACCESS_ENDED = 4401  # signed out, or the GitHub authorization revoked (local; API Gateway's close is its own)

NOT_AN_OBJECT = "messages must be JSON objects"
UNKNOWN_TYPE = "unknown message type"
BAD_REPOS = "repos must be a list of owner/repo names"

# GitHub's owner and repository names: letters, digits, `-`, `_` (managed users) and `.` (repositories).
REPO_NAME = re.compile(r"[A-Za-z0-9_.-]{1,100}/[A-Za-z0-9_.-]{1,100}")


def too_many() -> str:
    return f"at most {MAX_SUBSCRIPTIONS} subscriptions"


# What a browser asks for.


@dataclass(frozen=True)
class Ping:
    pass


@dataclass(frozen=True)
class Subscribe:
    repos: frozenset[str]


@dataclass(frozen=True)
class Unsubscribe:
    repos: frozenset[str]


Request = Ping | Subscribe | Unsubscribe


@dataclass(frozen=True)
class Refused:
    """An error answered with a frame; the socket stays open."""

    message: str


@dataclass(frozen=True)
class Close:
    """A frame the socket is closed for."""

    code: int
    reason: str


def parse(text: str | None, *, binary: bool = False) -> Request | Refused | Close:
    """One incoming frame as a request, or the error it is."""
    if binary:
        return Close(CLOSE_BINARY, "text frames only")
    text = text or ""
    if len(text) > MAX_MESSAGE_BYTES or len(text.encode("utf-8", "surrogatepass")) > MAX_MESSAGE_BYTES:
        return Close(CLOSE_TOO_BIG, "message too big")
    try:
        message = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: nested deeper than the parser goes
        return Refused(NOT_AN_OBJECT)
    if not isinstance(message, dict):
        return Refused(NOT_AN_OBJECT)
    kind = message.get("type")
    if kind == "ping":
        return Ping()
    if kind not in ("subscribe", "unsubscribe"):
        return Refused(UNKNOWN_TYPE)
    repos = message.get("repos")
    if not isinstance(repos, list) or not all(isinstance(repo, str) and REPO_NAME.fullmatch(repo) for repo in repos):
        return Refused(BAD_REPOS)
    return Subscribe(frozenset(repos)) if kind == "subscribe" else Unsubscribe(frozenset(repos))


# The frames a browser gets, each built here only.


def _frame(message: dict) -> str:
    return json.dumps(message, separators=(",", ":"))


def hello_frame(login: str) -> str:
    return _frame({"type": "hello", "login": login})


def pong_frame() -> str:
    return _frame({"type": "pong"})


def error_frame(message: str) -> str:
    return _frame({"type": "error", "message": message})


def subscribed_frame(repos: Iterable[str], denied: Iterable[str] = ()) -> str:
    return _frame({"type": "subscribed", "repos": sorted(repos), "denied": sorted(denied)})


def resubscribe_frame() -> str:
    return _frame({"type": "resubscribe"})


def reset_frame() -> str:
    """A change could not be sent (too big for a message): the browser re-reads its snapshot."""
    return _frame({"type": "reset"})


def change_item(event_id: str, data: str) -> str:
    """One change of a `changes` frame (`data`: its JSON, serialized once for every socket)."""
    return f'{{"id":{json.dumps(event_id)},"event":{data}}}'


def changes_frame(changes: Iterable[tuple[str, str]]) -> str:
    """Stored changes, oldest first, as (event id, the change's JSON)."""
    return framed_changes(change_item(event_id, data) for event_id, data in changes)


def framed_changes(items: Iterable[str]) -> str:
    """A `changes` frame of items already made by `change_item`."""
    return f'{{"type":"changes","changes":[{",".join(items)}]}}'


# What a socket does.


@dataclass(frozen=True)
class Outcome:
    """What a socket does with a message or a server-side event: its subscriptions after (None: unchanged), the
    frames to send (in order), then the close, if any."""

    subscriptions: frozenset[str] | None = None
    frames: tuple[str, ...] = ()
    close: Close | None = None

    def joined(self, before: Iterable[str]) -> frozenset[str]:
        return frozenset() if self.subscriptions is None else self.subscriptions - frozenset(before)

    def left(self, before: Iterable[str]) -> frozenset[str]:
        return frozenset() if self.subscriptions is None else frozenset(before) - self.subscriptions


def respond(
    text: str | None,
    *,
    subscriptions: Iterable[str],
    visible: Callable[[], Iterable[str]],
    binary: bool = False,
) -> Outcome:
    """The whole answer to one incoming frame. `visible()` (what the user may see) is called only for a
    well-formed subscribe: it is the caller's I/O."""
    request = parse(text, binary=binary)
    if isinstance(request, Close):
        return Outcome(close=request)
    if isinstance(request, Refused):
        return Outcome(frames=(error_frame(request.message),))
    if isinstance(request, Ping):
        return Outcome(frames=(pong_frame(),))
    if isinstance(request, Subscribe):
        return subscribe(subscriptions, request.repos, visible())
    return unsubscribe(subscriptions, request.repos)


def subscribe(current: Iterable[str], wanted: Iterable[str], visible: Iterable[str]) -> Outcome:
    """Visibility first, then the limit (see the module's docstring)."""
    asked, may_see = frozenset(wanted), frozenset(visible)
    after = (frozenset(current) | asked) & may_see
    if len(after) > MAX_SUBSCRIPTIONS:
        return Outcome(frames=(error_frame(too_many()),))
    return Outcome(after, (subscribed_frame(after, asked - may_see),))


def unsubscribe(current: Iterable[str], repos: Iterable[str]) -> Outcome:
    after = frozenset(current) - frozenset(repos)
    return Outcome(after, (subscribed_frame(after),))


def recheck(current: Iterable[str], visible: Iterable[str]) -> Outcome:
    """Access can end with no event: drop what the user may no longer see, and say so only if anything was."""
    before = frozenset(current)
    after = before & frozenset(visible)
    if after == before:
        return Outcome()
    return Outcome(after, (subscribed_frame(after),))


def resubscribe(current: Iterable[str], still_visible: Iterable[str]) -> Outcome:
    """What users may see changed: keep what is still visible (deployed, where it is not known here: nothing) and
    ask the browser to subscribe again, so it also gains what became visible."""
    return Outcome(frozenset(current) & frozenset(still_visible), (resubscribe_frame(),))


def access_ended() -> Outcome:
    return Outcome(close=Close(CLOSE_ACCESS_ENDED, "access ended"))
