"""The pure rules of tiering and scoring: criteria, qualification, hysteresis, grace periods,
gaps, score curves, standing bands and decay. No database here; everything is testable alone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from itertools import pairwise
from typing import Any

from django.utils.translation import gettext as _

from accord.metrics.engine import KpiInputError, parse_period_kind

HUNDRED = Decimal(100)
ZERO = Decimal(0)
COMPARATORS = {"gte": "≥", "gt": ">", "lte": "≤", "lt": "<"}
HIGHER = frozenset({"gte", "gt"})
POINT_LIMIT = Decimal(10) ** 17  # the largest value of a score point


# -- programs -------------------------------------------------------------------------
@dataclass(frozen=True)
class CriterionRule:
    metric: str  # metric code
    spec: str  # what the engine computes: "revenue" or "revenue@2"
    comparator: str
    threshold: Decimal
    window: str  # an engine period kind: month, quarter, year, trailing_N

    @property
    def key(self) -> str:
        """How a value is keyed: ``metric@window``."""
        return f"{self.metric}@{self.window}"

    def keep_threshold(self, hysteresis: Decimal) -> Decimal:
        """The threshold a holder of the tier must meet: relaxed by the hysteresis fraction,
        downwards for ≥ / > and upwards for ≤ / <."""
        band = abs(self.threshold) * hysteresis
        return self.threshold - band if self.comparator in HIGHER else self.threshold + band

    def passes(self, value: Decimal | None, threshold: Decimal | None = None) -> bool:
        """Whether ``value`` meets the criterion (no value never does)."""
        if value is None:
            return False
        limit = self.threshold if threshold is None else threshold
        if self.comparator == "gte":
            return value >= limit
        if self.comparator == "gt":
            return value > limit
        if self.comparator == "lte":
            return value <= limit
        return value < limit

    def as_dict(self) -> dict[str, str]:
        return {
            "metric": self.metric,
            "spec": self.spec,
            "comparator": self.comparator,
            "threshold": str(self.threshold),
            "window": self.window,
        }


@dataclass(frozen=True)
class TierRule:
    code: str
    name: str
    rank: int
    combine: str = "all"  # all | any | at_least
    at_least: int | None = None
    criteria: tuple[CriterionRule, ...] = ()
    cost_pct: Decimal = ZERO  # discount + rebate + MDF share, % of the cost basis
    name_zh: str = ""

    @property
    def required(self) -> int:
        """How many criteria must pass."""
        if not self.criteria:
            return 0
        if self.combine == "any":
            return 1
        if self.combine == "at_least":
            return min(self.at_least or 1, len(self.criteria))
        return len(self.criteria)

    def passes(
        self, values: Mapping[str, Decimal | None], hysteresis: Decimal | None = None
    ) -> bool:
        """Whether the tier's criteria hold; with ``hysteresis``, at the relaxed thresholds."""
        passed = 0
        for criterion in self.criteria:
            threshold = None if hysteresis is None else criterion.keep_threshold(hysteresis)
            if criterion.passes(values.get(criterion.key), threshold):
                passed += 1
        return passed >= self.required

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "name_zh": self.name_zh,
            "rank": self.rank,
            "combine": self.combine,
            "at_least": self.at_least,
            "cost_pct": str(self.cost_pct),
            "criteria": [criterion.as_dict() for criterion in self.criteria],
        }


