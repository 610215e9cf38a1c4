"""Scorecards: templates (weighted criteria, standings with consequences) and their scoring —
per period for every organisation in scope in one KPI engine pass, a decayed overall score,
and the standing that the rest of the platform enforces (``consequence``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from accord.core.errors import Conflict, ValidationError
from accord.core.gates import ACTIONS, Verdict
from accord.core.models import AuditEntry
from accord.core.services import (
    create_audited,
    ensure_model_permitted,
    ensure_permitted,
    record,
    validate,
)
from accord.metrics.engine import KpiInputError, compute, periods_for
from accord.metrics.models import MetricDefinition
from accord.partners.models import Organisation
from accord.programs.evaluation import in_scope
from accord.programs.models import (
    Consequence,
    Score,
    ScorecardCriterion,
    ScorecardTemplate,
    Standing,
)
from accord.programs.rules import (
    HUNDRED,
    band_for,
    check_bands,
    check_points,
    decayed,
    score_value,
    weighted_score,
)

CENT = Decimal("0.01")
NUL = "\x00"  # never stored: PostgreSQL refuses it in text and JSON
TEMPLATE_FIELDS = frozenset(
    {
        "code",
        "name",
        "name_zh",
        "description",
        "period",
        "decay",
        "history_periods",
        "is_active",
        "kinds",
        "regions",
        "tags",
    }
)


def clean_scorecard(content: Mapping[str, Any]) -> tuple[list[dict], list[dict]]:
    """Validated criteria and standings; ValidationError keyed like ``criteria.1.points``."""
    errors: dict[str, list[str]] = {}
    metrics = set(MetricDefinition.objects.values_list("code", flat=True))
    criteria_raw = content.get("criteria") or []
    standings_raw = content.get("standings") or []
    if not isinstance(criteria_raw, list) or not criteria_raw:
        errors["criteria"] = [_("Give at least one criterion.")]
        criteria_raw = []
    if not isinstance(standings_raw, list):
        errors["standings"] = [_("Give a list of standings.")]
        standings_raw = []
    criteria, seen = [], set()
    for index, item in enumerate(criteria_raw[:20]):
        at = f"criteria.{index}"
        if not isinstance(item, Mapping):
            errors[at] = [_("Give each criterion as an object.")]
            continue
        metric = str(item.get("metric") or "")
        if metric not in metrics:
            errors[f"{at}.metric"] = [_("Unknown metric '%(metric)s'.") % {"metric": metric[:60]}]
        elif metric in seen:
            errors[f"{at}.metric"] = [_("Score each metric once.")]
        seen.add(metric)
        weight = item.get("weight")
        if isinstance(weight, bool) or not isinstance(weight, int) or not 1 <= weight <= 100:
            try:
                weight = int(str(weight))
                if not 1 <= weight <= 100:
                    raise ValueError
            except (TypeError, ValueError):
                errors[f"{at}.weight"] = [_("A weight is a whole number from 1 to 100.")]
                weight = 0
        rule = item.get("rule") or "linear"
        try:
            points = check_points(rule, item.get("points") or [])
        except ValueError as error:
            errors[f"{at}.points"] = [str(error)]
            points = []
        criteria.append(
            {
                "position": index,
                "metric": metric,
                "weight": weight,
                "rule": rule,
                "points": [[str(x), str(y)] for x, y in points],
            }
        )
    total = sum(c["weight"] for c in criteria)
    if criteria and total != 100:
        errors.setdefault("criteria", []).append(
            _("The weights must sum to 100 (they sum to %(total)s).") % {"total": total}
        )
    standings, bands, codes = [], [], set()
    for index, item in enumerate(standings_raw[:20]):
        at = f"standings.{index}"
        if not isinstance(item, Mapping):
            errors[at] = [_("Give each standing as an object.")]
            continue
        code = str(item.get("code") or "").strip()
        if not code or len(code) > 40 or code in codes:
            errors[f"{at}.code"] = [_("Give each standing its own code (at most 40 characters).")]
        for key in ("code", "name", "name_zh"):
            if NUL in str(item.get(key) or ""):  # PostgreSQL refuses it in text
                errors[f"{at}.{key}"] = [_("Null characters are not allowed.")]
        codes.add(code)
        try:
            low = Decimal(str(item.get("min_score")))
            high = Decimal(str(item.get("max_score")))
            if not (low.is_finite() and high.is_finite()):
                raise ArithmeticError
            # The columns keep two places: more would be rounded when stored.
            if low != round(low, 2) or high != round(high, 2):
                raise ArithmeticError
        except ArithmeticError:
            errors[f"{at}.min_score"] = [_("Give the band as two numbers from 0 to 100.")]
            continue
        consequences = {}
        for action in ACTIONS:
            value = item.get(action) or Consequence.NONE
            if value not in Consequence.values:
                errors[f"{at}.{action}"] = [_("Choose none, warn or block.")]
            consequences[action] = value
        bands.append((code, low, high))
        standings.append(
            {
                "code": code,
                "name": str(item.get("name") or code)[:80],
                "name_zh": str(item.get("name_zh") or "")[:80],
                "min_score": low,
                "max_score": high,
                "review_meeting": bool(item.get("review_meeting")),
                **consequences,
            }
        )
    if not any(key.startswith("standings") for key in errors):
        problems = check_bands(bands)
        if problems:
            errors["standings"] = problems
    if errors:
        raise ValidationError(errors)
    return criteria, standings


@transaction.atomic(durable=True)
def save_scorecard(
    *,
    actor: Any,
    data: Mapping[str, Any],
    content: Mapping[str, Any],
    template: ScorecardTemplate | None = None,
) -> ScorecardTemplate:
    """Create a scorecard template or replace one's settings, criteria and standings."""
    if template is None:
        ensure_model_permitted(actor, "add", ScorecardTemplate)
    else:
        ensure_permitted(actor, "change", template)
    unknown = set(data) - TEMPLATE_FIELDS
    if unknown:
        raise ValidationError({name: [_("Unknown field.")] for name in sorted(unknown)})
    criteria, standings = clean_scorecard(content)
    if template is None:
        if ScorecardTemplate.objects.filter(code=data.get("code", "")).exists():
            raise Conflict(_("A scorecard with this code already exists."), "code")
        template = create_audited(actor=actor, obj=ScorecardTemplate(**data))
    else:
        template = ScorecardTemplate.objects.select_for_update().get(pk=template.pk)
        for name, value in data.items():
            if name != "code":
                setattr(template, name, value)
        validate(template)  # full_clean, and no NUL (which full_clean lets through)
        template.save()
    template.criteria.all().delete()
    template.standings.all().delete()
    ScorecardCriterion.objects.bulk_create(
        ScorecardCriterion(template=template, **item) for item in criteria
    )
    Standing.objects.bulk_create(Standing(template=template, **item) for item in standings)
    record(
        actor=actor,
        obj=template,
        action=AuditEntry.Action.UPDATE,
        changes={
            "criteria": [None, [{**c, "points": c["points"]} for c in criteria]],
            "standings": [
                None,
                [
                    {**s, "min_score": str(s["min_score"]), "max_score": str(s["max_score"])}
                    for s in standings
                ],
            ],
        },
    )
    return template


