"""Rolling an import back is blocked only by a later import of the same rows: another
partner's later import neither blocks it nor is named to it."""

from __future__ import annotations

from typing import Any

import pytest

from accord.channel.models import SalesLine
from accord.imports.models import ImportBatch
from accord.imports.services import ImportRefused, rollback_import

HEADER = "source_key,organisation,direction,date,quantity,amount,currency\n"


def test_another_partners_later_import_does_not_block(
    keyed: Any, partner_a_user: Any, partner_b_user: Any, do_import: Any
) -> None:
    a = do_import(partner_a_user, "sales_lines", HEADER + "A1,R-A,sell_in,2026-02-03,2,100,USD\n")
    b = do_import(partner_b_user, "sales_lines", HEADER + "B1,R-B,sell_in,2026-02-03,2,100,USD\n")
    assert a.status == b.status == "applied"
    rollback_import(actor=partner_a_user, batch=a.batch)
    assert list(SalesLine.objects.values_list("source_key", flat=True)) == ["B1"]
    assert ImportBatch.objects.get(pk=b.batch.pk).status == ImportBatch.Status.APPLIED


def test_a_later_import_of_the_same_rows_still_blocks(
    keyed: Any, partner_a_user: Any, vendor_admin: Any, do_import: Any
) -> None:
    a = do_import(partner_a_user, "sales_lines", HEADER + "A1,R-A,sell_in,2026-02-03,2,100,USD\n")
    # The vendor moves partner A's line to partner B.
    moved = do_import(vendor_admin, "sales_lines", HEADER + "A1,R-B,sell_in,2026-03-03,2,90,USD\n")
    assert moved.status == "applied" and moved.updated == 1
    with pytest.raises(ImportRefused, match=f"#{moved.batch.pk}"):
        rollback_import(actor=partner_a_user, batch=a.batch)
    assert SalesLine.objects.get().organisation == keyed["b"]  # B's row left alone
    rollback_import(actor=vendor_admin, batch=moved.batch)
    rollback_import(actor=partner_a_user, batch=a.batch)
    assert not SalesLine.objects.exists()


def test_a_later_update_of_a_changed_master_row_blocks(
    keyed: Any, vendor_admin: Any, do_import: Any
) -> None:
    first = do_import(vendor_admin, "products", "key,name\nP-1,Renamed\nP-9,New\n")
    second = do_import(vendor_admin, "products", "key,name\nP-9,Newer\n")
    third = do_import(vendor_admin, "products", "key,name\nP-2,Other\n")
    assert first.status == second.status == third.status == "applied"
    with pytest.raises(ImportRefused, match=f"#{second.batch.pk}"):
        rollback_import(actor=vendor_admin, batch=first.batch)