@dataclass(frozen=True)
class ProgramRules:
    tiers: tuple[TierRule, ...]  # by rank, lowest first
    grace_days: int = 90
    hysteresis: Decimal = ZERO  # a fraction: 0.05 for a 5 % band
    cost_basis: CriterionRule | None = None  # its threshold is unused

    def tier(self, code: str) -> TierRule | None:
        for tier in self.tiers:
            if tier.code == code:
                return tier
        return None

    def rank(self, code: str) -> int:
        """The rank of ``code``; -1 for no tier (or a tier this version does not have)."""
        tier = self.tier(code)
        return -1 if tier is None else tier.rank

    def criteria(self) -> list[CriterionRule]:
        return [criterion for tier in self.tiers for criterion in tier.criteria]

    def windows(self) -> dict[str, list[str]]:
        """The metric specs to compute per window (each spec once per window)."""
        wanted: dict[str, list[str]] = {}
        rules = self.criteria() + ([self.cost_basis] if self.cost_basis else [])
        for criterion in rules:
            specs = wanted.setdefault(criterion.window, [])
            if criterion.spec not in specs:
                specs.append(criterion.spec)
        return wanted

    def qualify(self, values: Mapping[str, Decimal | None]) -> str:
        """The highest tier whose entry criteria hold in full ("" when none does)."""
        for tier in reversed(self.tiers):
            if tier.passes(values):
                return tier.code
        return ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "tiers": [tier.as_dict() for tier in self.tiers],
            "grace_days": self.grace_days,
            "hysteresis_pct": str(self.hysteresis * HUNDRED),
            "cost_basis": self.cost_basis.as_dict() if self.cost_basis else None,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ProgramRules:
        """The rules a run stored in its inputs (``as_dict``), to explain its results."""

        def criterion(item: Mapping[str, Any]) -> CriterionRule:
            return CriterionRule(
                metric=item["metric"],
                spec=item.get("spec", item["metric"]),
                comparator=item["comparator"],
                threshold=Decimal(item["threshold"]),
                window=item["window"],
            )

        tiers = tuple(
            TierRule(
                code=tier["code"],
                name=tier["name"],
                name_zh=tier.get("name_zh", ""),
                rank=int(tier["rank"]),
                combine=tier["combine"],
                at_least=tier.get("at_least"),
                criteria=tuple(criterion(item) for item in tier["criteria"]),
                cost_pct=Decimal(tier.get("cost_pct", "0")),
            )
            for tier in data.get("tiers", [])
        )
        basis = data.get("cost_basis")
        return cls(
            tiers=tiers,
            grace_days=int(data.get("grace_days", 0)),
            hysteresis=Decimal(data.get("hysteresis_pct", "0")) / HUNDRED,
            cost_basis=criterion({**basis, "comparator": "gte", "threshold": "0"})
            if basis
            else None,
        )


def check_window(window: str) -> str:
    """``window`` if it is an engine period kind, else a KpiInputError on ``window``."""
    try:
        parse_period_kind(window)
    except KpiInputError as error:
        raise KpiInputError("window", error.message) from error
    return window


# -- the tier state machine ---------------------------------------------------------
@dataclass(frozen=True)
class State:
    """What an organisation holds before an evaluation."""

    tier: str = ""
    grace_target: str = ""
    grace_started: dt.date | None = None
    grace_until: dt.date | None = None

    @property
    def in_grace(self) -> bool:
        return self.grace_until is not None


@dataclass(frozen=True)
class Decision:
    outcome: str  # an accord.programs.models.Outcome value
    state: State  # what the organisation holds after it
    qualified: str


def decide(
    rules: ProgramRules, state: State, qualified: str, values: Mapping[str, Any], as_of: dt.date
) -> Decision:
    """Apply one evaluation at ``as_of`` to ``state``.

    Promotion applies at once. Keeping a tier needs its criteria at the thresholds relaxed
    by the hysteresis band, so a metric near a boundary cannot flap. Failing them opens a
    grace period ``[as_of, as_of + grace_days)``; the demotion applies at the first
    evaluation on or after its end, and is withdrawn if the tier is kept meanwhile.
    """
    current = rules.tier(state.tier)
    if current is None:  # no tier yet, or one this version no longer has
        outcome = "entered" if qualified else "unchanged"
        if state.tier and not qualified:
            outcome = "demoted"
        return Decision(outcome, State(tier=qualified), qualified)
    qualified_rank = rules.rank(qualified)
    if qualified_rank > current.rank:
        return Decision("promoted", State(tier=qualified), qualified)
    if qualified_rank == current.rank or current.passes(values, rules.hysteresis):
        if state.in_grace:
            outcome = "grace_withdrawn"
        else:
            outcome = "unchanged" if qualified_rank == current.rank else "held"
        return Decision(outcome, State(tier=current.code), qualified)
    if rules.grace_days <= 0 or (state.grace_until is not None and as_of >= state.grace_until):
        return Decision("demoted", State(tier=qualified), qualified)
    if state.in_grace:
        return Decision("grace_continues", replace(state, grace_target=qualified), qualified)
    until = as_of + dt.timedelta(days=rules.grace_days)
    return Decision(
        "grace_opened",
        State(tier=current.code, grace_target=qualified, grace_started=as_of, grace_until=until),
        qualified,
    )


