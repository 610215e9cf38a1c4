"""The access chokepoint: who sees which rows of every organisation-owned model."""

from __future__ import annotations

import datetime as dt

import pytest

from accord.accounts.models import ApiToken, User
from accord.accounts.services import create_api_token
from accord.channel.models import (
    Certification,
    Delivery,
    ExchangeRate,
    InventorySnapshot,
    Product,
    ProductCategory,
    SalesLine,
    SalesRollup,
    SurveyResponse,
)
from accord.channel.services import record_sales_lines
from accord.core.models import AuditEntry, Notification
from accord.deals.models import (
    Conflict,
    EndCustomer,
    EngagementRules,
    Registration,
    RegistrationLine,
)
from accord.governance.models import (
    ActionItem,
    CadenceTemplate,
    CertificationRequirement,
    ContactSlot,
    Course,
    GovernanceSettings,
    Handover,
    HealthResponse,
    HealthSurvey,
    Issue,
    IssueAttachment,
    IssueEvent,
    KeyPerson,
    Meeting,
    OnboardingPlan,
    OnboardingTask,
    OnboardingTemplate,
    Relationship,
    RoleAssignment,
    SeveritySla,
)
from accord.imports.models import ImportBatch
from accord.leads.models import Lead, LeadSettings, RoutingEvent, RoutingRule
from accord.metrics.models import KpiValue
from accord.partners import services
from accord.partners.models import (
    Agreement,
    AgreementTarget,
    Contact,
    Organisation,
    Territory,
    TerritoryAssignment,
)
from accord.programs.models import (
    EvaluationResult,
    EvaluationRun,
    Membership,
    Program,
    ProgramVersion,
    Score,
    ScorecardTemplate,
    TierChange,
    Warning,
)
from tests.channel.factories import (
    CertificationFactory,
    DeliveryFactory,
    ExchangeRateFactory,
    ImportBatchFactory,
    InventorySnapshotFactory,
    KpiRunFactory,
    KpiValueFactory,
    ProductFactory,
    SurveyResponseFactory,
    sales_line,
)
from tests.factories import AgreementFactory, ContactFactory, OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db


def names(queryset) -> set[str]:
    return {str(obj) for obj in queryset}


@pytest.fixture
def network(partner_a, partner_a_child, partner_b, vendor_admin):
    """Contacts, agreements and audit rows on both partners, written through services."""
    for org in (partner_a, partner_a_child, partner_b):
        services.create_contact(
            actor=vendor_admin, organisation=org, data={"full_name": f"Contact of {org.name}"}
        )
        services.create_agreement(
            actor=vendor_admin,
            organisation=org,
            data={
                "reference": f"AGR-{org.pk}",
                "type": "reseller",
                "start_on": "2026-01-01",
                "end_on": "2027-01-01",
            },
            targets=[{"metric": "revenue", "target": "1000"}],
        )
    return partner_a, partner_a_child, partner_b


def test_partner_sees_own_organisation_and_children_only(network, partner_a_user):
    partner_a, child, _ = network
    visible = Organisation.objects.restrict(partner_a_user, "view")
    assert names(visible) == {partner_a.name, child.name}
    assert names(Contact.objects.restrict(partner_a_user, "view")) == {
        f"Contact of {partner_a.name}",
        f"Contact of {child.name}",
    }
    assert names(Agreement.objects.restrict(partner_a_user, "view")) == {
        f"AGR-{partner_a.pk}",
        f"AGR-{child.pk}",
    }
    assert AgreementTarget.objects.restrict(partner_a_user, "view").count() == 2
    audited = set(
        AuditEntry.objects.restrict(partner_a_user, "view").values_list(
            "organisation_id", flat=True
        )
    )
    assert audited == {partner_a.pk, child.pk}


def test_other_partner_sees_nothing_of_partner_a(network, partner_b_user):
    _, _, partner_b = network
    assert names(Organisation.objects.restrict(partner_b_user, "view")) == {partner_b.name}
    assert names(Contact.objects.restrict(partner_b_user, "view")) == {
        f"Contact of {partner_b.name}"
    }


