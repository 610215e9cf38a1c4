"""Reads of accord.programs, all through ``restrict``: programs, runs and their explained
results, an organisation's tiers and history, and the what-if comparison (which writes
nothing)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from accord.core.errors import Http404, ValidationError
from accord.metrics.engine import KpiInputError
from accord.partners.models import Organisation
from accord.programs.evaluation import evaluate, in_scope, load_rules
from accord.programs.models import (
    EvaluationResult,
    EvaluationRun,
    Membership,
    Program,
    ProgramVersion,
    Score,
    ScorecardTemplate,
    Standing,
    Tier,
    TierChange,
    Warning,
)
from accord.programs.rules import ProgramRules, State, explain, gap

MAX_WHAT_IF_DATES = 12
MAX_MOVERS = 500


def programs(user: Any) -> QuerySet:
    return Program.objects.restrict(user, "view")


def get_program(user: Any, code: str) -> Program:
    program = programs(user).filter(code=code).first()
    if program is None:
        raise Http404
    return program


def versions(user: Any, program: Program) -> QuerySet:
    return ProgramVersion.objects.restrict(user, "view").filter(program=program)


def live_version(program: Program) -> ProgramVersion | None:
    return program.versions.filter(status=ProgramVersion.Status.PUBLISHED).first()


def draft_version(user: Any, program: Program) -> ProgramVersion | None:
    return versions(user, program).filter(status=ProgramVersion.Status.DRAFT).first()


def runs(user: Any, program: Program | None = None) -> QuerySet:
    queryset = EvaluationRun.objects.restrict(user, "view").select_related("program", "version")
    return queryset if program is None else queryset.filter(program=program)


def latest_applied_run(program: Program) -> EvaluationRun | None:
    return program.runs.filter(applied=True).order_by("-as_of", "-pk").first()


def results(user: Any, run: EvaluationRun) -> QuerySet:
    return (
        EvaluationResult.objects.restrict(user, "view")
        .filter(run=run)
        .select_related("organisation")
        .order_by("organisation__name", "organisation_id")
    )


def run_rules(run: EvaluationRun) -> ProgramRules:
    return ProgramRules.from_dict(run.inputs.get("rules", {}))


def explain_result(result: EvaluationResult, rules: ProgramRules | None = None) -> dict[str, Any]:
    """Why a result is what it is: every tier's criteria with value, threshold, the kept
    threshold and pass/fail; the gap to the next tier; the outcome and its dates."""
    rules = rules or run_rules(result.run)
    return {
        "organisation": result.organisation_id,
        "previous_tier": result.previous_tier,
        "qualified_tier": result.qualified_tier,
        "resulting_tier": result.resulting_tier,
        "effective_tier": result.effective_tier,
        "outcome": result.outcome,
        "grace_until": result.grace_until.isoformat() if result.grace_until else None,
        "hysteresis_pct": str(rules.hysteresis * 100),
        "tiers": [check.as_dict() for check in explain(rules, result.values)],
        "gap": gap(rules, result.qualified_tier, result.values),
    }


def tier_names(rules: ProgramRules) -> dict[str, str]:
    return {tier.code: tier.name for tier in rules.tiers}


def memberships(user: Any, organisation: Organisation | None = None) -> QuerySet:
    queryset = Membership.objects.restrict(user, "view").select_related("program", "organisation")
    return queryset if organisation is None else queryset.filter(organisation=organisation)


def organisation_result(user: Any, program: Program, organisation: Organisation) -> Any:
    """The organisation's result in the latest applied run (None if never evaluated)."""
    run = latest_applied_run(program)
    if run is None:
        return None
    return results(user, run).filter(organisation=organisation).first()


def timeline(user: Any, program: Program, organisation: Organisation) -> QuerySet:
    """The organisation's results in the program's applied runs, oldest first (its tier
    over time)."""
    return (
        EvaluationResult.objects.restrict(user, "view")
        .filter(run__program=program, run__applied=True, organisation=organisation)
        .select_related("run")
        .order_by("run__as_of", "run_id")
    )


