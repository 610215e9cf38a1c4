"""The registration workflow: auto-approval against standings (gates) and the rules, every
transition and the ones refused, who may do what, the audit trail, notifications, protection
windows per tier and the one extension."""

from __future__ import annotations

import datetime as dt

import pytest

from accord.core import errors
from accord.core.models import AuditEntry, Notification
from accord.deals import services
from accord.deals.models import Registration
from accord.programs.models import Membership, Program
from tests.deals.builders import NOW, TODAY, deal, gate, register, set_rules

pytestmark = pytest.mark.django_db
S = Registration.Status
LATER = NOW + dt.timedelta(hours=2)


def transitions(registration: Registration) -> list[tuple[list[str], str, str]]:
    return [
        (entry.changes["status"], entry.actor_label, entry.reason)
        for entry in AuditEntry.objects.for_object(registration)
        .filter(action="transition")
        .order_by("at", "pk")
    ]


def reload(registration: Registration) -> Registration:
    return Registration.objects.get(pk=registration.pk)


@pytest.fixture
def pending(partner_a_user) -> Registration:
    """A submitted registration waiting for a decision (auto-approval off)."""
    set_rules(auto_approve=False)
    registration = register(partner_a_user)
    assert registration.status == S.SUBMITTED
    return registration


# -- auto-approval ---------------------------------------------------------------------------
def test_auto_approval_records_the_rule_and_its_inputs(partner_a_user):
    registration = register(partner_a_user)

    assert registration.status == S.APPROVED
    assert registration.protected_until == TODAY + dt.timedelta(days=90)
    assert registration.decided_at == NOW and registration.decided_by is None
    decision = registration.decision
    assert decision["rule"] == "auto_approve"
    assert decision["inputs"]["conflicts"] == []
    assert decision["inputs"]["gate"] == {"level": "none", "reasons": []}
    assert decision["inputs"]["rules"]["policy"] == "first_to_file"
    assert decision["inputs"]["protection"] == {"days": 90, "tier": ""}
    assert all(line.protected for line in registration.lines.all())
    assert transitions(registration) == [
        (["submitted", "approved"], "system", registration_reason())
    ]


def registration_reason() -> str:
    return "Approved automatically: no conflict, and the standing allows it."


def test_a_warning_standing_sends_the_registration_to_manual_review(
    partner_a_user, channel_manager
):
    with gate("warn", "Bronze standing: registrations are reviewed"):
        registration = register(partner_a_user)

    assert registration.status == S.SUBMITTED
    assert registration.approval_due == NOW + dt.timedelta(hours=48)
    assert registration.decision["rule"] == "manual_review"
    assert registration.decision["why"] == ["gate_warn"]
    assert registration.decision["inputs"]["gate"] == {
        "level": "warn",
        "reasons": ["Bronze standing: registrations are reviewed"],
    }
    # The approvers (no account manager: the channel managers) are told.
    note = Notification.objects.get(recipient=channel_manager)
    assert registration.number in note.subject and note.link == f"/deals/{registration.pk}/"


def test_a_blocking_standing_refuses_the_registration(partner_a_user):
    with (
        gate("block", "Probation: no new registrations"),
        pytest.raises(errors.ValidationError) as refused,
    ):
        register(partner_a_user)

    assert "Probation: no new registrations" in str(refused.value.message_dict["organisation"])
    assert not Registration.objects.exists()


def test_auto_approval_can_be_switched_off(partner_a_user):
    set_rules(auto_approve=False)
    registration = register(partner_a_user)
    assert registration.status == S.SUBMITTED
    assert registration.decision["why"] == ["auto_approve_off"]


def test_the_account_manager_is_the_approver_when_there_is_one(
    partner_a, partner_a_user, channel_manager, vendor_admin
):
    partner_a.account_manager = vendor_admin
    partner_a.save()
    set_rules(auto_approve=False)
    register(partner_a_user)
    assert list(Notification.objects.values_list("recipient", flat=True)) == [vendor_admin.pk]


