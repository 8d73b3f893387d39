"""The WebSocket Lambda: API Gateway's `$connect`, `$disconnect` and `$default` routes, kept light.

It is its own function (zappa_settings.json), so a socket event does not pay the whole app's start; it sets up
Django only for settings, sessions and the DynamoDB models. What a message means and what is answered is
`realtime/protocol.py`'s, shared with the local consumer; `realtime/gateway.py` carries it out.
"""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")
django.setup()

import urllib.parse  # noqa: E402
from http.cookies import CookieError, SimpleCookie  # noqa: E402

from django.conf import settings  # noqa: E402
from django.contrib.auth import SESSION_KEY  # noqa: E402
from pynamodb.exceptions import DoesNotExist  # noqa: E402

from accounts.models import UserRecord  # noqa: E402
from accounts.sessions import SessionStore  # noqa: E402
from realtime import gateway, protocol  # noqa: E402
from realtime.models import Connection  # noqa: E402
from runs.visibility import visible_names  # noqa: E402


def _cookie_header(event: dict) -> str:
    headers = {key.lower(): value for key, value in (event.get("headers") or {}).items()}
    multi = {key.lower(): value for key, value in (event.get("multiValueHeaders") or {}).items()}
    return headers.get("cookie") or "; ".join(multi.get("cookie", []))


def session_user(event: dict) -> tuple[int, str] | None:
    """The signed-in user of the session cookie on the `$connect` request, with the session key; or None."""
    cookies = SimpleCookie()
    try:
        cookies.load(_cookie_header(event))
    except CookieError:
        return None
    morsel = cookies.get(settings.SESSION_COOKIE_NAME)
    if morsel is None:
        return None
    user_id = SessionStore(morsel.value).get(SESSION_KEY)
    try:
        return (int(UserRecord.get(int(user_id)).user_id), morsel.value) if user_id is not None else None
    except (DoesNotExist, ValueError):
        return None


def origin_allowed(event: dict) -> bool:
    """Whether the handshake comes from a page of this app (a cookie alone is not enough: cross-site hijacking)."""
    headers = {key.lower(): value for key, value in (event.get("headers") or {}).items()}
    origin = urllib.parse.urlsplit(headers.get("origin", ""))
    return origin.scheme == "https" and origin.hostname in settings.ALLOWED_HOSTS


def on_connect(event: dict) -> dict:
    if not origin_allowed(event):
        return {"statusCode": 403, "body": "Unknown origin."}
    signed_in = session_user(event)
    if signed_in is None:
        return {"statusCode": 401, "body": "Sign in first."}
    user_id, session_key = signed_in
    gateway.connection_open(event["requestContext"]["connectionId"], user_id, session_key)
    return {"statusCode": 200}


def on_disconnect(event: dict) -> dict:
    gateway.connection_forget(event["requestContext"]["connectionId"])
    return {"statusCode": 200}


def on_message(event: dict) -> dict:
    connection_id = event["requestContext"]["connectionId"]
    try:
        connection = Connection.get(connection_id)
    except DoesNotExist:
        return {"statusCode": 410, "body": "Unknown connection."}
    outcome = protocol.respond(
        event.get("body"),
        # API Gateway closes a binary frame itself (1003); a body marked base64 would be one.
        binary=bool(event.get("isBase64Encoded")),
        subscriptions=connection.subscribed_repos,
        visible=lambda: visible_names(int(connection.user_id)),
    )
    gateway.outcome_carry_out(connection, outcome)
    return {"statusCode": 200}


ROUTES = {"$connect": on_connect, "$disconnect": on_disconnect, "$default": on_message}


def handler(event, context):
    """The Lambda entry point."""
    route = ROUTES.get(event.get("requestContext", {}).get("routeKey"))
    if route is None:
        return {"statusCode": 400, "body": "Unknown route."}
    return route(event)
