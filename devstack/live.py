"""The app served in this process, on a thread, over HTTP and WebSocket (for browser tests and benchmarks)."""

import contextlib
import threading
import time

from devstack.dynamodb_local import free_port


class LiveServer:
    """uvicorn serving `dashboard.asgi` on one 127.0.0.1 port; it can be stopped and started again there."""

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._server = None
        self._thread = None

    def start(self) -> "LiveServer":
        import uvicorn
        from django.conf import settings
        from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

        from dashboard.asgi import application
        from pipeline.local import reader_start

        config = uvicorn.Config(
            ASGIStaticFilesHandler(application),
            host="127.0.0.1",
            port=self.port,
            lifespan="off",
            log_level="warning",
            ws="websockets-sansio",  # as `runserver`
        )
        if settings.STREAM_LOCAL_READER:
            reader_start()  # as importing dashboard.asgi does, once: again if something stopped it since
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True, name="live-app")
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the live app did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        """Stop serving: open sockets and streams are cut, as when a server goes away."""
        self._server.should_exit = True
        self._server.force_exit = True
        self._thread.join(timeout=10)


@contextlib.contextmanager
def live_app():
    """Serve the app on a free port; yield its base URL."""
    server = LiveServer().start()
    try:
        yield server.url
    finally:
        server.stop()
