"""Enablement: courses, the certifications each partner tier needs (the tier read from the
governance tier program, overrides included), who holds what with its expiry status, and
the expiring-certification warning sent once, on a controlled clock."""

from __future__ import annotations

import datetime as dt

import pytest

from accord.accounts.models import User
from accord.core.errors import Http404, PermissionDenied, ValidationError
from accord.core.models import Notification
from accord.governance.models import Course, GovernanceSettings, Reminder, RoleAssignment
from accord.governance.selectors import continuity as selectors
from accord.governance.services import continuity as services
from accord.partners.models import Organisation
from accord.programs.models import Membership, Program
from tests.channel.factories import CertificationFactory
from tests.factories import UserFactory
from tests.governance.builders import governed, partner_person
from tests.programs.builders import make_program

pytestmark = pytest.mark.django_db

ON = dt.date(2026, 3, 2)


@pytest.fixture
def program() -> Program:
    program = make_program(None)  # registered < silver < gold
    settings = GovernanceSettings.current()
    settings.tier_program = program
    settings.save()
    return program


@pytest.fixture
def courses(channel_manager: User) -> dict[str, Course]:
    return {
        code: services.create_course(
            actor=channel_manager,
            data={"code": code, "name": name, "certification": cert, "validity_months": 24},
        )
        for code, name, cert in (
            ("sales-101", "Selling the range", "Certified Sales Professional"),
            ("tech-201", "Installing the range", "Certified Installer"),
        )
    }


def test_courses_validated_and_managed_by_staff(
    channel_manager: User, partner_a_user: User, courses: dict[str, Course]
) -> None:
    for data, field in (
        ({"code": "sales-101", "name": "Again", "certification": "Other"}, "code"),
        ({"code": "new", "name": "Again", "certification": "Certified Installer"}, "certification"),
        ({"code": "bad code", "name": "X", "certification": "Y"}, "code"),
        (
            {"code": "x", "name": "X", "certification": "Y", "validity_months": 999},
            "validity_months",
        ),
        ({"code": "x", "name": "", "certification": "Y"}, "name"),
        ({"code": "x", "name": "X", "certification": "Y", "price": 1}, "price"),
    ):
        with pytest.raises(ValidationError) as caught:
            services.create_course(actor=channel_manager, data=data)
        assert field in caught.value.message_dict
    with pytest.raises(PermissionDenied):
        services.create_course(
            actor=partner_a_user, data={"code": "p", "name": "P", "certification": "P"}
        )
    course = services.update_course(
        actor=channel_manager, course=courses["tech-201"], data={"hours": 16}
    )
    assert course.hours == 16
    assert [c.code for c in selectors.list_courses(partner_a_user)] == ["tech-201", "sales-101"]


def test_requirements_per_tier_replace_the_list(
    channel_manager: User, program: Program, courses: dict[str, Course]
) -> None:
    rows = services.set_requirements(
        actor=channel_manager,
        tier_code="gold",
        requirements=[
            {"course": courses["sales-101"], "minimum": 2},
            {"course": "tech-201", "minimum": 1},
        ],
    )
    assert [(r.course.code, r.minimum) for r in rows] == [("tech-201", 1), ("sales-101", 2)]
    rows = services.set_requirements(
        actor=channel_manager,
        tier_code="gold",
        requirements=[{"course": courses["sales-101"].pk, "minimum": 3}],
    )
    assert [
        (r.course.code, r.minimum) for r in selectors.requirements(channel_manager, "gold")
    ] == [("sales-101", 3)]
    for tier_code, items, field in (
        ("platinum", [], "tier_code"),
        ("gold", [{"course": "nope"}], "requirements"),
        ("gold", [{"course": "tech-201", "minimum": 0}], "requirements"),
        ("gold", [{"course": "tech-201"}, {"course": "tech-201"}], "requirements"),
        ("gold", "tech-201", "requirements"),
    ):
        with pytest.raises(ValidationError) as caught:
            services.set_requirements(
                actor=channel_manager, tier_code=tier_code, requirements=items
            )
        assert field in caught.value.message_dict
    assert selectors.requirements(channel_manager, "gold").get().minimum == 3