def history(user: Any, program: Program, organisation: Organisation) -> QuerySet:
    return (
        TierChange.objects.restrict(user, "view")
        .filter(program=program, organisation=organisation)
        .select_related("created_by")
    )


def run_changes(user: Any, run: EvaluationRun) -> QuerySet:
    """The tier changes ``run`` made to organisations ``user`` sees."""
    return TierChange.objects.restrict(user, "view").filter(run=run)


def warnings(user: Any, run: EvaluationRun) -> QuerySet:
    return (
        Warning.objects.restrict(user, "view")
        .filter(run=run)
        .select_related("run", "organisation", "organisation__account_manager")
        .order_by("organisation__name", "kind")
    )


def visible_organisations(user: Any) -> QuerySet:
    return Organisation.objects.restrict(user, "view")


def parse_dates(values: Iterable[Any]) -> list[dt.date]:
    """Distinct as_of dates, sorted; ValidationError on a bad or missing one."""
    dates = set()
    for value in values:
        if isinstance(value, dt.date):
            dates.add(value)
            continue
        for part in str(value).replace(";", ",").split(","):
            if part.strip():
                try:
                    dates.add(dt.date.fromisoformat(part.strip()))
                except ValueError as error:
                    raise ValidationError(
                        {
                            "dates": [
                                _("'%(value)s' is not a date (YYYY-MM-DD).") % {"value": part[:20]}
                            ]
                        }
                    ) from error
    if not dates:
        raise ValidationError({"dates": [_("Give at least one as_of date.")]})
    if len(dates) > MAX_WHAT_IF_DATES:
        raise ValidationError(
            {"dates": [_("At most %(max)s dates at a time.") % {"max": MAX_WHAT_IF_DATES}]}
        )
    return sorted(dates)


def _simulate(rules: ProgramRules, dates: list[dt.date], scope: QuerySet) -> list[dict[str, Any]]:
    """The rules run over ``dates`` in order from an empty start, grace and hysteresis
    included: each date's tier per organisation, distribution and benefit cost."""
    states: dict[int, State] = {}
    out = []
    for as_of in dates:
        evaluation = evaluate(rules, as_of=as_of, organisations=scope)
        decisions = evaluation.decide(states)
        states = {org: decision.state for org, decision in decisions.items()}
        tiers = {org: state.tier for org, state in states.items()}
        distribution: dict[str, int] = {}
        for code in tiers.values():
            distribution[code] = distribution.get(code, 0) + 1
        out.append(
            {
                "as_of": as_of.isoformat(),
                "tiers": tiers,
                "distribution": distribution,
                "cost": str(evaluation.cost(tiers)),
            }
        )
    return out


def what_if(
    user: Any, program: Program, *, dates: Iterable[Any], version: ProgramVersion | None = None
) -> dict[str, Any]:
    """The draft (or ``version``) against the live version over ``dates``: how many land in
    each tier, who moves, and the benefit cost under each. Nothing is stored."""
    as_of_dates = parse_dates(dates)
    live = live_version(program)
    candidate = version or program.versions.filter(status=ProgramVersion.Status.DRAFT).first()
    if candidate is None:
        raise ValidationError({"version": [_("There is no draft version to compare.")]})
    scope = in_scope(program, visible_organisations(user))
    names = dict(scope.values_list("pk", "name"))
    try:
        candidate_rules = load_rules(candidate)
        proposed = _simulate(candidate_rules, as_of_dates, scope)
        live_rules = load_rules(live) if live else ProgramRules(tiers=())
        current = (
            _simulate(live_rules, as_of_dates, scope)
            if live
            else [
                {"as_of": d.isoformat(), "tiers": {}, "distribution": {}, "cost": "0.00"}
                for d in as_of_dates
            ]
        )
    except KpiInputError as error:
        raise ValidationError({error.field: [error.message]}) from error
    ranks = {t.code: t.rank for t in candidate_rules.tiers}
    live_ranks = {t.code: t.rank for t in live_rules.tiers}
    comparison = []
    for now, then in zip(current, proposed, strict=True):
        movers = []
        up = down = 0
        for org in names:
            before, after = now["tiers"].get(org, ""), then["tiers"].get(org, "")
            if before == after:
                continue
            moved_up = ranks.get(after, -1) > live_ranks.get(before, -1)
            up += moved_up
            down += not moved_up
            movers.append(
                {
                    "organisation": org,
                    "name": names[org],
                    "live": before,
                    "draft": after,
                    "direction": "up" if moved_up else "down",
                }
            )
        movers.sort(key=lambda item: (item["name"], item["organisation"]))
        comparison.append(
            {
                "as_of": now["as_of"],
                "live": {"distribution": now["distribution"], "cost": now["cost"]},
                "draft": {"distribution": then["distribution"], "cost": then["cost"]},
                "moved": len(movers),
                "up": up,
                "down": down,
                "movers": movers[:MAX_MOVERS],
            }
        )
    tiers = [{"code": t.code, "name": t.name, "name_zh": t.name_zh} for t in live_rules.tiers]
    for tier in candidate_rules.tiers:
        if tier.code not in {t["code"] for t in tiers}:
            tiers.append({"code": tier.code, "name": tier.name, "name_zh": tier.name_zh})
    return {
        "program": program.code,
        "live_version": live.number if live else None,
        "draft_version": candidate.number,
        "organisations": len(names),
        "tiers": tiers,
        "dates": comparison,
    }


