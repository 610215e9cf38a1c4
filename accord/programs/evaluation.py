"""Set-based tier evaluation: a program version's criteria computed by the KPI engine for a
whole organisation set (one engine pass per window), then qualification decided per
criterion as sets, never per organisation in SQL. Nothing here writes."""

from __future__ import annotations

import calendar
import datetime as dt
import gc
import operator
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from decimal import Decimal
from functools import reduce
from itertools import compress, repeat
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from accord.metrics.engine import KpiInputError, add_months, compute
from accord.metrics.models import MetricDefinition
from accord.partners.models import Organisation
from accord.programs.models import Program, ProgramVersion, Tier
from accord.programs.rules import (
    HUNDRED,
    CriterionRule,
    Decision,
    ProgramRules,
    State,
    TierRule,
)

ONE_DAY = dt.timedelta(days=1)


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cycle collector while an evaluation makes its per-organisation objects.

    At 100,000 organisations every full collection walks the whole evaluation (values,
    states, decisions, result rows) again, and it runs several times while they are made;
    they hold no reference cycles, reference counting frees them as usual."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def in_scope(scope: Any, organisations: QuerySet | None = None) -> QuerySet:
    """The organisations a program or scorecard applies to (kinds, regions, tags), out of
    ``organisations`` (the caller's restricted set; all partners when None). The vendor
    itself is never in a program."""
    queryset = organisations if organisations is not None else Organisation.objects.all()
    queryset = queryset.filter(is_vendor=False).exclude(status=Organisation.Status.TERMINATED)
    if scope.kinds:
        queryset = queryset.filter(kind__in=scope.kinds)
    if scope.regions:
        queryset = queryset.filter(Q(country__in=scope.regions) | Q(region__in=scope.regions))
    if scope.tags:
        queryset = queryset.filter(tags__name__in=scope.tags).distinct()
    return queryset.order_by("pk")


def load_rules(version: ProgramVersion) -> ProgramRules:
    """The rules of ``version``: metric versions pinned where the version pinned them."""
    tiers = []
    for tier in Tier.objects.filter(version=version).prefetch_related("criteria").order_by("rank"):
        criteria = tuple(
            CriterionRule(
                metric=criterion.metric,
                spec=f"{criterion.metric}@{criterion.metric_version}"
                if criterion.metric_version
                else criterion.metric,
                comparator=criterion.comparator,
                threshold=criterion.threshold,
                window=criterion.window,
            )
            for criterion in tier.criteria.all()
        )
        tiers.append(
            TierRule(
                code=tier.code,
                name=tier.name,
                name_zh=tier.name_zh,
                rank=tier.rank,
                combine=tier.combine,
                at_least=tier.at_least,
                criteria=criteria,
                cost_pct=tier.cost_pct,
            )
        )
    basis = CriterionRule(
        metric=version.cost_basis_metric,
        spec=_basis_spec(version, tiers),
        comparator="gte",
        threshold=Decimal(0),
        window=version.cost_basis_window,
    )
    return ProgramRules(
        tiers=tuple(tiers),
        grace_days=version.grace_days,
        hysteresis=version.hysteresis_pct / HUNDRED,
        cost_basis=basis,
    )


def _basis_spec(version: ProgramVersion, tiers: list[TierRule]) -> str:
    """The cost basis metric as the engine computes it: the version a criterion pins when one
    uses the same metric (one engine pass names each metric once), else the version that was
    current when this version was published (so a past run's cost stays reproducible)."""
    code = version.cost_basis_metric
    for tier in tiers:
        for criterion in tier.criteria:
            if criterion.metric == code:
                return criterion.spec
    if version.published_at is None:
        return code
    pinned = (
        MetricDefinition.objects.filter(code=code, created_at__lte=version.published_at)
        .order_by("-version")
        .values_list("version", flat=True)
        .first()
    )
    return f"{code}@{pinned}" if pinned else code


