"""``accord programs load FILE.toml [--draft] [--user EMAIL]``: create or update tiered
programs and scorecards from a file (see docs/programs.md for the format)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accord.metrics.selectors import system_user
from accord.programs.loader import load, read

USAGE_ERROR = 2


class Command(BaseCommand):
    help = "Load tiered programs and scorecards from a TOML file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["load"])
        parser.add_argument("file", help="The TOML file.")
        parser.add_argument("--draft", action="store_true", help="Leave program changes as drafts.")
        parser.add_argument("--user", metavar="EMAIL", help="Run as this user.")

    def handle(self, *args: Any, **options: Any) -> None:
        user = system_user(options["user"])
        if user is None:
            raise CommandError(
                "No active vendor administrator to run as; give --user EMAIL.",
                returncode=USAGE_ERROR,
            )
        try:
            lines = load(actor=user, data=read(Path(options["file"])), publish=not options["draft"])
        except ValidationError as error:
            detail = (
                "; ".join(
                    f"{key}: {' '.join(messages)}" for key, messages in error.message_dict.items()
                )
                if hasattr(error, "error_dict")
                else " ".join(error.messages)
            )
            raise CommandError(detail, returncode=USAGE_ERROR) from error
        except PermissionDenied as error:
            raise CommandError(
                f"{user.email} may not change programs.", returncode=USAGE_ERROR
            ) from error
        for line in lines:
            self.stdout.write(line)
