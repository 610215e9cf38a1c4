"""Relationship governance: management tiers and separated roles, the peer-to-peer contact map,
meeting cadence, two-sided health checks, issues with SLAs and escalation, continuity,
onboarding plans and enablement.

People on both sides are ``partners.Contact`` rows: a partner's staff are contacts of the
partner, the vendor's staff are contacts of the vendor organisation, and a contact with a
portal account points at its ``user``. One kind of person everywhere keeps handover to a
single code path and lets partner respondents answer without an account.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any, ClassVar

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from accord.channel.models import Shared
from accord.core.models import OrganisationOwned


class Tier(models.TextChoices):
    """Management tiers, lowest first: an issue climbs them in this order."""

    WORKING = "working", _("Working level")
    OPERATIONAL = "operational", _("Operational management")
    EXECUTIVE = "executive", pgettext_lazy("management tier", "Executive")


TIER_ORDER: list[str] = [Tier.WORKING, Tier.OPERATIONAL, Tier.EXECUTIVE]


def in_chinese(english: str, chinese: str) -> str:
    """``chinese`` when the active language is Chinese and it is set, else ``english``."""
    return chinese if chinese and (get_language() or "").startswith("zh") else english


def next_tier(tier: str) -> str | None:
    """The tier above ``tier`` (None at the top)."""
    index = TIER_ORDER.index(tier)
    return TIER_ORDER[index + 1] if index + 1 < len(TIER_ORDER) else None


class Side(models.TextChoices):
    VENDOR = "vendor", _("Vendor")
    PARTNER = "partner", _("Partner")


class Function(models.TextChoices):
    """The functions a contact-map slot pairs people in."""

    GENERAL = "general", _("General management")
    SALES = "sales", _("Sales")
    MARKETING = "marketing", _("Marketing")
    SERVICE = "service", _("Service and support")
    TECHNICAL = "technical", _("Technical")
    SUPPLY = "supply", _("Supply chain and logistics")
    FINANCE = "finance", _("Finance")


class Frequency(models.TextChoices):
    WEEKLY = "weekly", _("Weekly")
    MONTHLY = "monthly", _("Monthly")
    QUARTERLY = "quarterly", _("Quarterly")
    ANNUAL = "annual", _("Annual")


class GovernanceSettings(Shared):
    """Network-wide governance settings: one row (pk 1)."""

    tier_program = models.ForeignKey(
        "programs.Program",
        verbose_name=_("program for partner tiers"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Cadence templates and required certifications follow this program's tiers."),
    )
    misalignment_threshold = models.DecimalField(
        _("misalignment threshold (points on 1-5)"),
        max_digits=3,
        decimal_places=1,
        default=Decimal("1.0"),
        validators=[MinValueValidator(Decimal("0.1")), MaxValueValidator(Decimal("4"))],
    )
    survey_days_open = models.PositiveSmallIntegerField(
        _("days a health check stays open"),
        default=21,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
    )
    meeting_grace_days = models.PositiveSmallIntegerField(
        _("days before a missed meeting is overdue"),
        default=7,
        validators=[MaxValueValidator(90)],
    )
    certification_warning_days = models.PositiveSmallIntegerField(
        _("days ahead to flag an expiring certification"),
        default=60,
        validators=[MinValueValidator(1), MaxValueValidator(730)],
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("governance settings")
        verbose_name_plural = _("governance settings")
        permissions = [("manage_governance", "Manage governance templates and settings")]

    def __str__(self) -> str:
        return str(_("Governance settings"))

    @classmethod
    def current(cls) -> GovernanceSettings:
        found, _created = cls.objects.get_or_create(pk=1)
        return found


class Relationship(OrganisationOwned):
    """The governance record of one organisation the vendor works with."""

    # Made for every partner organisation: rolling back the import that created the
    # organisation takes it along (its roles, meetings and issues would still block).
    derived_from_owner: ClassVar[bool] = True

    class HealthFrequency(models.TextChoices):
        ANNUAL = "annual", _("Annual")
        QUARTERLY = "quarterly", _("Quarterly")

    organisation = models.OneToOneField(
        "partners.Organisation",
        verbose_name=_("organisation"),
        on_delete=models.CASCADE,
        related_name="relationship",
    )
    health_frequency = models.CharField(
        _("health check frequency"),
        max_length=10,
        choices=HealthFrequency.choices,
        default=HealthFrequency.ANNUAL,
    )
    started_on = models.DateField(_("relationship since"), default=timezone.localdate)
    # The latest closed health check's score (0-100) and flag, kept for lists and filters.
    health_score = models.DecimalField(
        _("health score"), max_digits=5, decimal_places=1, null=True, blank=True
    )
    misaligned = models.BooleanField(_("sides misaligned"), default=False)
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["organisation__name", "pk"]
        verbose_name = _("relationship")
        verbose_name_plural = _("relationships")

    def __str__(self) -> str:
        return str(self.organisation)


class RoleAssignment(OrganisationOwned):
    """One of the four separated roles of a relationship, held by a named vendor person.

    The same person may not hold two roles of one relationship: the second unique
    constraint is the database's half of that rule, the service gives the clear message.
    """

    class Role(models.TextChoices):
        SERVICE_DELIVERY = "service_delivery", _("Service delivery management")
        TRANSFORMATION = "transformation", _("Transformation management")
        RELATIONSHIP = "relationship", _("Relationship management")
        COMMERCIAL = "commercial", _("Commercial management")

    organisation = models.ForeignKey(
        "partners.Organisation",
        verbose_name=_("organisation"),
        on_delete=models.CASCADE,
        related_name="governance_roles",
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    holder = models.ForeignKey(
        "partners.Contact",
        verbose_name=_("held by"),
        on_delete=models.PROTECT,
        related_name="governance_roles",
    )
    assigned_on = models.DateField(_("assigned on"), default=timezone.localdate)

    class Meta:
        ordering = ["organisation", "role"]
        verbose_name = _("governance role")
        verbose_name_plural = _("governance roles")
        constraints = [
            models.UniqueConstraint(fields=["organisation", "role"], name="governance_role_once"),
            models.UniqueConstraint(
                fields=["organisation", "holder"], name="governance_role_one_per_person"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()}: {self.holder}"


class ContactSlot(OrganisationOwned):
    """A pair of peers, one on each side, at a management tier and in a function."""

    organisation = models.ForeignKey(
        "partners.Organisation",
        verbose_name=_("organisation"),
        on_delete=models.CASCADE,
        related_name="contact_slots",
    )
    tier = models.CharField(_("management tier"), max_length=12, choices=Tier.choices)
    function = models.CharField(
        _("function"), max_length=12, choices=Function.choices, default=Function.GENERAL
    )
    vendor_contact = models.ForeignKey(
        "partners.Contact",
        verbose_name=_("vendor person"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="vendor_slots",
    )
    partner_contact = models.ForeignKey(
        "partners.Contact",
        verbose_name=_("partner person"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="partner_slots",
    )

    class Meta:
        ordering = ["organisation", "tier", "function"]
        verbose_name = _("contact-map slot")
        verbose_name_plural = _("contact-map slots")
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "tier", "function"], name="contact_slot_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_tier_display()} · {self.get_function_display()}"


class KeyPerson(OrganisationOwned):
    """Someone the relationship depends on, on either side, with a named backup."""

    organisation = models.ForeignKey(
        "partners.Organisation",
        verbose_name=_("organisation"),
        on_delete=models.CASCADE,
        related_name="key_people",
    )
    person = models.ForeignKey(
        "partners.Contact",
        verbose_name=_("person"),
        on_delete=models.PROTECT,
        related_name="key_person_of",
    )
    backup = models.ForeignKey(
        "partners.Contact",
        verbose_name=_("backup"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="backup_of",
    )
    responsibility = models.CharField(_("responsibility"), max_length=150, blank=True)

    class Meta:
        ordering = ["organisation", "person__full_name", "pk"]
        verbose_name = _("key person")
        verbose_name_plural = _("key people")
        constraints = [
            models.UniqueConstraint(fields=["organisation", "person"], name="key_person_once"),
            models.CheckConstraint(
                condition=~Q(backup=models.F("person")), name="key_person_not_own_backup"
            ),
        ]

    def __str__(self) -> str:
        return str(self.person)


class CadenceTemplate(Shared):
    """A recurring meeting at a management tier, for the partners of some tiers (or all)."""

    name = models.CharField(_("name"), max_length=100)
    name_zh = models.CharField(_("Chinese name"), max_length=100, blank=True)
    tier = models.CharField(_("management tier"), max_length=12, choices=Tier.choices)
    frequency = models.CharField(_("frequency"), max_length=10, choices=Frequency.choices)
    # Partner tier codes of GovernanceSettings.tier_program; empty applies to every partner.
    partner_tiers = models.JSONField(_("partner tiers"), default=list, blank=True)
    duration_minutes = models.PositiveSmallIntegerField(
        _("duration (minutes)"), default=60, validators=[MinValueValidator(5)]
    )
    agenda = models.TextField(_("standing agenda"), blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["tier", "name"]
        verbose_name = _("cadence template")
        verbose_name_plural = _("cadence templates")

    def __str__(self) -> str:
        return self.name

    @property
    def label(self) -> str:
        return in_chinese(self.name, self.name_zh)


class Meeting(OrganisationOwned):
    """A governance meeting: planned from a cadence or by hand, then held with its record."""

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        HELD = "held", _("Held")
        CANCELLED = "cancelled", _("Cancelled")

    organisation = models.ForeignKey(
        "partners.Organisation",
        verbose_name=_("organisation"),
        on_delete=models.CASCADE,
        related_name="governance_meetings",
    )
    cadence = models.ForeignKey(
        CadenceTemplate,
        verbose_name=_("cadence"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="meetings",
    )
    title = models.CharField(_("title"), max_length=200)
    title_zh = models.CharField(_("Chinese title"), max_length=200, blank=True)
    tier = models.CharField(_("management tier"), max_length=12, choices=Tier.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PLANNED, db_index=True
    )
    starts_at = models.DateTimeField(_("starts"), db_index=True)
    duration_minutes = models.PositiveSmallIntegerField(
        _("duration (minutes)"), default=60, validators=[MinValueValidator(5)]
    )
    location = models.CharField(_("location or link"), max_length=300, blank=True)
    attendees = models.ManyToManyField(
        "partners.Contact", verbose_name=_("attendees"), blank=True, related_name="meetings"
    )
    agenda = models.TextField(_("agenda"), blank=True)
    minutes = models.TextField(_("minutes"), blank=True)
    decisions = models.TextField(_("decisions"), blank=True)
    held_at = models.DateTimeField(_("held"), null=True, blank=True)
    # Stable across edits: the UID calendar clients key the event on.
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    sequence = models.PositiveIntegerField(default=0, editable=False)
    overdue_notified_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["starts_at", "pk"]
        verbose_name = _("meeting")
        verbose_name_plural = _("meetings")
        constraints = [
            # A cadence plans one meeting per relationship and date: re-applying is a no-op.
            models.UniqueConstraint(
                fields=["organisation", "cadence", "starts_at"],
                condition=Q(cadence__isnull=False),
                name="meeting_cadence_once",
            )
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def label(self) -> str:
        return in_chinese(self.title, self.title_zh)


class Issue(OrganisationOwned):
    """A problem in a relationship, raised by either side, that climbs the management tiers
    while it stays unresolved past its SLA."""

    class Category(models.TextChoices):
        DELIVERY = "delivery", _("Delivery and logistics")
        QUALITY = "quality", _("Product quality")
        COMMERCIAL = "commercial", _("Commercial and pricing")
        SUPPORT = "support", _("Service and support")
        COMMUNICATION = "communication", _("Communication")
        COMPLIANCE = "compliance", _("Compliance")
        OTHER = "other", _("Other")

    class Severity(models.TextChoices):
        CRITICAL = "critical", _("Critical")
        HIGH = "high", _("High")
        MEDIUM = "medium", _("Medium")
        LOW = "low", _("Low")

    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("status", "Open")
        RESPONDED = "responded", _("Responded")
        RESOLVED = "resolved", _("Resolved")

    OPEN_STATUSES: ClassVar[tuple[str, ...]] = (Status.OPEN, Status.RESPONDED)

    organisation = models.ForeignKey(
        "partners.Organisation",
        verbose_name=_("organisation"),
        on_delete=models.CASCADE,
        related_name="governance_issues",
    )
    # "GI-000042" from the primary key, set by save().
    number = models.CharField(_("number"), max_length=20, unique=True, editable=False, blank=True)
    title = models.CharField(_("title"), max_length=200)
    category = models.CharField(_("category"), max_length=16, choices=Category.choices)
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices)
    description = models.TextField(_("description"), blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN, db_index=True
    )
    tier = models.CharField(
        _("management tier"), max_length=12, choices=Tier.choices, default=Tier.WORKING
    )
    raised_side = models.CharField(_("raised by side"), max_length=10, choices=Side.choices)
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("raised by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    owner = models.ForeignKey(
        "partners.Contact",
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="owned_issues",
    )
    raised_at = models.DateTimeField(_("raised"), default=timezone.now)
    respond_by = models.DateTimeField(_("respond by"), null=True, blank=True)
    resolve_by = models.DateTimeField(_("resolve by"), null=True, blank=True, db_index=True)
    responded_at = models.DateTimeField(_("responded"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    response_overdue_notified_at = models.DateTimeField(null=True, blank=True, editable=False)
    escalations = models.PositiveSmallIntegerField(_("escalations"), default=0)
    reopened = models.PositiveSmallIntegerField(_("times reopened"), default=0)
    root_cause = models.TextField(_("root cause"), blank=True)
    resolution = models.TextField(_("resolution"), blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["-raised_at", "-pk"]
        verbose_name = _("issue")
        verbose_name_plural = _("issues")
        permissions = [("resolve_issue", "Resolve, reopen and reassign issues")]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.number:
            super().save(*args, **kwargs)
            return
        self.number = f"new-{uuid.uuid4().hex[:16]}"
        super().save(*args, **kwargs)
        self.number = f"GI-{self.pk:06d}"
        type(self)._base_manager.filter(pk=self.pk).update(number=self.number)


class IssueEvent(OrganisationOwned):
    """One step of an issue's history, with the inputs and rule of an escalation."""

    organisation_field = "issue__organisation"

    class Kind(models.TextChoices):
        RAISED = "raised", _("Raised")
        RESPONDED = "responded", _("Responded")
        COMMENTED = "commented", _("Commented")
        ESCALATED = "escalated", _("Escalated")
        RESPONSE_OVERDUE = "response_overdue", _("Response overdue")
        ASSIGNED = "assigned", _("Owner changed")
        RESOLVED = "resolved", _("Resolved")
        REOPENED = "reopened", _("Reopened")

    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(_("time"), default=timezone.now)
    kind = models.CharField(_("event"), max_length=20, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    from_tier = models.CharField(_("from tier"), max_length=12, choices=Tier.choices, blank=True)
    to_tier = models.CharField(_("to tier"), max_length=12, choices=Tier.choices, blank=True)
    note = models.TextField(_("note"), blank=True)
    # For escalations: {"rule": ..., "severity": ..., "resolution_hours": ..., "deadline": ...,
    # "now": ..., "notified": [contact ids]}.
    data = models.JSONField(_("inputs"), default=dict, blank=True)

    class Meta:
        ordering = ["issue", "at", "pk"]
        verbose_name = _("issue event")
        verbose_name_plural = _("issue events")

    def __str__(self) -> str:
        return f"{self.issue_id} {self.kind}"


class IssueAttachment(OrganisationOwned):
    """A file attached to an issue, kept in the database so access goes through restrict."""

    organisation_field = "issue__organisation"
    MAX_BYTES: ClassVar[int] = 10 * 1024 * 1024

    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="attachments")
    name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(_("type"), max_length=100, default="application/octet-stream")
    size = models.PositiveIntegerField(_("size"))
    content = models.BinaryField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("uploaded"), default=timezone.now)

    class Meta:
        ordering = ["issue", "uploaded_at", "pk"]
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.name