def test_enablement_counts_valid_certifications_against_the_tier(
    channel_manager: User,
    partner_a_user: User,
    partner_b_user: User,
    partner_a: Organisation,
    program: Program,
    courses: dict[str, Course],
) -> None:
    Membership.objects.create(
        program=program,
        organisation=partner_a,
        tier_code="silver",
        since=dt.date(2025, 1, 1),
        override_tier="gold",
        override_until=dt.date(2026, 12, 31),
    )
    services.set_requirements(
        actor=channel_manager,
        tier_code="gold",
        requirements=[{"course": "sales-101", "minimum": 2}, {"course": "tech-201", "minimum": 1}],
    )
    services.set_requirements(
        actor=channel_manager,
        tier_code="silver",
        requirements=[{"course": "sales-101", "minimum": 1}],
    )
    ann = partner_person(partner_a, "Ann Able")
    sales = "Certified Sales Professional"
    CertificationFactory(
        organisation=partner_a,
        person="Ann Able",
        contact=ann,
        name=sales,
        earned_on=dt.date(2025, 1, 1),
        expires_on=dt.date(2026, 4, 1),
    )  # expiring
    CertificationFactory(
        organisation=partner_a,
        person="Bob Bell",
        name=sales,
        earned_on=dt.date(2024, 1, 1),
        expires_on=dt.date(2026, 1, 1),
    )  # expired
    CertificationFactory(
        organisation=partner_a,
        person="Cy Cole",
        name="Certified Installer",
        earned_on=dt.date(2025, 1, 1),
        expires_on=None,
    )
    CertificationFactory(
        organisation=partner_a,
        person="Dee Dunn",
        name=sales,
        earned_on=dt.date(2026, 6, 1),
        expires_on=dt.date(2028, 6, 1),
    )  # later
    result = selectors.enablement(partner_a_user, partner_a.pk, ON)
    assert result["tier"] == "gold"  # the override, until the end of 2026
    statuses = {p["person"]: [c["status"] for c in p["certifications"]] for p in result["people"]}
    assert statuses == {"Ann Able": ["expiring"], "Bob Bell": ["expired"], "Cy Cole": ["ok"]}
    need = {r["course"].code: (r["met"], r["missing"], r["ok"]) for r in result["requirements"]}
    assert need == {"sales-101": (1, 1, False), "tech-201": (1, 0, True)}
    assert result["complete"] is False
    later = selectors.enablement(channel_manager, partner_a, dt.date(2027, 1, 15))
    assert later["tier"] == "silver"  # the override ended
    assert [(r["met"], r["ok"]) for r in later["requirements"]] == [(1, True)]  # Dee Dunn
    with pytest.raises(Http404):
        selectors.enablement(partner_b_user, partner_a.pk, ON)
    expiring = selectors.expiring_certifications(channel_manager, ON)
    assert [c.person for c in expiring] == ["Ann Able"]
    assert list(selectors.expiring_certifications(partner_b_user, ON)) == []


def test_no_program_means_no_tier(channel_manager: User, partner_a: Organisation) -> None:
    result = selectors.enablement(channel_manager, partner_a, ON)
    assert result["tier"] is None and result["requirements"] == [] and result["complete"]


def test_expiring_certification_warned_once(
    channel_manager: User, partner_a: Organisation, vendor: Organisation
) -> None:
    built = governed(partner_a)
    manager_account = UserFactory(organisation=vendor, email="rhea@vendor.test")
    manager = built["roles"][RoleAssignment.Role.RELATIONSHIP]
    manager.user = manager_account
    manager.save()
    certified_account = UserFactory(organisation=partner_a, email="ann@alpha.test")
    ann = partner_person(partner_a, "Ann Able", user=certified_account)
    cert = CertificationFactory(
        organisation=partner_a,
        person="Ann Able",
        contact=ann,
        earned_on=dt.date(2024, 6, 1),
        expires_on=dt.date(2026, 6, 1),
    )
    far = dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC)  # 92 days ahead: outside 60 days
    assert services.warn_expiring_certifications(now=far) == {"warned": 0, "notified": 0}
    near = dt.datetime(2026, 4, 10, 9, tzinfo=dt.UTC)  # 52 days ahead
    assert services.warn_expiring_certifications(now=near) == {"warned": 1, "notified": 2}
    assert services.warn_expiring_certifications(now=near + dt.timedelta(days=1)) == {
        "warned": 0,
        "notified": 0,
    }
    assert Reminder.objects.filter(key=f"cert:{cert.pk}:2026-06-01").count() == 1
    notes = Notification.objects.filter(subject__contains="Certified Sales Professional")
    assert {n.recipient for n in notes} == {manager_account, certified_account}
    # A renewal (a new expiry date) is warned about again when its time comes.
    cert.expires_on = dt.date(2028, 6, 1)
    cert.save()
    renewed = dt.datetime(2028, 4, 10, 9, tzinfo=dt.UTC)
    assert services.warn_expiring_certifications(now=renewed)["warned"] == 1


def test_warning_reaches_the_account_manager_without_a_relationship_manager(
    channel_manager: User, partner_a: Organisation
) -> None:
    partner_a.account_manager = channel_manager
    partner_a.save()
    CertificationFactory(organisation=partner_a, expires_on=dt.date(2026, 4, 1))
    result = services.warn_expiring_certifications(now=dt.datetime(2026, 3, 2, tzinfo=dt.UTC))
    assert result == {"warned": 1, "notified": 1}
    assert channel_manager.notifications.count() == 1
