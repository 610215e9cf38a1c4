"""The settings service behind the settings page and the API: managers only, the program by
id or code among those the actor sees, every value validated, every change audited."""

from __future__ import annotations

from decimal import Decimal

import pytest

from accord.core.errors import PermissionDenied, ValidationError
from accord.core.models import AuditEntry
from accord.governance.models import GovernanceSettings
from accord.governance.services.settings import update_settings
from tests.leads.builders import tier_program

pytestmark = pytest.mark.django_db


def test_only_managers_change_the_settings(partner_a_user, analyst, channel_manager):
    for user in (partner_a_user, analyst):
        with pytest.raises(PermissionDenied):
            update_settings(actor=user, data={"meeting_grace_days": 3})
    assert GovernanceSettings.current().meeting_grace_days == 7
    update_settings(actor=channel_manager, data={"meeting_grace_days": 3})
    assert GovernanceSettings.current().meeting_grace_days == 3
    entry = AuditEntry.objects.filter(object_id="1").latest("pk")
    assert entry.changes == {"meeting_grace_days": [7, 3]}


def test_the_program_is_named_by_id_or_code(channel_manager):
    program = tier_program(code="govtiers")
    update_settings(actor=channel_manager, data={"tier_program": "govtiers"})
    assert GovernanceSettings.current().tier_program == program
    update_settings(actor=channel_manager, data={"tier_program": None})
    assert GovernanceSettings.current().tier_program is None
    update_settings(actor=channel_manager, data={"tier_program": program.pk})
    assert GovernanceSettings.current().tier_program == program
    for bad in ("nope", 2**70, 3.5, True):
        with pytest.raises(ValidationError) as error:
            update_settings(actor=channel_manager, data={"tier_program": bad})
        assert "tier_program" in error.value.message_dict


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"misalignment_threshold": "abc"}, "misalignment_threshold"),
        ({"misalignment_threshold": "NaN"}, "misalignment_threshold"),
        ({"misalignment_threshold": "9"}, "misalignment_threshold"),
        ({"survey_days_open": 0}, "survey_days_open"),
        ({"survey_days_open": "5"}, "survey_days_open"),
        ({"certification_warning_days": True}, "certification_warning_days"),
        ({"meeting_grace_days": 91}, "meeting_grace_days"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_bad_values_are_field_errors(channel_manager, data, field):
    with pytest.raises(ValidationError) as error:
        update_settings(actor=channel_manager, data=data)
    assert field in error.value.message_dict
    current = GovernanceSettings.current()
    assert current.misalignment_threshold == Decimal("1.0") and current.survey_days_open == 21