# -- explanations ---------------------------------------------------------------------
def number(value: Decimal) -> str:
    """A plain number with thousands separators and no trailing zeros: 73,400 or 4.2."""
    value = value.normalize() if value == value.to_integral() else value
    text = f"{value:,f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def window_text(window: str) -> str:
    if window.startswith("trailing_"):
        return _("in the trailing %(months)s months") % {"months": window.removeprefix("trailing_")}
    return {
        "month": _("in the current month"),
        "quarter": _("in the current quarter"),
        "year": _("in the current year"),
    }.get(window, window)


@dataclass
class CriterionCheck:
    criterion: CriterionRule
    value: Decimal | None
    passed: bool
    kept: bool  # passes the relaxed (keep) threshold
    keep_threshold: Decimal

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.criterion.as_dict(),
            "keep_threshold": str(self.keep_threshold),
            "value": None if self.value is None else str(self.value),
            "passed": self.passed,
            "kept": self.kept,
        }


@dataclass
class TierCheck:
    tier: TierRule
    passed: bool
    checks: list[CriterionCheck] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "tier": self.tier.code,
            "name": self.tier.name,
            "rank": self.tier.rank,
            "combine": self.tier.combine,
            "required": self.tier.required,
            "passed": self.passed,
            "criteria": [check.as_dict() for check in self.checks],
        }


def explain(rules: ProgramRules, values: Mapping[str, Any]) -> list[TierCheck]:
    """Every tier's criteria against ``values``: value, threshold, kept threshold, pass/fail."""
    decimals = {key: None if value is None else Decimal(value) for key, value in values.items()}
    result = []
    for tier in rules.tiers:
        checks = []
        for criterion in tier.criteria:
            value = decimals.get(criterion.key)
            keep = criterion.keep_threshold(rules.hysteresis)
            checks.append(
                CriterionCheck(
                    criterion,
                    value,
                    criterion.passes(value),
                    criterion.passes(value, keep),
                    keep,
                )
            )
        result.append(TierCheck(tier, tier.passes(decimals), checks))
    return result


