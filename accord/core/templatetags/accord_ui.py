"""Template helpers of the web UI: audit changes made readable, small formatting filters."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms, template
from django.core.exceptions import FieldDoesNotExist
from django.utils.formats import number_format
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from accord.core.models import AuditEntry

register = template.Library()

EMPTY = "—"
# Bookkeeping columns that say nothing to a reader of the history.
HIDDEN_FIELDS = frozenset({"path", "depth", "created_at", "updated_at", "key_hash", "password"})


def _show(value: Any, choices: Mapping[Any, Any]) -> str:
    if value is None or value == "" or value == []:
        return EMPTY
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, list):
        return ", ".join(_show(item, choices) for item in value)
    if isinstance(value, Mapping):
        # An agreement's KPI target row.
        if "metric" in value:
            parts = [
                value.get("metric"),
                value.get("comparator"),
                value.get("target"),
                value.get("unit"),
            ]
            text = " ".join(str(part) for part in parts if part not in (None, ""))
            return f"{text} / {value.get('period', '')}"
        return ", ".join(f"{k}: {_show(v, {})}" for k, v in value.items())
    if choices and value in choices:
        return str(choices[value])
    return str(value)


@register.filter
def audit_changes(entry: AuditEntry) -> list[dict[str, str]]:
    """``[{"label", "before", "after"}]`` for each changed field, with labels and choice names."""
    model = entry.content_type.model_class() if entry.content_type_id else None
    rows = []
    changes = entry.changes if isinstance(entry.changes, Mapping) else {}
    for name, pair in changes.items():
        if name in HIDDEN_FIELDS:
            continue
        if isinstance(pair, list | tuple) and len(pair) == 2:
            before, after = pair
        else:
            before, after = None, pair
        label: str = str(name)
        choices: Mapping[Any, Any] = {}
        field = None
        if model is not None:
            try:
                field = model._meta.get_field(name)
            except FieldDoesNotExist:
                field = None
            if field is not None:
                label = capfirst(str(getattr(field, "verbose_name", name)))
                if getattr(field, "choices", None):
                    choices = dict(field.flatchoices)
            elif name in getattr(model, "audit_labels", {}):  # audited values that are no field
                label = capfirst(str(model.audit_labels[name]))
        owner_model = AuditEntry.organisation.field.related_model
        if (
            field is not None
            and getattr(field, "related_model", None) is owner_model
            and entry.organisation_id in (before, after)
        ):
            # The owning organisation is named (whoever reads this history sees it); other
            # related rows stay ids, since the reader may not be allowed to see them.
            owner = (
                owner_model._default_manager.filter(pk=entry.organisation_id)
                .values_list("name", flat=True)
                .first()
            )
            choices = {entry.organisation_id: owner} if owner else {}
        shown_before, shown_after = _show(before, choices), _show(after, choices)
        rows.append(
            {
                "label": label,
                "before": shown_before,
                "after": shown_after,
                "set": shown_before == EMPTY,
                "cleared": shown_after == EMPTY,
            }
        )
    return rows


@register.filter
def model_label(entry: AuditEntry) -> str:
    """The translated name of the kind of object an audit entry is about."""
    model = entry.content_type.model_class() if entry.content_type_id else None
    return capfirst(str(model._meta.verbose_name)) if model is not None else ""


@register.filter
def is_wide(bound_field: forms.BoundField) -> bool:
    """Text areas and checkbox lists span the whole form row."""
    return isinstance(bound_field.field.widget, forms.Textarea | forms.CheckboxSelectMultiple)


@register.filter
def number(value: Any) -> str:
    """A decimal in the current locale's format, without trailing zeros (1,234,567.5)."""
    if value is None or value == "":
        return ""
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value)
    if not amount.is_finite():
        return str(amount)
    exponent = amount.normalize().as_tuple().exponent
    places = max(0, -exponent) if isinstance(exponent, int) else 0
    return number_format(amount, decimal_pos=places, use_l10n=True, force_grouping=True)
