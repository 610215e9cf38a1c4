"""What can be imported: each kind's target model, its fields, how rows are identified and
which other rows its lookups name (by external key, product key, territory code...)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from accord.channel.models import (
    Certification,
    Delivery,
    ExchangeRate,
    InventorySnapshot,
    Product,
    SalesLine,
    SurveyResponse,
)
from accord.leads.models import Lead
from accord.leads.services import store_imported_lead
from accord.partners.models import Contact, Organisation, Territory

TEXT, INT, DECIMAL, DATE, BOOL, CHOICE, LOOKUP = (
    "text",
    "integer",
    "decimal",
    "date",
    "boolean",
    "choice",
    "lookup",
)


@dataclass(frozen=True)
class Lookup:
    """Rows of ``model`` named by their ``key_field`` (e.g. Organisation.external_key)."""

    code: str
    model: type[models.Model]
    key_field: str


LOOKUPS: dict[str, Lookup] = {
    "organisation": Lookup("organisation", Organisation, "external_key"),
    "product": Lookup("product", Product, "key"),
    "territory": Lookup("territory", Territory, "code"),
    "contact": Lookup("contact", Contact, "external_key"),
}


@dataclass(frozen=True)
class Field:
    """One importable field. ``virtual`` fields feed a computation instead of a column."""

    name: str
    type: str
    required: bool = False
    lookup: str | None = None
    virtual: bool = False
    help: Any = ""
    choices: tuple[str, ...] = ()
    create_only: bool = False


@dataclass(frozen=True)
class Kind:
    """An importable kind. Facts are identified by ``source_key``; master data by a natural
    key (``identity``) and created or updated row by row with full validation."""

    code: str
    label: Promise
    model: type[models.Model]
    fields: tuple[Field, ...]
    identity: tuple[str, ...]
    fact: bool
    permission_models: tuple[type[models.Model], ...] = ()
    description: Any = ""
    # Stores a new, validated row (actor, row) when a plain save is not enough: a lead is
    # audited and routed. Runs inside the import's transaction.
    create: Callable[[Any, models.Model], Any] | None = None
    field_map: dict[str, Field] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        self.field_map.update({f.name: f for f in self.fields})

    def get(self, name: str) -> Field | None:
        return self.field_map.get(name)

    @property
    def permissions(self) -> list[str]:
        """What a user needs to run this kind of import."""
        perms = ["imports.add_importbatch"]
        for model in (self.model, *self.permission_models):
            opts = model._meta
            perms += [f"{opts.app_label}.add_{opts.model_name}"]
            perms += [f"{opts.app_label}.change_{opts.model_name}"]
        return perms


def _choices(model: type[models.Model], name: str, exclude: tuple[str, ...] = ()) -> tuple:
    return tuple(v for v, _label in model._meta.get_field(name).choices if v not in exclude)


def _text(name: str, required: bool = False, help: Any = "") -> Field:
    return Field(name, TEXT, required=required, help=help)


SOURCE_KEY = Field(
    "source_key",
    TEXT,
    required=True,
    help=_("The row's key in the source system; the same key again updates the row."),
)

ORGANISATION_REF = Field(
    "organisation",
    LOOKUP,
    required=True,
    lookup="organisation",
    help=_("The organisation's external key."),
)
PRODUCT_REF = Field("product", LOOKUP, lookup="product", help=_("The product key."))

KINDS: dict[str, Kind] = {}


def _register(kind: Kind) -> None:
    KINDS[kind.code] = kind


_register(
    Kind(
        code="organisations",
        label=_("Organisations"),
        model=Organisation,
        identity=("external_key",),
        fact=False,
        description=_("Partners, suppliers and customers, identified by their external key."),
        fields=(
            _text("external_key", required=True),
            _text("name", required=True),
            _text("legal_name"),
            Field(
                "kind",
                CHOICE,
                required=True,
                choices=_choices(Organisation, "kind", exclude=("vendor",)),
            ),
            Field(
                "status",
                CHOICE,
                choices=_choices(Organisation, "status"),
                create_only=True,
                help=_(
                    "Only set when the organisation is created; later changes go through "
                    "the lifecycle."
                ),
            ),
            Field("parent", LOOKUP, lookup="organisation", help=_("The parent's external key.")),
            _text("tax_id"),
            _text("website_domain"),
            _text("email"),
            _text("phone"),
            _text("street"),
            _text("city"),
            _text("region"),
            _text("postal_code"),
            _text("country", help=_("Two-letter ISO 3166 code.")),
            _text("currency", help=_("Three-letter ISO 4217 code.")),
        ),
    )
)
_register(
    Kind(
        code="contacts",
        label=_("Contacts"),
        model=Contact,
        identity=("external_key",),
        fact=False,
        fields=(
            _text("external_key", required=True),
            ORGANISATION_REF,
            _text("full_name", required=True),
            _text("job_title"),
            _text("email"),
            _text("phone"),
            Field("is_primary", BOOL),
            _text("notes"),
        ),
    )
)
_register(
    Kind(
        code="territories",
        label=_("Territories"),
        model=Territory,
        identity=("code",),
        fact=False,
        fields=(
            _text("code", required=True),
            _text("name", required=True),
            Field("level", CHOICE, required=True, choices=_choices(Territory, "level")),
            Field("parent", LOOKUP, lookup="territory", help=_("The parent territory's code.")),
        ),
    )
)
_register(
    Kind(
        code="products",
        label=_("Products"),
        model=Product,
        identity=("key",),
        fact=False,
        fields=(
            _text("key", required=True),
            _text("name", required=True),
            Field(
                "category",
                TEXT,
                virtual=True,
                help=_("Category name; created when it does not exist yet."),
            ),
            Field("parent_category", TEXT, virtual=True, help=_("The category's parent name.")),
            _text("product_line"),
            Field("standard_cost", DECIMAL),
            Field("list_price", DECIMAL),
            _text("currency"),
            _text("colour"),
            Field("active", BOOL),
        ),
    )
)
_register(
    Kind(
        code="exchange_rates",
        label=_("Exchange rates"),
        model=ExchangeRate,
        identity=("currency", "valid_from"),
        fact=False,
        description=_("Units of the base currency one unit of the currency buys, from a day on."),
        fields=(
            _text("currency", required=True),
            Field("valid_from", DATE, required=True),
            Field("rate", DECIMAL, required=True),
        ),
    )
)
_register(
    Kind(
        code="sales_lines",
        label=_("Sales lines"),
        model=SalesLine,
        identity=("source_key",),
        fact=True,
        fields=(
            SOURCE_KEY,
            ORGANISATION_REF,
            Field("direction", CHOICE, required=True, choices=_choices(SalesLine, "direction")),
            _text("order_number"),
            Field("date", DATE, required=True),
            PRODUCT_REF,
            Field("quantity", DECIMAL, required=True),
            Field("unit_price", DECIMAL),
            Field(
                "amount",
                DECIMAL,
                help=_("Line amount in its currency; quantity times unit price when absent."),
            ),
            _text("currency", help=_("Three-letter ISO 4217 code (default: the base currency).")),
            Field("unit_cost", DECIMAL, virtual=True, help=_("Cost of one unit.")),
            Field("total_cost", DECIMAL, virtual=True, help=_("Cost of the whole line.")),
            _text("end_customer_key"),
            _text("end_customer_name"),
            _text("end_customer_country"),
            _text("end_customer_region"),
            _text("end_customer_city"),
            Field("territory", LOOKUP, lookup="territory", help=_("The territory code.")),
            _text("sales_rep"),
        ),
    )
)
_register(
    Kind(
        code="inventory",
        label=_("Inventory snapshots"),
        model=InventorySnapshot,
        identity=("source_key",),
        fact=True,
        fields=(
            SOURCE_KEY,
            ORGANISATION_REF,
            _text("location"),
            Field("product", LOOKUP, required=True, lookup="product"),
            Field("date", DATE, required=True),
            Field("on_hand", DECIMAL, required=True),
            Field("on_order", DECIMAL),
        ),
    )
)
_register(
    Kind(
        code="deliveries",
        label=_("Deliveries"),
        model=Delivery,
        identity=("source_key",),
        fact=True,
        fields=(
            SOURCE_KEY,
            ORGANISATION_REF,
            _text("reference"),
            PRODUCT_REF,
            Field("promised_date", DATE, required=True),
            Field("actual_date", DATE),
            Field("ordered_quantity", DECIMAL, required=True),
            Field("filled_quantity", DECIMAL),
        ),
    )
)
_register(
    Kind(
        code="surveys",
        label=_("Survey responses"),
        model=SurveyResponse,
        identity=("source_key",),
        fact=True,
        fields=(
            SOURCE_KEY,
            ORGANISATION_REF,
            Field("date", DATE, required=True),
            Field("respondent_side", CHOICE, choices=_choices(SurveyResponse, "respondent_side")),
            _text("respondent"),
            Field("csat", INT),
            Field("nps", INT),
            _text("comment"),
        ),
    )
)
_register(
    Kind(
        code="certifications",
        label=_("Certifications"),
        model=Certification,
        identity=("source_key",),
        fact=True,
        fields=(
            SOURCE_KEY,
            ORGANISATION_REF,
            _text("person", required=True),
            Field("contact", LOOKUP, lookup="contact", help=_("The contact's external key.")),
            _text("name", required=True),
            Field("earned_on", DATE, required=True),
            Field("expires_on", DATE),
        ),
    )
)
_register(
    Kind(
        code="leads",
        label=_("Leads"),
        model=Lead,
        identity=("external_key",),
        fact=False,
        description=_(
            "Sales leads, identified by their key in the source system; each new lead is "
            "routed to a partner at once. A known key updates the lead's details (it is not "
            "routed again)."
        ),
        create=lambda actor, lead: store_imported_lead(actor=actor, lead=lead),
        fields=(
            _text("external_key", required=True),
            _text("company_name", required=True),
            _text("contact_name"),
            _text("contact_email"),
            _text("contact_phone"),
            _text("country", help=_("Two-letter ISO 3166 code.")),
            _text("region"),
            _text("city"),
            Field("territory", LOOKUP, lookup="territory", help=_("The territory code.")),
            _text("product_line"),
            Field("value", DECIMAL, help=_("Estimated value.")),
            _text("currency", help=_("Three-letter ISO 4217 code.")),
            _text("description"),
        ),
    )
)
