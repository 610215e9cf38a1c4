"""record_sales_lines: month, conversion, rollups and audit in one all-or-nothing write."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType

from accord.channel.models import SalesLine, SalesRollup
from accord.channel.services import record_sales_lines
from accord.core.errors import PermissionDenied, ValidationError
from accord.core.models import AuditEntry
from tests.apitools import fingerprint
from tests.channel.factories import ExchangeRateFactory, ProductFactory, sales_line

pytestmark = pytest.mark.django_db


@pytest.fixture
def rates(db):
    ExchangeRateFactory(currency="EUR", valid_from=dt.date(2026, 1, 1), rate=Decimal("1.1"))
    ExchangeRateFactory(currency="EUR", valid_from=dt.date(2026, 2, 1), rate=Decimal("1.2"))


def test_lines_get_month_base_amount_rollups_and_one_audit_entry(
    rates, partner_a, partner_b, partner_a_user
):
    product = ProductFactory()
    lines = [
        sales_line(partner_a, product=product, date=dt.date(2026, 1, 31), currency="EUR"),
        sales_line(partner_a, product=product, date=dt.date(2026, 2, 1), currency="EUR"),
        sales_line(partner_a, order_number="SO-2", date=dt.date(2026, 2, 20)),
    ]
    assert record_sales_lines(actor=partner_a_user, lines=lines) == 3
    stored = list(SalesLine.objects.order_by("date"))
    assert [line.month for line in stored] == [202601, 202602, 202602]
    assert [line.amount_base for line in stored] == [
        Decimal("110.00"),
        Decimal("120.00"),
        Decimal("100.00"),
    ]
    february = SalesRollup.objects.get(
        organisation=partner_a, direction="sell_in", period="month", period_key=202602
    )
    assert february.revenue == Decimal("220.00")
    assert (february.lines, february.orders, february.products) == (2, 2, 1)
    quarter = SalesRollup.objects.get(organisation=partner_a, period="quarter", period_key=202601)
    assert quarter.revenue == Decimal("330.00")
    entries = AuditEntry.objects.filter(content_type=ContentType.objects.get_for_model(SalesLine))
    assert entries.count() == 1
    entry = entries.get()
    assert entry.actor == partner_a_user
    assert entry.organisation_id == partner_a.pk
    assert entry.changes["lines"] == [None, 3]


def test_a_missing_rate_refuses_the_whole_batch(rates, partner_a):
    before = fingerprint()
    lines = [
        sales_line(partner_a),
        sales_line(partner_a, currency="EUR", date=dt.date(2025, 12, 31)),  # before any rate
    ]
    with pytest.raises(ValidationError) as error:
        record_sales_lines(actor=None, lines=lines)
    assert "currency" in error.value.message_dict
    assert fingerprint() == before


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"quantity": Decimal("-1")}, "quantity"),
        ({"direction": "sideways"}, "direction"),
        ({"source_key": ""}, "source_key"),
    ],
)
def test_bad_lines_are_refused(fields, field, partner_a):
    before = fingerprint()
    with pytest.raises(ValidationError) as error:
        record_sales_lines(actor=None, lines=[sales_line(partner_a, **fields)])
    assert field in error.value.message_dict
    assert fingerprint() == before


def test_a_source_key_already_recorded_is_refused(partner_a):
    record_sales_lines(actor=None, lines=[sales_line(partner_a, source_key="k-1")])
    before = fingerprint()
    with pytest.raises(ValidationError):
        record_sales_lines(actor=None, lines=[sales_line(partner_a, source_key="k-1")])
    assert fingerprint() == before


def test_partner_cannot_record_for_another_organisation(partner_a, partner_b, partner_b_user):
    before = fingerprint()
    with pytest.raises(ValidationError) as error:
        record_sales_lines(actor=partner_b_user, lines=[sales_line(partner_a)])
    assert "organisation" in error.value.message_dict
    assert fingerprint() == before


def test_read_only_user_cannot_record(partner_a, partner_a_viewer):
    before = fingerprint()
    with pytest.raises(PermissionDenied):
        record_sales_lines(actor=partner_a_viewer, lines=[sales_line(partner_a)])
    assert fingerprint() == before


def test_partner_records_for_its_child(partner_a_child, partner_a_user):
    assert record_sales_lines(actor=partner_a_user, lines=[sales_line(partner_a_child)]) == 1
    assert SalesRollup.objects.filter(organisation=partner_a_child, period="year").exists()


def test_nothing_to_record(partner_a_user):
    assert record_sales_lines(actor=partner_a_user, lines=[]) == 0
