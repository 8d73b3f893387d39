"""`manage.py runserver` over ASGI, so local runs serve HTTP and the `/ws` WebSocket from one process.

Django's own runserver is WSGI only. This keeps its options, system checks and auto-reload, and hands the
socket to uvicorn (a development dependency: it is imported here only, never on Lambda).
"""

from django.conf import settings
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler
from django.contrib.staticfiles.management.commands.runserver import Command as StaticfilesRunserver
from django.utils import autoreload


class Command(StaticfilesRunserver):
    help = "Serve the app over ASGI (HTTP and WebSocket) for local development."

    # Set by Django's runserver handle() before inner_run(); django-stubs does not declare them.
    addr: str
    port: str
    _raw_ipv6: bool

    def inner_run(self, *args, **options):
        # Imported in the serving process only: with auto-reload on, the parent that watches files never serves,
        # and dashboard/asgi.py sets up the whole application when imported.
        import uvicorn

        from dashboard.asgi import application

        autoreload.raise_last_exception()
        if not options["skip_checks"]:
            self.stdout.write("Performing system checks...")
            self.check(display_num_errors=True)
        if options["use_static_handler"] and (settings.DEBUG or options["insecure_serving"]):
            application = ASGIStaticFilesHandler(application)
        host = f"[{self.addr}]" if self._raw_ipv6 else self.addr
        self.stdout.write(f"Actions Dashboard at http://{host}:{self.port}/ (HTTP and WebSocket). Ctrl-C stops it.")
        self.stdout.flush()
        config = uvicorn.Config(
            application,
            host=self.addr,
            port=int(self.port),
            lifespan="off",
            log_level="warning",
            ws="websockets-sansio",
        )
        # uvicorn installs its signal handlers only in the main thread; under the auto-reloader this runs in
        # Django's worker thread and the reloader's own handling applies.
        uvicorn.Server(config).run()
