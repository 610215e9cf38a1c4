"""Period edges of the channel selectors and the demo window (Hypothesis properties)."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from accord.channel.selectors import _months_before, search_certifications
from accord.demo.channel import window
from tests.channel.factories import CertificationFactory

days = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2999, 12, 31))


@given(days, st.integers(min_value=1, max_value=120))
def test_months_before_starts_a_month_and_spans_exactly_n_months(day, months):
    start = _months_before(day, months)
    assert start.day == 1
    assert start <= day
    span = (day.year - start.year) * 12 + day.month - start.month + 1
    assert span == months


@given(days)
def test_demo_window_is_24_consecutive_months_ending_with_today(day):
    months = window(day)
    assert len(months) == 24
    assert months[-1].first == day.replace(day=1)
    for before, after in itertools.pairwise(months):
        assert (before.first + dt.timedelta(days=before.days)) == after.first
        assert after.position == before.position + 1


@pytest.mark.django_db
def test_certificate_counts_from_its_earned_day_until_the_day_before_expiry(partner_a, analyst):
    # expires_on is the first day the certificate no longer counts (half-open validity),
    # as in the KPI engine's certified-staff count.
    CertificationFactory(
        organisation=partner_a, earned_on=dt.date(2026, 1, 10), expires_on=dt.date(2026, 3, 1)
    )

    def valid(day: dt.date) -> bool:
        return search_certifications(analyst, valid_on=day).exists()

    assert not valid(dt.date(2026, 1, 9))
    assert valid(dt.date(2026, 1, 10))
    assert valid(dt.date(2026, 2, 28))
    assert not valid(dt.date(2026, 3, 1))