def test_child_organisation_user_does_not_see_parent(network):
    _, child, _ = network
    user = UserFactory(organisation=child, roles=["partner_admin"])
    user = User.objects.get(pk=user.pk)
    assert names(Organisation.objects.restrict(user, "view")) == {child.name}


def test_vendor_staff_see_everything(network, analyst, vendor):
    assert Organisation.objects.restrict(analyst, "view").count() == Organisation.objects.count()
    assert Contact.objects.restrict(analyst, "view").count() == 3


def test_read_only_roles_cannot_change(network, analyst, partner_a_viewer):
    assert not Organisation.objects.restrict(analyst, "change").exists()
    assert not Contact.objects.restrict(partner_a_viewer, "change").exists()
    assert Contact.objects.restrict(partner_a_viewer, "view").count() == 2


def test_regional_coordinator_sees_organisations_in_their_territories(
    network, regional_coordinator, east
):
    partner_a, _, _ = network
    sub = Territory.objects.create(code="cn-sh", name="上海市", level="city", parent=east)
    deeper = OrganisationFactory(name="Shanghai Dealer")
    TerritoryAssignment.objects.create(organisation=deeper, territory=sub)
    visible = names(Organisation.objects.restrict(regional_coordinator, "view"))
    # East China and its sub-territories, not Bravo (no territory) and not the vendor.
    assert visible == {partner_a.name, deeper.name}
    assert names(Territory.objects.restrict(regional_coordinator, "view")) == {east.name, sub.name}


def test_partner_sees_only_assigned_territories(partner_a_user, partner_b_user, east):
    assert names(Territory.objects.restrict(partner_a_user, "view")) == {east.name}
    assert not Territory.objects.restrict(partner_b_user, "view").exists()


def test_partner_role_never_reaches_beyond_own_organisation(partner_b):
    """Even a vendor role given to a partner user stays inside their organisation."""
    user = UserFactory(organisation=partner_b, roles=["administrator"])
    user = User.objects.get(pk=user.pk)
    assert names(Organisation.objects.restrict(user, "view")) == {partner_b.name}


def test_anonymous_inactive_and_roleless_users_see_nothing(network, vendor):
    from django.contrib.auth.models import AnonymousUser

    roleless = User.objects.get(pk=UserFactory(organisation=vendor).pk)
    inactive = User.objects.get(
        pk=UserFactory(organisation=vendor, roles=["analyst"], is_active=False).pk
    )
    for user in (None, AnonymousUser(), roleless, inactive):
        assert not Organisation.objects.restrict(user, "view").exists()


def test_tokens_are_restricted_to_the_owning_organisation(partner_a_user, partner_b_user):
    create_api_token(actor=partner_a_user, user=partner_a_user, name="a")
    create_api_token(actor=partner_b_user, user=partner_b_user, name="b")
    assert names(ApiToken.objects.restrict(partner_a_user, "view")) == {
        str(t) for t in ApiToken.objects.filter(user=partner_a_user)
    }


def test_users_are_restricted_to_the_owning_organisation(partner_a_user, partner_b_user):
    assert set(User.objects.restrict(partner_a_user, "view")) == {partner_a_user}


def test_every_organisation_owned_model_is_covered():
    """A new organisation-owned model must be added to this file's tests."""
    from django.apps import apps

    from accord.core.models import OrganisationOwned

    owned = {m for m in apps.get_models() if issubclass(m, OrganisationOwned)}
    covered = {
        Organisation,
        Contact,
        Agreement,
        AgreementTarget,
        TerritoryAssignment,
        AuditEntry,
        User,
        ApiToken,
        *CHANNEL_OWNED,
        *PROGRAMS_OWNED,
        *DEALS_OWNED,
        *GOVERNANCE_OWNED,
    }
    assert owned == covered


def test_contact_factory_rows_follow_their_organisation(partner_a_user, partner_b):
    ContactFactory(organisation=partner_b)
    AgreementFactory(organisation=partner_b)
    assert (
        not Contact.objects.restrict(partner_a_user, "view").filter(organisation=partner_b).exists()
    )
    assert (
        not Agreement.objects.restrict(partner_a_user, "view")
        .filter(organisation=partner_b)
        .exists()
    )