@dataclass
class Scored:
    organisation_id: int
    period_start: dt.date
    period_end: dt.date
    score: Decimal | None
    criteria: list[dict[str, Any]]


@transaction.atomic(durable=True)
def score_scorecard(*, actor: Any, template: ScorecardTemplate, as_of: dt.date) -> dict[str, Any]:
    """Score every organisation in scope for the template's last ``history_periods``
    periods up to ``as_of`` (one engine pass), store each period's score and the decayed
    overall with its standing, replacing earlier scores of the same periods."""
    ensure_permitted(actor, "score", template)
    criteria = list(template.criteria.all())
    bands = [(s.code, s.min_score, s.max_score) for s in template.standings.all()]
    if not criteria or not bands:
        raise ValidationError({"criteria": [_("The scorecard has no criteria or standings.")]})
    scope = in_scope(template)
    # Only complete periods are scored: a quarter half gone would read as half the revenue.
    current = periods_for(template.period, as_of)[-1]
    scored_to = as_of if current.complete else current.start - dt.timedelta(days=1)
    try:
        table = compute(
            [c.metric for c in criteria],
            period=template.period,
            as_of=scored_to,
            organisations=scope,
            periods=template.history_periods,
        )
    except KpiInputError as error:
        raise ValidationError({error.field: [error.message]}) from error
    rules = [(c, check_points(c.rule, c.points)) for c in criteria]
    ids = table.organisation_ids
    scores: list[Score] = []
    distribution: dict[str, int] = {}
    now = timezone.now()
    per_period = [
        [(c, points, table.column(c.metric, index)) for c, points in rules]
        for index in range(len(table.periods))
    ]
    for org in ids:
        history: list[Decimal | None] = []
        made: list[Score] = []
        for index, period in enumerate(table.periods):
            parts, explained, active = [], [], False
            for criterion, points, column in per_period[index]:
                active = active or org in column.values
                value = column.values.get(org, column.default)
                score = None if value is None else score_value(criterion.rule, points, value)
                parts.append((criterion.weight, score))
                explained.append(
                    {
                        "metric": criterion.metric,
                        "weight": criterion.weight,
                        "rule": criterion.rule,
                        "value": None if value is None else str(value),
                        "score": None if score is None else str(score.quantize(CENT)),
                    }
                )
            # A period is active when any criterion found facts for the organisation;
            # then a default (revenue 0) scores as it is, and a rate with no facts (None)
            # is left out with the weights renormalised over the rest.
            score, _weight = weighted_score(parts)
            no_activity = not active or score is None
            if no_activity:
                score = None
            history.append(score)
            made.append(
                Score(
                    template=template,
                    organisation_id=org,
                    period_start=period.start,
                    period_end=period.end,
                    as_of=as_of,
                    no_activity=no_activity,
                    score=None if score is None else score.quantize(CENT),
                    criteria=explained,
                    computed_at=now,
                )
            )
        overall = decayed(history, template.decay)
        latest = made[-1]
        if overall is not None:
            latest.overall = min(overall, HUNDRED).quantize(CENT)
            latest.standing = band_for(bands, latest.overall)
            distribution[latest.standing] = distribution.get(latest.standing, 0) + 1
        latest.overall_inputs = [
            {
                "period": period.label,
                "score": None if s is None else str(s.quantize(CENT)),
                "weight": format((template.decay ** (len(history) - 1 - i)).normalize(), "f"),
            }
            for i, (period, s) in enumerate(zip(table.periods, history, strict=True))
        ]
        scores.extend(made)
    starts = [period.start for period in table.periods]
    Score.objects.filter(template=template, period_start__in=starts).delete()
    Score.objects.bulk_create(scores, batch_size=2000)
    summary = {
        "as_of": as_of.isoformat(),
        "organisations": len(ids),
        "periods": [period.label for period in table.periods],
        "standings": distribution,
    }
    record(
        actor=actor,
        obj=template,
        action=AuditEntry.Action.UPDATE,
        changes={"scored": [None, summary]},
    )
    return summary