def gap(rules: ProgramRules, qualified: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """What the next tier above ``qualified`` still needs: each failing criterion with its
    shortfall, and how many of them must turn (for any / at-least-N). {} at the top."""
    next_rank = rules.rank(qualified) + 1
    tier = next((t for t in rules.tiers if t.rank == next_rank), None)
    if tier is None:
        return {}
    decimals = {key: None if value is None else Decimal(value) for key, value in values.items()}
    items, passed = [], 0
    for criterion in tier.criteria:
        value = decimals.get(criterion.key)
        if criterion.passes(value):
            passed += 1
            continue
        shortfall = None if value is None else abs(criterion.threshold - value)
        items.append(
            {
                "metric": criterion.metric,
                "window": criterion.window,
                "comparator": criterion.comparator,
                "threshold": str(criterion.threshold),
                "value": None if value is None else str(value),
                "shortfall": None if shortfall is None else str(shortfall),
                "text": gap_text(criterion, value),
            }
        )
    return {
        "tier": tier.code,
        "name": tier.name,
        "missing": max(tier.required - passed, 0),
        "items": items,
    }


def gap_text(criterion: CriterionRule, value: Decimal | None) -> str:
    """ "needs 73,400 more revenue in the trailing 12 months", in the active language."""
    where = window_text(criterion.window)
    if value is None:
        return _("needs %(metric)s %(comparator)s %(threshold)s %(window)s (no data yet)") % {
            "metric": criterion.metric,
            "comparator": COMPARATORS[criterion.comparator],
            "threshold": number(criterion.threshold),
            "window": where,
        }
    shortfall = abs(criterion.threshold - value)
    strict = criterion.comparator in {"gt", "lt"}
    if criterion.comparator in HIGHER:
        text = (
            _("needs more than %(amount)s more %(metric)s %(window)s")
            if strict
            else _("needs %(amount)s more %(metric)s %(window)s")
        )
    else:
        text = (
            _("needs %(metric)s more than %(amount)s lower %(window)s")
            if strict
            else _("needs %(metric)s %(amount)s lower %(window)s")
        )
    return text % {"amount": number(shortfall), "metric": criterion.metric, "window": where}


# -- scorecards -----------------------------------------------------------------------
def check_points(rule: str, points: Sequence[Sequence[Any]]) -> list[tuple[Decimal, Decimal]]:
    """Validated points of a score rule, as Decimals; ValueError with a clear message."""
    if rule not in {"linear", "banded"}:
        raise ValueError(_("The rule must be linear or banded."))
    if not isinstance(points, (list, tuple)) or not points:
        raise ValueError(_("Give at least one point."))
    if rule == "linear" and len(points) < 2:
        raise ValueError(_("A piecewise-linear rule needs at least two points."))
    parsed: list[tuple[Decimal, Decimal]] = []
    for point in points:
        if not isinstance(point, (list, tuple)) or len(point) != 2:
            raise ValueError(_("Each point is a pair [value, score]."))
        try:
            value, score = Decimal(str(point[0])), Decimal(str(point[1]))
        except ArithmeticError as error:
            raise ValueError(_("Each point is a pair of numbers.")) from error
        if not value.is_finite() or not score.is_finite():
            raise ValueError(_("Each point is a pair of numbers."))
        if value.copy_abs() > POINT_LIMIT:  # as the API takes them; pages print them
            raise ValueError(_("Point values lie between -10^17 and 10^17."))
        if not ZERO <= score <= HUNDRED:
            raise ValueError(_("Scores lie between 0 and 100."))
        if parsed and value <= parsed[-1][0]:
            raise ValueError(_("Point values must increase strictly."))
        parsed.append((value, score))
    return parsed


def score_value(rule: str, points: Sequence[tuple[Decimal, Decimal]], value: Decimal) -> Decimal:
    """The 0-100 score of ``value``: linear interpolates between points and is flat outside
    them; banded gives the score of the last bound reached (0 below the first)."""
    if rule == "banded":
        score = ZERO
        for bound, band_score in points:
            if value >= bound:
                score = band_score
        return score
    if value <= points[0][0]:
        return points[0][1]
    for (x0, y0), (x1, y1) in pairwise(points):
        if value <= x1:
            return y0 + (y1 - y0) * (value - x0) / (x1 - x0)
    return points[-1][1]


def check_bands(bands: Iterable[tuple[str, Decimal, Decimal]]) -> list[str]:
    """Problems with standings [(code, from, to)]: they must tile [0, 100] without gaps or
    overlaps (each band is [from, to), the top one also holds 100). [] when they do."""
    ordered = sorted(bands, key=lambda band: (band[1], band[2]))
    if not ordered:
        return [_("Define at least one standing.")]
    problems = []
    expected = ZERO
    for code, low, high in ordered:
        if low >= high:
            problems.append(_("Standing %(code)s: its range is empty.") % {"code": code})
        if low > expected:
            problems.append(
                _("No standing covers scores from %(from)s to %(to)s.")
                % {"from": number(expected), "to": number(low)}
            )
        elif low < expected:
            problems.append(_("Standing %(code)s overlaps the one below it.") % {"code": code})
        expected = max(expected, high)
    if ordered[0][1] < ZERO or expected > HUNDRED:
        problems.append(_("Standings must lie within 0 to 100."))
    elif expected < HUNDRED:
        problems.append(
            _("No standing covers scores from %(from)s to 100.") % {"from": number(expected)}
        )
    return problems


def band_for(bands: Sequence[tuple[str, Decimal, Decimal]], score: Decimal) -> str:
    """The code of the band holding ``score``: [from, to), with exactly 100 in the top band."""
    top = max(bands, key=lambda band: band[2])
    if score >= top[2]:
        return top[0]
    for code, low, high in bands:
        if low <= score < high:
            return code
    return ""


def weighted_score(parts: Sequence[tuple[int, Decimal | None]]) -> tuple[Decimal | None, int]:
    """Weighted mean of the criteria that have a score (weights renormalised over them), and
    the weight that had data. (None, 0) when no criterion has data: no activity."""
    total = sum(weight for weight, score in parts if score is not None)
    if not total:
        return None, 0
    value = sum(Decimal(weight) * score for weight, score in parts if score is not None) / total
    return value, total


def decayed(scores: Sequence[Decimal | None], decay: Decimal) -> Decimal | None:
    """Overall score over periods, newest last: period ``age`` back weighs decay ** age;
    periods with no activity (None) are left out, not counted as zero."""
    weight_sum = ZERO
    total = ZERO
    for age, score in enumerate(reversed(scores)):
        if score is None:
            continue
        weight = decay**age if age else Decimal(1)
        weight_sum += weight
        total += weight * score
    if not weight_sum:
        return None
    return total / weight_sum
