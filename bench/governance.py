"""Relationship governance at network scale: the escalation sweep, the relationship list with
the roles filter, and the dashboard, each against a floor measured in the same run.

    .venv/bin/python bench/governance.py [--relationships 10000] [--issues 100000] [--small]
    ACCORD_DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_governance \\
        .venv/bin/python bench/governance.py

Builds a fresh database (SQLite scratch file unless ACCORD_DATABASE_URL is set) holding
``--relationships`` partner organisations with their relationship records, four separated
roles (8 % missing one, 2 % with two roles held by two contact cards of one person), a
contact map at the three tiers (3 % without an executive pair), partner contacts, a meeting
and half an action item each (a tenth of them overdue), key people, closed health checks,
and ``--issues`` open issues spread 60/30/10 over the working, operational and executive
tiers, ``--overdue`` (5 %) of them past their resolution deadline at ``now``. Everything is
bulk-loaded; only the measured calls go through the services and selectors.

Measured:

1. ``services.issues.escalate_due(now=...)``: one sweep that escalates the overdue issues
   below the executive tier and flags those at the top, against the floor of one
   hand-written INSERT ... SELECT of the same escalation events plus one UPDATE moving the
   same issues a tier up (run first and rolled back). Issues per second and SQL statements
   per issue (every statement counted with an execute wrapper). Then a second sweep at the
   same ``now`` (nothing to do) against a bare count of the overdue issues.
2. ``selectors.structure.list_relationships(analyst, {"roles": "incomplete_or_doubled"})``:
   the first page of 50 and the count, against hand-written SQL giving the same rows and
   annotations; the ids of both pages are compared.
3. ``selectors.dashboard.dashboard(analyst, now)``: against the hand-written count queries
   of the same figures (overdue meetings and action items, open and escalated issues by
   tier, misaligned relationships, expiring certifications, coverage problems, incomplete
   roles).

The service and the floors do not do the same work: the sweep also locks each issue in its
own transaction, audits it, finds the people to tell and writes their notifications (e-mails
go to Django's dummy back-end here). The ratio says what that costs. Figures, and what the
first runs found and fixed: docs/governance.md, "Performance". Not a test.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("ACCORD_EMAIL_BACKEND", "django.core.mail.backends.dummy.EmailBackend")

from _setup import best_of, configure, database_label

BATCH = 5000
ROLES = ["service_delivery", "transformation", "relationship", "commercial"]
TIERS = ["working", "operational", "executive"]
SEVERITIES = ["critical", "high", "medium", "low"]
RESOLUTION_HOURS = {"critical": 24, "high": 72, "medium": 168, "low": 336}


# -- loading ----------------------------------------------------------------------------


def load(n: int, m: int, overdue_share: float, now: dt.datetime, seed: int) -> dict[str, Any]:
    """Bulk-load the network; seconds per step and what the measurements need."""
    from django.db import transaction

    from accord.accounts.models import Role, User
    from accord.governance.models import (
        ActionItem,
        ContactSlot,
        HealthSurvey,
        Issue,
        KeyPerson,
        Meeting,
        Relationship,
        RoleAssignment,
    )
    from accord.partners.models import Contact, Organisation

    rng = random.Random(seed)
    spent: dict[str, float] = {}
    started = time.perf_counter()
    vendor = Organisation.objects.vendor()
    analyst = User.objects.create(
        email="analyst@bench.test", full_name="Bench Analyst", organisation=vendor
    )
    analyst.roles.set(Role.objects.filter(code="analyst"))
    with transaction.atomic():
        Organisation.objects.bulk_create(
            [
                Organisation(name=f"Partner {i:06d}", kind="reseller", status="active", path="/")
                for i in range(n)
            ],
            batch_size=BATCH,
        )
        orgs = list(
            Organisation.objects.filter(is_vendor=False)
            .order_by("name")
            .values_list("pk", flat=True)
        )
        Relationship.objects.bulk_create(
            [Relationship(organisation_id=pk, started_on=now.date()) for pk in orgs],
            batch_size=BATCH,
            ignore_conflicts=True,
        )
        # Vendor staff: a pool of role holders and contact-map people, every other one with
        # a portal account (they get in-app notifications, the others e-mail), and for each
        # account a second contact card (a person on two cards: the "doubled" roles).
        pool_size = max(40, n // 25)
        users = User.objects.bulk_create(
            [
                User(
                    email=f"staff{j}@bench.test",
                    full_name=f"Staff {j}",
                    organisation=vendor,
                    password="!",
                )
                for j in range(0, pool_size, 2)
            ],
            batch_size=BATCH,
        )
        user_ids = {u.email: u.pk for u in User.objects.filter(email__startswith="staff")}
        pool = Contact.objects.bulk_create(
            [
                Contact(
                    organisation=vendor,
                    full_name=f"Staff {j}",
                    email=f"staff{j}@bench.test",
                    user_id=user_ids.get(f"staff{j}@bench.test"),
                )
                for j in range(pool_size)
            ],
            batch_size=BATCH,
        )
        twins = {
            c.pk: t
            for c, t in zip(
                [c for c in pool if c.user_id],
                Contact.objects.bulk_create(
                    [
                        Contact(organisation=vendor, full_name=c.full_name, user_id=c.user_id)
                        for c in pool
                        if c.user_id
                    ],
                    batch_size=BATCH,
                ),
                strict=True,
            )
        }
        del users
        partner_contacts = Contact.objects.bulk_create(
            [
                Contact(
                    organisation_id=pk,
                    full_name=f"Partner {i} {tier}",
                    email=f"{tier}{i}@partner.test",
                    is_primary=tier == "working",
                )
                for i, pk in enumerate(orgs)
                for tier in TIERS
            ],
            batch_size=BATCH,
        )
    spent["organisations, relationships, people"] = time.perf_counter() - started

    started = time.perf_counter()
    roles, slots, people, meetings, actions, surveys = [], [], [], [], [], []
    holders: dict[int, int] = {}
    misaligned: list[int] = []
    for i, pk in enumerate(orgs):
        held = [pool[(4 * i + k) % pool_size] for k in range(4)]
        kind = rng.random()
        if kind < 0.08:  # one role missing
            del held[2]
            codes = [ROLES[0], ROLES[1], ROLES[3]]
        elif kind < 0.10 and held[0].user_id:  # the first role's holder on a second card
            held[3] = twins[held[0].pk]
            codes = ROLES
        else:
            codes = ROLES
        holders[pk] = held[0].pk
        roles.extend(
            RoleAssignment(organisation_id=pk, role=code, holder_id=c.pk, assigned_on=now.date())
            for code, c in zip(codes, held, strict=True)
        )
        for t, tier in enumerate(TIERS):
            if tier == "executive" and rng.random() < 0.03:
                continue
            slots.append(
                ContactSlot(
                    organisation_id=pk,
                    tier=tier,
                    function="general",
                    vendor_contact_id=pool[(4 * i + 1 + t) % pool_size].pk,
                    partner_contact_id=partner_contacts[3 * i + t].pk,
                )
            )
        if i % 2 == 0:
            people.append(
                KeyPerson(
                    organisation_id=pk,
                    person_id=partner_contacts[3 * i + 1].pk,
                    backup_id=partner_contacts[3 * i + 2].pk if i % 4 == 0 else None,
                )
            )
        late = rng.random() < 0.1
        meetings.append(
            Meeting(
                organisation_id=pk,
                title="Quarterly business review",
                tier="operational",
                starts_at=now + dt.timedelta(days=-30 if late else 30),
            )
        )
        if i % 2 == 0:
            actions.append(
                ActionItem(
                    organisation_id=pk,
                    title="Send the forecast",
                    owner_id=held[0].pk,
                    due_on=now.date() + dt.timedelta(days=-5 if late else 20),
                )
            )
        if i % 5 == 0:
            for year in ("2025", "2026"):
                off = rng.random() < 0.1
                surveys.append(
                    HealthSurvey(
                        organisation_id=pk,
                        period=year,
                        status="closed",
                        opened_at=now - dt.timedelta(days=60),
                        closes_at=now - dt.timedelta(days=40),
                        closed_at=now - dt.timedelta(days=40),
                        score=rng.randrange(300, 950) / 10,
                        misaligned=off,
                    )
                )
            if off:
                misaligned.append(pk)
    with transaction.atomic():
        for model, rows in (
            (RoleAssignment, roles),
            (ContactSlot, slots),
            (KeyPerson, people),
            (Meeting, meetings),
            (ActionItem, actions),
            (HealthSurvey, surveys),
        ):
            model.objects.bulk_create(rows, batch_size=BATCH)
        Relationship.objects.filter(organisation_id__in=misaligned).update(misaligned=True)
    spent["roles, contact map, meetings, actions, surveys"] = time.perf_counter() - started

    started = time.perf_counter()
    overdue = 0
    with transaction.atomic():
        for start in range(0, m, BATCH):
            rows = []
            for x in range(start, min(start + BATCH, m)):
                pk = orgs[x % n]
                severity = SEVERITIES[x % 4]
                tier = TIERS[0] if x % 10 < 6 else TIERS[1] if x % 10 < 9 else TIERS[2]
                late = rng.random() < overdue_share
                overdue += late
                hours = RESOLUTION_HOURS[severity]
                resolve_by = now + dt.timedelta(
                    hours=-rng.uniform(0.1, hours) if late else rng.uniform(0.1, hours)
                )
                rows.append(
                    Issue(
                        organisation_id=pk,
                        number=f"GI-{x + 1:06d}",
                        title=f"Issue {x}",
                        category="delivery",
                        severity=severity,
                        status="open" if x % 3 else "responded",
                        tier=tier,
                        raised_side="partner",
                        owner_id=holders[pk],
                        raised_at=now - dt.timedelta(days=3),
                        respond_by=now + dt.timedelta(days=1),
                        resolve_by=resolve_by,
                        escalations=TIERS.index(tier),
                    )
                )
            Issue.objects.bulk_create(rows, batch_size=BATCH)
    spent["issues"] = time.perf_counter() - started
    started = time.perf_counter()
    analyse()
    spent["analyse"] = time.perf_counter() - started
    return {"spent": spent, "analyst": analyst, "overdue": overdue}


def analyse() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("VACUUM ANALYZE")
        else:
            cursor.execute("ANALYZE")


# -- helpers ----------------------------------------------------------------------------


class Counting:
    """Counts every SQL statement run while installed (a connection execute wrapper), and
    the statements by their first words."""

    def __init__(self) -> None:
        self.count = 0
        self.seconds = 0.0
        self.kinds: Counter[str] = Counter()

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        self.count += 1
        self.kinds[_kind(sql)] += 1
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - started


def _kind(sql: str) -> str:
    words = sql.split()
    head = words[0].upper() if words else ""
    if head in ("INSERT", "UPDATE") and len(words) > 2:
        return f"{head} {words[2 if head == 'INSERT' else 1].strip(chr(34))}"
    if head == "SELECT" and " FROM " in sql:
        table = sql.split(" FROM ", 1)[1].split()[0].strip('"')
        return f"SELECT {table}{' FOR UPDATE' if 'FOR UPDATE' in sql else ''}"
    return head


def counted(fn: Any) -> tuple[Any, float, Counting]:
    from django.db import connection

    counter = Counting()
    with connection.execute_wrapper(counter):
        started = time.perf_counter()
        result = fn()
        seconds = time.perf_counter() - started
    return result, seconds, counter


def db_time(connection: Any, value: dt.datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(value)


# -- 1. the escalation sweep ----------------------------------------------------------------


def floor_escalation(now: dt.datetime) -> tuple[float, int]:
    """One INSERT ... SELECT of the escalation events and one UPDATE moving the same issues
    a tier up (rolled back); seconds and issues moved."""
    from django.db import connection, transaction

    p = [db_time(connection, now)]
    due = "status IN ('open', 'responded') AND resolve_by <= %s AND tier <> 'executive'"
    up = "CASE tier WHEN 'working' THEN 'operational' ELSE 'executive' END"
    deadline = "CASE severity " + " ".join(f"WHEN '{s}' THEN %s" for s in SEVERITIES) + " END"
    deadlines = [
        db_time(connection, now + dt.timedelta(hours=RESOLUTION_HOURS[s])) for s in SEVERITIES
    ]
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO governance_issueevent (issue_id, at, kind, from_tier, to_tier, note, data)"
            f" SELECT id, %s, 'escalated', tier, {up}, '', '{{}}' FROM governance_issue"
            f" WHERE {due}",
            p + p,
        )
        cursor.execute(
            f"UPDATE governance_issue SET tier = {up}, escalations = escalations + 1,"
            f" resolve_by = {deadline}, updated_at = %s WHERE {due}",
            deadlines + p + p,
        )
        moved = cursor.rowcount
        seconds = time.perf_counter() - started
        transaction.set_rollback(True)
    return seconds, moved


def bench_escalation(now: dt.datetime, overdue: int) -> None:
    from django.db import connection

    from accord.governance.models import Issue, IssueEvent
    from accord.governance.services.issues import escalate_due

    at_top = Issue.objects.filter(
        status__in=Issue.OPEN_STATUSES, resolve_by__lte=now, tier="executive"
    ).count()
    floor_seconds, floor_moved = floor_escalation(now)
    escalated, seconds, counter = counted(lambda: escalate_due(now=now))
    events = IssueEvent.objects.filter(kind="escalated").count()
    visited = len(escalated) + at_top
    print(
        f"1. escalation sweep: {overdue:,} issues overdue, {len(escalated):,} escalated, "
        f"{at_top:,} flagged at the executive tier ({events:,} events)"
    )
    print(
        f"   escalate_due {seconds:.2f} s = {len(escalated) / seconds:,.0f} escalated/s; "
        f"{counter.count:,} SQL statements = {counter.count / max(visited, 1):.1f} per "
        f"overdue issue, {counter.seconds:.2f} s in them (the rest: Python, commits, one "
        "transaction per issue)"
    )
    print(
        f"   floor (INSERT ... SELECT events + UPDATE of {floor_moved:,} issues) "
        f"{floor_seconds * 1000:.0f} ms; ratio {seconds / floor_seconds:,.0f}x"
    )
    per_issue = ", ".join(
        f"{kind} {n / max(visited, 1):.2f}" for kind, n in counter.kinds.most_common(12)
    )
    print(f"   statements per overdue issue: {per_issue}")
    if floor_moved != len(escalated):
        print(f"   MISMATCH: the floor moved {floor_moved:,}, the service {len(escalated):,}")

    again, seconds2, counter2 = counted(lambda: escalate_due(now=now))
    p = [db_time(connection, now)]

    def bare() -> int:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT COUNT(*) FROM governance_issue WHERE status IN ('open', 'responded')"
                " AND resolve_by <= %s",
                p,
            )
            return cursor.fetchone()[0]

    count_seconds = best_of(bare, 5)
    print(
        f"   second sweep at the same now: {len(again)} escalated, {seconds2 * 1000:.1f} ms, "
        f"{counter2.count:,} SQL statements; bare count ({bare():,} rows) "
        f"{count_seconds * 1000:.2f} ms; ratio {seconds2 / count_seconds:,.0f}x"
    )


# -- 2. the relationship list ---------------------------------------------------------------

ROLE_STATS = """
    SELECT ra.organisation_id AS org,
           SUM(CASE WHEN c.active THEN 1 ELSE 0 END) AS filled,
           CASE WHEN COUNT(c.user_id) > COUNT(DISTINCT c.user_id) THEN 1 ELSE 0 END AS doubled
    FROM governance_roleassignment ra JOIN partners_contact c ON c.id = ra.holder_id
    GROUP BY ra.organisation_id