# -- decisions ---------------------------------------------------------------------------------
def test_approve(pending, channel_manager, partner_a_user):
    approved = services.approve(
        actor=channel_manager, registration=pending, reason="Checked", now=LATER
    )
    assert approved.status == S.APPROVED and approved.decided_by == channel_manager
    assert approved.decision["rule"] == "manual_approval"
    assert approved.decision["reason"] == "Checked"
    assert transitions(approved) == [(["submitted", "approved"], channel_manager.email, "Checked")]
    note = Notification.objects.get(recipient=partner_a_user)
    assert "approved" in note.subject


def test_reject_needs_a_reason(pending, channel_manager, partner_a_user):
    with pytest.raises(errors.ValidationError) as missing:
        services.reject(actor=channel_manager, registration=pending, reason="  ", now=LATER)
    assert "reason" in missing.value.message_dict
    assert reload(pending).status == S.SUBMITTED

    rejected = services.reject(
        actor=channel_manager, registration=pending, reason="Duplicate of a direct deal"
    )
    assert rejected.status == S.REJECTED
    assert rejected.decision["rule"] == "rejected"
    assert transitions(rejected) == [
        (["submitted", "rejected"], channel_manager.email, "Duplicate of a direct deal")
    ]
    assert "Duplicate of a direct deal" in Notification.objects.get(recipient=partner_a_user).body


def test_return_for_information_and_resubmit(pending, channel_manager, partner_a_user):
    returned = services.return_for_info(
        actor=channel_manager, registration=pending, reason="Which site?", now=LATER
    )
    assert returned.status == S.RETURNED

    resubmitted = services.update_registration(
        actor=partner_a_user,
        registration=returned,
        data={"customer_city": "Springfield"},
        now=LATER + dt.timedelta(hours=1),
    )
    assert resubmitted.status == S.SUBMITTED
    assert resubmitted.customer_city == "Springfield"
    assert resubmitted.approval_due == LATER + dt.timedelta(hours=49)
    assert [t[0] for t in transitions(resubmitted)] == [
        ["submitted", "returned"],
        ["returned", "submitted"],
    ]
    update = AuditEntry.objects.for_object(resubmitted).get(action="update")
    assert update.changes == {"customer_city": ["", "Springfield"]}


def test_an_edit_while_submitted_keeps_the_deadline_and_tells_nobody_again(
    pending, channel_manager, partner_a_user
):
    due = pending.approval_due
    before = Notification.objects.count()
    edited = services.update_registration(
        actor=partner_a_user, registration=pending, data={"notes": "More detail"}, now=LATER
    )
    assert edited.status == S.SUBMITTED and edited.approval_due == due
    assert Notification.objects.count() == before


def test_withdraw_pending_and_approved(partner_a_user, pending):
    withdrawn = services.withdraw(actor=partner_a_user, registration=pending, reason="Lost it")
    assert withdrawn.status == S.WITHDRAWN

    set_rules(auto_approve=True)
    approved = register(partner_a_user, customer_name="Other Co")
    withdrawn = services.withdraw(actor=partner_a_user, registration=approved)
    assert withdrawn.status == S.WITHDRAWN
    assert not withdrawn.lines.filter(protected=True).exists()


@pytest.mark.parametrize("outcome", ["won", "lost"])
def test_close_as_won_or_lost_releases_the_protection(partner_a_user, partner_b_user, outcome):
    approved = register(partner_a_user)
    closed = services.close_registration(
        actor=partner_a_user, registration=approved, outcome=outcome, reason="Signed", now=LATER
    )
    assert closed.status == outcome
    assert not closed.lines.filter(protected=True).exists()
    assert transitions(closed)[-1] == ([S.APPROVED, outcome], partner_a_user.email, "Signed")
    # The customer and line are free again.
    assert register(partner_b_user, now=LATER).status == S.APPROVED


