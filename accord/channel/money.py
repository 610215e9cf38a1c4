"""Converting amounts into the base currency through dated exchange rates."""

from __future__ import annotations

import bisect
import datetime as dt
from collections import defaultdict
from decimal import ROUND_HALF_EVEN, Decimal

from django.conf import settings

from accord.channel.models import ExchangeRate

CENT = Decimal("0.01")


def base_currency() -> str:
    return settings.ACCORD_BASE_CURRENCY


class MissingRate(LookupError):
    """No exchange rate for a currency on or before a day."""

    def __init__(self, currency: str, day: dt.date) -> None:
        super().__init__(f"no {currency} rate on or before {day.isoformat()}")
        self.currency = currency
        self.day = day


class RateTable:
    """The rates of some currencies, loaded once; ``to_base`` then costs a binary search.

    The rate that applies on a day is the latest one whose ``valid_from`` is on or before
    that day. The base currency always converts at 1.
    """

    def __init__(self, rates: dict[str, list[tuple[dt.date, Decimal]]]) -> None:
        self._days = {cur: [day for day, _ in rows] for cur, rows in rates.items()}
        self._rates = {cur: [rate for _, rate in rows] for cur, rows in rates.items()}
        self.base = base_currency()

    @classmethod
    def load(cls, currencies: set[str] | None = None) -> RateTable:
        """Load the rates of ``currencies`` (all currencies when None) in one query."""
        query = ExchangeRate.objects.order_by("currency", "valid_from")
        if currencies is not None:
            query = query.filter(currency__in=sorted(currencies))
        rates: dict[str, list[tuple[dt.date, Decimal]]] = defaultdict(list)
        for currency, day, rate in query.values_list("currency", "valid_from", "rate"):
            rates[currency].append((day, rate))
        return cls(rates)

    def rate(self, currency: str, day: dt.date) -> Decimal:
        if currency == self.base:
            return Decimal(1)
        days = self._days.get(currency)
        index = bisect.bisect_right(days, day) - 1 if days else -1
        if index < 0:
            raise MissingRate(currency, day)
        return self._rates[currency][index]

    def to_base(self, amount: Decimal, currency: str, day: dt.date) -> Decimal:
        """``amount`` in ``currency`` on ``day``, in the base currency, rounded to cents."""
        if currency == self.base:
            return amount.quantize(CENT, rounding=ROUND_HALF_EVEN)
        return (amount * self.rate(currency, day)).quantize(CENT, rounding=ROUND_HALF_EVEN)
