"""Early warning: organisations likely to drop a tier at the next evaluation, and why —
a grace period ending before it, certifications expiring before it, or a criterion whose
trend over the last three periods projects below the threshold needed to keep the tier."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from accord.core.models import Notification
from accord.core.services import notify_many
from accord.metrics.engine import GRAIN_MONTHS, compute
from accord.metrics.models import MetricDefinition
from accord.partners.models import Organisation
from accord.programs.bulk import insert_rows
from accord.programs.evaluation import Evaluation, in_scope, next_evaluation
from accord.programs.models import EvaluationRun, Membership, Program, Warning
from accord.programs.rules import CriterionRule, Decision, State, TierRule, number, window_text

TREND_PERIODS = 3


def _months_between(start: dt.date, end: dt.date) -> int:
    return (end.year - start.year) * 12 + end.month - start.month


def _trend_steps(window: str, as_of: dt.date, upcoming: dt.date) -> Decimal:
    """How many of the window's period steps lie between as_of and the next evaluation:
    trailing windows step a month; calendar windows step by their length."""
    months = max(_months_between(as_of, upcoming), 1)
    return Decimal(months) / Decimal(GRAIN_MONTHS.get(window, 1))


def project(history: list[Decimal | None], steps: Decimal) -> Decimal | None:
    """Linear projection ``steps`` ahead from values one step apart (oldest first)."""
    known = [value for value in history if value is not None]
    if len(known) < 2 or history[-1] is None:
        return None
    slope = (history[-1] - known[0]) / Decimal(len(history) - history.index(known[0]) - 1)
    return history[-1] + slope * steps


def early_warnings(
    program: Program,
    run: EvaluationRun,
    evaluation: Evaluation,
    decisions: Mapping[int, Decision],
    known: Mapping[int, tuple[Membership, State]],
) -> list[Warning]:
    """Store the run's warnings and notify each organisation's account manager (once per
    organisation, kind and next evaluation date)."""
    rules = evaluation.rules
    as_of = run.as_of
    upcoming = next_evaluation(program, as_of)
    holders: dict[str, list[int]] = {}
    for org, decision in decisions.items():
        if decision.state.tier:
            holders.setdefault(decision.state.tier, []).append(org)
    warnings: list[Warning] = []

    # 1. Grace periods that end by the next evaluation.
    for org, decision in decisions.items():
        state = decision.state
        if state.grace_until is not None and state.grace_until <= upcoming:
            warnings.append(
                Warning(
                    run=run,
                    organisation_id=org,
                    kind=Warning.Kind.GRACE,
                    tier_code=state.tier,
                    next_evaluation=upcoming,
                    message="",
                    details={
                        "grace_until": state.grace_until.isoformat(),
                        "target": state.grace_target,
                    },
                )
            )
    in_grace = {w.organisation_id for w in warnings}

    # 2. Projections of each held tier's criteria to the next evaluation.
    held = [tier for tier in rules.tiers if tier.criteria and holders.get(tier.code)]
    criteria = {c.key: c for tier in held for c in tier.criteria}
    if criteria:
        calculations = dict(
            MetricDefinition.objects.filter(
                code__in={c.metric for c in criteria.values()}, is_current=True
            ).values_list("code", "calculation")
        )
        scope = in_scope(program)
        projected: dict[str, dict[int, Decimal | None]] = {}
        histories: dict[str, dict[int, list[Decimal | None]]] = {}
        by_window: dict[tuple[str, bool], list[CriterionRule]] = {}
        for criterion in criteria.values():
            certificate = calculations.get(criterion.metric) == "certified_staff"
            by_window.setdefault((criterion.window, certificate), []).append(criterion)
        for (window, certificate), items in by_window.items():
            specs = list(dict.fromkeys(c.spec for c in items))
            if certificate:
                # The staff certified on the day of the next evaluation, which reads them
                # as of that day: a certification whose expires_on (its first invalid day)
                # is that very day no longer counts there, so it must count as expired here.
                table = compute(specs, period=window, as_of=upcoming, organisations=scope)
                for definition in table.metrics:
                    column = table.column(definition.code)
                    projected[f"{definition.code}@{window}"] = {
                        org: column.values.get(org, column.default)
                        for org in table.organisation_ids
                    }
                continue
            table = compute(
                specs, period=window, as_of=as_of, organisations=scope, periods=TREND_PERIODS
            )
            steps = _trend_steps(window, as_of, upcoming)
            for definition in table.metrics:
                key = f"{definition.code}@{window}"
                columns = [table.column(definition.code, i) for i in range(TREND_PERIODS)]
                history = {
                    org: [c.values.get(org, c.default) for c in columns]
                    for org in table.organisation_ids
                }
                histories[key] = history
                projected[key] = {org: project(values, steps) for org, values in history.items()}
        for tier in held:
            for org in holders[tier.code]:
                if org in in_grace:
                    continue
                warning = _projection_warning(
                    tier, rules.hysteresis, evaluation, org, projected, histories, upcoming
                )
                if warning is not None:
                    warning.run = run
                    warnings.append(warning)
    metrics = metric_names()  # once: one query per warning grew with the network
    for warning in warnings:
        warning.run = run
        warning.message = describe(warning, metrics)
    # One statement whatever the number of warnings (bulk_create: one per 142 on SQLite).
    insert_rows(
        Warning,
        ("organisation", "kind", "tier_code", "next_evaluation", "message", "details"),
        [
            (w.organisation_id, w.kind, w.tier_code, w.next_evaluation, w.message, w.details)
            for w in warnings
        ],
        constants={"run": run.pk},
    )
    _notify(program, run, warnings)
    return warnings


def _projection_warning(
    tier: TierRule,
    hysteresis: Decimal,
    evaluation: Evaluation,
    org: int,
    projected: Mapping[str, Mapping[int, Decimal | None]],
    histories: Mapping[str, Mapping[int, list[Decimal | None]]],
    upcoming: dt.date,
) -> Warning | None:
    current = evaluation.values_of(org)
    future = dict(current)
    for criterion in tier.criteria:
        value = projected.get(criterion.key, {}).get(org)
        if value is not None:
            future[criterion.key] = value
    if not tier.passes(current, hysteresis) or tier.passes(future, hysteresis):
        return None
    failing = []
    certificates = False
    for criterion in tier.criteria:
        keep = criterion.keep_threshold(hysteresis)
        now, then = current.get(criterion.key), future.get(criterion.key)
        if criterion.passes(now, keep) and not criterion.passes(then, keep):
            history = histories.get(criterion.key, {}).get(org)
            certificates = certificates or history is None
            failing.append(
                {
                    "metric": criterion.metric,
                    "window": criterion.window,
                    "history": None
                    if history is None
                    else [None if v is None else str(v) for v in history],
                    "now": None if now is None else str(now),
                    "projected": None if then is None else str(then),
                    "keep_threshold": str(keep),
                }
            )
    if not failing:
        return None
    return Warning(
        organisation_id=org,
        kind=Warning.Kind.CERTIFICATION if certificates else Warning.Kind.TREND,
        tier_code=tier.code,
        next_evaluation=upcoming,
        message="",
        details={"criteria": failing},
    )


def _notify(program: Program, run: EvaluationRun, warnings: list[Warning]) -> None:
    if not warnings:
        return
    orgs = {w.organisation_id for w in warnings}
    seen = set(
        Warning.objects.filter(
            run__program=program,
            run__applied=True,
            organisation_id__in=orgs,
            next_evaluation__in={w.next_evaluation for w in warnings},
        )
        .exclude(run=run)
        .values_list("organisation_id", "kind", "next_evaluation")
    )
    managers = {
        org.pk: org
        for org in Organisation.objects.filter(
            pk__in=orgs, account_manager__isnull=False
        ).select_related("account_manager")
    }
    notes = []
    metrics = metric_names()
    for warning in warnings:
        org = managers.get(warning.organisation_id)
        if org is None or not org.account_manager.is_active:
            continue
        if (warning.organisation_id, warning.kind, warning.next_evaluation) in seen:
            continue
        manager = org.account_manager
        with translation.override(manager.language or settings.LANGUAGE_CODE):
            notes.append(
                Notification(
                    recipient=manager,
                    subject=_("%(organisation)s may drop a tier in %(program)s")
                    % {"organisation": org.name, "program": localised(program)},
                    body=describe(warning, metrics),
                    link=f"/programs/{program.code}/organisations/{org.pk}/",
                    organisation=org,
                )
            )
    # One statement for all of them: the SQL of an evaluation does not grow with the
    # number of organisations warned.
    notify_many(notes)


def localised(item: Any) -> str:
    """``name_zh`` in Chinese when there is one, else ``name`` (an object or a dict)."""
    get = (
        item.get
        if isinstance(item, Mapping)
        else lambda key, default="": getattr(item, key, default)
    )
    name, name_zh = get("name", "") or "", get("name_zh", "") or ""
    return name_zh if name_zh and translation.get_language().startswith("zh") else name


def metric_names() -> dict[str, Any]:
    return {
        metric.code: metric
        for metric in MetricDefinition.objects.filter(is_current=True).only(
            "code", "name", "name_zh"
        )
    }


def describe(warning: Warning, metrics: Mapping[str, Any] | None = None) -> str:
    """The warning as a sentence in the active language, from its kind and details and the
    run's rules (tier names): the stored ``message`` is only the language of the run."""
    tiers = {tier["code"]: tier for tier in warning.run.inputs.get("rules", {}).get("tiers", [])}

    def tier_name(code: str) -> str:
        tier = tiers.get(code)
        return (localised(tier) if tier else code) or code

    details = warning.details or {}
    if warning.kind == Warning.Kind.GRACE:
        target = details.get("target") or ""
        return _(
            "The grace period for %(tier)s ends on %(until)s; without recovery the next "
            "evaluation moves the organisation to %(target)s."
        ) % {
            "tier": tier_name(warning.tier_code),
            "until": details.get("grace_until", ""),
            "target": tier_name(target) if target else _("no tier"),
        }
    metrics = metric_names() if metrics is None else metrics
    parts = []
    for item in details.get("criteria", []):
        metric = metrics.get(item["metric"])
        values = {
            "metric": localised(metric) if metric else item["metric"],
            "window": window_text(item["window"]),
            "now": number(Decimal(item["now"])) if item.get("now") else "-",
            "then": number(Decimal(item["projected"]).quantize(Decimal("0.01")))
            if item.get("projected")
            else "-",
            "keep": number(Decimal(item["keep_threshold"])),
        }
        if item.get("history") is None:
            parts.append(
                _(
                    "%(metric)s falls from %(now)s to %(then)s as certifications expire "
                    "(%(keep)s needed)"
                )
                % values
            )
        else:
            parts.append(
                _(
                    "%(metric)s %(window)s is trending from %(now)s towards %(then)s "
                    "(%(keep)s needed)"
                )
                % values
            )
    return _("May drop out of %(tier)s at the evaluation of %(date)s: %(reasons)s.") % {
        "tier": tier_name(warning.tier_code),
        "date": warning.next_evaluation.isoformat(),
        "reasons": "; ".join(parts),
    }