# -- channel facts, import runs and KPI values -------------------------------------
CHANNEL_OWNED = (
    SalesLine,
    SalesRollup,
    InventorySnapshot,
    Delivery,
    SurveyResponse,
    Certification,
    ImportBatch,
    KpiValue,
)


@pytest.fixture
def facts(partner_a, partner_a_child, partner_b):
    """One row of every organisation-owned channel model for each of the three partners."""
    product = ProductFactory()
    ExchangeRateFactory()
    run = KpiRunFactory()
    record_sales_lines(
        actor=None,
        lines=[
            sales_line(org, product=product, source_key=f"restrict-{org.pk}")
            for org in (partner_a, partner_a_child, partner_b)
        ],
    )
    for org in (partner_a, partner_a_child, partner_b):
        InventorySnapshotFactory(organisation=org, product=product)
        DeliveryFactory(organisation=org, product=product)
        SurveyResponseFactory(organisation=org)
        CertificationFactory(organisation=org)
        ImportBatchFactory(organisation=org)
        KpiValueFactory(organisation=org, run=run)
    return partner_a, partner_a_child, partner_b


def owners(model, user) -> set[int]:
    return set(model.objects.restrict(user, "view").values_list("organisation_id", flat=True))


@pytest.mark.parametrize("model", CHANNEL_OWNED, ids=lambda m: m.__name__)
def test_channel_rows_follow_their_organisation(
    model, facts, partner_a_user, partner_a_viewer, partner_b_user, analyst, regional_coordinator
):
    partner_a, child, partner_b = facts
    # Every model really has rows of all three partners (SalesRollup: one per grain).
    assert set(model.objects.values_list("organisation_id", flat=True)) == {
        partner_a.pk,
        child.pk,
        partner_b.pk,
    }
    assert owners(model, partner_a_user) == {partner_a.pk, child.pk}
    assert owners(model, partner_a_viewer) == {partner_a.pk, child.pk}
    assert owners(model, partner_b_user) == {partner_b.pk}
    assert owners(model, analyst) == {partner_a.pk, child.pk, partner_b.pk}
    # Partner A is assigned to China East; its child and Bravo are not.
    assert owners(model, regional_coordinator) == {partner_a.pk}


@pytest.mark.parametrize("model", CHANNEL_OWNED, ids=lambda m: m.__name__)
def test_channel_rows_hidden_from_anonymous_and_roleless(model, facts, vendor):
    from django.contrib.auth.models import AnonymousUser

    roleless = User.objects.get(pk=UserFactory(organisation=vendor).pk)
    for user in (None, AnonymousUser(), roleless):
        assert not model.objects.restrict(user, "view").exists()


def test_partner_may_add_own_sell_through_but_not_read_only_viewer(
    facts, partner_a_user, partner_a_viewer
):
    partner_a, child, _ = facts
    assert owners(SalesLine, partner_a_user) == {partner_a.pk, child.pk}
    added = set(
        SalesLine.objects.restrict(partner_a_user, "add").values_list("organisation_id", flat=True)
    )
    assert added == {partner_a.pk, child.pk}
    assert not SalesLine.objects.restrict(partner_a_viewer, "add").exists()
    assert not Delivery.objects.restrict(partner_a_user, "add").exists()


@pytest.mark.parametrize(
    "model", (Product, ProductCategory, ExchangeRate), ids=lambda m: m.__name__
)
def test_shared_master_data_is_visible_to_every_permitted_user(
    model, facts, partner_a_viewer, partner_b_user, analyst, vendor
):
    from django.contrib.auth.models import AnonymousUser

    total = model.objects.count()
    assert total >= 1
    for user in (partner_a_viewer, partner_b_user, analyst):
        assert model.objects.restrict(user, "view").count() == total
    roleless = User.objects.get(pk=UserFactory(organisation=vendor).pk)
    for user in (None, AnonymousUser(), roleless):
        assert not model.objects.restrict(user, "view").exists()
    assert not model.objects.restrict(partner_b_user, "change").exists()


# -- programs: memberships, results, history, warnings, scores ------------------------
PROGRAMS_OWNED = (Membership, EvaluationResult, TierChange, Warning, Score)


