"""``accord serve``: the production-style server (gunicorn running ``accord.wsgi``)."""

from __future__ import annotations

import os
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = (
        "Serve Accord with gunicorn (threaded workers). Static files are served from the "
        "installed packages unless --no-static is given (then a reverse proxy serves "
        "STATIC_ROOT after `accord collectstatic`)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="Address to bind.")
        parser.add_argument("--port", type=int, default=8000, help="Port to bind.")
        parser.add_argument(
            "--workers",
            type=int,
            default=int(os.environ.get("ACCORD_WEB_WORKERS", "0")) or min(os.cpu_count() or 1, 4),
            help="Worker processes (default: CPUs, at most 4; ACCORD_WEB_WORKERS).",
        )
        parser.add_argument(
            "--threads",
            type=int,
            default=int(os.environ.get("ACCORD_WEB_THREADS", "4")),
            help="Threads per worker (ACCORD_WEB_THREADS, default 4).",
        )
        parser.add_argument(
            "--no-static", action="store_true", help="Leave /static/ to a reverse proxy."
        )
        parser.add_argument(
            "--no-migrate", action="store_true", help="Do not apply pending migrations first."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["no_migrate"]:
            call_command("migrate", interactive=False, verbosity=0)
        from django.core.wsgi import get_wsgi_application
        from gunicorn.app.base import BaseApplication

        application = get_wsgi_application()  # what accord.wsgi exposes
        wsgi: Any = application
        if not options["no_static"]:
            from django.contrib.staticfiles.handlers import StaticFilesHandler

            # Serves /static/ from the apps' and packages' static folders (no build step,
            # no CDN); a reverse proxy in front can take this over with --no-static.
            wsgi = StaticFilesHandler(application)

        bind = f"{options['host']}:{options['port']}"
        config = {
            "bind": bind,
            "workers": options["workers"],
            "threads": options["threads"],
            "worker_class": "gthread",
            "accesslog": "-",
            "errorlog": "-",
            "timeout": 60,
            "graceful_timeout": 10,
            "forwarded_allow_ips": os.environ.get("ACCORD_FORWARDED_ALLOW_IPS", "127.0.0.1"),
        }

        class AccordServer(BaseApplication):
            def load_config(self) -> None:
                for key, value in config.items():
                    self.cfg.set(key, value)

            def load(self) -> Any:
                return wsgi

        self.stdout.write(f"Serving Accord on http://{bind}/ with gunicorn")
        AccordServer().run()
