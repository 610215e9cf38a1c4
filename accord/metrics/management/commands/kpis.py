"""``accord kpis METRIC[,METRIC...] --period P --as-of YYYY-MM-DD [--periods N]
[--organisations KEY,...] [--format table|csv|json] [--save] [--user EMAIL]``.

Prints one row per organisation and period (external key, name, period start, each metric's
value). Runs as ``--user`` or the vendor's first active administrator, so it sees what that
user sees. Bad input: a one-line message on stderr and exit status 2.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import unicodedata
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accord.metrics import selectors
from accord.metrics.engine import KpiTable, compute
from accord.metrics.services import snapshot

USAGE_ERROR = 2


def _fail(message: str) -> CommandError:
    return CommandError(message, returncode=USAGE_ERROR)


def _text(value: Any) -> str:
    return "" if value is None else str(value)


class Command(BaseCommand):
    help = "Compute KPIs for organisations and periods as of a date."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("metrics", help="Metric codes, comma-separated (e.g. revenue,growth).")
        parser.add_argument(
            "--period", default="month", help="month, quarter, year or trailing_N (N months)."
        )
        parser.add_argument("--as-of", dest="as_of", help="YYYY-MM-DD (default: today).")
        parser.add_argument("--periods", default="1", help="How many periods up to as-of.")
        parser.add_argument(
            "--organisations", default="", help="External keys, comma-separated (default: all)."
        )
        parser.add_argument("--format", default="table", choices=["table", "csv", "json"])
        parser.add_argument(
            "--explain", action="store_true", help="Include each value's inputs (json only)."
        )
        parser.add_argument("--save", action="store_true", help="Store the result as a KPI run.")
        parser.add_argument("--user", metavar="EMAIL", help="Run as this user.")

    def handle(self, *args: Any, **options: Any) -> None:
        user = selectors.system_user(options["user"])
        if user is None:
            raise _fail(
                f"No active user {options['user']}."
                if options["user"]
                else "No active vendor administrator to run as; give --user EMAIL."
            )
        as_of = self._as_of(options["as_of"])
        try:
            periods = int(options["periods"])
        except ValueError as error:
            raise _fail(f"--periods must be a whole number, not {options['periods']!r}.") from error
        try:
            organisations = selectors.kpi_organisations(user)
        except PermissionDenied as error:
            raise _fail(f"{user.email} may not read KPIs.") from error
        keys = [k.strip() for k in options["organisations"].split(",") if k.strip()]
        if keys:
            organisations = organisations.filter(external_key__in=keys)
            found = set(organisations.values_list("external_key", flat=True))
            missing = [key for key in keys if key not in found]
            if missing:
                raise _fail(f"Unknown organisation key: {', '.join(missing)}.")
        try:
            table = compute(
                options["metrics"].split(","),
                period=options["period"],
                as_of=as_of,
                organisations=organisations,
                periods=periods,
            )
        except ValueError as error:
            raise _fail(str(error)) from error
        writer = {"table": self._table, "csv": self._csv, "json": self._json}[options["format"]]
        writer(table, options["explain"])
        if options["save"]:
            try:
                run = snapshot(actor=user, table=table)
            except ValidationError as error:
                raise _fail(" ".join(error.messages)) from error
            self.stderr.write(f"Saved KPI run #{run.pk} ({len(table.rows)} rows).")

    def _as_of(self, text: str | None) -> dt.date:
        if not text:
            return dt.date.today()
        try:
            return dt.date.fromisoformat(text.strip())
        except ValueError as error:
            raise _fail(f"--as-of must be a date as YYYY-MM-DD, not {text!r}.") from error

    def _header(self, table: KpiTable) -> list[str]:
        return ["external_key", "name", "period_start", *[m.code for m in table.metrics]]

    def _cells(self, table: KpiTable) -> list[list[str]]:
        codes = [m.code for m in table.metrics]
        return [
            [row.external_key, row.name, row.period.start.isoformat()]
            + [_text(row.values.get(code)) for code in codes]
            for row in table.rows
        ]

    def _table(self, table: KpiTable, explain: bool) -> None:
        header, cells = self._header(table), self._cells(table)
        widths = [max([shown(h), *(shown(r[i]) for r in cells)]) for i, h in enumerate(header)]
        numeric = range(3, len(header))

        def line(values: list[str]) -> str:
            padded = []
            for i, (value, width) in enumerate(zip(values, widths, strict=True)):
                pad = " " * (width - shown(value))
                padded.append(pad + value if i in numeric else value + pad)
            return "  ".join(padded).rstrip()

        self.stdout.write(line(header))
        self.stdout.write(line(["-" * w for w in widths]))
        for row in cells:
            self.stdout.write(line(row))

    def _csv(self, table: KpiTable, explain: bool) -> None:
        writer = csv.writer(self.stdout, lineterminator="\n")
        writer.writerow(self._header(table))
        writer.writerows(self._cells(table))

    def _json(self, table: KpiTable, explain: bool) -> None:
        rows = []
        for row in table.rows:
            item: dict[str, Any] = {
                "external_key": row.external_key,
                "name": row.name,
                "period_start": row.period.start.isoformat(),
                "period_end": row.period.end.isoformat(),
                "complete": row.period.complete,
                "values": {code: _json_value(value) for code, value in row.values.items()},
            }
            if explain:
                item["inputs"] = row.inputs
            rows.append(item)
        document = {
            "as_of": table.as_of.isoformat(),
            "period": table.periods[0].kind,
            "metrics": [f"{m.code}@{m.version}" for m in table.metrics],
            "rows": rows,
        }
        self.stdout.write(json.dumps(document, ensure_ascii=False, indent=2))


def _json_value(value: Any) -> str | None:
    # Decimals as strings keep every digit (as the API does).
    return None if value is None else str(value)


def shown(text: str) -> int:
    """Terminal columns ``text`` takes: Chinese characters are two columns wide."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)