# -- scorecards -----------------------------------------------------------------------
def scorecards(user: Any) -> QuerySet:
    return ScorecardTemplate.objects.restrict(user, "view")


def get_scorecard(user: Any, code: str) -> ScorecardTemplate:
    template = scorecards(user).filter(code=code).first()
    if template is None:
        raise Http404
    return template


def scores(user: Any, template: ScorecardTemplate) -> QuerySet:
    return (
        Score.objects.restrict(user, "view")
        .filter(template=template)
        .select_related("organisation")
    )


def latest_scores(user: Any, template: ScorecardTemplate) -> QuerySet:
    """Each organisation's newest period with an overall score."""
    newest = scores(user, template).exclude(overall=None).order_by("-period_start")
    first = newest.values_list("period_start", flat=True).first()
    if first is None:
        return newest.none()
    return newest.filter(period_start=first).order_by("organisation__name", "organisation_id")


def organisation_tiers_context(user: Any, organisation: Organisation) -> dict[str, Any]:
    """Template context of the organisation page's "Tiers & scores" tab: the organisation's
    program memberships (with the live tier's names) and, for each active scorecard, its
    latest overall score and standing; all through ``restrict``, in five queries."""
    held = list(memberships(user, organisation).order_by("program__code"))
    tiers = {
        (tier.version.program_id, tier.code): tier
        for tier in Tier.objects.restrict(user, "view")
        .filter(
            version__program__in=[m.program_id for m in held],
            version__status=ProgramVersion.Status.PUBLISHED,
        )
        .select_related("version")
    }
    newest: dict[int, Score] = {}
    for score in (
        Score.objects.restrict(user, "view")
        .filter(organisation=organisation, template__is_active=True)
        .select_related("template")
        .order_by("template__code", "-period_start")
    ):
        newest.setdefault(score.template_id, score)
    # The newest period's standing, as the consequences read it: none when that period has
    # no overall score (no activity in the newest scoring), not an older scoring's.
    latest = {pk: score for pk, score in newest.items() if score.overall is not None}
    standings = {
        (standing.template_id, standing.code): standing
        for standing in Standing.objects.restrict(user, "view").filter(template__in=list(latest))
    }
    return {
        "tier_memberships": [
            {
                "membership": membership,
                "tier": tiers.get((membership.program_id, membership.effective_tier())),
                "evaluated_tier": tiers.get((membership.program_id, membership.tier_code)),
                "grace_tier": tiers.get((membership.program_id, membership.grace_target)),
            }
            for membership in held
        ],
        "tier_scores": [
            {
                "template": score.template,
                "score": score,
                "standing": standings.get((score.template_id, score.standing)),
            }
            for score in latest.values()
        ],
    }