class SeveritySla(Shared):
    """Response and resolution SLA of a severity; the resolution clock restarts per tier."""

    severity = models.CharField(
        _("severity"), max_length=10, choices=Issue.Severity.choices, unique=True
    )
    response_hours = models.PositiveIntegerField(
        _("response SLA (hours)"), validators=[MinValueValidator(1)]
    )
    resolution_hours = models.PositiveIntegerField(
        _("resolution SLA per tier (hours)"), validators=[MinValueValidator(1)]
    )

    DEFAULTS: ClassVar[dict[str, tuple[int, int]]] = {
        "critical": (4, 24),
        "high": (8, 72),
        "medium": (24, 168),
        "low": (72, 336),
    }

    class Meta:
        ordering = ["response_hours", "severity"]
        verbose_name = _("severity SLA")
        verbose_name_plural = _("severity SLAs")

    def __str__(self) -> str:
        return self.get_severity_display()


class ActionItem(OrganisationOwned):
    """Something someone agreed to do: from a meeting, or a corrective action of an issue."""

    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("status", "Open")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    organisation = models.ForeignKey(
        "partners.Organisation",
        verbose_name=_("organisation"),
        on_delete=models.CASCADE,
        related_name="action_items",
    )
    meeting = models.ForeignKey(
        Meeting,
        verbose_name=_("meeting"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="action_items",
    )
    issue = models.ForeignKey(
        Issue,
        verbose_name=_("issue"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="corrective_actions",
    )
    title = models.CharField(pgettext_lazy("action item", "action"), max_length=300)
    owner = models.ForeignKey(
        "partners.Contact",
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        related_name="action_items",
    )
    due_on = models.DateField(_("due"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN, db_index=True
    )
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    overdue_notified_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["due_on", "pk"]
        verbose_name = _("action item")
        verbose_name_plural = _("action items")

    def __str__(self) -> str:
        return self.title


DIMENSIONS: list[tuple[str, Any]] = [
    ("communication", _("Communication effectiveness")),
    ("satisfaction", _("Satisfaction")),
    ("trust", _("Trust")),
    ("compatibility", _("Compatibility")),
    ("goal_alignment", _("Alignment of goals")),
]
SCALE = [MinValueValidator(1), MaxValueValidator(5)]


class HealthSurvey(OrganisationOwned):
    """One two-sided health check of a relationship: the same questions to both sides.

    On close it stores each side's mean per dimension, the divergence, the score and the
    flag, with the threshold and rule that decided them (``result``).
    """

    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("health check", "Open")
        CLOSED = "closed", _("Closed")

    organisation = models.ForeignKey(
        "partners.Organisation",
        verbose_name=_("organisation"),
        on_delete=models.CASCADE,
        related_name="health_surveys",
    )
    period = models.CharField(_("period"), max_length=20)  # "2026" or "2026-Q3"
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN, db_index=True
    )
    opened_at = models.DateTimeField(_("opened"), default=timezone.now)
    closes_at = models.DateTimeField(_("closes"))
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    score = models.DecimalField(
        _("health score"), max_digits=5, decimal_places=1, null=True, blank=True
    )
    misaligned = models.BooleanField(_("sides misaligned"), default=False)
    result = models.JSONField(_("result"), default=dict, blank=True)

    class Meta:
        ordering = ["organisation", "-opened_at", "-pk"]
        verbose_name = _("health check")
        verbose_name_plural = _("health checks")
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "period"], name="health_survey_once_per_period"
            )
        ]

    def __str__(self) -> str:
        return f"{self.organisation_id} {self.period}"


