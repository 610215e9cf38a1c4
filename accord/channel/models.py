"""Channel facts (products, sales lines, inventory, deliveries, surveys, certifications,
exchange rates) and the per-organisation sales rollups the KPI engine reads."""

from __future__ import annotations

from typing import Any

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accord.core.models import OrganisationOwned, RestrictedManager, RestrictedQuerySet
from accord.partners.models import currency_validator

NON_NEGATIVE = [MinValueValidator(0)]


def month_key(day: Any) -> int:
    """The integer key ``yyyymm`` of the month holding ``day`` (what rollups group on)."""
    return day.year * 100 + day.month


class SharedQuerySet(RestrictedQuerySet):
    """Vendor master data (catalogue, rates): every permitted user sees every row."""


class Shared(models.Model):
    objects = RestrictedManager.from_queryset(SharedQuerySet)()

    class Meta:
        abstract = True

    @classmethod
    def restrict_rows(
        cls, queryset: models.QuerySet, user: Any, organisation_ids: models.QuerySet
    ) -> models.QuerySet:
        return queryset

    @property
    def owner_organisation_id(self) -> None:
        return None


class Imported(models.Model):
    """A fact row that can come from an import: its key in the source and the batch that made it.

    ``import_batch`` is the id of the :class:`accord.imports.models.ImportBatch` that
    created the row (no foreign key: channel must not depend on imports); rolling a batch
    back deletes the rows it created.
    """

    source_key = models.CharField(_("source key"), max_length=200, unique=True)
    import_batch = models.PositiveBigIntegerField(null=True, blank=True, editable=False)

    class Meta:
        abstract = True


class ProductCategory(Shared):
    key = models.CharField(_("key"), max_length=100, unique=True)
    name = models.CharField(_("name"), max_length=150)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("product category")
        verbose_name_plural = _("product categories")

    def __str__(self) -> str:
        return self.name


