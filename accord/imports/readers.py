"""Streaming CSV and XLSX rows as lists of strings, with encoding and delimiter detection.

Files are never read whole: CSV goes through a decoding text wrapper into ``csv.reader``,
XLSX through openpyxl's read-only mode.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import datetime as dt
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from django.utils.translation import gettext as _

SAMPLE = 64 * 1024
ZIP_MAGIC = b"PK\x03\x04"
csv.field_size_limit(1024 * 1024)


class FileProblem(Exception):
    """The file as a whole cannot be read; the message says why."""

    def __init__(self, message: str, row: int | None = None) -> None:
        super().__init__(message)
        self.row = row


@dataclass
class Table:
    header: list[str]
    rows: Iterator[tuple[int, list[str]]]  # (row number as shown to people, cells)
    total: int | None
    encoding: str = ""


def _looks_binary(text: str) -> bool:
    if not text:
        return False
    controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\t\r\n\x0c")
    return controls > max(2, len(text) // 100)


def detect_encoding(sample: bytes, declared: str | None) -> str:
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if declared:
        return declared
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(sample, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    return "gb18030"


def _count_lines(source: BinaryIO) -> int | None:
    try:
        start = source.tell()
        count = 0
        last = b"\n"
        while chunk := source.read(1024 * 1024):
            count += chunk.count(b"\n")
            last = chunk[-1:]
        source.seek(start)
    except (OSError, ValueError):
        return None
    return count + (0 if last == b"\n" else 1)


def open_table(
    source: BinaryIO,
    file_name: str,
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
    sheet: str | None = None,
) -> Table:
    """Open ``source`` as CSV or XLSX (by content, then by name) and read its header."""
    source.seek(0)
    sample = source.read(SAMPLE)
    source.seek(0)
    if not sample:
        raise FileProblem(_("The file is empty."))
    if sample.startswith(ZIP_MAGIC) or file_name.lower().endswith((".xlsx", ".xlsm")):
        return _open_xlsx(source, sheet)
    if b"\x00" in sample:
        raise FileProblem(_("This is not a CSV or XLSX file (it contains binary data)."))
    chosen = detect_encoding(sample, encoding)
    try:
        probe = codecs.getincrementaldecoder(chosen)(errors="strict").decode(sample, final=False)
    except UnicodeDecodeError as error:
        raise FileProblem(
            _("The file is not valid %(encoding)s text.") % {"encoding": chosen}
        ) from error
    if _looks_binary(probe):
        raise FileProblem(_("This is not a CSV or XLSX file (it contains binary data)."))
    if delimiter is None:
        first = probe.split("\n", 1)[0]
        counts = {d: first.count(d) for d in (",", ";", "\t", "|")}
        delimiter = max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","
    total = _count_lines(source)
    text = io.TextIOWrapper(source, encoding=chosen, newline="", errors="strict")
    reader = csv.reader(text, delimiter=delimiter)
    try:
        header = next(reader, None)
    except (UnicodeDecodeError, csv.Error) as error:
        text.detach()
        raise FileProblem(
            _("The header row cannot be read: %(error)s") % {"error": error}
        ) from error
    if header is None:
        text.detach()
        raise FileProblem(_("The file is empty."))
    header = [h.strip() for h in header]

    def rows() -> Iterator[tuple[int, list[str]]]:
        number = 1
        try:
            for number, cells in enumerate(reader, 2):
                yield number, cells
        except UnicodeDecodeError as error:
            raise FileProblem(
                _("The file is not valid %(encoding)s text after row %(row)s.")
                % {"encoding": chosen, "row": number},
                row=number + 1,
            ) from error
        except csv.Error as error:
            raise FileProblem(
                _("Row %(row)s cannot be read: %(error)s") % {"row": number + 1, "error": error},
                row=number + 1,
            ) from error
        finally:
            with contextlib.suppress(ValueError):
                text.detach()

    return Table(header=header, rows=rows(), total=(total - 1) if total else None, encoding=chosen)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


def _open_xlsx(source: BinaryIO, sheet: str | None) -> Table:
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(source, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as error:
        raise FileProblem(_("This is not a readable XLSX file.")) from error
    except Exception as error:  # openpyxl raises assorted errors on corrupt workbooks
        raise FileProblem(_("This is not a readable XLSX file.")) from error
    if sheet is not None and sheet not in workbook.sheetnames:
        raise FileProblem(_("The workbook has no sheet %(sheet)s.") % {"sheet": sheet})
    worksheet = workbook[sheet] if sheet else workbook.active
    iterator = worksheet.iter_rows(values_only=True)
    try:
        first = next(iterator, None)
    except Exception as error:
        raise FileProblem(_("This is not a readable XLSX file.")) from error
    if first is None:
        raise FileProblem(_("The file is empty."))
    header = [_cell(v).strip() for v in first]
    while header and not header[-1]:
        header.pop()
    try:
        total = (worksheet.max_row or 0) - 1 or None
    except Exception:
        total = None

    def rows() -> Iterator[tuple[int, list[str]]]:
        number = 1
        try:
            for number, values in enumerate(iterator, 2):
                yield number, [_cell(v) for v in values]
        except Exception as error:  # a sheet corrupt further down: openpyxl's assorted errors
            raise FileProblem(
                _("Row %(row)s cannot be read: this is not a readable XLSX file.")
                % {"row": number + 1},
                row=number + 1,
            ) from error
        finally:
            workbook.close()

    return Table(header=header, rows=rows(), total=total, encoding="xlsx")
