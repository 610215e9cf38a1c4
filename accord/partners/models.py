"""Organisations with their lifecycle, contacts, the territory tree and agreements."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, ClassVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import connection, models
from django.db.models import Max, Q, Value
from django.db.models.functions import Concat, Length, Substr
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accord.core.models import OrganisationOwned, RestrictedManager, RestrictedQuerySet

domain_validator = RegexValidator(
    r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$",
    _("Enter a bare domain such as example.com (no scheme, path or upper case)."),
)
currency_validator = RegexValidator(r"^[A-Z]{3}$", _("Use a three-letter ISO 4217 code."))
country_validator = RegexValidator(r"^[A-Z]{2}$", _("Use a two-letter ISO 3166 country code."))


def creates_cycle(node: Any) -> bool:
    """Whether ``node``'s parent is the node itself or one of its descendants."""
    if not (node.pk and node.parent_id):
        return False
    return node.parent_id == node.pk or bool(node.path and node.parent.path.startswith(node.path))


def within_path(prefix: str, field: str = "path") -> Q:
    """Rows whose materialised path starts with ``prefix`` (a node and its subtree).

    PostgreSQL answers ``LIKE 'prefix%'`` from the pattern index Django creates for the
    column. SQLite cannot use an index for ``LIKE ... ESCAPE``, so there the same set is
    asked as a range: paths are ``/digits/.../``, and every path below ``/12/`` sorts
    (binary collation) at or after ``/12/`` and before ``/120`` ("0" follows "/").
    """
    if connection.vendor == "sqlite":
        return Q(**{f"{field}__gte": prefix, f"{field}__lt": prefix[:-1] + "0"})
    return Q(**{f"{field}__startswith": prefix})


PATH_LENGTH = 255
ID_RESERVE = 20  # room for the id of a node not yet saved (a 64-bit id has 19 digits) and "/"


def path_too_long(node: Any) -> bool:
    """Whether placing ``node`` under its parent would overflow some materialised path."""
    parent_path = node.parent.path if node.parent_id else "/"
    if not node.pk:
        return len(parent_path) + ID_RESERVE > PATH_LENGTH
    new_path_length = len(parent_path) + len(str(node.pk)) + 1
    if not node.path:
        return new_path_length > PATH_LENGTH
    deepest = type(node)._base_manager.filter(within_path(node.path)).aggregate(
        longest=Max(Length("path"))
    )["longest"] or len(node.path)
    return deepest - len(node.path) + new_path_length > PATH_LENGTH


def sync_tree_path(node: Any) -> None:
    """After saving a tree node, set its materialised path and re-root its subtree.

    The path is ``/<root id>/.../<own id>/``; "this node and everything below it" is then
    one indexed prefix match. A move rewrites every descendant in one UPDATE.
    """
    expected = f"{node.parent.path if node.parent_id else '/'}{node.pk}/"
    if node.path == expected:
        return
    old, node.path = node.path, expected
    manager = type(node)._base_manager
    manager.filter(pk=node.pk).update(path=expected)
    if old:
        manager.filter(within_path(old)).update(
            path=Concat(
                Value(expected), Substr("path", len(old) + 1), output_field=models.CharField()
            )
        )


