"""API schemas of accord.channel: products, rates and the organisation-owned facts.

Decimals are answered as JSON strings so no digit is lost; ``*Filter`` holds a list's query
parameters. Date ranges are half-open: ``date_from`` inclusive, ``date_to`` exclusive.
"""

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

from ninja import Field, Schema
from pydantic import AfterValidator

from accord.channel.models import SalesLine, SurveyResponse
from accord.core.schemas import ObjectId, Text

Direction = Literal[tuple(SalesLine.Direction.values)]  # type: ignore[valid-type]
Side = Literal[tuple(SurveyResponse.Side.values)]  # type: ignore[valid-type]
Currency = Annotated[Text(3, min_length=3, pattern=r"^[A-Za-z]{3}$"), AfterValidator(str.upper)]
Search = Text(200)
# Dates the databases can store and compare without overflow.
Day = Annotated[dt.date, Field(ge=dt.date(1, 1, 1), le=dt.date(9999, 12, 31))]


# -- master data ----------------------------------------------------------------
class ProductCategoryOut(Schema):
    id: int
    key: str
    name: str
    parent_id: int | None
    product_count: int = 0


class ProductCategoryFilter(Schema):
    q: Search = Field(None, description="Search in key and name.")


class ProductOut(Schema):
    id: int
    key: str
    name: str
    category_id: int | None
    category_name: str | None
    product_line: str
    standard_cost: Decimal | None
    list_price: Decimal | None
    currency: str
    colour: str
    active: bool

    @staticmethod
    def resolve_category_name(obj: Any) -> str | None:
        return obj.category.name if obj.category_id else None


class ProductFilter(Schema):
    q: Search = Field(None, description="Search in key, name and product line.")
    category: ObjectId = Field(None, description="This category and its sub-categories.")
    active: bool = None
    sort: Literal["key", "-key", "name", "-name", "list_price", "-list_price"] = "key"


class ExchangeRateOut(Schema):
    id: int
    currency: str
    valid_from: dt.date
    rate: Decimal = Field(description="Units of the base currency for one unit of currency.")


class ExchangeRateFilter(Schema):
    currency: Currency = None
    valid_on: Day = Field(None, description="Only the rate in force on this day, per currency.")


# -- facts ----------------------------------------------------------------------------
class SalesLineOut(Schema):
    id: int
    organisation_id: int
    organisation_name: str
    direction: Direction
    order_number: str
    date: dt.date
    product_id: int | None
    product_key: str | None
    quantity: Decimal
    unit_price: Decimal | None
    amount: Decimal
    currency: str
    amount_base: Decimal
    cost_base: Decimal | None
    end_customer_key: str
    end_customer_name: str
    end_customer_country: str
    end_customer_region: str
    end_customer_city: str
    territory_id: int | None
    sales_rep: str
    source_key: str
    import_batch: int | None

    @staticmethod
    def resolve_organisation_name(obj: Any) -> str:
        return obj.organisation.name

    @staticmethod
    def resolve_product_key(obj: Any) -> str | None:
        return obj.product.key if obj.product_id else None


class SalesLineFilter(Schema):
    organisation: ObjectId = None
    direction: Direction = None
    date_from: Day = Field(None, description="Lines on or after this day.")
    date_to: Day = Field(None, description="Lines before this day (exclusive).")
    product: ObjectId = None
    q: Search = Field(None, description="Search in order number, end customer and city.")
    sort: Literal["date", "-date", "amount", "-amount"] = "-date"


class InventorySnapshotOut(Schema):
    id: int
    organisation_id: int
    location: str
    product_id: int
    product_key: str
    date: dt.date
    on_hand: Decimal
    on_order: Decimal
    source_key: str

    @staticmethod
    def resolve_product_key(obj: Any) -> str:
        return obj.product.key


class InventoryFilter(Schema):
    organisation: ObjectId = None
    product: ObjectId = None
    date_from: Day = Field(None, description="Snapshots on or after this day.")
    date_to: Day = Field(None, description="Snapshots before this day (exclusive).")


class DeliveryOut(Schema):
    id: int
    organisation_id: int
    reference: str
    product_id: int | None
    promised_date: dt.date
    actual_date: dt.date | None
    ordered_quantity: Decimal
    filled_quantity: Decimal
    source_key: str


class DeliveryFilter(Schema):
    organisation: ObjectId = None
    date_from: Day = Field(None, description="Promised on or after this day.")
    date_to: Day = Field(None, description="Promised before this day (exclusive).")
    late: bool = Field(None, description="true: delivered after the promised date.")


class SurveyResponseOut(Schema):
    id: int
    organisation_id: int
    date: dt.date
    respondent_side: Side
    respondent: str
    csat: int | None
    nps: int | None
    comment: str
    source_key: str


class SurveyResponseFilter(Schema):
    organisation: ObjectId = None
    side: Side = None
    date_from: Day = None
    date_to: Day = Field(None, description="Exclusive.")


class CertificationOut(Schema):
    id: int
    organisation_id: int
    person: str
    contact_id: int | None
    name: str
    earned_on: dt.date
    expires_on: dt.date | None
    source_key: str


class CertificationFilter(Schema):
    organisation: ObjectId = None
    valid_on: Day = Field(None, description="Only certifications in force on this day.")
    expiring_before: Day = Field(None, description="Only those expiring before this day.")
    q: Search = Field(None, description="Search in person and certification name.")