def current_standings(
    organisation: Organisation,
) -> list[tuple[ScorecardTemplate, Score, Standing]]:
    """The organisation's standing in each active scorecard: the one its newest scored
    period carries. A newest period without one (no activity in any period scored) means
    no standing now; an older standing does not come back."""
    found = []
    for template in ScorecardTemplate.objects.filter(is_active=True):
        latest = (
            Score.objects.filter(template=template, organisation=organisation)
            .order_by("-period_start")
            .first()
        )
        if latest is None or not latest.standing:
            continue
        standing = template.standings.filter(code=latest.standing).first()
        if standing is not None:
            found.append((template, latest, standing))
    return found


def localised_name(obj: ScorecardTemplate | Standing) -> str:
    """The Chinese name when the active language is Chinese and there is one, else the name."""
    if (get_language() or "").lower().startswith("zh") and obj.name_zh:
        return obj.name_zh
    return obj.name


def consequence(organisation: Organisation, action: str) -> Verdict:
    """The strictest consequence for ``action`` (deal_registration, mdf_requests, orders)
    across the organisation's current standings. Deal registration, MDF and order services
    call this and refuse on ``block``, show a warning on ``warn``."""
    if action not in ACTIONS:
        raise ValueError(action)
    order = {Consequence.NONE: 0, Consequence.WARN: 1, Consequence.BLOCK: 2}
    level, reasons, review = Consequence.NONE, [], False
    for template, score, standing in current_standings(organisation):
        review = review or standing.review_meeting
        value = getattr(standing, action)
        if value == Consequence.NONE:
            continue
        reasons.append(
            _("%(scorecard)s: standing %(standing)s (overall score %(score)s, %(period)s)")
            % {
                "scorecard": localised_name(template),
                "standing": localised_name(standing),
                "score": score.overall,
                "period": score.period_start.isoformat(),
            }
        )
        if order[value] > order[level]:
            level = value
    return Verdict(level, tuple(reasons), review)
