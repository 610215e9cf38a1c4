"""Writes of accord.channel outside the import engine: recording sales lines (demo, tests, API).

The mapped import (``accord.imports``) has its own write path; this one is for callers that
already hold model instances. Each call is one durable transaction: lines, rollups, audit.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils.translation import gettext as _

from accord.channel.models import SalesLine, month_key
from accord.channel.money import MissingRate, RateTable
from accord.channel.rollups import refresh_sales_rollups
from accord.core import gates
from accord.core.errors import ValidationError
from accord.core.models import SCOPE_ALL, AuditEntry
from accord.core.services import ensure_model_permitted
from accord.partners.models import Organisation

BATCH_SIZE = 2000
DIRECTIONS = frozenset(SalesLine.Direction.values)


def _check_organisations(actor: Any, organisation_ids: set[int]) -> None:
    """Every line's organisation must exist and lie inside the actor's scope."""
    existing = set(
        Organisation.objects.filter(pk__in=organisation_ids).values_list("pk", flat=True)
    )
    if actor is not None and actor.access_scope != SCOPE_ALL:
        existing = set(
            Organisation.objects.filter(pk__in=existing)
            .filter(pk__in=actor.visible_organisation_ids())
            .values_list("pk", flat=True)
        )
    if existing != organisation_ids:
        raise ValidationError({"organisation": [_("Unknown organisation.")]})


def _prepare(lines: Sequence[SalesLine], rates: RateTable) -> dict[str, list[str]]:
    """Set ``month`` and ``amount_base`` on each line; the problems found, by field."""
    errors: dict[str, list[str]] = {}
    seen: set[str] = set()
    for number, line in enumerate(lines, 1):
        if not line.source_key or line.source_key in seen:
            errors.setdefault("source_key", []).append(
                _("Line %(n)s: a unique source key is required.") % {"n": number}
            )
        seen.add(line.source_key)
        if line.direction not in DIRECTIONS:
            errors.setdefault("direction", []).append(
                _("Line %(n)s: unknown direction.") % {"n": number}
            )
        if line.date is None or line.amount is None or line.quantity is None:
            errors.setdefault("date", []).append(
                _("Line %(n)s: date, quantity and amount are required.") % {"n": number}
            )
            continue
        if line.quantity < 0:
            errors.setdefault("quantity", []).append(
                _("Line %(n)s: the quantity cannot be negative.") % {"n": number}
            )
        line.month = month_key(line.date)
        line.currency = (line.currency or rates.base).upper()
        try:
            line.amount_base = rates.to_base(line.amount, line.currency, line.date)
        except MissingRate as missing:
            errors.setdefault("currency", []).append(
                _("Line %(n)s: no %(currency)s exchange rate on or before %(day)s.")
                % {"n": number, "currency": missing.currency, "day": missing.day.isoformat()}
            )
    return errors


@transaction.atomic(durable=True)
def record_sales_lines(*, actor: Any, lines: Sequence[SalesLine]) -> int:
    """Insert ``lines`` (unsaved instances), keep the rollups current and audit the batch.

    Sets each line's ``month`` and converts ``amount`` to ``amount_base`` through the dated
    exchange rates (``cost_base`` is taken as given, already in the base currency). All or
    nothing: any bad line, an organisation outside the actor's scope or a source key that
    already exists refuses the whole batch. ``actor=None`` is the system (demo, CLI).
    Returns the number of lines written.
    """
    if not lines:
        return 0
    if actor is not None:
        ensure_model_permitted(actor, "add", SalesLine)
    _check_organisations(actor, {line.organisation_id for line in lines})
    rates = RateTable.load({(line.currency or "").upper() for line in lines})
    errors = _prepare(lines, rates)
    keys = [line.source_key for line in lines]
    taken = {
        key
        for start in range(0, len(keys), BATCH_SIZE)
        for key in SalesLine.objects.filter(
            source_key__in=keys[start : start + BATCH_SIZE]
        ).values_list("source_key", flat=True)
    }
    if any(line.direction == SalesLine.Direction.SELL_IN for line in lines):
        blocked = gates.blocked("orders")
        reasons = {
            blocked[line.organisation_id].reason
            for line in lines
            if line.organisation_id in blocked
            and line.direction == SalesLine.Direction.SELL_IN
            and line.date > blocked[line.organisation_id].since
        }
        if reasons:
            errors.setdefault("organisation", []).extend(sorted(reasons))
    if taken:
        errors.setdefault("source_key", []).append(
            _("Already recorded: %(keys)s.") % {"keys": ", ".join(sorted(taken)[:10])}
        )
    if errors:
        raise ValidationError(errors)
    SalesLine.objects.bulk_create(lines, batch_size=BATCH_SIZE)
    refresh_sales_rollups({(line.organisation_id, line.month) for line in lines})
    organisations = sorted({line.organisation_id for line in lines})
    months = sorted({line.month for line in lines})
    AuditEntry.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        actor_label=getattr(actor, "email", None) or "system",
        action=AuditEntry.Action.CREATE,
        content_type=ContentType.objects.get_for_model(SalesLine),
        object_id="",
        object_repr=_("%(count)s sales lines") % {"count": len(lines)},
        organisation_id=organisations[0] if len(organisations) == 1 else None,
        changes={
            "lines": [None, len(lines)],
            "organisations": [None, organisations[:100]],
            "months": [None, [months[0], months[-1]]],
        },
    )
    return len(lines)
