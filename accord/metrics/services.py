"""Writes of accord.metrics: new metric versions and stored KPI snapshots, each audited."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from accord.core.errors import ValidationError
from accord.core.models import AuditEntry
from accord.core.services import create_audited, ensure_model_permitted, record
from accord.metrics.engine import CALCULATIONS, KpiTable
from accord.metrics.models import KpiRun, KpiValue, MetricDefinition

BATCH_SIZE = 2000
VALUE_LIMIT = Decimal(10) ** 18  # KpiValue.value is numeric(24, 6)


@transaction.atomic(durable=True)
def snapshot(*, actor: Any, table: KpiTable) -> KpiRun:
    """Store every value of ``table`` with its inputs and the metric version that made it,
    as one run (one audit entry for the run). ``actor=None`` is the system (CLI)."""
    ensure_model_permitted(actor, "add", KpiRun)
    definitions = {definition.code: definition for definition in table.metrics}
    run = KpiRun.objects.create(
        as_of=table.as_of,
        period=table.periods[0].kind if table.periods else "",
        metrics=[f"{d.code}@{d.version}" for d in table.metrics],
        organisation_count=len({row.organisation_id for row in table.rows}),
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    batch: list[KpiValue] = []
    count = 0
    for row in table.rows:
        inputs = row.inputs
        for code, value in row.values.items():
            if value is not None and abs(value) >= VALUE_LIMIT:
                # SQLite would store it and then fail to read it back; PostgreSQL refuses it.
                raise ValidationError(
                    {
                        "metrics": [
                            _("The %(metric)s value of organisation %(id)s is too large to store.")
                            % {"metric": code, "id": row.organisation_id}
                        ]
                    }
                )
            batch.append(
                KpiValue(
                    run=run,
                    organisation_id=row.organisation_id,
                    metric=definitions[code],
                    period_start=row.period.start,
                    period_end=row.period.end,
                    value=value,
                    inputs=inputs.get(code, {}),
                )
            )
        if len(batch) >= BATCH_SIZE:
            KpiValue.objects.bulk_create(batch)
            count += len(batch)
            batch = []
    KpiValue.objects.bulk_create(batch)
    count += len(batch)
    record(
        actor=actor,
        obj=run,
        action=AuditEntry.Action.CREATE,
        changes={
            "as_of": [None, table.as_of.isoformat()],
            "period": [None, run.period],
            "metrics": [None, run.metrics],
            "periods": [None, [p.start.isoformat() for p in table.periods]],
            "organisations": [None, run.organisation_count],
            "values": [None, count],
        },
    )
    return run


DEFINITION_FIELDS = frozenset(
    {"name", "name_zh", "description", "dimension", "calculation", "params", "unit"}
)


@transaction.atomic(durable=True)
def define_metric(
    *,
    actor: Any,
    code: str,
    data: Mapping[str, Any],
    higher_is_better: bool | None = None,
) -> MetricDefinition:
    """Create the next version of metric ``code`` (version 1 when new) from ``data`` (name,
    dimension, calculation, params, unit, ...; missing fields keep the current version's)
    and retire the current one. Parameters are checked against the calculation; no
    formula is ever evaluated as code."""
    ensure_model_permitted(actor, "add", MetricDefinition)
    unknown = set(data) - DEFINITION_FIELDS
    if unknown:
        raise ValueError(f"Unknown fields: {', '.join(sorted(unknown))}")
    current = (
        MetricDefinition.objects.select_for_update().filter(code=code, is_current=True).first()
    )
    base: dict[str, Any] = {}
    if current is not None:
        base = {name: getattr(current, name) for name in DEFINITION_FIELDS}
        base["higher_is_better"] = current.higher_is_better
    values = {**base, **data}
    if higher_is_better is not None:
        values["higher_is_better"] = higher_is_better
    calculation = CALCULATIONS.get(values.get("calculation") or "")
    if calculation is None:
        raise ValidationError(
            {
                "calculation": [
                    _("Unknown calculation. Choose one of: %(names)s.")
                    % {"names": ", ".join(sorted(CALCULATIONS))}
                ]
            }
        )
    try:
        values["params"] = calculation.clean_params(values.get("params") or {})
    except ValueError as error:
        raise ValidationError({"params": [str(error)]}) from error
    latest = (
        MetricDefinition.objects.filter(code=code)
        .order_by("-version")
        .values_list("version", flat=True)
    ).first()
    if current is not None:
        current.is_current = False
        current.save(update_fields=["is_current"])
        record(
            actor=actor,
            obj=current,
            action=AuditEntry.Action.UPDATE,
            changes={"is_current": [True, False]},
            reason=_("Replaced by version %(version)s.") % {"version": (latest or 0) + 1},
        )
    definition = MetricDefinition(
        code=code,
        version=(latest or 0) + 1,
        builtin=False,
        is_current=True,
        **values,
    )
    return create_audited(actor=actor, obj=definition)