def pin_metric_versions(version: ProgramVersion) -> None:
    """Fix each criterion on its metric's current version (done when publishing)."""
    current = dict(MetricDefinition.objects.filter(is_current=True).values_list("code", "version"))
    for tier in version.tiers.prefetch_related("criteria"):
        for criterion in tier.criteria.all():
            if criterion.metric_version is None:
                criterion.metric_version = current.get(criterion.metric)
                criterion.save(update_fields=["metric_version"])


@dataclass
class Evaluation:
    """Every organisation's criterion values and the tier each qualifies for at ``as_of``."""

    rules: ProgramRules
    as_of: dt.date
    organisation_ids: list[int]
    values: dict[str, dict[int, Decimal | None]]  # "metric@window" -> org -> value
    qualified: dict[int, str]
    cost_basis: dict[int, Decimal | None] = field(default_factory=dict)
    # Each column's organisations with a value, and the values (filled as criteria need them).
    _known: dict[str, Known] = field(default_factory=dict, init=False, repr=False, compare=False)

    def values_of(self, org: int) -> dict[str, Decimal | None]:
        return {key: column.get(org) for key, column in self.values.items()}

    def stored_values(self, org: int) -> dict[str, str | None]:
        return {
            key: None if value is None else str(value) for key, value in self.values_of(org).items()
        }

    def stored_rows(self) -> list[dict[str, str | None]]:
        """``stored_values`` of every organisation, in ``organisation_ids`` order: made a
        column at a time, which at 100,000 organisations is several times faster."""
        keys, ids = list(self.values), self.organisation_ids
        columns = [
            [None if value is None else str(value) for value in map(column.get, ids)]
            for column in self.values.values()
        ]
        if not columns:
            return [{} for _org in ids]
        with collector_paused():
            return [dict(zip(keys, row, strict=True)) for row in zip(*columns, strict=True)]

    def keeps(self, tier: TierRule) -> set[int]:
        """Organisations meeting ``tier`` at the relaxed (keep) thresholds."""
        return _passing(
            tier, self.values, self.organisation_ids, self.rules.hysteresis, self._known
        )

    def decide(self, states: Mapping[int, State]) -> dict[int, Decision]:
        """Each organisation's decision from its state (no state: not in the program yet).

        ``rules.decide`` made set-based. Outside a grace period a decision depends only on
        the tier held, the tier qualified for and, below the held tier, whether its relaxed
        thresholds are still met: each such decision is made once and shared (decisions are
        immutable). The relaxed thresholds are checked, a criterion at a time, only for the
        holders that fell below their tier."""
        rules, ids = self.rules, self.organisation_ids
        tiers = {tier.code: tier for tier in rules.tiers}
        ranks = {tier.code: tier.rank for tier in rules.tiers}
        qualified_of, empty = self.qualified, State()
        shared: dict[tuple[str, str, bool], Decision] = {}

        def decision(state: State, qualified: str, kept: bool) -> Decision:
            if state.grace_until is not None:
                return self._decision(state, qualified, kept, tiers, ranks)
            key = (state.tier, qualified, kept)
            found = shared.get(key)
            if found is None:
                found = shared[key] = self._decision(state, qualified, kept, tiers, ranks)
            return found

        decisions: dict[int, Decision | None] = {}
        below: dict[str, list[int]] = {}  # tier code -> holders qualifying for less
        settled: dict[tuple[str, str], Decision] = {}  # outside grace, no keep test needed
        state_of = states.get
        with collector_paused():
            for org in ids:
                state = state_of(org, empty)
                qualified = qualified_of[org]
                if state.grace_until is None:
                    found = settled.get((state.tier, qualified))
                    if found is not None:
                        decisions[org] = found
                        continue
                current = tiers.get(state.tier)
                if current is not None and ranks.get(qualified, -1) < current.rank:
                    below.setdefault(current.code, []).append(org)
                    decisions[org] = None  # decided below, keeping the order of ids
                    continue
                found = decisions[org] = decision(state, qualified, False)
                if state.grace_until is None:
                    settled[(state.tier, qualified)] = found
            hysteresis = rules.hysteresis
            for code, holders in below.items():
                kept = _passing_among(tiers[code], self.values, holders, hysteresis)
                for org in holders:
                    decisions[org] = decision(states[org], qualified_of[org], org in kept)
        return decisions  # type: ignore[return-value]

    def _decision(
        self,
        state: State,
        qualified: str,
        kept: bool,
        tiers: Mapping[str, TierRule],
        ranks: Mapping[str, int],
    ) -> Decision:
        """``rules.decide`` for one organisation, with ``kept`` for whether it meets its
        tier's relaxed thresholds."""
        current = tiers.get(state.tier)
        if current is None:  # no tier yet, or one this version no longer has
            outcome = "entered" if qualified else "unchanged"
            if state.tier and not qualified:
                outcome = "demoted"
            return Decision(outcome, State(tier=qualified), qualified)
        qualified_rank = ranks.get(qualified, -1)
        if qualified_rank > current.rank:
            return Decision("promoted", State(tier=qualified), qualified)
        if qualified_rank == current.rank or kept:
            if state.in_grace:
                outcome = "grace_withdrawn"
            else:
                outcome = "unchanged" if qualified_rank == current.rank else "held"
            return Decision(outcome, State(tier=current.code), qualified)
        as_of, grace_days = self.as_of, self.rules.grace_days
        if grace_days <= 0 or (state.grace_until is not None and as_of >= state.grace_until):
            return Decision("demoted", State(tier=qualified), qualified)
        if state.in_grace:
            return Decision("grace_continues", replace(state, grace_target=qualified), qualified)
        return Decision(
            "grace_opened",
            State(
                tier=current.code,
                grace_target=qualified,
                grace_started=as_of,
                grace_until=as_of + dt.timedelta(days=grace_days),
            ),
            qualified,
        )

    def cost(self, tiers: Mapping[int, str]) -> Decimal:
        """The benefit cost of a tier assignment: each organisation's cost basis times its
        tier's discount + rebate + MDF share."""
        percent = {tier.code: tier.cost_pct for tier in self.rules.tiers}
        total = Decimal(0)
        for org, code in tiers.items():
            basis = self.cost_basis.get(org)
            if basis and percent.get(code):
                total += basis * percent[code] / HUNDRED
        return total.quantize(Decimal("0.01"))