@pytest.fixture
def program_rows(partner_a, partner_a_child, partner_b):
    """One row of every organisation-owned programs model for each of the three partners."""
    program = Program.objects.create(code="p", name="P")
    version = ProgramVersion.objects.create(program=program, number=1, status="published")
    run = EvaluationRun.objects.create(
        program=program, version=version, as_of=dt.date(2026, 1, 1), trigger="cli"
    )
    template = ScorecardTemplate.objects.create(code="s", name="S")
    day = dt.date(2026, 1, 1)
    for org in (partner_a, partner_a_child, partner_b):
        Membership.objects.create(program=program, organisation=org, tier_code="a", since=day)
        EvaluationResult.objects.create(run=run, organisation=org, outcome="entered")
        TierChange.objects.create(program=program, organisation=org, kind="entry", effective=day)
        Warning.objects.create(
            run=run, organisation=org, kind="grace", tier_code="a", next_evaluation=day, message="m"
        )
        Score.objects.create(
            template=template, organisation=org, period_start=day, period_end=day, as_of=day
        )
    return partner_a, partner_a_child, partner_b


@pytest.mark.parametrize("model", PROGRAMS_OWNED, ids=lambda m: m.__name__)
def test_program_rows_follow_their_organisation(
    model, program_rows, partner_a_user, partner_a_viewer, partner_b_user, analyst
):
    partner_a, child, partner_b = program_rows
    assert owners(model, partner_a_user) == {partner_a.pk, child.pk}
    assert owners(model, partner_a_viewer) == {partner_a.pk, child.pk}
    assert owners(model, partner_b_user) == {partner_b.pk}
    assert owners(model, analyst) == {partner_a.pk, child.pk, partner_b.pk}


def test_partners_never_see_draft_versions_or_runs(program_rows, partner_a_user, analyst):
    program = Program.objects.get(code="p")
    ProgramVersion.objects.create(program=program, number=2, status="draft")
    assert set(
        ProgramVersion.objects.restrict(partner_a_user, "view").values_list("number", flat=True)
    ) == {1}
    assert ProgramVersion.objects.restrict(analyst, "view").count() == 2
    # A run summarises every organisation: vendor staff only.
    assert not EvaluationRun.objects.restrict(partner_a_user, "view").exists()
    assert EvaluationRun.objects.restrict(analyst, "view").count() == 1


def test_notifications_reach_only_their_recipient(partner_a_user, partner_b_user, analyst):
    Notification.objects.create(recipient=partner_a_user, subject="a", body="a")
    Notification.objects.create(recipient=analyst, subject="b", body="b")
    assert [n.subject for n in Notification.objects.restrict(partner_a_user)] == ["a"]
    # Not even an all-seeing role reads another user's inbox.
    assert [n.subject for n in Notification.objects.restrict(analyst)] == ["b"]
    assert not Notification.objects.restrict(partner_b_user).exists()
    assert not Notification.objects.restrict(None).exists()


# -- deals and leads: registrations, their lines and conflicts, leads, routing history ---------
# Lead belongs to the organisation it is offered or assigned to (assigned_to).
DEALS_OWNED = (Registration, RegistrationLine, Conflict, Lead, RoutingEvent)


@pytest.fixture
def deal_rows(partner_a, partner_a_child, partner_b):
    """One registration (with a line and a conflict), one lead and one routing event for
    each of the three partners; each conflict points at the next partner's registration."""
    orgs = (partner_a, partner_a_child, partner_b)
    customer = EndCustomer.objects.create(name="Acme", name_key="acme", country="US")
    registrations = [
        Registration.objects.create(
            number=f"DR-R{org.pk}",
            organisation=org,
            customer_name="Acme",
            value=1,
            currency="USD",
            expected_close=dt.date(2026, 6, 1),
            end_customer=customer,
        )
        for org in orgs
    ]
    for index, registration in enumerate(registrations):
        RegistrationLine.objects.create(registration=registration, product_line="Servers")
        Conflict.objects.create(
            registration=registration,
            kind="registration",
            other=registrations[(index + 1) % len(registrations)],
            score=100,
        )
    for org in orgs:
        lead = Lead.objects.create(number=f"L-R{org.pk}", company_name="Buyer", assigned_to=org)
        RoutingEvent.objects.create(lead=lead, kind="offered", organisation=org)
    # A lead nobody holds yet: vendor staff only.
    Lead.objects.create(number="L-R-new", company_name="Unrouted")
    return orgs