class Tag(models.Model):
    name = models.CharField(_("name"), max_length=50, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("tag")
        verbose_name_plural = _("tags")

    def __str__(self) -> str:
        return self.name


class OrganisationQuerySet(RestrictedQuerySet):
    def vendor(self) -> Organisation:
        """The vendor's own organisation, created on first use."""
        vendor = self.filter(is_vendor=True).first()
        if vendor is None:
            vendor = Organisation(
                name="Accord Vendor",
                kind=Organisation.Kind.VENDOR,
                status=Organisation.Status.ACTIVE,
                is_vendor=True,
            )
            vendor.save()
        return vendor

    def partners(self) -> OrganisationQuerySet:
        return self.filter(is_vendor=False)

    def descendants_of(self, organisation: Organisation) -> OrganisationQuerySet:
        return self.filter(within_path(organisation.path)).exclude(pk=organisation.pk)


class Organisation(OrganisationOwned):
    """A company in the network: the vendor itself, or a partner, supplier or customer."""

    organisation_field = "pk"

    class Kind(models.TextChoices):
        VENDOR = "vendor", _("Vendor")
        DISTRIBUTOR = "distributor", _("Distributor")
        WHOLESALER = "wholesaler", _("Wholesaler")
        RETAILER = "retailer", _("Retailer")
        RESELLER = "reseller", _("Reseller")
        VAR = "var", _("Value-added reseller")
        LOGISTICS = "logistics", _("Logistics provider")
        ECOMMERCE = "ecommerce", _("E-commerce platform")
        SUPPLIER = "supplier", _("Supplier")
        CONSULTANT = "consultant", _("Consultant")
        CUSTOMER = "customer", _("Customer")

    class Status(models.TextChoices):
        PROSPECT = "prospect", _("Prospect")
        APPLIED = "applied", _("Applied")
        ONBOARDING = "onboarding", _("Onboarding")
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")
        TERMINATED = "terminated", _("Terminated")

    # prospect → applied → onboarding → active ⇄ suspended → terminated. An application
    # may also be abandoned (terminated) before it goes live; an active partner is
    # suspended before it is terminated, so termination is always a deliberate second step.
    TRANSITIONS: ClassVar[dict[str, tuple[str, ...]]] = {
        Status.PROSPECT: (Status.APPLIED, Status.TERMINATED),
        Status.APPLIED: (Status.ONBOARDING, Status.TERMINATED),
        Status.ONBOARDING: (Status.ACTIVE, Status.TERMINATED),
        Status.ACTIVE: (Status.SUSPENDED,),
        Status.SUSPENDED: (Status.ACTIVE, Status.TERMINATED),
        Status.TERMINATED: (),
    }

    name = models.CharField(_("name"), max_length=200, db_index=True)
    legal_name = models.CharField(_("legal name"), max_length=200, blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, db_index=True)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.PROSPECT, db_index=True
    )
    is_vendor = models.BooleanField(_("vendor"), default=False, editable=False)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent organisation"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    # Materialised path "/<root id>/.../<own id>/" so "this organisation and all below
    # it" is one indexed prefix match, whatever the depth.
    path = models.CharField(max_length=255, editable=False, db_index=True, default="")
    external_key = models.CharField(
        _("external key"),
        max_length=100,
        blank=True,
        help_text=_("The key used in source systems."),
    )
    tax_id = models.CharField(_("tax / registration id"), max_length=50, blank=True, db_index=True)
    website_domain = models.CharField(
        _("website domain"), max_length=253, blank=True, validators=[domain_validator]
    )
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=50, blank=True)
    street = models.CharField(_("street"), max_length=200, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    region = models.CharField(_("province / state"), max_length=100, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=20, blank=True)
    country = models.CharField(
        _("country"), max_length=2, blank=True, validators=[country_validator]
    )
    currency = models.CharField(
        _("currency"), max_length=3, default="USD", validators=[currency_validator]
    )
    tags = models.ManyToManyField(Tag, verbose_name=_("tags"), blank=True, related_name="+")
    # The vendor's person for this relationship: early warnings and escalations reach them.
    account_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account manager"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="managed_organisations",
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = RestrictedManager.from_queryset(OrganisationQuerySet)()

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        permissions = [("transition_organisation", "Can change the lifecycle status")]
        constraints = [
            models.UniqueConstraint(
                fields=["is_vendor"], condition=Q(is_vendor=True), name="one_vendor_organisation"
            ),
            models.UniqueConstraint(
                fields=["external_key"],
                condition=~Q(external_key=""),
                name="organisation_external_key_unique",
            ),
            models.CheckConstraint(
                condition=~Q(parent=models.F("pk")), name="organisation_not_own_parent"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def restrict_rows(
        cls, queryset: models.QuerySet, user: Any, organisation_ids: models.QuerySet
    ) -> models.QuerySet:
        return queryset.filter(pk__in=organisation_ids)

    @property
    def owner_organisation_id(self) -> int | None:
        return self.pk

    def allowed_transitions(self) -> tuple[str, ...]:
        return self.TRANSITIONS.get(self.status, ())

    def clean_fields(self, exclude: Any = None) -> None:
        # Accept what people paste ("https://Example.com/") and keep the bare domain.
        domain = (self.website_domain or "").strip().lower()
        domain = re.sub(r"^[a-z][a-z0-9+.-]*://", "", domain).rstrip("/")
        self.website_domain = domain
        super().clean_fields(exclude)

    def clean(self) -> None:
        super().clean()
        if creates_cycle(self):
            raise ValidationError(
                {"parent": _("An organisation cannot sit below itself or its own children.")}
            )
        if path_too_long(self):
            raise ValidationError({"parent": _("The network is nested too deeply here.")})

    def save(self, *args: Any, **kwargs: Any) -> None:
        super().save(*args, **kwargs)
        sync_tree_path(self)


class Contact(OrganisationOwned):
    """A person at an organisation the vendor talks to (not necessarily a user)."""

    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("organisation"),
        on_delete=models.CASCADE,
        related_name="contacts",
    )
    full_name = models.CharField(_("full name"), max_length=150)
    external_key = models.CharField(
        _("external key"),
        max_length=100,
        blank=True,
        default="",
        help_text=_("The key used in source systems."),
    )
    job_title = models.CharField(_("job title"), max_length=150, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=50, blank=True)
    is_primary = models.BooleanField(_("primary contact"), default=False)
    # Whether the person is still with the organisation (a handover clears it on leaving).
    active = models.BooleanField(_("active"), default=True)
    # The person's portal account, when they have one: notifications, calendar feed and
    # governance actions reach the user through it.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user account"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="contact_cards",
    )
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["-is_primary", "full_name", "pk"]
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        constraints = [
            models.UniqueConstraint(
                fields=["external_key"],
                condition=~Q(external_key=""),
                name="contact_external_key_unique",
            )
        ]

    def __str__(self) -> str:
        return self.full_name


class TerritoryQuerySet(RestrictedQuerySet):
    def within(self, roots: Any) -> TerritoryQuerySet:
        """Territories at or below any of ``roots`` (a queryset or iterable of territories)."""
        condition = Q(pk__in=[])
        for root in roots:
            condition |= within_path(root.path)
        return self.filter(condition)


class Territory(models.Model):
    """A node of the territory tree: group → country → province/state → city, or custom."""

    class Level(models.TextChoices):
        GROUP = "group", _("Group")
        COUNTRY = "country", _("Country")
        REGION = "region", _("Sales region")
        PROVINCE = "province", _("Province / state")
        CITY = "city", _("City")

    code = models.SlugField(_("code"), max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=150)
    level = models.CharField(_("level"), max_length=20, choices=Level.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    path = models.CharField(max_length=255, editable=False, db_index=True, default="")

    objects = RestrictedManager.from_queryset(TerritoryQuerySet)()

    class Meta:
        ordering = ["path"]
        verbose_name = _("territory")
        verbose_name_plural = _("territories")

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        super().save(*args, **kwargs)
        sync_tree_path(self)

    @classmethod
    def restrict_rows(
        cls, queryset: models.QuerySet, user: Any, organisation_ids: models.QuerySet
    ) -> models.QuerySet:
        from accord.core.models import SCOPE_TERRITORY

        if user.access_scope == SCOPE_TERRITORY:
            return queryset.within(user.territories.all())
        # Partner staff see the territories their organisations are assigned.
        return queryset.filter(assignments__organisation__in=organisation_ids).distinct()

    @property
    def owner_organisation_id(self) -> None:
        return None

    @property
    def depth(self) -> int:
        return self.path.count("/") - 2

    def ancestors(self) -> models.QuerySet:
        """The territories above this one, root first."""
        ids = [int(part) for part in self.path.strip("/").split("/")[:-1] if part]
        return Territory.objects.filter(pk__in=ids).order_by("path")

    def clean(self) -> None:
        super().clean()
        if creates_cycle(self):
            raise ValidationError(
                {"parent": _("A territory cannot sit below itself or its own children.")}
            )
        if path_too_long(self):
            raise ValidationError({"parent": _("The territory tree is nested too deeply here.")})


class TerritoryAssignment(OrganisationOwned):
    """An organisation's right to a territory: exclusive (it alone) or shared."""

    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("organisation"),
        on_delete=models.CASCADE,
        related_name="territory_assignments",
    )
    territory = models.ForeignKey(
        Territory,
        verbose_name=_("territory"),
        on_delete=models.CASCADE,
        related_name="assignments",
    )
    exclusive = models.BooleanField(_("exclusive"), default=False)
    assigned_on = models.DateField(_("assigned on"), default=dt.date.today)

    class Meta:
        ordering = ["territory__path"]
        verbose_name = _("territory assignment")
        verbose_name_plural = _("territory assignments")
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "territory"], name="territory_assignment_unique"
            ),
            models.UniqueConstraint(
                fields=["territory"],
                condition=Q(exclusive=True),
                name="one_exclusive_holder_per_territory",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organisation} — {self.territory}"


