"""Leads, the ordered routing rules that pick a partner for each, the acceptance SLA settings
and the routing history that explains every offer, acceptance, decline and recall."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accord.channel.models import Shared
from accord.core.models import OrganisationOwned
from accord.partners.models import country_validator, currency_validator


class LeadSettings(Shared):
    """Acceptance SLA and re-routing limits: one row (pk 1).

    ``tier_program`` names the program whose effective tier picks a per-tier SLA from
    ``tier_acceptance_hours`` ({tier code: hours}) and the lead priority the tier and
    weighted-random rules read.
    """

    acceptance_hours = models.PositiveIntegerField(
        _("acceptance SLA (hours)"), default=48, validators=[MinValueValidator(1)]
    )
    tier_program = models.ForeignKey(
        "programs.Program",
        verbose_name=_("program for tiers"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    tier_acceptance_hours = models.JSONField(_("acceptance SLA per tier"), default=dict, blank=True)
    max_offers = models.PositiveSmallIntegerField(
        _("offers before manual review"), default=5, validators=[MinValueValidator(1)]
    )
    performance_days = models.PositiveIntegerField(
        _("performance window (days)"), default=180, validators=[MinValueValidator(1)]
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("lead settings")
        verbose_name_plural = _("lead settings")

    def __str__(self) -> str:
        return str(_("Lead settings"))

    @classmethod
    def current(cls) -> LeadSettings:
        found, _created = cls.objects.get_or_create(pk=1)
        return found


class RoutingRule(Shared):
    """One step of routing, applied in ``position`` order to narrow the candidate partners.

    ``params`` by kind: territory {"exclusive_first": bool}; partner_kind {"kinds": [...]};
    tier {"min_rank": n} or {"tiers": [codes]}; capacity {"max_open": n}; performance
    {"min_acceptance": 0..1, "min_win": 0..1, "min_offers": n}; random {"weight": "lead_priority"
    | "equal" | "performance"}. A required rule that leaves nobody sends the lead to manual
    review; an optional one is skipped.
    """

    class Kind(models.TextChoices):
        TERRITORY = "territory", _("Territory")
        PARTNER_KIND = "partner_kind", _("Partner kind")
        TIER = "tier", _("Tier")
        CAPACITY = "capacity", _("Capacity")
        PERFORMANCE = "performance", _("Performance")
        RANDOM = "random", _("Weighted random")

    position = models.PositiveSmallIntegerField(_("position"))
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    required = models.BooleanField(_("required"), default=False)
    active = models.BooleanField(_("active"), default=True)
    params = models.JSONField(_("parameters"), default=dict, blank=True)

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = _("routing rule")
        verbose_name_plural = _("routing rules")
        permissions = [("route_lead", "Create, route and reassign leads")]

    def __str__(self) -> str:
        return self.name


class Lead(OrganisationOwned):
    """A sales lead for a partner to work. Partners see the leads offered or assigned to
    them (``assigned_to``); the vendor sees all."""

    organisation_field = "assigned_to"

    class Status(models.TextChoices):
        NEW = "new", _("New")
        OFFERED = "offered", _("Awaiting acceptance")
        ACCEPTED = "accepted", _("Accepted")
        MANUAL = "manual", _("Manual review")
        WON = "won", _("Won")
        LOST = "lost", _("Lost")

    class Source(models.TextChoices):
        UI = "ui", _("Entered")
        API = "api", _("API")
        IMPORT = "import", _("Import")

    # "L-000042" from the primary key, set by save() (blank until the row exists).
    number = models.CharField(_("number"), max_length=20, unique=True, editable=False, blank=True)
    external_key = models.CharField(
        _("external key"), max_length=100, null=True, blank=True, unique=True
    )
    source = models.CharField(_("source"), max_length=8, choices=Source.choices, default="ui")
    company_name = models.CharField(_("company"), max_length=200)
    contact_name = models.CharField(_("contact"), max_length=150, blank=True)
    contact_email = models.EmailField(_("e-mail"), blank=True)
    contact_phone = models.CharField(_("phone"), max_length=50, blank=True)
    country = models.CharField(
        _("country"), max_length=2, blank=True, validators=[country_validator]
    )
    region = models.CharField(_("province / state"), max_length=100, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    territory = models.ForeignKey(
        "partners.Territory",
        verbose_name=_("territory"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    product_line = models.CharField(_("product line"), max_length=100, blank=True)
    value = models.DecimalField(
        _("estimated value"),
        max_digits=18,
        decimal_places=2,
        default=Decimal(0),
        validators=[MinValueValidator(Decimal(0))],
    )
    currency = models.CharField(
        _("currency"), max_length=3, validators=[currency_validator], default="USD"
    )
    description = models.TextField(_("description"), blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.NEW, db_index=True
    )
    assigned_to = models.ForeignKey(
        "partners.Organisation",
        verbose_name=_("assigned to"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="leads",
    )
    offered_at = models.DateTimeField(_("offered"), null=True, blank=True)
    accept_by = models.DateTimeField(_("accept by"), null=True, blank=True, db_index=True)
    accepted_at = models.DateTimeField(_("accepted"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    offers = models.PositiveSmallIntegerField(_("offers made"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("lead")
        verbose_name_plural = _("leads")
        permissions = [("respond_lead", "Accept or decline leads offered to the organisation")]

    def __str__(self) -> str:
        return f"{self.number} {self.company_name}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.number:
            super().save(*args, **kwargs)
            return
        # Unique meanwhile; the number proper needs the primary key.
        self.number = f"new-{uuid.uuid4().hex[:16]}"
        super().save(*args, **kwargs)
        self.number = f"L-{self.pk:06d}"
        type(self)._base_manager.filter(pk=self.pk).update(number=self.number)


class RoutingEvent(OrganisationOwned):
    """One step of a lead's routing history: who was offered it by which rules and why,
    who accepted, declined or let it lapse. A partner sees only the events about itself."""

    class Kind(models.TextChoices):
        OFFERED = "offered", _("Offered")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")
        RECALLED = "recalled", _("Recalled after the SLA")
        MANUAL = "manual", _("Sent to manual review")
        ASSIGNED = "assigned", _("Assigned by hand")
        WON = "won", _("Won")
        LOST = "lost", _("Lost")

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(_("time"), default=timezone.now)
    kind = models.CharField(_("event"), max_length=10, choices=Kind.choices)
    organisation = models.ForeignKey(
        "partners.Organisation",
        verbose_name=_("organisation"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.TextField(_("reason"), blank=True)
    # For offers: the rules run, each with candidates before and after and what it did, the
    # final weights and the random draw: {"steps": [...], "weights": {...}, "draw": x}.
    trace = models.JSONField(_("routing trace"), default=dict, blank=True)

    class Meta:
        ordering = ["lead", "at", "pk"]
        verbose_name = _("routing event")
        verbose_name_plural = _("routing events")
        indexes = [models.Index(fields=["organisation", "kind", "at"], name="routing_event_perf")]

    def __str__(self) -> str:
        return f"{self.lead_id} {self.kind}"
