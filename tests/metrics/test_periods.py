"""Period edges as properties: contiguous, half-open, ending with the period holding as_of."""

from __future__ import annotations

import datetime as dt
import itertools

from hypothesis import given
from hypothesis import strategies as st

from accord.metrics.engine import Window, add_months, periods_for, window_for

DAYS = st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2200, 12, 31))
ONE_DAY = dt.timedelta(days=1)


@given(DAYS, st.sampled_from(["month", "quarter", "year"]), st.integers(1, 30))
def test_calendar_periods_tile_time_up_to_as_of(as_of: dt.date, kind: str, count: int) -> None:
    periods = periods_for(kind, as_of, count)
    assert len(periods) == count
    last = periods[-1]
    assert last.start <= as_of < last.end
    length = {"month": 1, "quarter": 3, "year": 12}[kind]
    for earlier, later in itertools.pairwise(periods):
        assert earlier.end == later.start
        assert earlier.complete
    for period in periods:
        assert period.start.day == 1
        assert add_months(period.start, length) == period.end
        assert (period.start.month - 1) % length == 0
        assert period.complete == (period.end <= as_of + ONE_DAY)
        # The window a value reads never reaches past as_of.
        window = window_for(period, as_of, {})
        assert window.end <= as_of + ONE_DAY
        if period.complete:
            assert window.grain == kind  # read from that grain's rollups
        else:
            assert window.end == as_of + ONE_DAY


@given(DAYS, st.integers(1, 36), st.integers(1, 12))
def test_trailing_periods_end_at_as_of_and_roll_by_a_month(
    as_of: dt.date, months: int, count: int
) -> None:
    periods = periods_for(f"trailing_{months}", as_of, count)
    last = periods[-1]
    assert last.end == as_of + ONE_DAY
    assert Window(last.start, last.end).months == months
    for earlier, later in itertools.pairwise(periods):
        assert add_months(earlier.start, 1) == later.start
        assert Window(earlier.start, earlier.end).months == months
        assert earlier.end.day == 1


@given(DAYS, st.integers(1, 24))
def test_comparison_windows_have_the_same_length(as_of: dt.date, months: int) -> None:
    window = window_for(periods_for("month", as_of)[0], as_of, {"window_months": months})
    assert window.months == months
    assert window.previous().end == window.start
    assert window.previous().months == months
    assert window.year_before().start == add_months(window.start, -12)
    assert window.year_before().months == months