"""
INCOMPLETE = f"""
    FROM governance_relationship rel
    JOIN partners_organisation o ON o.id = rel.organisation_id
    LEFT JOIN ({ROLE_STATS}) r ON r.org = rel.organisation_id
    WHERE COALESCE(r.filled, 0) < 4 OR COALESCE(r.doubled, 0) = 1
"""


def sql_list(now: dt.datetime, grace_days: int) -> tuple[list[int], int]:
    """The first 50 relationships with roles incomplete or doubled, with the list's
    annotations, and their count: two hand-written statements."""
    from django.db import connection

    page = f"""
        SELECT p.organisation_id, p.filled, p.doubled,
          (SELECT COUNT(*) FROM governance_issue i WHERE i.organisation_id = p.organisation_id
             AND i.status IN ('open', 'responded')),
          (SELECT COUNT(*) FROM governance_meeting m WHERE m.organisation_id = p.organisation_id
             AND m.status = 'planned' AND m.starts_at < %s),
          (SELECT COUNT(*) FROM governance_actionitem a WHERE a.organisation_id = p.organisation_id
             AND a.status = 'open' AND a.due_on < %s)
        FROM (SELECT rel.organisation_id, o.name, rel.id, COALESCE(r.filled, 0) AS filled,
                     COALESCE(r.doubled, 0) AS doubled
              {INCOMPLETE} ORDER BY o.name, rel.id LIMIT 50) p
        ORDER BY p.name, p.id
    """
    params = [
        db_time(connection, now - dt.timedelta(days=grace_days)),
        connection.ops.adapt_datefield_value(now.date()),
    ]
    with connection.cursor() as cursor:
        cursor.execute(page, params)
        rows = cursor.fetchall()
        cursor.execute(f"SELECT COUNT(*) {INCOMPLETE}")
        count = cursor.fetchone()[0]
    return [row[0] for row in rows], count


def bench_list(analyst: Any, now: dt.datetime, repeat: int) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from accord.governance.models import GovernanceSettings
    from accord.governance.selectors.structure import list_relationships

    def orm() -> tuple[list[int], int]:
        rows = list_relationships(analyst, {"roles": "incomplete_or_doubled"}, now=now)
        page = list(rows[:50])
        return [r.organisation_id for r in page], rows.count()

    grace = GovernanceSettings.current().meeting_grace_days
    orm_seconds = best_of(orm, repeat)
    sql_seconds = best_of(lambda: sql_list(now, grace), repeat)
    with CaptureQueriesContext(connection) as captured:
        ids, count = orm()
    sql_ids, sql_count = sql_list(now, grace)
    same = ids == sql_ids and count == sql_count
    print(
        f"2. relationship list, roles incomplete or doubled, page of 50 + count "
        f"({count:,} of the relationships; {len(captured.captured_queries)} SQL statements): "
        f"{orm_seconds * 1000:.1f} ms; hand-written SQL {sql_seconds * 1000:.1f} ms; ratio "
        f"{orm_seconds / sql_seconds:.1f}x; same ids and count: {'yes' if same else 'NO'}"
    )
    if not same:
        print(f"   ORM {count} {ids[:10]}; SQL {sql_count} {sql_ids[:10]}")


# -- 3. the dashboard -------------------------------------------------------------------------


def sql_dashboard(now: dt.datetime, grace_days: int, warning_days: int) -> dict[str, Any]:
    """The dashboard's figures by hand-written count queries."""
    from django.db import connection

    day = connection.ops.adapt_datefield_value
    found: dict[str, Any] = {}
    with connection.cursor() as cursor:

        def one(sql: str, params: list | None = None) -> Any:
            cursor.execute(sql, params or [])
            return cursor.fetchone()

        found["overdue_meetings"] = one(
            "SELECT COUNT(*) FROM governance_meeting WHERE status = 'planned' AND starts_at < %s",
            [db_time(connection, now - dt.timedelta(days=grace_days))],
        )[0]
        found["overdue_action_items"] = one(
            "SELECT COUNT(*) FROM governance_actionitem WHERE status = 'open' AND due_on < %s",
            [day(now.date())],
        )[0]
        cursor.execute(
            "SELECT tier, COUNT(*), SUM(CASE WHEN escalations > 0 THEN 1 ELSE 0 END)"
            " FROM governance_issue WHERE status IN ('open', 'responded') GROUP BY tier"
        )
        by_tier = cursor.fetchall()
        found["open_issues"] = sum(row[1] for row in by_tier)
        found["escalated_open"] = sum(row[2] for row in by_tier)
        cursor.execute(
            "SELECT period, AVG(score), COUNT(DISTINCT organisation_id) FROM"
            " governance_healthsurvey WHERE status = 'closed' AND score IS NOT NULL"
            " GROUP BY period ORDER BY period DESC LIMIT 12"
        )
        cursor.fetchall()
        found["misaligned"] = one(
            "SELECT COUNT(*) FROM governance_relationship WHERE misaligned"
            if connection.vendor == "postgresql"
            else "SELECT COUNT(*) FROM governance_relationship WHERE misaligned = 1"
        )[0]
        found["expiring_certifications"] = one(
            "SELECT COUNT(*) FROM channel_certification WHERE expires_on >= %s"
            " AND expires_on <= %s",
            [day(now.date()), day(now.date() + dt.timedelta(days=warning_days))],
        )[0]
        relationships, problems = one(
            """SELECT COUNT(*), COALESCE(SUM(n), 0) FROM (
                  SELECT org, SUM(n) AS n FROM (
                    SELECT rel.organisation_id AS org, 4 - COUNT(ra.id)
                      + SUM(CASE WHEN ra.id IS NOT NULL AND NOT c.active THEN 1 ELSE 0 END) AS n
                    FROM governance_relationship rel
                    LEFT JOIN governance_roleassignment ra
                      ON ra.organisation_id = rel.organisation_id
                    LEFT JOIN partners_contact c ON c.id = ra.holder_id
                    GROUP BY rel.organisation_id
                    UNION ALL
                    SELECT s.organisation_id,
                      SUM(CASE WHEN v.id IS NULL OR NOT v.active THEN 1 ELSE 0 END
                        + CASE WHEN p.id IS NULL OR NOT p.active THEN 1 ELSE 0 END)
                    FROM governance_contactslot s
                    LEFT JOIN partners_contact v ON v.id = s.vendor_contact_id
                    LEFT JOIN partners_contact p ON p.id = s.partner_contact_id
                    GROUP BY s.organisation_id
                    UNION ALL
                    SELECT k.organisation_id,
                      SUM(CASE WHEN NOT p.active THEN 1 ELSE 0 END
                        + CASE WHEN b.id IS NULL OR NOT b.active THEN 1 ELSE 0 END)
                    FROM governance_keyperson k
                    JOIN partners_contact p ON p.id = k.person_id
                    LEFT JOIN partners_contact b ON b.id = k.backup_id
                    GROUP BY k.organisation_id
                  ) parts GROUP BY org HAVING SUM(n) > 0
                ) per_relationship"""
        )
        found["coverage_relationships"] = relationships
        found["coverage_problems"] = int(problems)
        found["roles_incomplete"] = one(f"SELECT COUNT(*) {INCOMPLETE}")[0]
    return found