class Agreement(OrganisationOwned):
    """A contract with an organisation: its dates, terms and agreed KPI targets."""

    class Type(models.TextChoices):
        RESELLER = "reseller", _("Reseller agreement")
        DISTRIBUTION = "distribution", _("Distribution agreement")
        SUPPLY = "supply", _("Supply agreement")
        SERVICE = "service", _("Service agreement")
        REFERRAL = "referral", _("Referral agreement")
        NDA = "nda", _("Non-disclosure agreement")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ACTIVE = "active", _("Active")
        EXPIRED = "expired", _("Expired")
        TERMINATED = "terminated", _("Terminated")

    TRANSITIONS: ClassVar[dict[str, tuple[str, ...]]] = {
        Status.DRAFT: (Status.ACTIVE, Status.TERMINATED),
        Status.ACTIVE: (Status.EXPIRED, Status.TERMINATED),
        Status.EXPIRED: (Status.ACTIVE,),
        Status.TERMINATED: (),
    }

    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("organisation"),
        on_delete=models.CASCADE,
        related_name="agreements",
    )
    reference = models.CharField(_("reference"), max_length=50, unique=True)
    type = models.CharField(_("type"), max_length=20, choices=Type.choices)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    start_on = models.DateField(_("start date"))
    end_on = models.DateField(_("end date"), null=True, blank=True)
    renewal_notice_days = models.PositiveIntegerField(
        _("renewal notice (days)"), default=60, validators=[MinValueValidator(0)]
    )
    pricing_tier = models.CharField(_("pricing tier"), max_length=50, blank=True)
    terms = models.TextField(_("terms"), blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["-start_on", "reference"]
        verbose_name = _("agreement")
        verbose_name_plural = _("agreements")
        permissions = [("transition_agreement", "Can change the agreement status")]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_on__isnull=True) | Q(end_on__gt=models.F("start_on")),
                name="agreement_ends_after_start",
            )
        ]

    def __str__(self) -> str:
        return self.reference

    def clean(self) -> None:
        super().clean()
        if self.end_on and self.start_on and self.end_on <= self.start_on:
            raise ValidationError({"end_on": _("The end date must be after the start date.")})

    def renewal_due(self, as_of: dt.date | None = None) -> bool:
        """Active, with an end date inside the renewal notice window (or already passed)."""
        as_of = as_of or timezone.localdate()
        return (
            self.status == self.Status.ACTIVE
            and self.end_on is not None
            # Whole days left, compared with the notice: no date arithmetic that could
            # overflow for early end dates or huge notice periods.
            and (self.end_on - as_of).days <= self.renewal_notice_days
        )


class AgreementTarget(OrganisationOwned):
    """One agreed KPI target of an agreement, as a structured row."""

    organisation_field = "agreement__organisation"

    class Period(models.TextChoices):
        MONTH = "month", _("Month")
        QUARTER = "quarter", _("Quarter")
        YEAR = "year", _("Year")

    agreement = models.ForeignKey(
        Agreement, verbose_name=_("agreement"), on_delete=models.CASCADE, related_name="targets"
    )
    metric = models.SlugField(_("metric"), max_length=60)
    comparator = models.CharField(
        _("comparator"), max_length=2, choices=[(">=", "≥"), ("<=", "≤")], default=">="
    )
    target = models.DecimalField(_("target"), max_digits=18, decimal_places=4)
    unit = models.CharField(_("unit"), max_length=20, blank=True)
    period = models.CharField(
        _("period"), max_length=10, choices=Period.choices, default=Period.YEAR
    )

    class Meta:
        ordering = ["metric"]
        verbose_name = _("KPI target")
        verbose_name_plural = _("KPI targets")
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "metric", "period"], name="agreement_target_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.metric} {self.comparator} {self.target}"