COMPARE = {"gte": operator.ge, "gt": operator.gt, "lte": operator.le, "lt": operator.lt}
Known = tuple[list[int], list[Decimal]]  # a column's organisations that have a value, and them


def _known(column: Mapping[int, Decimal | None]) -> Known:
    return (
        [org for org, value in column.items() if value is not None],
        [value for value in column.values() if value is not None],
    )


def _combine(tier: TierRule, sets: list[set[int]]) -> set[int]:
    """The organisations passing ``tier`` from the set passing each of its criteria."""
    if tier.combine == "any":
        return reduce(set.union, sets)
    if tier.combine == "at_least":
        counts: Counter[int] = Counter()
        for passed in sets:
            counts.update(passed)
        required = tier.required
        return {org for org, count in counts.items() if count >= required}
    return reduce(set.intersection, sets)


def _passing_among(
    tier: TierRule,
    values: Mapping[str, Mapping[int, Decimal | None]],
    organisations: list[int],
    hysteresis: Decimal,
) -> set[int]:
    """Which of ``organisations`` (a few of all) meet ``tier`` at its relaxed thresholds."""
    if not tier.criteria:
        return set(organisations)
    sets = []
    for criterion in tier.criteria:
        limit = criterion.keep_threshold(hysteresis)
        compare = COMPARE[criterion.comparator]
        found = map(values.get(criterion.key, {}).get, organisations)
        sets.append(
            {
                org
                for org, value in zip(organisations, found, strict=True)
                if value is not None and compare(value, limit)
            }
        )
    return _combine(tier, sets)


