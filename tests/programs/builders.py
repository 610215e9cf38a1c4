"""Builders for the programs core tests: programs through the real services, and facts
(sales lines, certifications, surveys) through the channel services, so every test reads
what the KPI engine reads."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from accord.channel.services import record_sales_lines
from accord.partners.models import Organisation
from accord.programs import services
from accord.programs.models import Program
from tests.channel.factories import CertificationFactory, sales_line
from tests.factories import OrganisationFactory

D = dt.date


def criterion(
    threshold: Any,
    metric: str = "revenue",
    comparator: str = "gte",
    window: str = "trailing_12",
) -> dict[str, Any]:
    return {
        "metric": metric,
        "comparator": comparator,
        "threshold": str(threshold),
        "window": window,
    }


def tier(code: str, *criteria: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"code": code, "name": code.title(), "criteria": list(criteria), **extra}


def ladder(
    silver: Any = 1000, gold: Any = 5000, *, grace_days: int = 90, hysteresis_pct: Any = "10"
) -> dict[str, Any]:
    """registered (no criteria) < silver (revenue ≥ silver) < gold (revenue ≥ gold), all
    over the trailing 12 months."""
    return {
        "grace_days": grace_days,
        "hysteresis_pct": str(hysteresis_pct),
        "tiers": [
            tier("registered"),
            tier("silver", criterion(silver), benefits={"discount_pct": "2"}),
            tier("gold", criterion(gold), benefits={"discount_pct": "5", "rebate_pct": "1"}),
        ],
    }


def make_program(
    actor: Any,
    content: dict[str, Any] | None = None,
    *,
    code: str = "tiers",
    publish: bool = True,
    **data: Any,
) -> Program:
    program = services.create_program(
        actor=actor,
        data={"code": code, "name": code.title(), **data},
        content=content if content is not None else ladder(),
    )
    if publish:
        services.publish_version(actor=actor, program=program)
    return Program.objects.get(pk=program.pk)


def sell(organisation: Organisation, day: dt.date, amount: Any, **fields: Any) -> None:
    """One sell-in line of ``amount`` USD on ``day`` (rollups kept current)."""
    fields.setdefault("quantity", Decimal(1))
    record_sales_lines(
        actor=None,
        lines=[
            sales_line(
                organisation, date=day, amount=Decimal(str(amount)), unit_price=None, **fields
            )
        ],
    )


def sell_many(rows: list[tuple[Organisation, dt.date, Any]]) -> None:
    record_sales_lines(
        actor=None,
        lines=[
            sales_line(
                org, date=day, amount=Decimal(str(amount)), unit_price=None, quantity=Decimal(1)
            )
            for org, day, amount in rows
        ],
    )


def certify(
    organisation: Organisation, people: int, *, earned: dt.date, expires: dt.date | None
) -> None:
    for _index in range(people):
        CertificationFactory(organisation=organisation, earned_on=earned, expires_on=expires)


def partners(count: int, **fields: Any) -> list[Organisation]:
    return [OrganisationFactory(**fields) for _index in range(count)]
