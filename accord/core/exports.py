"""Table exports shared by every page: streaming CSV and XLSX (openpyxl) of header + rows.

Cells are written as data, never as formulas: a text cell that a spreadsheet would run
(``=``, ``+``, ``-``, ``@`` ...) is prefixed with an apostrophe (CSV injection).
"""

from __future__ import annotations

import csv
import datetime as dt
import re
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from typing import Any

from django.http import FileResponse, HttpResponse, StreamingHttpResponse
from django.utils.text import get_valid_filename

FORMATS = ("csv", "xlsx")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMULA_START = re.compile(r"^[=+\-@\t\r]")
SHEET_TITLE_BAD = re.compile(r"[\\/*?:\[\]]")


def safe_text(value: str) -> str:
    """``value`` made inert for spreadsheets (a leading formula character is escaped)."""
    return f"'{value}" if FORMULA_START.match(value) else value


def csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, Decimal, float)):
        return str(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return safe_text(str(value))


class _Echo:
    """A file-like object whose write() hands the line back (for streaming csv.writer)."""

    def write(self, value: str) -> str:
        return value


def _csv_lines(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield "\ufeff"  # a BOM so that spreadsheet programs read UTF-8 (Chinese names) correctly
    yield writer.writerow([csv_cell(name) for name in header])
    for row in rows:
        yield writer.writerow([csv_cell(value) for value in row])


def _attachment(filename: str) -> str:
    return f'attachment; filename="{get_valid_filename(filename) or "export"}"'


def csv_response(
    filename: str, header: Sequence[str], rows: Iterable[Sequence[Any]]
) -> StreamingHttpResponse:
    """A streaming CSV download: rows are written as the iterable yields them."""
    response = StreamingHttpResponse(_csv_lines(header, rows), content_type="text/csv")
    response["Content-Disposition"] = _attachment(filename)
    return response


def xlsx_cell(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, dt.date, dt.datetime)):
        return value
    if isinstance(value, Decimal):
        # openpyxl stores numbers as floats; a Decimal keeps its exact digits as a number
        # cell up to 15 significant digits, which covers every amount we show.
        return value
    return safe_text(str(value))


def xlsx_response(
    filename: str, header: Sequence[str], rows: Iterable[Sequence[Any]], *, title: str = "Export"
) -> HttpResponse:
    """An XLSX download written with openpyxl's write-only mode (rows never all in memory;
    the workbook is spooled to a temporary file)."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=SHEET_TITLE_BAD.sub(" ", title)[:31] or "Export")
    sheet.append([xlsx_cell(name) for name in header])
    for row in rows:
        sheet.append([xlsx_cell(value) for value in row])
    spool = tempfile.TemporaryFile()  # noqa: SIM115 (FileResponse closes it when sent)
    workbook.save(spool)
    spool.seek(0)
    response = FileResponse(spool, content_type=XLSX_TYPE)
    response["Content-Disposition"] = _attachment(filename)
    return response


def table_response(
    fmt: str,
    basename: str,
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    title: str = "Export",
) -> HttpResponse | StreamingHttpResponse:
    """``fmt`` ("csv" or "xlsx") download of the table, named ``basename.fmt``."""
    if fmt == "xlsx":
        return xlsx_response(f"{basename}.xlsx", header, rows, title=title)
    return csv_response(f"{basename}.csv", header, rows)
