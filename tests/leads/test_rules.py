"""The routing rules editor and the lead settings: each kind's parameters validated with field
errors keyed ``rules.<i>.<field>``, the list replaced as a whole (kept rules keep their ids),
the weighted random rule last, every change audited."""

from __future__ import annotations

import pytest

from accord.accounts.models import User
from accord.core.errors import ValidationError
from accord.core.models import AuditEntry
from accord.leads import services
from accord.leads.models import LeadSettings, RoutingRule
from tests.leads.builders import rule, tier_program

pytestmark = pytest.mark.django_db


def errors_of(rules: object) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as raised:
        services.save_rules(actor=None, rules=rules)  # type: ignore[arg-type]
    return raised.value.message_dict


@pytest.mark.parametrize(
    ("item", "field"),
    [
        (rule("territory", exclusive_first="yes"), "params"),
        (rule("territory", radius=5), "params"),
        (rule("partner_kind", kinds=[]), "params"),
        (rule("partner_kind", kinds=["vendor"]), "params"),
        (rule("partner_kind", kinds="var"), "params"),
        (rule("tier"), "params"),
        (rule("tier", min_rank=1, tiers=["gold"]), "params"),
        (rule("tier", min_rank=-1), "params"),
        (rule("tier", min_rank=True), "params"),
        (rule("tier", tiers=[""]), "params"),
        (rule("capacity"), "params"),
        (rule("capacity", max_open=0), "params"),
        (rule("capacity", max_open=2.5), "params"),
        (rule("performance"), "params"),
        (rule("performance", min_acceptance=1.5), "params"),
        (rule("performance", min_win=-0.1), "params"),
        (rule("performance", min_acceptance=0.5, min_offers=-1), "params"),
        (rule("random", weight="loudest"), "params"),
        ({**rule("random"), "params": [1]}, "params"),
        ({**rule("random"), "kind": "astrology"}, "kind"),
        ({**rule("random"), "name": "  "}, "name"),
        ({**rule("random"), "name": "x" * 101}, "name"),
        ({**rule("random"), "required": "yes"}, "required"),
        ({**rule("random"), "active": 1}, "active"),
        ({**rule("random"), "colour": "red"}, "colour"),
        ({**rule("random"), "id": 999999}, "id"),
    ],
)
def test_each_kinds_parameters_are_validated(item: dict, field: str) -> None:
    errors = errors_of([rule("territory"), item])
    assert list(errors) == [f"rules.1.{field}"], errors
    assert not RoutingRule.objects.exists()


def test_the_list_itself_is_validated() -> None:
    assert "rules" in errors_of({"kind": "random"})
    assert "rules" in errors_of([rule("territory")] * 51)
    assert list(errors_of(["territory"])) == ["rules.0"]


def test_the_weighted_random_rule_comes_last_and_once() -> None:
    errors = errors_of([rule("random"), rule("territory")])
    assert list(errors) == ["rules.0.kind"] and "last" in errors["rules.0.kind"][0]
    errors = errors_of([rule("territory"), rule("random"), rule("random")])
    assert list(errors) == ["rules.2.kind"]


def test_save_rules_replaces_the_list_keeping_ids(channel_manager: User) -> None:
    territory, capacity = services.save_rules(
        actor=channel_manager,
        rules=[rule("territory", required=True), rule("capacity", max_open=3)],
    )
    assert (territory.position, capacity.position) == (0, 1)
    assert territory.params == {"exclusive_first": False}
    saved = services.save_rules(
        actor=channel_manager,
        rules=[
            {**rule("capacity", "Not too busy", max_open=5), "id": capacity.pk},
            rule("performance", min_acceptance=0.5),
            rule("random", weight="equal"),
        ],
    )
    assert saved[0].pk == capacity.pk
    assert list(RoutingRule.objects.values_list("name", "position", "params")) == [
        ("Not too busy", 0, {"max_open": 5}),
        ("Performance", 1, {"min_acceptance": 0.5, "min_offers": 0}),
        ("Random", 2, {"weight": "equal"}),
    ]
    assert not RoutingRule.objects.filter(pk=territory.pk).exists()
    actions = list(
        AuditEntry.objects.filter(content_type__model="routingrule")
        .order_by("pk")
        .values_list("action", "object_id")
    )
    assert ("delete", str(territory.pk)) in actions
    assert ("update", str(capacity.pk)) in actions
    assert [a for a, _ in actions].count("create") == 4
    assert errors_of([{**rule("capacity", max_open=1), "id": capacity.pk}] * 2) == {
        "rules.1.id": ["This rule is listed twice."]
    }


def test_update_settings(channel_manager: User) -> None:
    program = tier_program()
    settings = services.update_settings(
        actor=channel_manager,
        data={
            "acceptance_hours": 24,
            "tier_acceptance_hours": {"gold": 4, "silver": 12},
            "max_offers": 3,
            "performance_days": 90,
        },
    )
    assert settings.tier_program == program
    assert (settings.acceptance_hours, settings.max_offers, settings.performance_days) == (
        24,
        3,
        90,
    )
    assert settings.tier_acceptance_hours == {"gold": 4, "silver": 12}
    entry = AuditEntry.objects.filter(content_type__model="leadsettings").latest("pk")
    assert entry.changes["max_offers"] == [5, 3]
    # By code too; and cleared.
    assert services.update_settings(actor=None, data={"tier_program": program.code}).tier_program
    cleared = services.update_settings(
        actor=None, data={"tier_program": None, "tier_acceptance_hours": {}}
    )
    assert cleared.tier_program is None


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"acceptance_hours": 0}, "acceptance_hours"),
        ({"acceptance_hours": "48"}, "acceptance_hours"),
        ({"max_offers": 1000}, "max_offers"),
        ({"performance_days": True}, "performance_days"),
        ({"tier_program": "nope"}, "tier_program"),
        ({"tier_program": 1.5}, "tier_program"),
        ({"tier_acceptance_hours": {"gold": 0}}, "tier_acceptance_hours"),
        ({"tier_acceptance_hours": ["gold"]}, "tier_acceptance_hours"),
        ({"tier_acceptance_hours": {"platinum": 5}}, "tier_acceptance_hours"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_update_settings_refuses_bad_values(data: dict, field: str) -> None:
    tier_program()
    before = LeadSettings.current()
    with pytest.raises(ValidationError) as raised:
        services.update_settings(actor=None, data=data)
    assert list(raised.value.message_dict) == [field]
    after = LeadSettings.current()
    assert (after.acceptance_hours, after.max_offers, after.tier_acceptance_hours) == (
        before.acceptance_hours,
        before.max_offers,
        before.tier_acceptance_hours,
    )


def test_per_tier_hours_need_a_tier_program() -> None:
    with pytest.raises(ValidationError) as raised:
        services.update_settings(actor=None, data={"tier_acceptance_hours": {"gold": 4}})
    assert "tier_acceptance_hours" in raised.value.message_dict


def test_nul_characters_in_parameters_are_field_errors() -> None:
    assert list(errors_of([rule("tier", tiers=["gold\x00"])])) == ["rules.0.params"]
    assert list(errors_of([{**rule("random"), "name": "Pick\x00"}])) == ["rules.0.name"]