def _passing(
    tier: TierRule,
    values: Mapping[str, Mapping[int, Decimal | None]],
    organisations: Iterable[int],
    hysteresis: Decimal | None = None,
    known: dict[str, Known] | None = None,
) -> set[int]:
    """The organisations meeting ``tier``'s criteria, one set per criterion. Each comparison
    runs over a whole column in C (``compress`` over ``map``): at 100,000 organisations a
    Python loop per value was most of an evaluation's own time. ``known`` caches each
    column's non-empty values between calls."""
    if not tier.criteria:
        return set(organisations)
    known = {} if known is None else known
    sets = []
    for criterion in tier.criteria:
        limit = criterion.threshold if hysteresis is None else criterion.keep_threshold(hysteresis)
        found = known.get(criterion.key)
        if found is None:
            found = known[criterion.key] = _known(values.get(criterion.key, {}))
        orgs, numbers = found
        sets.append(set(compress(orgs, map(COMPARE[criterion.comparator], numbers, repeat(limit)))))
    return _combine(tier, sets)


def evaluate(rules: ProgramRules, *, as_of: dt.date, organisations: QuerySet) -> Evaluation:
    """Compute every criterion of ``rules`` for ``organisations`` at ``as_of`` (one KPI engine
    pass per distinct window) and the tier each organisation qualifies for."""
    values: dict[str, dict[int, Decimal | None]] = {}
    ids: list[int] | None = None
    for window, specs in rules.windows().items():
        table = compute(specs, period=window, as_of=as_of, organisations=organisations)
        if ids is None:
            ids = table.organisation_ids
        for definition in table.metrics:
            column = table.column(definition.code)
            known = column.values
            if len(known) == len(ids) and column.default is None:
                values[f"{definition.code}@{window}"] = known
                continue
            # Every organisation: the default where the engine found no data.
            full = dict.fromkeys(ids, column.default)
            full.update(known)
            if len(full) != len(ids):  # never from the engine: values outside the set
                full = {org: full[org] for org in ids}
            values[f"{definition.code}@{window}"] = full
    if ids is None:
        ids = list(organisations.values_list("pk", flat=True))
    return evaluate_columns(rules, as_of, ids, values)


def evaluate_columns(
    rules: ProgramRules,
    as_of: dt.date,
    ids: list[int],
    values: dict[str, dict[int, Decimal | None]],
) -> Evaluation:
    """The tier each of ``ids`` qualifies for, from every criterion's computed values
    ("metric@window" -> organisation -> value; an organisation absent has no value)."""
    qualified = dict.fromkeys(ids, "")
    known: dict[str, Known] = {}
    for tier in rules.tiers:  # lowest first: a higher tier overwrites
        qualified.update(dict.fromkeys(_passing(tier, values, ids, known=known), tier.code))
    basis = {}
    if rules.cost_basis is not None:
        basis = values.get(rules.cost_basis.key, {})
    evaluation = Evaluation(rules, as_of, ids, values, qualified, basis)
    evaluation._known = known
    return evaluation


def next_evaluation(program: Program, as_of: dt.date) -> dt.date:
    """When the program is evaluated next after ``as_of``: one cadence later, on the same
    day of the month (the month's last day when it is shorter), and at a month's end when
    ``as_of`` is one, so quarter-end evaluations stay on quarter ends (09-30 → 12-31)."""
    first = add_months(as_of.replace(day=1), 3 if program.cadence == "quarter" else 1)
    last_day = calendar.monthrange(first.year, first.month)[1]
    if as_of.day == calendar.monthrange(as_of.year, as_of.month)[1]:
        return first.replace(day=last_day)
    return first.replace(day=min(as_of.day, last_day))


def check_rules(rules: ProgramRules) -> None:
    """KpiInputError when a version cannot be evaluated (no tiers, unknown metric)."""
    if not rules.tiers:
        raise KpiInputError("tiers", _("The program version has no tiers."))