def test_close_refuses_other_outcomes(partner_a_user):
    approved = register(partner_a_user)
    with pytest.raises(errors.ValidationError):
        services.close_registration(actor=partner_a_user, registration=approved, outcome="done")


@pytest.mark.parametrize(
    ("setup", "action"),
    [
        ("submitted", "close"),
        ("submitted", "request_extension"),
        ("approved", "approve"),
        ("approved", "reject"),
        ("approved", "return"),
        ("approved", "update"),
        ("returned", "approve"),
        ("returned", "return"),
        ("rejected", "approve"),
        ("rejected", "withdraw"),
        ("rejected", "update"),
        ("withdrawn", "close"),
        ("won", "withdraw"),
        ("won", "close"),
        ("lost", "reject"),
    ],
)
def test_invalid_transitions_are_refused_and_change_nothing(
    setup, action, partner_a_user, channel_manager
):
    set_rules(auto_approve=setup not in ("submitted", "returned", "rejected"))
    registration = register(partner_a_user)
    if setup == "returned":
        services.return_for_info(actor=channel_manager, registration=registration, reason="x")
    elif setup == "rejected":
        services.reject(actor=channel_manager, registration=registration, reason="x")
    elif setup == "withdrawn":
        services.withdraw(actor=partner_a_user, registration=registration)
    elif setup in ("won", "lost"):
        services.close_registration(actor=partner_a_user, registration=registration, outcome=setup)
    registration = reload(registration)
    assert registration.status == setup
    audit_before = AuditEntry.objects.count()

    calls = {
        "approve": lambda: services.approve(actor=channel_manager, registration=registration),
        "reject": lambda: services.reject(
            actor=channel_manager, registration=registration, reason="r"
        ),
        "return": lambda: services.return_for_info(
            actor=channel_manager, registration=registration, reason="r"
        ),
        "withdraw": lambda: services.withdraw(actor=partner_a_user, registration=registration),
        "close": lambda: services.close_registration(
            actor=partner_a_user, registration=registration, outcome="won"
        ),
        "update": lambda: services.update_registration(
            actor=partner_a_user, registration=registration, data={"notes": "n"}
        ),
        "request_extension": lambda: services.request_extension(
            actor=partner_a_user, registration=registration, reason="r"
        ),
    }
    with pytest.raises(errors.InvalidTransition):
        calls[action]()
    assert reload(registration).status == setup
    assert AuditEntry.objects.count() == audit_before


# -- who may act -------------------------------------------------------------------------------
def test_partners_may_not_decide(pending, partner_a_user, partner_b_user):
    with pytest.raises(errors.PermissionDenied):
        services.approve(actor=partner_a_user, registration=pending)
    # Another partner's registration is not even there.
    with pytest.raises(errors.Http404):
        services.reject(actor=partner_b_user, registration=pending, reason="x")
    assert reload(pending).status == S.SUBMITTED


def test_partners_act_only_on_their_own_registrations(
    pending, partner_a_viewer, partner_b_user, analyst
):
    for actor, error in (
        (partner_b_user, errors.Http404),
        (partner_a_viewer, errors.PermissionDenied),
        (analyst, errors.PermissionDenied),
    ):
        with pytest.raises(error):
            services.update_registration(actor=actor, registration=pending, data={"notes": "x"})
        with pytest.raises(error):
            services.withdraw(actor=actor, registration=pending)
    assert reload(pending).notes == "" and reload(pending).status == S.SUBMITTED


def test_read_only_users_may_not_register(partner_a_viewer, analyst):
    for actor in (partner_a_viewer, analyst):
        with pytest.raises(errors.PermissionDenied):
            services.submit_registration(actor=actor, data=deal(), now=NOW)
    assert not Registration.objects.exists()


def test_account_managers_decide_but_do_not_manage_the_rules(pending, vendor):
    from accord.accounts.models import User
    from tests.factories import UserFactory

    manager = User.objects.get(
        pk=UserFactory(organisation=vendor, roles=["partner_account_manager"]).pk
    )
    services.approve(actor=manager, registration=pending, now=LATER)
    with pytest.raises(errors.PermissionDenied):
        services.update_rules(actor=manager, data={"protection_days": 30})