class HealthResponse(OrganisationOwned):
    """One respondent's invitation and, once used, answers. The link carries a signed token
    whose hash is stored here; it expires with the survey and works once."""

    organisation_field = "survey__organisation"

    survey = models.ForeignKey(HealthSurvey, on_delete=models.CASCADE, related_name="responses")
    contact = models.ForeignKey(
        "partners.Contact",
        verbose_name=_("respondent"),
        on_delete=models.PROTECT,
        related_name="health_responses",
    )
    side = models.CharField(_("side"), max_length=10, choices=Side.choices)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    expires_at = models.DateTimeField(_("link expires"))
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    communication = models.PositiveSmallIntegerField(
        _("communication effectiveness"), null=True, blank=True, validators=SCALE
    )
    satisfaction = models.PositiveSmallIntegerField(
        _("satisfaction"), null=True, blank=True, validators=SCALE
    )
    trust = models.PositiveSmallIntegerField(_("trust"), null=True, blank=True, validators=SCALE)
    compatibility = models.PositiveSmallIntegerField(
        _("compatibility"), null=True, blank=True, validators=SCALE
    )
    goal_alignment = models.PositiveSmallIntegerField(
        _("alignment of goals"), null=True, blank=True, validators=SCALE
    )
    nps = models.PositiveSmallIntegerField(
        _("likelihood to recommend (0-10)"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(10)],
    )
    comment = models.TextField(_("comment"), blank=True)

    class Meta:
        ordering = ["survey", "side", "pk"]
        verbose_name = _("health-check response")
        verbose_name_plural = _("health-check responses")
        constraints = [
            models.UniqueConstraint(fields=["survey", "contact"], name="health_response_once"),
        ]

    def __str__(self) -> str:
        return f"{self.survey} · {self.contact}"

    @classmethod
    def restrict_rows(
        cls, queryset: models.QuerySet, user: Any, organisation_ids: models.QuerySet
    ) -> models.QuerySet:
        # A partner reads its own side's answers; the vendor side's stay with the vendor
        # (vendor staff with a territory scope read both sides of their relationships).
        rows = queryset.filter(survey__organisation__in=organisation_ids)
        return rows.filter(side=Side.PARTNER) if user.is_partner else rows


