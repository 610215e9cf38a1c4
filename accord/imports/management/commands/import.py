"""``accord import KIND FILE [--mapping M.toml] [--dry-run] [--skip-invalid] [--report R.csv]``.

Runs ``imports.services.run_import`` as a user (``--user``, default: the vendor's first
active administrator), shows progress on stderr and exits 1 when the file is rejected.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, TextIO

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accord.accounts.models import User
from accord.imports.kinds import KINDS
from accord.imports.selectors import default_user, issues_csv
from accord.imports.services import ImportRefused, run_import

REPORT_LINES = 50


class Progress:
    """Rows done / total and the rate: in place on a terminal, a line every few seconds else."""

    def __init__(self, stream: TextIO, label: str, interval: float = 5.0) -> None:
        self.stream = stream
        self.label = label
        self.tty = stream.isatty()
        self.started = time.monotonic()
        self.last = 0.0
        self.interval = interval
        self.drawn = False

    def __call__(self, done: int, total: int | None) -> None:
        now = time.monotonic()
        final = total is not None and done >= total
        if not final and now - self.last < (0.2 if self.tty else self.interval):
            return
        self.last = now
        rate = done / max(now - self.started, 1e-6)
        if total:
            width = 30
            filled = min(width, int(width * done / total))
            bar = "#" * filled + "-" * (width - filled)
            text = (
                f"{self.label} [{bar}] {done:,}/{total:,} rows "
                f"({100 * done / total:.0f}%) {rate:,.0f} rows/s"
            )
        else:
            text = f"{self.label} {done:,} rows {rate:,.0f} rows/s"
        if self.tty:
            self.stream.write("\r" + text.ljust(100))
        else:
            self.stream.write(text + "\n")
        self.stream.flush()
        self.drawn = True

    def close(self) -> None:
        if self.tty and self.drawn:
            self.stream.write("\n")
            self.stream.flush()


class Command(BaseCommand):
    help = "Import a CSV or XLSX file of KIND, validated first; nothing is written if a row is bad."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=sorted(KINDS), metavar="KIND", help=", ".join(KINDS))
        parser.add_argument("file", metavar="FILE", help="CSV or XLSX file.")
        parser.add_argument("--mapping", metavar="MAPPING.toml", help="Mapping file (TOML).")
        parser.add_argument(
            "--dry-run", action="store_true", help="Validate and preview; write nothing."
        )
        parser.add_argument(
            "--skip-invalid",
            action="store_true",
            help="Import the good rows and skip the bad ones (kept in the batch's report).",
        )
        parser.add_argument("--report", metavar="REPORT.csv", help="Write every problem here.")
        parser.add_argument("--user", metavar="EMAIL", help="Run as this user.")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        mapping = None
        if options["mapping"]:
            mapping_path = Path(options["mapping"])
            if not mapping_path.is_file():
                raise CommandError(f"No such mapping file: {mapping_path}")
            try:
                mapping = mapping_path.read_bytes().decode("utf-8-sig")
            except UnicodeDecodeError as error:
                raise CommandError("The mapping file is not UTF-8 text.") from error
        if options["user"]:
            user = (
                User.objects.filter(email=options["user"].strip().lower())
                .select_related("organisation")
                .first()
            )
            if user is None:
                raise CommandError(f"No user {options['user']}.")
        else:
            user = default_user()
            if user is None:
                raise CommandError(
                    "No active administrator of the vendor organisation; create one or "
                    "give --user EMAIL."
                )
        progress = Progress(self.stderr._out, options["kind"])
        try:
            with path.open("rb") as source:
                result = run_import(
                    actor=user,
                    kind=options["kind"],
                    source=source,
                    file_name=path.name,
                    mapping=mapping,
                    dry_run=options["dry_run"],
                    skip_invalid=options["skip_invalid"],
                    progress=progress,
                )
        except ImportRefused as error:
            progress.close()
            raise CommandError(error.message) from error
        progress.close()
        summary = ", ".join(
            f"{name.replace('_', ' ')} {value:,}" for name, value in result.summary().items()
        )
        batch = f" as import #{result.batch.pk}" if result.batch else ""
        self.stdout.write(f"{result.kind}: {result.status}{batch}: {summary}")
        if options["report"]:
            Path(options["report"]).write_text(issues_csv(result.issues), encoding="utf-8")
        if result.issues:
            self.stderr.write(f"{len(result.issues):,} problem(s):")
            for issue in result.issues[:REPORT_LINES]:
                row = "file" if issue.row is None else f"row {issue.row}"
                column = f" {issue.column}" if issue.column else ""
                value = f" {issue.value!r}" if issue.value else ""
                self.stderr.write(f"  {row}{column}{value}: {issue.reason}")
            if len(result.issues) > REPORT_LINES:
                self.stderr.write(f"  ... and {len(result.issues) - REPORT_LINES:,} more")
        if result.status == "rejected":
            raise CommandError("Import rejected; nothing was written.", returncode=1)