# -- protection windows ------------------------------------------------------------------------
@pytest.fixture
def tiers(partner_a, partner_b):
    program = Program.objects.create(code="partners", name="Partner program")
    Membership.objects.create(
        program=program, organisation=partner_a, tier_code="gold", since=TODAY
    )
    Membership.objects.create(
        program=program,
        organisation=partner_b,
        tier_code="silver",
        since=TODAY,
        override_tier="gold",
        override_until=TODAY + dt.timedelta(days=1),
    )
    set_rules(tier_program=program, tier_protection_days={"gold": 180, "silver": 60})
    return program


def test_protection_follows_the_partners_effective_tier(
    tiers, partner_a_user, partner_b_user, channel_manager
):
    gold = register(partner_a_user)
    assert gold.protected_until == TODAY + dt.timedelta(days=180)
    assert gold.decision["inputs"]["protection"] == {"days": 180, "tier": "gold"}

    # Bravo holds gold by override today; tomorrow the override has ended: silver.
    overridden = register(partner_b_user, customer_name="Other Co")
    assert overridden.protected_until == TODAY + dt.timedelta(days=180)
    tomorrow = NOW + dt.timedelta(days=1)
    silver = register(partner_b_user, customer_name="Third Co", now=tomorrow)
    assert silver.protected_until == TODAY + dt.timedelta(days=61)

    # Direct sales hold no tier: the default window.
    direct = register(channel_manager, customer_name="Fourth Co")
    assert direct.protected_until == TODAY + dt.timedelta(days=90)


def test_a_tier_without_a_window_gets_the_default(tiers, partner_a, partner_a_user):
    Membership.objects.filter(organisation=partner_a).update(tier_code="platinum")
    assert register(partner_a_user).protected_until == TODAY + dt.timedelta(days=90)


def test_one_extension_granted(partner_a_user, channel_manager):
    approved = register(partner_a_user)
    end = approved.protected_until
    requested = services.request_extension(
        actor=partner_a_user, registration=approved, reason="Board meets in June", now=LATER
    )
    assert requested.extension_requested_at == LATER
    assert Notification.objects.filter(recipient=channel_manager).count() == 1

    granted = services.decide_extension(
        actor=channel_manager, registration=requested, grant=True, reason="OK", now=LATER
    )
    assert granted.extended and granted.protected_until == end + dt.timedelta(days=30)
    entry = AuditEntry.objects.for_object(granted).filter(action="update").first()
    assert entry.changes["protected_until"] == [
        end.isoformat(),
        granted.protected_until.isoformat(),
    ]

    with pytest.raises(errors.Conflict):
        services.request_extension(actor=partner_a_user, registration=granted, reason="Again")
    with pytest.raises(errors.InvalidTransition):
        services.decide_extension(actor=channel_manager, registration=granted, grant=True)
    assert reload(granted).protected_until == end + dt.timedelta(days=30)


def test_a_refused_extension_cannot_be_asked_again(partner_a_user, channel_manager):
    approved = register(partner_a_user)
    services.request_extension(actor=partner_a_user, registration=approved, reason="Please")
    refused = services.decide_extension(
        actor=channel_manager, registration=approved, grant=False, reason="No"
    )
    assert not refused.extended and refused.protected_until == approved.protected_until
    assert refused.extension_decided_at is not None
    with pytest.raises(errors.Conflict):
        services.request_extension(actor=partner_a_user, registration=refused, reason="Again")


def test_an_extension_needs_a_decider(partner_a_user):
    approved = register(partner_a_user)
    services.request_extension(actor=partner_a_user, registration=approved, reason="Please")
    with pytest.raises(errors.PermissionDenied):
        services.decide_extension(actor=partner_a_user, registration=approved, grant=True)