class Handover(OrganisationOwned):
    """A person's roles, open issues, action items, slots (and deal registrations) moved to
    a successor in one step; ``moved`` lists what moved, ``uncovered`` what lost cover."""

    organisation = models.ForeignKey(
        "partners.Organisation",
        verbose_name=_("organisation"),
        on_delete=models.CASCADE,
        related_name="handovers",
    )
    predecessor = models.ForeignKey(
        "partners.Contact",
        verbose_name=pgettext_lazy("handover", "from"),
        on_delete=models.PROTECT,
        related_name="handovers_from",
    )
    successor = models.ForeignKey(
        "partners.Contact",
        verbose_name=pgettext_lazy("handover", "to"),
        on_delete=models.PROTECT,
        related_name="handovers_to",
    )
    leaving = models.BooleanField(_("predecessor leaves"), default=True)
    reason = models.TextField(_("reason"), blank=True)
    moved = models.JSONField(_("moved"), default=dict, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("handover")
        verbose_name_plural = _("handovers")

    def __str__(self) -> str:
        return f"{self.predecessor} → {self.successor}"


class OnboardingTemplate(Shared):
    """A checklist to start a relationship (for a new partner) or a person in one."""

    class Kind(models.TextChoices):
        PARTNER = "partner", _("New partner")
        STAFF = "staff", _("New staff member")

    name = models.CharField(_("name"), max_length=100)
    name_zh = models.CharField(_("Chinese name"), max_length=100, blank=True)
    kind = models.CharField(_("for"), max_length=10, choices=Kind.choices)
    # [{"title": ..., "title_zh": ..., "side": "vendor" | "partner", "due_days": n}, ...]
    tasks = models.JSONField(_("tasks"), default=list)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["kind", "name"]
        verbose_name = _("onboarding template")
        verbose_name_plural = _("onboarding templates")

    def __str__(self) -> str:
        return self.name

    @property
    def label(self) -> str:
        return in_chinese(self.name, self.name_zh)


class OnboardingPlan(OrganisationOwned):
    """A template instantiated for one relationship (and person, for staff onboarding)."""

    organisation = models.ForeignKey(
        "partners.Organisation",
        verbose_name=_("organisation"),
        on_delete=models.CASCADE,
        related_name="onboarding_plans",
    )
    template = models.ForeignKey(
        OnboardingTemplate,
        verbose_name=_("template"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="plans",
    )
    name = models.CharField(_("name"), max_length=150)
    name_zh = models.CharField(_("Chinese name"), max_length=150, blank=True)
    subject = models.ForeignKey(
        "partners.Contact",
        verbose_name=_("person onboarded"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="onboarding_plans",
    )
    started_on = models.DateField(_("started"), default=timezone.localdate)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["-started_on", "-pk"]
        verbose_name = _("onboarding plan")
        verbose_name_plural = _("onboarding plans")

    def __str__(self) -> str:
        return self.name

    @property
    def label(self) -> str:
        return in_chinese(self.name, self.name_zh)


class OnboardingTask(OrganisationOwned):
    organisation_field = "plan__organisation"

    plan = models.ForeignKey(OnboardingPlan, on_delete=models.CASCADE, related_name="tasks")
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    title = models.CharField(_("task"), max_length=200)
    title_zh = models.CharField(_("Chinese title"), max_length=200, blank=True)
    side = models.CharField(_("side"), max_length=10, choices=Side.choices)
    owner = models.ForeignKey(
        "partners.Contact",
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="onboarding_tasks",
    )
    due_on = models.DateField(_("due"))
    done_at = models.DateTimeField(_("done"), null=True, blank=True)

    class Meta:
        ordering = ["plan", "position", "pk"]
        verbose_name = _("onboarding task")
        verbose_name_plural = _("onboarding tasks")

    def __str__(self) -> str:
        return self.title

    @property
    def label(self) -> str:
        return in_chinese(self.title, self.title_zh)


class Course(Shared):
    """A training course; passing it earns ``certification`` (a ``channel.Certification``
    of that name), valid for ``validity_months`` (0: no expiry)."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=150)
    name_zh = models.CharField(_("Chinese name"), max_length=150, blank=True)
    description = models.TextField(_("description"), blank=True)
    certification = models.CharField(_("certification earned"), max_length=150, unique=True)
    validity_months = models.PositiveSmallIntegerField(
        _("valid for (months)"), default=24, validators=[MaxValueValidator(240)]
    )
    hours = models.PositiveSmallIntegerField(_("hours"), default=4)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("course")
        verbose_name_plural = _("courses")

    def __str__(self) -> str:
        return self.name

    @property
    def label(self) -> str:
        return in_chinese(self.name, self.name_zh)


class CertificationRequirement(Shared):
    """Partners at ``tier_code`` (of the governance tier program) need ``minimum`` people
    holding ``course``'s certification, valid on the day."""

    tier_code = models.SlugField(_("partner tier"), max_length=40)
    course = models.ForeignKey(
        Course, verbose_name=_("course"), on_delete=models.CASCADE, related_name="requirements"
    )
    minimum = models.PositiveSmallIntegerField(
        _("certified people needed"), default=1, validators=[MinValueValidator(1)]
    )

    class Meta:
        ordering = ["tier_code", "course"]
        verbose_name = _("certification requirement")
        verbose_name_plural = _("certification requirements")
        constraints = [
            models.UniqueConstraint(
                fields=["tier_code", "course"], name="certification_requirement_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.tier_code}: {self.minimum} x {self.course}"


class CalendarFeed(models.Model):
    """A user's secret .ics feed address: the key's hash, revocable by making a new one."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed"
    )
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"calendar of {self.user_id}"


class Reminder(models.Model):
    """A notification sent once: its key (kind, object, date) makes a rerun a no-op."""

    key = models.CharField(max_length=200, unique=True)
    sent_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.key
