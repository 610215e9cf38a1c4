"""Builders for the deals tests: registrations through the real services, and a temporary
gate checker (accord.core.gates) for standings that warn about or block registrations."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from accord.core import gates
from accord.deals import services
from accord.deals.models import EngagementRules, Registration

NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
TODAY = NOW.date()


def deal(**fields: Any) -> dict[str, Any]:
    """Registration data: ACME Corp. (US) for the Servers line unless told otherwise."""
    data: dict[str, Any] = {
        "customer_name": "ACME Corp.",
        "customer_country": "US",
        "product_lines": ["Servers"],
        "value": Decimal("125000.00"),
        "currency": "USD",
        "expected_close": dt.date(2026, 9, 30),
    }
    data.update(fields)
    return data


def register(actor: Any, now: dt.datetime = NOW, organisation: Any = None, **fields: Any):
    registration = services.submit_registration(
        actor=actor, data=deal(**fields), organisation=organisation, now=now
    )
    return Registration.objects.get(pk=registration.pk)


def set_rules(**values: Any) -> EngagementRules:
    rules = EngagementRules.current()
    for name, value in values.items():
        setattr(rules, name, value)
    rules.save()
    return rules


@contextmanager
def gate(level: str, reason: str = "Scorecard standing") -> Iterator[None]:
    """While inside, every organisation's deal registrations get ``level`` (warn/block)."""

    def checker(action: str, organisation_id: int) -> gates.Verdict:
        if action != "deal_registration":
            return gates.Verdict("none")
        return gates.Verdict(level, (reason,))

    def bulk(action: str) -> dict[int, gates.Block]:
        return {}

    gates.register(checker, bulk)
    try:
        yield
    finally:
        index = gates._checkers.index(checker)
        del gates._checkers[index]
        del gates._bulk_checkers[index]