def bench_dashboard(analyst: Any, now: dt.datetime, repeat: int) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from accord.governance.models import GovernanceSettings
    from accord.governance.selectors.dashboard import dashboard

    settings = GovernanceSettings.current()
    orm_seconds = best_of(lambda: dashboard(analyst, now), repeat)
    sql_seconds = best_of(
        lambda: sql_dashboard(
            now, settings.meeting_grace_days, settings.certification_warning_days
        ),
        repeat,
    )
    with CaptureQueriesContext(connection) as captured:
        counts = dashboard(analyst, now)["counts"]
    expected = sql_dashboard(now, settings.meeting_grace_days, settings.certification_warning_days)
    differ = {k: (counts.get(k), v) for k, v in expected.items() if counts.get(k) != v}
    print(
        f"3. dashboard ({len(captured.captured_queries)} SQL statements): "
        f"{orm_seconds * 1000:.0f} ms; hand-written counts ({len(expected)} figures, 10 "
        f"statements) {sql_seconds * 1000:.0f} ms; ratio {orm_seconds / sql_seconds:.1f}x; "
        f"same figures: {'yes' if not differ else f'NO {differ}'}"
    )
    from accord.governance.selectors.continuity import coverage_report
    from accord.governance.selectors.dashboard import coverage_counts

    counts_seconds = best_of(lambda: coverage_counts(analyst), repeat)
    report_seconds = best_of(lambda: coverage_report(analyst), 1)
    print(
        f"   of which the coverage counts {counts_seconds * 1000:.0f} ms "
        f"({counts['coverage_relationships']:,} relationships, {counts['coverage_problems']:,} "
        f"problems); the full coverage report (the coverage page: every relationship's roles, "
        f"slots and key people as rows) {report_seconds * 1000:.0f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--relationships", type=int, default=10_000)
    parser.add_argument("--issues", type=int, default=100_000)
    parser.add_argument("--overdue", type=float, default=0.05, help="share overdue at now")
    parser.add_argument("--small", action="store_true", help="1,000 relationships, 10,000 issues")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    if args.small:
        args.relationships, args.issues = 1_000, 10_000
    configure("governance", keep=False)
    from django.utils import timezone

    from accord.governance.models import Issue

    print(f"database: {database_label()}  ({os.cpu_count()} cores, load {os.getloadavg()[0]:.1f})")
    if Issue.objects.exists():
        raise SystemExit("Run against an empty database (the default scratch one is).")
    now = timezone.now().replace(microsecond=0)
    loaded = load(args.relationships, args.issues, args.overdue, now, args.seed)
    spent = loaded["spent"]
    print(
        f"data: {args.relationships:,} relationships, {args.issues:,} open issues; load "
        + ", ".join(f"{step} {seconds:.1f} s" for step, seconds in spent.items())
    )
    bench_escalation(now, loaded["overdue"])
    bench_list(loaded["analyst"], now, args.repeat)
    bench_dashboard(loaded["analyst"], now, max(1, args.repeat // 2))
    print(f"(load {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()
