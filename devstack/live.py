"""The app served in this process, on a thread, over HTTP and WebSocket (for browser tests and benchmarks)."""

import contextlib
import threading
import time

from devstack.dynamodb_local import free_port


@contextlib.contextmanager
def live_app():
    """Serve `dashboard.asgi` with uvicorn on a free 127.0.0.1 port; yield its base URL."""
    import uvicorn
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

    from dashboard.asgi import application

    port = free_port()
    config = uvicorn.Config(
        ASGIStaticFilesHandler(application), host="127.0.0.1", port=port, lifespan="off", log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True, name="live-app")
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the live app did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