class Product(Shared):
    key = models.CharField(_("key"), max_length=100, unique=True)
    name = models.CharField(_("name"), max_length=200)
    category = models.ForeignKey(
        ProductCategory,
        verbose_name=_("category"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="products",
    )
    product_line = models.CharField(_("product line"), max_length=100, blank=True)
    standard_cost = models.DecimalField(
        _("standard cost"),
        max_digits=18,
        decimal_places=4,
        null=True,
        blank=True,
        validators=NON_NEGATIVE,
    )
    list_price = models.DecimalField(
        _("list price"),
        max_digits=18,
        decimal_places=4,
        null=True,
        blank=True,
        validators=NON_NEGATIVE,
    )
    currency = models.CharField(
        _("currency"), max_length=3, default="USD", validators=[currency_validator]
    )
    colour = models.CharField(_("colour"), max_length=50, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["key"]
        verbose_name = _("product")
        verbose_name_plural = _("products")

    def __str__(self) -> str:
        return f"{self.key} · {self.name}"


class ExchangeRate(Shared):
    """``rate`` units of the base currency buy one unit of ``currency`` from ``valid_from`` on."""

    currency = models.CharField(_("currency"), max_length=3, validators=[currency_validator])
    valid_from = models.DateField(_("valid from"))
    rate = models.DecimalField(
        _("rate"), max_digits=20, decimal_places=10, validators=[MinValueValidator(0)]
    )

    class Meta:
        ordering = ["currency", "-valid_from"]
        verbose_name = _("exchange rate")
        verbose_name_plural = _("exchange rates")
        constraints = [
            models.UniqueConstraint(fields=["currency", "valid_from"], name="rate_unique_day"),
            models.CheckConstraint(condition=Q(rate__gt=0), name="rate_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.currency} {self.valid_from}: {self.rate}"


class SalesLine(Imported, OrganisationOwned):
    """One order line. Sell-in: the vendor sold to ``organisation``; sell-through:
    ``organisation`` sold on to an end customer."""

    class Direction(models.TextChoices):
        SELL_IN = "sell_in", _("Sell-in")
        SELL_THROUGH = "sell_through", _("Sell-through")

    # No index of its own: the (organisation, date) index serves organisation lookups, and
    # every index costs a bulk import about a microsecond a line.
    organisation = models.ForeignKey(
        "partners.Organisation",
        verbose_name=_("organisation"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    direction = models.CharField(_("direction"), max_length=12, choices=Direction.choices)
    order_number = models.CharField(_("order number"), max_length=64, blank=True)
    date = models.DateField(_("date"))
    month = models.PositiveIntegerField(editable=False)  # yyyymm, see month_key()
    product = models.ForeignKey(
        Product,
        verbose_name=_("product"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    quantity = models.DecimalField(_("quantity"), max_digits=14, decimal_places=3)
    unit_price = models.DecimalField(
        _("unit price"), max_digits=18, decimal_places=4, null=True, blank=True
    )
    amount = models.DecimalField(_("amount"), max_digits=18, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3, validators=[currency_validator])
    amount_base = models.DecimalField(
        _("amount in base currency"), max_digits=18, decimal_places=2, editable=False
    )
    cost_base = models.DecimalField(
        _("cost in base currency"),
        max_digits=18,
        decimal_places=2,
        null=True,
        blank=True,
        editable=False,
    )
    end_customer_key = models.CharField(_("end customer key"), max_length=100, blank=True)
    end_customer_name = models.CharField(_("end customer"), max_length=200, blank=True)
    end_customer_country = models.CharField(_("end customer country"), max_length=2, blank=True)
    end_customer_region = models.CharField(_("end customer region"), max_length=100, blank=True)
    end_customer_city = models.CharField(_("end customer city"), max_length=100, blank=True)
    territory = models.ForeignKey(
        "partners.Territory",
        verbose_name=_("territory"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    sales_rep = models.CharField(_("sales rep"), max_length=100, blank=True)

    class Meta:
        ordering = ["-date", "order_number"]
        verbose_name = _("sales line")
        verbose_name_plural = _("sales lines")
        indexes = [
            models.Index(fields=["organisation", "date"], name="salesline_org_date"),
            models.Index(fields=["month", "organisation"], name="salesline_month_org"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=0), name="salesline_qty_non_negative")
        ]

    def __str__(self) -> str:
        return f"{self.order_number or self.source_key} · {self.date}"


class SalesRollup(OrganisationOwned):
    """Sales of one organisation, one direction, one month / quarter / year.

    Kept current inside the import transaction (``channel.rollups``); the KPI engine reads
    these rows, never the raw lines. ``period_key`` is ``yyyymm`` of the period's first
    month. ``products`` and ``customers`` are distinct counts at this period's grain, which
    is why each grain is stored rather than summed from months.
    """

    class Period(models.TextChoices):
        MONTH = "month", _("Month")
        QUARTER = "quarter", _("Quarter")
        YEAR = "year", _("Year")

    organisation = models.ForeignKey(
        "partners.Organisation", on_delete=models.CASCADE, related_name="+"
    )
    direction = models.CharField(max_length=12, choices=SalesLine.Direction.choices)
    period = models.CharField(max_length=7, choices=Period.choices)
    period_key = models.PositiveIntegerField()
    revenue = models.DecimalField(max_digits=20, decimal_places=2)
    cost = models.DecimalField(max_digits=20, decimal_places=2)
    costed_revenue = models.DecimalField(max_digits=20, decimal_places=2)
    quantity = models.DecimalField(max_digits=20, decimal_places=3)
    lines = models.PositiveIntegerField()
    orders = models.PositiveIntegerField()
    products = models.PositiveIntegerField()
    customers = models.PositiveIntegerField()

    class Meta:
        verbose_name = _("sales rollup")
        verbose_name_plural = _("sales rollups")
        constraints = [
            models.UniqueConstraint(
                fields=["period", "period_key", "direction", "organisation"],
                name="salesrollup_unique",
            )
        ]
        indexes = [models.Index(fields=["organisation", "period"], name="salesrollup_org")]


class InventorySnapshot(Imported, OrganisationOwned):
    organisation = models.ForeignKey(
        "partners.Organisation",
        verbose_name=_("organisation"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    location = models.CharField(_("location"), max_length=100, blank=True)
    product = models.ForeignKey(
        Product, verbose_name=_("product"), on_delete=models.PROTECT, related_name="+"
    )
    date = models.DateField(_("date"))
    on_hand = models.DecimalField(
        _("on hand"), max_digits=14, decimal_places=3, validators=NON_NEGATIVE
    )
    on_order = models.DecimalField(
        _("on order"), max_digits=14, decimal_places=3, default=0, validators=NON_NEGATIVE
    )

    class Meta:
        ordering = ["-date", "location"]
        verbose_name = _("inventory snapshot")
        verbose_name_plural = _("inventory snapshots")
        indexes = [models.Index(fields=["organisation", "date"], name="inventory_org_date")]

    def __str__(self) -> str:
        return f"{self.location or '-'} · {self.date}"


class Delivery(Imported, OrganisationOwned):
    """A delivery by (or to) ``organisation``: promised vs actual date, ordered vs filled."""

    organisation = models.ForeignKey(
        "partners.Organisation",
        verbose_name=_("organisation"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    reference = models.CharField(_("reference"), max_length=64, blank=True)
    product = models.ForeignKey(
        Product,
        verbose_name=_("product"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    promised_date = models.DateField(_("promised date"))
    actual_date = models.DateField(_("actual date"), null=True, blank=True)
    ordered_quantity = models.DecimalField(
        _("ordered quantity"), max_digits=14, decimal_places=3, validators=NON_NEGATIVE
    )
    filled_quantity = models.DecimalField(
        _("filled quantity"), max_digits=14, decimal_places=3, default=0, validators=NON_NEGATIVE
    )

    class Meta:
        ordering = ["-promised_date"]
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        indexes = [models.Index(fields=["organisation", "promised_date"], name="delivery_org_date")]

    def __str__(self) -> str:
        return f"{self.reference or self.source_key} · {self.promised_date}"


class SurveyResponse(Imported, OrganisationOwned):
    """A customer-satisfaction (CSAT 1-5) and/or NPS (0-10) answer about ``organisation``."""

    class Side(models.TextChoices):
        CUSTOMER = "customer", _("End customer")
        PARTNER = "partner", _("Partner")
        VENDOR = "vendor", _("Vendor")

    organisation = models.ForeignKey(
        "partners.Organisation",
        verbose_name=_("organisation"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    date = models.DateField(_("date"))
    respondent_side = models.CharField(
        _("respondent side"), max_length=10, choices=Side.choices, default=Side.CUSTOMER
    )
    respondent = models.CharField(_("respondent"), max_length=150, blank=True)
    csat = models.PositiveSmallIntegerField(
        _("CSAT"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
    )
    nps = models.PositiveSmallIntegerField(
        _("NPS score"), null=True, blank=True, validators=[MaxValueValidator(10)]
    )
    comment = models.TextField(_("comment"), blank=True)

    class Meta:
        ordering = ["-date"]
        verbose_name = _("survey response")
        verbose_name_plural = _("survey responses")
        indexes = [models.Index(fields=["organisation", "date"], name="survey_org_date")]
        constraints = [
            models.CheckConstraint(
                condition=Q(csat__isnull=True) | Q(csat__gte=1, csat__lte=5), name="csat_1_5"
            ),
            models.CheckConstraint(
                condition=Q(nps__isnull=True) | Q(nps__gte=0, nps__lte=10), name="nps_0_10"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date} · {self.get_respondent_side_display()}"

    @classmethod
    def restrict_rows(
        cls, queryset: models.QuerySet, user: Any, organisation_ids: models.QuerySet
    ) -> models.QuerySet:
        # The vendor's own answers about a partner (relationship health checks) are the
        # vendor's: a partner reads the customers' and its own side's answers.
        rows = super().restrict_rows(queryset, user, organisation_ids)
        return rows.exclude(respondent_side=cls.Side.VENDOR) if user.is_partner else rows


class Certification(Imported, OrganisationOwned):
    """A certification earned by a person on a partner's staff, valid until ``expires_on``."""

    organisation = models.ForeignKey(
        "partners.Organisation",
        verbose_name=_("organisation"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    person = models.CharField(_("person"), max_length=150)
    contact = models.ForeignKey(
        "partners.Contact",
        verbose_name=_("contact"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    name = models.CharField(_("certification"), max_length=150)
    earned_on = models.DateField(_("earned on"))
    expires_on = models.DateField(_("expires on"), null=True, blank=True)

    class Meta:
        ordering = ["-earned_on"]
        verbose_name = _("certification")
        verbose_name_plural = _("certifications")
        indexes = [models.Index(fields=["organisation", "earned_on"], name="cert_org_date")]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_on__isnull=True) | Q(expires_on__gte=models.F("earned_on")),
                name="cert_expires_after_earned",
            )
        ]

    def __str__(self) -> str:
        return f"{self.person} · {self.name}"
