"""Review: odd files and mappings never raise out of run_import."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import pytest

HEADER = "source_key,organisation,direction,date,quantity,amount,currency\n"
GOOD = HEADER + "L1,R-A,sell_in,2026-02-03,2,100.00,USD\n"


def junk_zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("hello.txt", "junk")
    return out.getvalue()


def bad_xlsx() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("[Content_Types].xml", "<nope")
        z.writestr("xl/workbook.xml", "<<<")
    return out.getvalue()


FILES = [
    ("empty.csv", b""),
    ("nul.csv", GOOD.encode().replace(b"L1", b"L\x001")),
    ("nulhdr.csv", b"\x00" + GOOD.encode()),
    ("junk.xlsx", junk_zip()),
    ("bad.xlsx", bad_xlsx()),
    ("text.xlsx", GOOD.encode()),
    ("bin.csv", bytes(range(256)) * 10),
    ("latin.csv", GOOD.replace("L1", "Lé").encode("latin-1")),
    ("only-header.csv", HEADER.encode()),
    ("long.csv", (HEADER + "L1,R-A,sell_in,2026-02-03,2," + "9" * 5000 + ",USD\n").encode()),
    ("longkey.csv", (HEADER + "L" * 5000 + ",R-A,sell_in,2026-02-03,2,1,USD\n").encode()),
    (
        "date.csv",
        (
            HEADER + "L1,R-A,sell_in,0001-01-01,2,1,USD\nL2,R-A,sell_in,9999-12-31,2,1,USD\n"
        ).encode(),
    ),
    (
        "qty.csv",
        (
            HEADER
            + "L1,R-A,sell_in,2026-01-01,1e999999,1,USD\n"
            + "L2,R-A,sell_in,2026-01-01,NaN,Infinity,USD\n"
        ).encode(),
    ),
    ("cur.csv", (HEADER + "L1,R-A,sell_in,2026-01-01,1,1,\x00\x00\x00\n").encode()),
    ("quote.csv", (HEADER + 'L1,"R-A,sell_in\n').encode()),
    (
        "wide.csv",
        (HEADER.strip() + ",x" * 3000 + "\n" + "L1,R-A,sell_in,2026-02-03,2,1,USD\n").encode(),
    ),
    ("dup-header.csv", b"source_key,source_key,organisation\nL1,L2,R-A\n"),
]


@pytest.mark.parametrize(("name", "data"), FILES, ids=[f[0] for f in FILES])
def test_odd_files(keyed: Any, vendor_admin: Any, do_import: Any, name: str, data: bytes) -> None:
    result = do_import(vendor_admin, "sales_lines", data, file_name=name, dry_run=True)
    assert result.status in ("rejected", "dry_run")


MAPPINGS = [
    'encoding = "rot13"',
    'encoding = "base64"',
    'encoding = "zlib"',
    'encoding = "hex"',
    'delimiter = "\\""',
    'delimiter = "\\n"',
    'delimiter = "\\r"',
    'delimiter = " "',
    "sheet = 5",
    'decimal_separator = ""',
    'thousands_separator = "0"',
    'decimal_separator = ","\nthousands_separator = ","',
    'date_format = "%"',
    'date_format = ["%Q"]',
    "date_format = 5",
    "null_values = [1]",
    '[fields]\ndate = { column = "date", format = "%Y-%m-%d%%%" }',
    "[fields]\ndate = { column = 5 }",
    '[fields]\namount = { column = "amount", values = { "100.00" = 3 } }',
    '[fields]\namount = { column = "amount", default = 1.5 }',
    '[fields]\namount = { template = "{amount|nope}" }',
    '[fields]\namount = { template = "{nope}" }',
    '[fields]\namount = { template = "{" }',
    "[fields]\nquantity = { value = true }",
    "[source_key]\ncolumns = []",
    '[source_key]\ncolumns = ["nope"]',
    "source_key = 5",
    '[[skip]]\ncolumn = "nope"\nequals = "x"',
    '[[skip]]\ncolumn = "amount"\nempty = "yes"',
    "skip = 5",
    "kind = 5",
    "fields = 5",
    '[constants]\norganisation = "R-B"',
    "[constants]\ndate = 2026-01-01",
    "[constants]\nquantity = 1e400",
]


@pytest.mark.parametrize("mapping", MAPPINGS)
def test_odd_mappings(keyed: Any, vendor_admin: Any, do_import: Any, mapping: str) -> None:
    from accord.imports.services import ImportRefused

    try:
        result = do_import(vendor_admin, "sales_lines", GOOD, mapping, dry_run=True)
    except ImportRefused:
        return
    assert result.status in ("rejected", "dry_run")


NUL_FILES = [
    ("sales_lines", HEADER + "L\x001,R-A,sell_in,2026-02-03,2,100.00,USD\n"),
    (
        "sales_lines",
        "source_key,organisation,direction,date,quantity,amount,currency,order_number\n"
        "L1,R-A,sell_in,2026-02-03,2,100.00,USD,S\x00O\n",
    ),
    ("contacts", "external_key,organisation,full_name,email\nC\x001,R-A,Ann\x00,a@b.test\n"),
    ("products", "key,name\nP\x00-9,Bi\x00ke\n"),
]


@pytest.mark.parametrize(("kind", "data"), NUL_FILES)
def test_nul_bytes_applied(
    keyed: Any, vendor_admin: Any, do_import: Any, kind: str, data: str
) -> None:
    result = do_import(vendor_admin, kind, data)
    assert result.status in ("rejected", "applied"), result.issues
    if result.status == "applied":
        from accord.channel.models import SalesLine
        from accord.partners.models import Contact

        assert not SalesLine.objects.filter(order_number__contains="\x00").exists()
        assert not Contact.objects.filter(full_name__contains="\x00").exists()


def corrupt_after_header() -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(
        ["source_key", "organisation", "direction", "date", "quantity", "amount", "currency"]
    )
    for n in range(50):
        sheet.append([f"L{n}", "R-A", "sell_in", "2026-02-03", 2, 100, "USD"])
    out = io.BytesIO()
    book.save(out)
    source = zipfile.ZipFile(io.BytesIO(out.getvalue()))
    target = io.BytesIO()
    with zipfile.ZipFile(target, "w") as z:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                cut = data.index(b'<row r="3"')
                data = data[:cut] + b'<row r="3"><c r="A3" t="s"><v>999</v></c></row><<garbage'
            z.writestr(item, data)
    return target.getvalue()


def test_corrupt_xlsx_after_header(keyed: Any, vendor_admin: Any, do_import: Any) -> None:
    result = do_import(vendor_admin, "sales_lines", corrupt_after_header(), file_name="x.xlsx")
    assert result.status == "rejected"


def test_nul_after_sample(keyed: Any, vendor_admin: Any, do_import: Any) -> None:
    body = "".join(f"L{n},R-A,sell_in,2026-02-03,2,100.00,USD\n" for n in range(3000))
    result = do_import(vendor_admin, "sales_lines", HEADER + body + "X\x00,R-A\n")
    assert result.status == "rejected"
