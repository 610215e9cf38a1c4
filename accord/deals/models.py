"""Deal registrations, the end customers they resolve to, the conflicts found between them and
the rules of engagement that decide approval and protection."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accord.channel.models import Shared
from accord.core.models import OrganisationOwned
from accord.partners.models import currency_validator


class EngagementRules(Shared):
    """The rules of engagement: one row (pk 1), edited by channel managers.

    ``tier_program`` names the program whose effective tier picks a per-tier protection
    window from ``tier_protection_days`` ({tier code: days}); others get ``protection_days``.
    """

    class Policy(models.TextChoices):
        FIRST_TO_FILE = "first_to_file", _("First to file")
        MANUAL = "manual", _("Manual review of every conflict")

    policy = models.CharField(
        _("policy"), max_length=20, choices=Policy.choices, default=Policy.FIRST_TO_FILE
    )
    name_threshold = models.PositiveSmallIntegerField(
        _("name similarity threshold"),
        default=85,
        validators=[MinValueValidator(50), MaxValueValidator(100)],
    )
    require_product_overlap = models.BooleanField(
        _("a conflict needs overlapping product lines"), default=True
    )
    check_territories = models.BooleanField(_("check exclusive territories"), default=True)
    check_named_accounts = models.BooleanField(_("check direct-sales named accounts"), default=True)
    auto_approve = models.BooleanField(
        _("auto-approve when there is no conflict and the standing allows"), default=True
    )
    reveal_conflicts = models.BooleanField(
        _("show partners who holds a conflicting registration"), default=False
    )
    approval_sla_hours = models.PositiveIntegerField(
        _("approval SLA (hours)"), default=48, validators=[MinValueValidator(1)]
    )
    protection_days = models.PositiveIntegerField(
        _("protection window (days)"), default=90, validators=[MinValueValidator(1)]
    )
    extension_days = models.PositiveIntegerField(
        _("extension (days)"), default=30, validators=[MinValueValidator(1)]
    )
    expiry_reminder_days = models.PositiveIntegerField(
        _("expiry reminder (days before)"), default=14
    )
    tier_program = models.ForeignKey(
        "programs.Program",
        verbose_name=_("program for per-tier windows"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    tier_protection_days = models.JSONField(
        _("protection window per tier"), default=dict, blank=True
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("rules of engagement")
        verbose_name_plural = _("rules of engagement")

    def __str__(self) -> str:
        return str(_("Rules of engagement"))

    @classmethod
    def current(cls) -> EngagementRules:
        rules, _created = cls.objects.get_or_create(pk=1)
        return rules


class EndCustomer(Shared):
    """A resolved end customer: registrations naming the same company by tax id, domain or
    normalised name (in one country) point here. Vendor staff only; a named account is one
    the vendor's direct sales team owns."""

    name = models.CharField(_("name"), max_length=200)
    name_key = models.CharField(_("normalised name"), max_length=200, db_index=True)
    tax_key = models.CharField(_("tax / registration id"), max_length=50, blank=True)
    domain_key = models.CharField(_("domain"), max_length=253, blank=True)
    country = models.CharField(_("country"), max_length=2, blank=True)
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
    named_account = models.BooleanField(_("direct-sales named account"), default=False)
    account_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = _("end customer")
        verbose_name_plural = _("end customers")
        constraints = [
            models.UniqueConstraint(
                fields=["tax_key"], condition=~Q(tax_key=""), name="end_customer_tax_unique"
            ),
            models.UniqueConstraint(
                fields=["domain_key"],
                condition=~Q(domain_key=""),
                name="end_customer_domain_unique",
            ),
            models.UniqueConstraint(
                fields=["name_key", "country"], name="end_customer_name_country_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Registration(OrganisationOwned):
    """One partner's (or the vendor's direct sales team's) claim on an opportunity."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("Submitted")
        RETURNED = "returned", _("Returned for information")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        WON = "won", _("Won")
        LOST = "lost", _("Lost")
        EXPIRED = "expired", _("Expired")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    OPEN = (Status.SUBMITTED, Status.RETURNED, Status.APPROVED)
    # Labels of audited values that are not fields (see accord_ui.audit_changes).
    audit_labels: ClassVar[dict[str, Any]] = {"product_lines": _("Product lines")}

    number = models.CharField(_("number"), max_length=20, unique=True, editable=False)
    organisation = models.ForeignKey(
        "partners.Organisation",
        verbose_name=_("registered by organisation"),
        on_delete=models.PROTECT,
        related_name="deal_registrations",
    )
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("registered by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # The end customer as the registrant typed it.
    customer_name = models.CharField(_("end customer"), max_length=200)
    customer_tax_id = models.CharField(_("tax / registration id"), max_length=50, blank=True)
    customer_domain = models.CharField(_("website domain"), max_length=253, blank=True)
    customer_street = models.CharField(_("street"), max_length=200, blank=True)
    customer_city = models.CharField(_("city"), max_length=100, blank=True)
    customer_region = models.CharField(_("province / state"), max_length=100, blank=True)
    customer_country = models.CharField(_("country"), max_length=2, blank=True)
    territory = models.ForeignKey(
        "partners.Territory",
        verbose_name=_("territory"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Normalised keys (accord.deals.matching), what conflict detection compares.
    name_key = models.CharField(max_length=200, db_index=True, editable=False, default="")
    tax_key = models.CharField(max_length=50, db_index=True, editable=False, default="")
    domain_key = models.CharField(max_length=253, db_index=True, editable=False, default="")
    end_customer = models.ForeignKey(
        EndCustomer,
        verbose_name=_("resolved end customer"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="registrations",
    )
    products = models.ManyToManyField(
        "channel.Product", verbose_name=_("products"), blank=True, related_name="+"
    )
    value = models.DecimalField(
        _("estimated value"),
        max_digits=18,
        decimal_places=2,
        validators=[MinValueValidator(Decimal(0))],
    )
    currency = models.CharField(_("currency"), max_length=3, validators=[currency_validator])
    expected_close = models.DateField(_("expected close date"))
    notes = models.TextField(_("notes"), blank=True)
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=Status.choices,
        default=Status.SUBMITTED,
        db_index=True,
    )
    submitted_at = models.DateTimeField(_("submitted"), default=timezone.now, db_index=True)
    approval_due = models.DateTimeField(_("decision due"), null=True, blank=True)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # The decision's inputs and the rule that made it: {"rule": ..., "inputs": {...}}.
    decision = models.JSONField(_("decision"), default=dict, blank=True)
    protected_until = models.DateField(_("protected until"), null=True, blank=True)
    extension_requested_at = models.DateTimeField(_("extension requested"), null=True, blank=True)
    extension_reason = models.TextField(_("extension reason"), blank=True)
    extension_decided_at = models.DateTimeField(_("extension decided"), null=True, blank=True)
    extended = models.BooleanField(_("extended"), default=False)
    reminded_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["-submitted_at", "-pk"]
        verbose_name = _("deal registration")
        verbose_name_plural = _("deal registrations")
        permissions = [
            ("decide_registration", "Approve, reject or return deal registrations"),
            ("manage_engagement", "Edit the rules of engagement and named accounts"),
        ]
        indexes = [models.Index(fields=["status", "protected_until"], name="registration_open")]

    def __str__(self) -> str:
        return f"{self.number} {self.customer_name}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN

    def product_lines(self) -> list[str]:
        return sorted({line.product_line for line in self.lines.all()})


class RegistrationLine(OrganisationOwned):
    """A product line a registration claims. ``protected`` is true exactly while the
    registration is approved, and the database allows one protected line per end customer
    and product line: the invariant holds whatever races the services lose."""

    organisation_field = "registration__organisation"

    registration = models.ForeignKey(Registration, on_delete=models.CASCADE, related_name="lines")
    product_line = models.CharField(_("product line"), max_length=100)
    end_customer = models.ForeignKey(
        EndCustomer, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    protected = models.BooleanField(default=False)

    class Meta:
        ordering = ["registration", "product_line"]
        verbose_name = _("registered product line")
        verbose_name_plural = _("registered product lines")
        constraints = [
            models.UniqueConstraint(
                fields=["registration", "product_line"], name="registration_line_unique"
            ),
            models.UniqueConstraint(
                fields=["end_customer", "product_line"],
                condition=Q(protected=True),
                name="one_approved_registration_per_customer_line",
            ),
        ]

    def __str__(self) -> str:
        return self.product_line


class NameGram(models.Model):
    """The blocking index of registration names (accord.deals.matching): one row per gram of
    an indexed registration's normalised name, with the name's length and the name itself, so
    a search reads candidates straight from the index (gram, length band) and verifies them
    without touching the registrations. Never shown; kept by the registration services."""

    registration = models.ForeignKey(Registration, on_delete=models.CASCADE, related_name="+")
    gram = models.CharField(max_length=16)
    length = models.PositiveSmallIntegerField()
    key = models.CharField(max_length=200)

    class Meta:
        indexes = [
            models.Index(fields=["gram", "length", "key", "registration"], name="namegram_lookup")
        ]

    def __str__(self) -> str:
        return self.gram


class NameGramCount(models.Model):
    """How many indexed names of each length hold a gram: what a search reads first to probe
    the rarest grams of a name. Kept with NameGram by accord.deals.matching."""

    gram = models.CharField(max_length=16)
    length = models.PositiveSmallIntegerField()
    registrations = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["gram", "length"], name="namegramcount_unique")
        ]

    def __str__(self) -> str:
        return f"{self.gram}/{self.length}: {self.registrations}"


class Conflict(OrganisationOwned):
    """A possible clash found for ``registration``: an earlier open registration, a named
    account or another partner's exclusive territory, with its score and every reason."""

    organisation_field = "registration__organisation"

    class Kind(models.TextChoices):
        REGISTRATION = "registration", _("Registration")
        NAMED_ACCOUNT = "named_account", _("Named account")
        TERRITORY = "territory", _("Exclusive territory")

    class Resolution(models.TextChoices):
        OPEN = "open", pgettext_lazy("conflict resolution", "Open")
        DISMISSED = "dismissed", _("Not a conflict")
        UPHELD = "upheld", _("Upheld")

    registration = models.ForeignKey(
        Registration, on_delete=models.CASCADE, related_name="conflicts"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    other = models.ForeignKey(
        Registration,
        verbose_name=_("conflicting registration"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    end_customer = models.ForeignKey(
        EndCustomer, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    holder = models.ForeignKey(
        "partners.Organisation",
        verbose_name=_("holder"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    score = models.PositiveSmallIntegerField(_("score"))
    # [{"code": "tax_id" | "domain" | "name" | "products" | "territory" | ..., ...}]
    reasons = models.JSONField(_("reasons"), default=list)
    blocking = models.BooleanField(_("blocks approval"), default=False)
    resolution = models.CharField(
        _("resolution"), max_length=10, choices=Resolution.choices, default=Resolution.OPEN
    )
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution_reason = models.TextField(_("reason"), blank=True)
    found_at = models.DateTimeField(_("found"), default=timezone.now)

    class Meta:
        ordering = ["-score", "pk"]
        verbose_name = _("conflict")
        verbose_name_plural = _("conflicts")

    def __str__(self) -> str:
        return f"{self.registration_id} ~ {self.other_id or self.end_customer_id} ({self.score})"

    def reason_codes(self) -> list[Any]:
        return [reason.get("code") for reason in self.reasons]
