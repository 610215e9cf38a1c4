"""Reads of accord.imports: the import history through ``restrict()`` and the report CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

from django.db.models import Q, QuerySet

from accord.accounts.models import User
from accord.core.errors import Http404
from accord.imports.models import ImportBatch


def list_batches(
    user: Any, *, kind: str | None = None, status: str | None = None, **filters: Any
) -> QuerySet[ImportBatch]:
    """Imports ``user`` may see, newest first (partner staff: their organisation's)."""
    queryset = ImportBatch.objects.restrict(user, "view").select_related(
        "created_by", "rolled_back_by", "organisation"
    )
    if kind:
        queryset = queryset.filter(kind=kind)
    if status:
        queryset = queryset.filter(status=status)
    return queryset.order_by("-started_at", "-pk")


def get_batch(user: Any, pk: int) -> ImportBatch:
    """One visible import, else 404."""
    try:
        return list_batches(user).get(pk=pk)
    except (ImportBatch.DoesNotExist, ValueError, TypeError, OverflowError) as error:
        raise Http404 from error


def default_user() -> User | None:
    """Who ``accord import`` runs as by default: the vendor's first active administrator
    (a superuser or a holder of the administrator role)."""
    return (
        User.objects.filter(organisation__is_vendor=True, is_active=True)
        .filter(Q(is_superuser=True) | Q(roles__code="administrator"))
        .order_by("pk")
        .select_related("organisation")
        .first()
    )


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    # Spreadsheets run cells that start like a formula; keep them as text.
    return "'" + text if text[:1] in ("=", "+", "-", "@") and not _number(text) else text


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def issues_csv(issues: Iterable[Any]) -> str:
    """The row report as CSV: row, column, value, reason (row empty for file problems)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["row", "column", "value", "reason"])
    for issue in issues:
        item = issue if isinstance(issue, dict) else issue.as_dict()
        writer.writerow(
            [
                "" if item.get("row") is None else item["row"],
                _cell(item.get("column", "")),
                _cell(item.get("value", "")),
                _cell(item.get("reason", "")),
            ]
        )
    return out.getvalue()