def owned_by(model, user) -> set[int]:
    return set(
        model.objects.restrict(user, "view").values_list(model.organisation_field, flat=True)
    )


@pytest.mark.parametrize("model", DEALS_OWNED, ids=lambda m: m.__name__)
def test_deal_and_lead_rows_follow_their_organisation(
    model, deal_rows, partner_a_user, partner_a_viewer, partner_b_user, analyst
):
    partner_a, child, partner_b = deal_rows
    assert owned_by(model, partner_a_user) == {partner_a.pk, child.pk}
    assert owned_by(model, partner_a_viewer) == {partner_a.pk, child.pk}
    assert owned_by(model, partner_b_user) == {partner_b.pk}
    everyone = {partner_a.pk, child.pk, partner_b.pk}
    assert owned_by(model, analyst) - {None} == everyone


def test_partners_see_conflicts_of_their_own_registrations_only(deal_rows, partner_b_user):
    *_alpha, partner_b = deal_rows
    # Alpha Retail's conflict points at Bravo's registration: Bravo does not see it.
    visible = Conflict.objects.restrict(partner_b_user, "view")
    assert {c.registration.organisation_id for c in visible} == {partner_b.pk}
    assert not Lead.objects.restrict(partner_b_user, "view").filter(assigned_to=None).exists()


def test_rules_of_engagement_are_read_by_everyone_with_deals_access(
    partner_a_viewer, partner_b_user, analyst, vendor
):
    from django.contrib.auth.models import AnonymousUser

    EngagementRules.current()
    for user in (partner_a_viewer, partner_b_user, analyst):
        assert EngagementRules.objects.restrict(user, "view").count() == 1
    assert not EngagementRules.objects.restrict(partner_b_user, "change").exists()
    roleless = User.objects.get(pk=UserFactory(organisation=vendor).pk)
    for user in (None, AnonymousUser(), roleless):
        assert not EngagementRules.objects.restrict(user, "view").exists()


@pytest.mark.parametrize(
    "model", (EndCustomer, RoutingRule, LeadSettings), ids=lambda m: m.__name__
)
def test_end_customers_and_routing_set_up_are_vendor_staff_only(
    model, partner_a_user, partner_a_viewer, partner_b_user, analyst, channel_manager
):
    if model is EndCustomer:
        EndCustomer.objects.create(name="Globex", name_key="globex", named_account=True)
    elif model is RoutingRule:
        RoutingRule.objects.create(position=0, name="Territory", kind="territory")
    else:
        LeadSettings.current()
    for user in (partner_a_user, partner_a_viewer, partner_b_user):
        assert not model.objects.restrict(user, "view").exists()
    for user in (analyst, channel_manager):
        assert model.objects.restrict(user, "view").count() == 1
    assert not model.objects.restrict(analyst, "change").exists()
    assert model.objects.restrict(channel_manager, "change").count() == 1


# -- governance: relationships, their structure, meetings, issues, health checks, continuity ---
GOVERNANCE_OWNED = (
    Relationship,
    RoleAssignment,
    ContactSlot,
    KeyPerson,
    Meeting,
    ActionItem,
    Issue,
    IssueEvent,
    IssueAttachment,
    HealthSurvey,
    HealthResponse,
    Handover,
    OnboardingPlan,
    OnboardingTask,
)


