"""The one-statement bulk writes evaluations use (accord.programs.bulk), on the real
database: every kind of value arrives as written, defaults and constants fill the other
columns, and the statement count does not grow with the rows."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext

from accord.programs.bulk import insert_rows, update_rows
from accord.programs.models import EvaluationResult, EvaluationRun, Membership, TierChange
from tests.programs.builders import D, make_program, partners

TEXTS = [
    "plain",
    "华南合作伙伴",
    "emoji 😀 and 𝄞",
    'a "quote", a \\ backslash',
    "line\nbreak\ttab",
    "percent %s %% %(name)s ? '",
    "",
]


def _run(program: Any) -> EvaluationRun:
    return EvaluationRun.objects.create(
        program=program,
        version=program.versions.get(),
        as_of=D(2026, 3, 31),
        trigger=EvaluationRun.Trigger.CLI,
    )


def test_inserted_rows_read_back_as_written(vendor_admin: Any) -> None:
    program = make_program(vendor_admin)
    run = _run(program)
    orgs = partners(len(TEXTS))
    values = [{"revenue@trailing_12": text, "orders@month": None, "n": "1.5"} for text in TEXTS]
    rows = [
        (org.pk, text[:40], "entered", values[index], D(2026, 4, index + 1))
        for index, (org, text) in enumerate(zip(orgs, TEXTS, strict=True))
    ]
    insert_rows(
        EvaluationResult,
        ("organisation", "qualified_tier", "outcome", "values", "grace_until"),
        rows,
        constants={"run": run.pk},
    )
    stored = list(
        run.results.order_by("pk").values_list(
            "organisation_id", "qualified_tier", "outcome", "values", "grace_until"
        )
    )
    assert stored == rows
    # Columns not named take their defaults.
    assert set(run.results.values_list("previous_tier", "resulting_tier", "effective_tier")) == {
        ("", "", "")
    }
    # JSON values are JSON, not text: key lookups work.
    assert run.results.filter(values__n="1.5").count() == len(TEXTS)


def test_constants_and_callable_defaults(vendor_admin: Any) -> None:
    program = make_program(vendor_admin)
    run = _run(program)
    org = partners(1)[0]
    before = dt.datetime.now(dt.UTC)
    insert_rows(
        TierChange,
        ("organisation", "kind", "from_tier", "to_tier", "reason"),
        [(org.pk, TierChange.Kind.ENTRY, "", "gold", text) for text in TEXTS],
        constants={
            "program": program.pk,
            "effective": D(2026, 3, 31),
            "run": run.pk,
            "created_by": vendor_admin.pk,
        },
    )
    changes = TierChange.objects.filter(program=program).order_by("pk")
    assert [change.reason for change in changes] == TEXTS
    for change in changes:
        assert change.run_id == run.pk
        assert change.created_by_id == vendor_admin.pk
        assert change.effective == D(2026, 3, 31)
        assert before <= change.created_at <= dt.datetime.now(dt.UTC)


def test_updates_change_only_the_rows_and_fields_named(vendor_admin: Any) -> None:
    program = make_program(vendor_admin)
    orgs = partners(3)
    memberships = [
        Membership.objects.create(
            program=program,
            organisation=org,
            tier_code="silver",
            since=D(2025, 1, 1),
            grace_until=D(2026, 6, 30),
            override_reason="kept",
        )
        for org in orgs
    ]
    first, second, untouched = memberships
    update_rows(
        Membership,
        ("tier_code", "grace_until", "override_reason"),
        [(first.pk, "gold", None, TEXTS[2]), (second.pk, "", D(2026, 9, 30), TEXTS[3])],
    )
    for membership in memberships:
        membership.refresh_from_db()
    assert (first.tier_code, first.grace_until, first.override_reason) == ("gold", None, TEXTS[2])
    assert (second.tier_code, second.grace_until, second.override_reason) == (
        "",
        D(2026, 9, 30),
        TEXTS[3],
    )
    assert (untouched.tier_code, untouched.grace_until, untouched.override_reason) == (
        "silver",
        D(2026, 6, 30),
        "kept",
    )
    assert {m.since for m in memberships} == {D(2025, 1, 1)}


def test_one_statement_whatever_the_number_of_rows(vendor_admin: Any) -> None:
    """bulk_create needs a statement per 111 results (83 memberships) on SQLite; these
    need one each."""
    program = make_program(vendor_admin)
    run = _run(program)
    orgs = partners(250)
    with CaptureQueriesContext(connection) as captured:
        insert_rows(
            EvaluationResult,
            ("organisation", "outcome", "values"),
            [(org.pk, "entered", {"revenue@trailing_12": "1"}) for org in orgs],
            constants={"run": run.pk},
        )
        insert_rows(
            Membership,
            ("organisation", "tier_code", "since"),
            [(org.pk, "registered", D(2026, 3, 31)) for org in orgs],
            constants={"program": program.pk},
        )
        memberships = list(Membership.objects.filter(program=program).values_list("pk", flat=True))
        update_rows(Membership, ("tier_code",), [(pk, "silver") for pk in memberships])
        insert_rows(Membership, ("organisation", "tier_code", "since"), [])
        update_rows(Membership, ("tier_code",), [])
    assert len(captured.captured_queries) == 4
    assert run.results.count() == 250
    assert set(Membership.objects.filter(program=program).values_list("tier_code")) == {("silver",)}
