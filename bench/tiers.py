"""Tier evaluation at scale: a 4-tier, 4-criterion program against the KPIs it needs alone.

    .venv/bin/python bench/tiers.py [--organisations 100000] [--lines 10000000] [--keep]
    ACCORD_DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench .venv/bin/python bench/tiers.py

Reuses bench/kpi.py's synthetic network (the same cached CSV under ./var/bench/, the same
import; with ``--keep`` the same kept database, so a network bench/kpi.py --keep loaded is
evaluated without loading it again). The program's thresholds are quantiles of the KPI values
at ``as_of``, so every tier has members at any size. Then, in the same run, best of N:

* (a) KPIs alone: ``accord.metrics.engine.compute`` of the program's metrics, one call per
  window, for the program's organisation set at ``as_of``: the floor.
* (b) evaluation: ``evaluation.evaluate`` + ``Evaluation.decide`` for every organisation,
  without memberships (everyone enters) and with the memberships two earlier quarters left
  (promotions, demotions, grace periods, the hysteresis band).
* (c) the stored, applied run: ``services.evaluate_program(apply=True)`` (results, memberships,
  tier history, early warnings, audit), first application and after two earlier quarters.

It prints (b) / (a) and (c) / (a) (goal for (b): at most 1.5), (c) split into its parts, and
the SQL statements (a), (b) and (c) execute over 1,000 organisations and over all of them
(goal: the same number). (a) and (b) take turns in each repetition; every ratio divides
times of the same run (the machine is shared and noisy).

The program: registered (revenue >= 76,000), silver (revenue >= 120,000 and orders >= 7),
gold (2 of revenue >= 200,000, orders >= 11, distinct products >= 24), platinum (revenue >=
390,000, orders >= 21, distinct products >= 30, growth >= -0.34), all over the trailing 12
months; 10 % hysteresis, 90 days' grace. At 100,000 organisations 25 % qualify for no tier,
32 / 17 / 17 / 9 % for the four tiers; after the two earlier quarters the last evaluation
promotes 6,877, opens 13,547 grace periods, holds 5,044 in the band and demotes 8,910.

Figures (100,000 organisations, 10,000,000 lines, 2 shared cores, best of 3, as_of
2024-12-31; ``make bench-tiers BENCH_ARGS=--keep``):

    SQLite        (a) 0.77 s   (b) 0.94 s = 1.23x, after two quarters 1.03 s = 1.35x
                  (c) first run 17.8 s = 23x; after two quarters 18.9 s = 25x, of which early
                      warnings 14.8, evaluation 0.8, memberships read 1.2, results /
                      memberships / history written 0.9 + 0.4, the rest 0.9
    PostgreSQL    (a) 0.64 s   (b) 0.77 s = 1.20x, after two quarters 0.88 s = 1.36x
                  (c) first run 28.5 s = 44x; after two quarters 29.7 s = 46x, of which early
                      warnings 21.9, evaluation 0.8, memberships read 1.1, written 2.2 + 1.8,
                      the rest (with the commit's deferred foreign-key checks) 1.8
    statements    (a) 3, (b) 3, (c) 31 over 1,000 organisations and over 100,000, both
                  databases

2024-12-31 is the hardest date for the (b) ratio: the trailing 12 months are the calendar
year, which the engine reads from year rollups, so (a) is at its cheapest. With
``--as-of 2024-11-30`` (distinct orders and products counted over the window's raw lines)
(a) takes 5.60 s on SQLite and 6.99 s on PostgreSQL and (b) 1.04x and 1.03x of it.

(c) is far above (b): its early warnings compute the held tiers' criteria again over three
trailing periods (three windows of raw lines) and judge 70,000 holders one by one. Without
them an applied run is 2.8-4.2 s on SQLite and 6.0-7.8 s on PostgreSQL (3.6-5.4x and 9-12x
the KPIs): writing 100,000 results, up to 75,000 memberships and their history. Each table
is written in one statement (``accord.programs.bulk``): ``bulk_update`` of the memberships
took 35 of the 41 s (profiled) of an applied run over 2,000 organisations, and
``bulk_create`` one statement per 111 results and per 142 warnings on SQLite.

Not a test; nothing is asserted.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import kpi
from _setup import ROOT, configure, database_label

AS_OF = kpi.AS_OF  # 2024-12-31: the trailing 12 months are the synthetic data's second year
EARLIER = (dt.date(2024, 6, 30), dt.date(2024, 9, 30))  # the quarters before, applied first
CODE = "bench-tiers"
WINDOW = "trailing_12"
METRICS = ("revenue", "orders", "distinct_products", "growth")
SMALL = 1_000


def quantile(values: list[Decimal], fraction: float) -> Decimal:
    ordered = sorted(values)
    return ordered[min(int(len(ordered) * fraction), len(ordered) - 1)]


def rounded(value: Decimal) -> Decimal:
    """Two significant digits: thresholds a person would write."""
    if not value:
        return Decimal(0)
    exponent = value.adjusted() - 1
    return value.scaleb(-exponent).quantize(Decimal(1)).scaleb(exponent).normalize()


def program_content(values: dict[str, list[Decimal]]) -> dict[str, Any]:
    """registered < silver < gold (2 of 3) < platinum (all 4), thresholds at quantiles."""

    def at(metric: str, fraction: float) -> dict[str, str]:
        threshold = rounded(quantile(values[metric], fraction))
        return {
            "metric": metric,
            "comparator": "gte",
            "threshold": format(threshold, "f"),
            "window": WINDOW,
        }

    def tier(code: str, criteria: list, **extra: Any) -> dict[str, Any]:
        return {"code": code, "name": code.title(), "criteria": criteria, **extra}

    return {
        "grace_days": 90,
        "hysteresis_pct": "10",
        "cost_basis_metric": "revenue",
        "cost_basis_window": WINDOW,
        "tiers": [
            tier("registered", [at("revenue", 0.25)], benefits={"discount_pct": "1"}),
            tier(
                "silver",
                [at("revenue", 0.5), at("orders", 0.5)],
                benefits={"discount_pct": "2", "rebate_pct": "0.5"},
            ),
            tier(
                "gold",
                [at("revenue", 0.75), at("orders", 0.75), at("distinct_products", 0.75)],
                combine="at_least",
                at_least=2,
                benefits={"discount_pct": "4", "rebate_pct": "1", "mdf_share_pct": "0.5"},
            ),
            tier(
                "platinum",
                [
                    at("revenue", 0.9),
                    at("orders", 0.9),
                    at("distinct_products", 0.85),
                    at("growth", 0.25),
                ],
                benefits={"discount_pct": "6", "rebate_pct": "2", "mdf_share_pct": "1"},
            ),
        ],
    }


def make_program() -> Any:
    """The bench program (made again on every run: the thresholds follow the data)."""
    from accord.metrics.engine import compute
    from accord.partners.models import Organisation
    from accord.programs import services
    from accord.programs.evaluation import in_scope
    from accord.programs.models import Program

    old = Program.objects.filter(code=CODE).first()
    if old is not None:
        reset(old)
        old.delete()
    scope = in_scope(Program(), Organisation.objects.all())
    table = compute(list(METRICS), period=WINDOW, as_of=AS_OF, organisations=scope)
    ids = table.organisation_ids
    values = {}
    for metric in METRICS:
        column = table.column(metric)
        found = [column.values.get(org, column.default) for org in ids]
        values[metric] = [value for value in found if value is not None]
    program = services.create_program(
        actor=None,
        data={"code": CODE, "name": "Bench tiers", "cadence": "quarter"},
        content=program_content(values),
    )
    services.publish_version(actor=None, program=program)
    return Program.objects.get(pk=program.pk)


def reset(program: Any) -> None:
    """Forget every run, membership and tier change of ``program``."""
    from accord.programs.models import (
        EvaluationResult,
        EvaluationRun,
        Membership,
        TierChange,
        Warning,
    )

    TierChange.objects.filter(program=program).delete()
    Warning.objects.filter(run__program=program).delete()
    EvaluationResult.objects.filter(run__program=program).delete()
    EvaluationRun.objects.filter(program=program).delete()
    Membership.objects.filter(program=program).delete()


def best(calls: dict[str, Callable[[], Any]], repeat: int) -> dict[str, float]:
    """The fastest of ``repeat`` timed calls of each; the calls take turns, so a busy spell
    of the (shared) machine slows one round of all of them rather than one of them."""
    times: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(repeat):
        for name, fn in calls.items():
            started = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - started)
    return {name: min(spent) for name, spent in times.items()}


# The parts of evaluate_program timed separately (names in accord.programs.services).
PHASES = {
    "evaluate": "evaluation",
    "_states": "memberships read",
    "insert_rows": "results, memberships and history written",
    "update_rows": "memberships updated",
    "early_warnings": "early warnings",
}


@contextmanager
def phases_timed(spent: dict[str, float]) -> Iterator[None]:
    """Add the seconds each of ``PHASES`` takes inside the block to ``spent``."""
    from accord.programs import services

    originals = {name: getattr(services, name) for name in PHASES}

    def timed(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[name] = spent.get(name, 0.0) + time.perf_counter() - started

        return wrapper

    for name, fn in originals.items():
        setattr(services, name, timed(name, fn))
    try:
        yield
    finally:
        for name, fn in originals.items():
            setattr(services, name, fn)


def best_run(bench: Bench, repeat: int, prepare: Callable[[], Any]) -> tuple[float, dict]:
    """The fastest of ``repeat`` applied runs, and the seconds of its parts."""
    runs = []
    for _ in range(repeat):
        prepare()
        spent: dict[str, float] = {}
        with phases_timed(spent):
            started = time.perf_counter()
            bench.run()
            runs.append((time.perf_counter() - started, spent))
    return min(runs, key=lambda run: run[0])


def statements(fn: Callable[[], Any]) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        fn()
    return len(captured.captured_queries)


class Bench:
    """The three measurements for one organisation set (None: the program's whole scope)."""

    def __init__(self, program: Any, organisations: Any = None) -> None:
        from accord.programs.evaluation import in_scope, load_rules
        from accord.programs.services import live_version

        self.program = program
        self.organisations = organisations
        self.rules = load_rules(live_version(program))
        self.scope = in_scope(program, organisations)
        self.earlier_states = self.states_after(EARLIER)

    def kpis(self) -> None:
        from accord.metrics.engine import compute

        for window, specs in self.rules.windows().items():
            compute(specs, period=window, as_of=AS_OF, organisations=self.scope)

    def evaluate(self, states: dict) -> dict:
        from accord.programs.evaluation import evaluate

        evaluation = evaluate(self.rules, as_of=AS_OF, organisations=self.scope)
        return evaluation.decide(states)

    def states_after(self, dates: tuple[dt.date, ...]) -> dict:
        states: dict = {}
        for day in dates:
            decisions = evaluate_at(self.rules, day, self.scope).decide(states)
            states = {org: decision.state for org, decision in decisions.items()}
        return states

    def run(self) -> Any:
        from accord.programs.services import evaluate_program

        return evaluate_program(
            actor=None,
            program=self.program,
            as_of=AS_OF,
            apply=True,
            organisations=self.organisations,
        )

    def reset(self) -> None:
        reset(self.program)

    def earlier_runs(self) -> None:
        from accord.programs.services import evaluate_program

        reset(self.program)
        for day in EARLIER:
            evaluate_program(
                actor=None,
                program=self.program,
                as_of=day,
                apply=True,
                organisations=self.organisations,
            )


def evaluate_at(rules: Any, day: dt.date, scope: Any) -> Any:
    from accord.programs.evaluation import evaluate

    return evaluate(rules, as_of=day, organisations=scope)


def main() -> None:
    global AS_OF
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--organisations", type=int, default=100_000)
    parser.add_argument("--lines", type=int, default=10_000_000)
    parser.add_argument("--products", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--repeat", type=int, default=3, help="timed repetitions (best of)")
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the database (SQLite: under ./var/bench/, shared with bench/kpi.py --keep) "
        "and reuse the network it holds",
    )
    parser.add_argument("--profile", help="write a cProfile of one evaluation (b) to this file")
    parser.add_argument(
        "--evaluation-only", action="store_true", help="measure (a) and (b) only, not (c)"
    )
    parser.add_argument(
        "--as-of",
        type=dt.date.fromisoformat,
        default=AS_OF,
        help=f"the evaluation date (default {AS_OF}, where the trailing 12 months are a "
        "calendar year the engine reads from year rollups; at any other date it counts "
        "distinct orders and products over the window's raw lines)",
    )
    args = parser.parse_args()
    AS_OF = args.as_of  # every measurement reads it

    data_dir = ROOT / "var" / "bench"
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / f"kpi-{args.organisations}-{args.lines}-{args.products}-{args.seed}.csv"
    if not path.exists():
        started = time.perf_counter()
        kpi.write_lines(path, args.organisations, args.lines, args.products, args.seed)
        print(f"wrote {path.name} in {time.perf_counter() - started:.1f} s")

    configure(f"kpi-{args.organisations}-{args.lines}-{args.products}", keep=args.keep)
    from accord.accounts.models import Role, User
    from accord.partners.models import Organisation

    print(f"database: {database_label()}  ({os.cpu_count()} cores)")
    print(
        f"network: {args.organisations:,} organisations, {args.lines:,} lines, "
        f"{args.products:,} products, {kpi.MONTHS} months; as_of {AS_OF}; best of {args.repeat}"
    )
    if Organisation.objects.filter(is_vendor=False).exists():
        if not args.keep:
            raise SystemExit("Run against an empty database (the default scratch one is).")
        print("(reusing the loaded network)")
    else:
        kpi.load_master_data(args.organisations, args.products)
        vendor = Organisation.objects.vendor()
        admin = User.objects.create(
            email="bench@accord.test", full_name="Bench", organisation=vendor
        )
        admin.roles.set(Role.objects.filter(code="administrator"))
        seconds, result = kpi.run_import(path)
        print(f"imported {result.created:,} lines in {seconds:.1f} s ({result.status})")

    program = make_program()
    full = Bench(program)
    describe(full)
    if args.profile:
        profile(full, args.profile)
    report(full, args.repeat, applied=not args.evaluation_only)
    if args.evaluation_only:
        return
    cut = (
        Organisation.objects.filter(is_vendor=False)
        .order_by("pk")
        .values_list("pk", flat=True)[SMALL - 1 : SMALL]
        .first()
    )
    small = Bench(program, Organisation.objects.filter(pk__lte=cut))
    count_statements(small, full)
    reset(program)


def describe(bench: Bench) -> None:
    decisions = bench.evaluate({})
    distribution: dict[str, int] = {}
    for decision in decisions.values():
        distribution[decision.state.tier or "-"] = distribution.get(decision.state.tier or "-", 0)
        distribution[decision.state.tier or "-"] += 1
    outcomes: dict[str, int] = {}
    for decision in bench.evaluate(bench.earlier_states).values():
        outcomes[decision.outcome] = outcomes.get(decision.outcome, 0) + 1
    tiers = ", ".join(
        f"{tier.code} ({tier.combine}"
        + (f" {tier.at_least}" if tier.at_least else "")
        + "): "
        + "; ".join(f"{c.metric} >= {c.threshold.normalize():f}" for c in tier.criteria)
        for tier in bench.rules.tiers
    )
    print(f"program: {tiers}")
    print(f"organisations in scope: {len(decisions):,}; entering: {distribution}")
    print(f"after {', '.join(str(day) for day in EARLIER)}: {outcomes}")


def report(bench: Bench, repeat: int, applied: bool = True) -> None:
    times = best(
        {
            "kpis": bench.kpis,
            "fresh": lambda: bench.evaluate({}),
            "held": lambda: bench.evaluate(bench.earlier_states),
        },
        repeat,
    )
    kpis = times["kpis"]
    rows = [
        ("(b) evaluate + decide, no memberships", times["fresh"], None),
        ("(b) evaluate + decide, after two quarters", times["held"], None),
    ]
    if applied:
        first, first_parts = best_run(bench, repeat, prepare=bench.reset)
        later, later_parts = best_run(bench, repeat, prepare=bench.earlier_runs)
        rows += [
            ("(c) evaluate_program, applied, first run", first, first_parts),
            ("(c) evaluate_program, applied, after two quarters", later, later_parts),
        ]
    print(f"(a) KPIs alone (engine, one compute per window): {kpis:.2f} s")
    for label, seconds, parts in rows:
        goal = " (goal <= 1.5)" if label.startswith("(b)") else ""
        print(f"{label}: {seconds:.2f} s = {seconds / kpis:.2f} x (a){goal}")
        if parts:
            rest = seconds - sum(parts.values())
            print(
                "    "
                + "; ".join(f"{PHASES[name]} {spent:.2f} s" for name, spent in parts.items())
                + f"; the rest (decide, rows made, summary, audit, commit) {rest:.2f} s"
            )


def count_statements(small: Bench, full: Bench) -> None:
    rows = []
    for label, bench in ((f"{SMALL:,}", small), (f"{len(full.earlier_states):,}", full)):
        bench.earlier_runs()
        rows.append(
            (
                label,
                statements(bench.kpis),
                statements(lambda b=bench: b.evaluate(b.earlier_states)),
                statements(bench.run),
            )
        )
    for label, kpis, evaluation, run in rows:
        print(
            f"SQL statements at {label} organisations: (a) {kpis}, (b) {evaluation}, "
            f"(c) applied after two quarters {run}"
        )


def profile(bench: Bench, path: str) -> None:
    import cProfile

    cProfile.runctx("bench.evaluate(bench.earlier_states)", globals(), {"bench": bench}, path)
    print(f"profile of (b) written to {path}")


if __name__ == "__main__":
    main()