@pytest.fixture
def governance_rows(partner_a, partner_a_child, partner_b, vendor):
    """One row of every organisation-owned governance model for each of the three partners;
    each health check has one answer from each side."""
    orgs = (partner_a, partner_a_child, partner_b)
    at = dt.datetime(2026, 3, 2, 10, tzinfo=dt.UTC)
    for org in orgs:
        staff = Contact.objects.create(organisation=vendor, full_name=f"Vendor for {org.pk}")
        deputy = Contact.objects.create(organisation=vendor, full_name=f"Deputy for {org.pk}")
        peer = Contact.objects.create(organisation=org, full_name=f"Peer at {org.pk}")
        Relationship.objects.get_or_create(organisation=org)  # made on save of the organisation
        RoleAssignment.objects.create(organisation=org, role="relationship", holder=staff)
        ContactSlot.objects.create(
            organisation=org, tier="working", vendor_contact=staff, partner_contact=peer
        )
        KeyPerson.objects.create(organisation=org, person=peer)
        meeting = Meeting.objects.create(
            organisation=org, title=f"Review {org.pk}", tier="operational", starts_at=at
        )
        issue = Issue.objects.create(
            organisation=org,
            title=f"Issue {org.pk}",
            category="delivery",
            severity="high",
            raised_side="partner",
        )
        ActionItem.objects.create(
            organisation=org, meeting=meeting, title="Act", owner=peer, due_on=at.date()
        )
        IssueEvent.objects.create(issue=issue, kind="raised")
        IssueAttachment.objects.create(issue=issue, name="a.txt", size=1, content=b"a")
        survey = HealthSurvey.objects.create(
            organisation=org, period="2026", closes_at=at + dt.timedelta(days=21)
        )
        for side, person in (("vendor", staff), ("partner", peer)):
            HealthResponse.objects.create(
                survey=survey,
                contact=person,
                side=side,
                token_hash=f"{side}-{org.pk}",
                expires_at=survey.closes_at,
            )
        Handover.objects.create(organisation=vendor, predecessor=staff, successor=deputy)
        colleague = Contact.objects.create(organisation=org, full_name=f"Colleague at {org.pk}")
        Handover.objects.create(organisation=org, predecessor=peer, successor=colleague)
        plan = OnboardingPlan.objects.create(organisation=org, name="New partner")
        OnboardingTask.objects.create(plan=plan, title="Sign", side="partner", due_on=at.date())
    return orgs


def governed(model, user) -> set[int]:
    return set(
        model.objects.restrict(user, "view").values_list(model.organisation_field, flat=True)
    )


@pytest.mark.parametrize("model", GOVERNANCE_OWNED, ids=lambda m: m.__name__)
def test_governance_rows_follow_their_organisation(
    model,
    governance_rows,
    partner_a_user,
    partner_a_viewer,
    partner_b_user,
    analyst,
    channel_manager,
    regional_coordinator,
    vendor,
):
    partner_a, child, partner_b = governance_rows
    everyone = {partner_a.pk, child.pk, partner_b.pk}
    # Every model really has rows of all three partners (handovers of vendor staff too).
    assert governed(model, analyst) - {vendor.pk} == everyone
    assert (
        set(model.objects.values_list(model.organisation_field, flat=True)) - {vendor.pk}
        == everyone
    )
    assert governed(model, partner_a_user) == {partner_a.pk, child.pk}
    assert governed(model, partner_a_viewer) == {partner_a.pk, child.pk}
    assert governed(model, partner_b_user) == {partner_b.pk}
    # Vendor staff see every row, the vendor's own handovers included.
    for user in (analyst, channel_manager):
        assert model.objects.restrict(user, "view").count() == model.objects.count()
    # Partner A is assigned to China East; its child and Bravo are not.
    assert governed(model, regional_coordinator) == {partner_a.pk}


@pytest.mark.parametrize("model", GOVERNANCE_OWNED, ids=lambda m: m.__name__)
def test_governance_rows_hidden_from_anonymous_and_roleless(model, governance_rows, vendor):
    from django.contrib.auth.models import AnonymousUser

    roleless = User.objects.get(pk=UserFactory(organisation=vendor).pk)
    for user in (None, AnonymousUser(), roleless):
        assert not model.objects.restrict(user, "view").exists()


