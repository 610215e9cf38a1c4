"""Governance settings writes: the network-wide row (tier program, misalignment threshold,
survey, grace and warning days), changed by users who manage governance, audited."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from accord.core.errors import PermissionDenied, ValidationError
from accord.core.services import apply_changes, ensure_model_permitted
from accord.governance.models import GovernanceSettings
from accord.programs.models import Program

FIELDS = frozenset(
    {
        "tier_program",
        "misalignment_threshold",
        "survey_days_open",
        "meeting_grace_days",
        "certification_warning_days",
    }
)


def _program(actor: Any, value: Any) -> Program | None:
    """The program named by ``value`` (a Program, its id or code) that ``actor`` sees."""
    if value in (None, ""):
        return None
    queryset = Program.objects.restrict(actor, "view") if actor is not None else Program.objects
    if isinstance(value, Program):
        found = queryset.filter(pk=value.pk).first()
    elif isinstance(value, int) and not isinstance(value, bool):
        found = queryset.filter(pk=value).first() if 0 < value < 2**63 else None
    elif isinstance(value, str):
        found = queryset.filter(code=value.strip()).first()
    else:
        found = None
    if found is None:
        raise ValidationError({"tier_program": [_("Choose a program from the list.")]})
    return found


def _threshold(value: Any) -> Decimal:
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as error:
        raise ValidationError({"misalignment_threshold": [_("Enter a number.")]}) from error
    if not number.is_finite():
        raise ValidationError({"misalignment_threshold": [_("Enter a number.")]})
    return number


@transaction.atomic(durable=True)
def update_settings(*, actor: Any, data: Mapping[str, Any]) -> GovernanceSettings:
    """Change the fields given in ``data`` (others keep their values)."""
    ensure_model_permitted(actor, "change", GovernanceSettings)
    if actor is not None and not actor.has_perm("governance.manage_governance"):
        raise PermissionDenied
    if actor is not None and getattr(actor, "is_partner", False):
        raise PermissionDenied
    unknown = set(data) - FIELDS
    if unknown:
        raise ValidationError({name: [_("Unknown field.")] for name in sorted(unknown)})
    changes = dict(data)
    if "tier_program" in changes:
        changes["tier_program"] = _program(actor, changes["tier_program"])
    if "misalignment_threshold" in changes:
        changes["misalignment_threshold"] = _threshold(changes["misalignment_threshold"])
    for name in ("survey_days_open", "meeting_grace_days", "certification_warning_days"):
        if name in changes:
            value = changes[name]
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValidationError({name: [_("Enter a whole number.")]})
    GovernanceSettings.current()
    row = GovernanceSettings.objects.select_for_update().get(pk=1)
    return apply_changes(actor=actor, obj=row, data=changes)
