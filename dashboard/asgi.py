"""ASGI entry point for local runs: HTTP through Django, WebSocket (`/ws`) through Channels, and the local stream
reader that feeds the pipeline (pipeline/local.py)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")

# Django must be set up before anything imports models, so the HTTP app comes first.
http_application = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from realtime.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": http_application,
        # The session cookie authenticates the socket, as it does a page.
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)

from django.conf import settings  # noqa: E402

if settings.STREAM_LOCAL_READER:
    # What the event source mapping does deployed: the events table's stream, read here, feeds the pipeline.
    from pipeline.local import reader_start

    reader_start()
