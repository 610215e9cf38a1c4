"""The ``accord`` command: Django's management commands plus Accord's own (demo, serve, ...)."""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "accord.settings")
    command = argv[1] if len(argv) > 1 else "help"
    if command in {"demo", "serve"}:
        # These serve plain HTTP on loopback; cookies must not insist on TLS there.
        os.environ.setdefault("ACCORD_SECURE_TLS", "0")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["accord", *argv[1:]])


if __name__ == "__main__":
    main()
