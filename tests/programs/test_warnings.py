"""Early warnings of an applied evaluation: grace periods and certifications running out
before the next evaluation, falling trends, and the one notification each account manager
gets per organisation, kind and next evaluation."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from accord.core.models import Notification
from accord.programs.models import EvaluationRun, Program, Warning
from accord.programs.services import evaluate_program
from tests.factories import UserFactory
from tests.programs.builders import (
    D,
    certify,
    criterion,
    ladder,
    make_program,
    partners,
    sell,
    tier,
)

pytestmark = pytest.mark.django_db


def apply(actor: Any, program: Program, as_of: dt.date) -> EvaluationRun:
    return evaluate_program(actor=actor, program=program, as_of=as_of)


def warnings_of(run: EvaluationRun, org: Any) -> list[Warning]:
    return list(Warning.objects.filter(run=run, organisation=org).order_by("kind"))


def _gold_in_grace(actor: Any, grace_days: int, manager: Any = None) -> tuple[Program, Any]:
    """Gold on 2026-03-31, failing it on 2026-04-30 (the 6,000 leaves the window)."""
    program = make_program(actor, ladder(grace_days=grace_days), cadence="quarter")
    org = partners(1, account_manager=manager)[0]
    sell(org, D(2025, 4, 15), 6000)
    sell(org, D(2026, 4, 10), 1500)
    apply(actor, program, D(2026, 3, 31))
    return program, org


@pytest.mark.parametrize(("grace_days", "warned"), [(91, True), (92, True), (93, False)])
def test_a_grace_period_ending_by_the_next_evaluation_warns(
    vendor_admin: Any, grace_days: int, warned: bool
) -> None:
    """The next evaluation after 2026-04-30 (a month's end) is 2026-07-31; a grace period
    ending on or before it means demotion there, one ending a day later does not."""
    program, org = _gold_in_grace(vendor_admin, grace_days)
    run = apply(vendor_admin, program, D(2026, 4, 30))
    until = D(2026, 4, 30) + dt.timedelta(days=grace_days)
    found = warnings_of(run, org)
    if not warned:
        assert found == []
        return
    assert [w.kind for w in found] == ["grace"]
    warning = found[0]
    assert warning.tier_code == "gold"
    assert warning.next_evaluation == D(2026, 7, 31)
    assert warning.details == {"grace_until": until.isoformat(), "target": "silver"}
    assert until.isoformat() in warning.message and "Silver" in warning.message
    assert run.summary["warnings"] == 1


def _certified_gold(actor: Any, expires: dt.date | None, manager: Any = None) -> tuple:
    content = {
        "grace_days": 90,
        "hysteresis_pct": "5",
        "tiers": [
            tier("registered"),
            tier("silver", criterion(1000)),
            tier("gold", criterion(1000), criterion(2, metric="certified_staff", window="month")),
        ],
    }
    program = make_program(actor, content, cadence="quarter")
    org = partners(1, account_manager=manager)[0]
    sell(org, D(2026, 2, 1), 2000)
    certify(org, 1, earned=D(2025, 1, 1), expires=None)
    certify(org, 1, earned=D(2025, 1, 1), expires=expires)
    return program, org


@pytest.mark.parametrize(
    ("expires", "warned"),
    [
        (D(2026, 5, 15), True),  # before the next evaluation (2026-06-30)
        (D(2026, 6, 30), True),  # on it: not valid that day, so it no longer counts
        (D(2026, 7, 1), False),  # after it
        (None, False),
    ],
)
def test_certifications_expiring_before_the_next_evaluation_warn(
    vendor_admin: Any, expires: dt.date | None, warned: bool
) -> None:
    program, org = _certified_gold(vendor_admin, expires)
    run = apply(vendor_admin, program, D(2026, 3, 31))
    assert run.results.get(organisation=org).resulting_tier == "gold"
    found = warnings_of(run, org)
    if not warned:
        assert found == []
        return
    assert [w.kind for w in found] == ["certification"]
    warning = found[0]
    assert warning.tier_code == "gold"
    assert warning.next_evaluation == D(2026, 6, 30)
    (item,) = warning.details["criteria"]
    assert item["metric"] == "certified_staff"
    assert (item["now"], item["projected"], item["history"]) == ("2", "1", None)
    assert "Certified staff falls from 2 to 1 as certifications expire" in warning.message
    # And the next evaluation does find one certified person: the warning was right.
    later = apply(vendor_admin, program, D(2026, 6, 30))
    assert later.results.get(organisation=org).values["certified_staff@month"] == "1"
    assert later.results.get(organisation=org).outcome == "grace_opened"


def test_certifications_of_a_tier_that_does_not_need_them_do_not_warn(vendor_admin: Any) -> None:
    """The organisation's certifications expire, but the silver it holds needs none."""
    _program, org = _certified_gold(vendor_admin, D(2026, 5, 15))
    program = make_program(vendor_admin, ladder(gold=9000), code="no-certs", cadence="quarter")
    run = apply(vendor_admin, program, D(2026, 3, 31))
    assert run.results.get(organisation=org).resulting_tier == "silver"
    assert warnings_of(run, org) == []


def test_a_falling_trend_warns_and_a_flat_one_does_not(vendor_admin: Any) -> None:
    """Gold needs 5,000 (4,500 to keep). Trailing-12 revenue at the ends of January,
    February and March 2026: falling 10,000 / 8,000 / 6,000 (projected 0 at the end of
    June), flat 6,000 / 6,000 / 6,000."""
    program = make_program(vendor_admin, ladder(), cadence="quarter")
    falling, flat = partners(2)
    sell(falling, D(2025, 2, 15), 2000)
    sell(falling, D(2025, 3, 15), 2000)
    sell(falling, D(2025, 6, 1), 6000)
    sell(flat, D(2025, 6, 1), 6000)
    run = apply(vendor_admin, program, D(2026, 3, 31))
    assert warnings_of(run, flat) == []
    (warning,) = warnings_of(run, falling)
    assert (warning.kind, warning.tier_code, warning.next_evaluation) == (
        "trend",
        "gold",
        D(2026, 6, 30),
    )
    (item,) = warning.details["criteria"]
    assert item["history"] == ["10000.00", "8000.00", "6000.00"]
    assert item["now"] == "6000.00"
    assert float(item["projected"]) == 0
    assert Decimal(item["keep_threshold"]) == 4500
    assert "trending from 6,000 towards 0" in warning.message


def test_a_gentle_decline_that_stays_within_the_band_does_not_warn(vendor_admin: Any) -> None:
    """10 % hysteresis: 6,000 falling 500 a month projects 4,500 = the keep threshold."""
    program = make_program(vendor_admin, ladder(), cadence="quarter")
    org = partners(1)[0]
    sell(org, D(2025, 2, 15), 500)
    sell(org, D(2025, 3, 15), 500)
    sell(org, D(2025, 6, 1), 6000)
    run = apply(vendor_admin, program, D(2026, 3, 31))
    assert warnings_of(run, org) == []


# -- notifications -------------------------------------------------------------------------
def test_the_account_manager_is_notified_once_per_org_kind_and_next_evaluation(
    vendor_admin: Any, channel_manager: Any
) -> None:
    program, org = _gold_in_grace(vendor_admin, 90, manager=channel_manager)
    run = apply(vendor_admin, program, D(2026, 4, 30))
    assert [w.kind for w in warnings_of(run, org)] == ["grace"]
    notes = Notification.objects.filter(recipient=channel_manager)
    assert notes.count() == 1
    note = notes.get()
    assert note.organisation_id == org.pk
    assert note.subject == f"{org.name} may drop a tier in {program.name}"
    assert note.body == warnings_of(run, org)[0].message
    assert note.link == f"/programs/{program.code}/organisations/{org.pk}/"
    # Reruns of the same as_of warn again but notify no more.
    rerun = apply(vendor_admin, program, D(2026, 4, 30))
    assert [w.kind for w in warnings_of(rerun, org)] == ["grace"]
    assert notes.count() == 1
    # A later evaluation with another next evaluation date is news again.
    later = apply(vendor_admin, program, D(2026, 5, 31))
    assert warnings_of(later, org)[0].next_evaluation == D(2026, 8, 31)
    assert notes.count() == 2


def test_nobody_is_notified_on_a_preview(vendor_admin: Any, channel_manager: Any) -> None:
    program, org = _gold_in_grace(vendor_admin, 90, manager=channel_manager)
    run = evaluate_program(actor=vendor_admin, program=program, as_of=D(2026, 4, 30), apply=False)
    assert run.results.get(organisation=org).outcome == "grace_opened"
    assert not Warning.objects.filter(run=run).exists()
    assert not Notification.objects.exists()
    # A preview is not a notification already given: applying then notifies.
    apply(vendor_admin, program, D(2026, 4, 30))
    assert Notification.objects.filter(recipient=channel_manager).count() == 1


def test_an_inactive_or_missing_account_manager_gets_nothing(
    vendor_admin: Any, vendor: Any
) -> None:
    gone = UserFactory(organisation=vendor, email="gone@vendor.test", is_active=False)
    program = make_program(vendor_admin, ladder(), cadence="quarter")
    managed_by_gone = partners(1, account_manager=gone)[0]
    unmanaged = partners(1)[0]
    for org in (managed_by_gone, unmanaged):
        sell(org, D(2025, 4, 15), 6000)
    apply(vendor_admin, program, D(2026, 3, 31))
    run = apply(vendor_admin, program, D(2026, 4, 30))
    assert Warning.objects.filter(run=run, kind="grace").count() == 2
    assert not Notification.objects.exists()


def test_notifications_and_pages_speak_the_reader_s_language(
    vendor_admin: Any, channel_manager: Any, login: Any
) -> None:
    """The account manager reads Chinese: the notification is written in Chinese whatever
    language the evaluation ran in, and the run page tells each reader in theirs."""
    channel_manager.language = "zh-hans"
    channel_manager.save(update_fields=["language"])
    program, org = _gold_in_grace(vendor_admin, 90, manager=channel_manager)
    run = apply(vendor_admin, program, D(2026, 4, 30))
    (warning,) = warnings_of(run, org)
    assert warning.message.startswith("The grace period for Gold")  # the run's language
    note = Notification.objects.get(recipient=channel_manager)
    assert "宽限期" in note.body and "2026-07-29" in note.body
    assert note.subject == f"{org.name} 可能在 {program.name} 中降级"
    english = login(vendor_admin).get(f"/programs/{program.code}/runs/{run.pk}/")
    assert "The grace period for Gold ends on 2026-07-29" in english.content.decode()
    chinese = login(vendor_admin).get(
        f"/programs/{program.code}/runs/{run.pk}/", headers={"accept-language": "zh-hans"}
    )
    assert "宽限期" in chinese.content.decode()