def test_partners_read_their_own_sides_health_answers_only(
    governance_rows, partner_a_user, partner_a_viewer, partner_b_user, analyst
):
    partner_a, child, partner_b = governance_rows
    for user, orgs in (
        (partner_a_user, {partner_a.pk, child.pk}),
        (partner_a_viewer, {partner_a.pk, child.pk}),
        (partner_b_user, {partner_b.pk}),
    ):
        visible = HealthResponse.objects.restrict(user, "view")
        assert set(visible.values_list("side", flat=True)) == {"partner"}
        assert set(visible.values_list("survey__organisation", flat=True)) == orgs
        assert visible.count() == len(orgs)
    # The vendor reads both sides of every survey.
    assert HealthResponse.objects.restrict(analyst, "view").count() == 6
    assert set(HealthResponse.objects.restrict(analyst, "view").values_list("side", flat=True)) == {
        "vendor",
        "partner",
    }


def test_vendor_handovers_stay_with_the_vendor(governance_rows, partner_a_user, analyst, vendor):
    assert not Handover.objects.restrict(partner_a_user, "view").filter(organisation=vendor)
    assert Handover.objects.restrict(analyst, "view").filter(organisation=vendor).count() == 3


@pytest.mark.usefixtures("governance_rows")
def test_regional_coordinator_reads_both_sides_of_their_relationships(regional_coordinator):
    visible = HealthResponse.objects.restrict(regional_coordinator, "view")
    assert set(visible.values_list("side", flat=True)) == {"vendor", "partner"}


def test_partners_act_on_governance_rows_of_their_own_organisation_only(
    governance_rows, partner_a_user, partner_a_viewer
):
    partner_a, child, _b = governance_rows
    assert owners(Issue, partner_a_user) == {partner_a.pk, child.pk}
    assert set(
        Issue.objects.restrict(partner_a_user, "add").values_list("organisation_id", flat=True)
    ) == {partner_a.pk, child.pk}
    # A viewer reads and never writes; a partner never runs a relationship's structure.
    assert not Issue.objects.restrict(partner_a_viewer, "change").exists()
    assert not RoleAssignment.objects.restrict(partner_a_user, "add").exists()
    assert not HealthSurvey.objects.restrict(partner_a_user, "add").exists()
    assert not Handover.objects.restrict(partner_a_user, "add").exists()


GOVERNANCE_SHARED = (
    CadenceTemplate,
    SeveritySla,
    OnboardingTemplate,
    Course,
    CertificationRequirement,
)


@pytest.fixture
def governance_templates(db):
    CadenceTemplate.objects.create(
        name="Quarterly business review", tier="operational", frequency="quarterly"
    )
    SeveritySla.objects.create(severity="high", response_hours=8, resolution_hours=72)
    OnboardingTemplate.objects.create(name="New partner", kind="partner", tasks=[])
    course = Course.objects.create(code="sales-101", name="Sales", certification="Sales cert")
    CertificationRequirement.objects.create(tier_code="gold", course=course)
    GovernanceSettings.current()


@pytest.mark.parametrize("model", GOVERNANCE_SHARED, ids=lambda m: m.__name__)
def test_governance_templates_are_visible_to_every_permitted_user(
    model, governance_templates, partner_a_viewer, partner_b_user, analyst, channel_manager, vendor
):
    from django.contrib.auth.models import AnonymousUser

    for user in (partner_a_viewer, partner_b_user, analyst, channel_manager):
        assert model.objects.restrict(user, "view").count() == 1
    roleless = User.objects.get(pk=UserFactory(organisation=vendor).pk)
    for user in (None, AnonymousUser(), roleless):
        assert not model.objects.restrict(user, "view").exists()
    # Templates are the network's: managed by the vendor, never by partners or analysts.
    for user in (partner_b_user, partner_a_viewer, analyst):
        assert not model.objects.restrict(user, "change").exists()
    assert model.objects.restrict(channel_manager, "change").count() == 1


def test_governance_settings_are_read_by_the_people_who_run_governance(
    governance_templates, partner_a_user, partner_b_user, analyst, channel_manager
):
    for user in (partner_a_user, partner_b_user):
        assert not GovernanceSettings.objects.restrict(user, "view").exists()
    assert GovernanceSettings.objects.restrict(channel_manager, "view").count() == 1
    assert GovernanceSettings.objects.restrict(channel_manager, "change").count() == 1
    assert not GovernanceSettings.objects.restrict(analyst, "change").exists()
