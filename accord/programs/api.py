"""REST endpoints of accord.programs (mounted under /api/v1/): programs and their versions,
evaluations with explained results, tiers and overrides, what-if, scorecards and standings.

Thin: reads go through ``selectors`` (which call ``restrict``), writes through ``services``
and ``scorecards``. Codes and ids in the path that the caller cannot see answer 404;
an organisation named in a body that the caller cannot see answers 422, as an unknown
one does. Rule errors answer 422 keyed by their place (``tiers.1.criteria.0.threshold``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q, QuerySet
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Path, Query, Router

from accord.core.models import SCOPE_ALL
from accord.core.schemas import ObjectId, PageInput, error_responses, field_error
from accord.core.services import ensure_permitted
from accord.partners.models import Organisation
from accord.programs import scorecards, selectors, services
from accord.programs import warnings as warning_texts
from accord.programs.models import (
    EvaluationResult,
    EvaluationRun,
    Membership,
    Program,
    ProgramVersion,
    Score,
    ScorecardTemplate,
    Tier,
)
from accord.programs.schemas import (
    Code,
    ContentIn,
    EndOverrideIn,
    EvaluationIn,
    ExplanationOut,
    HistoryFilter,
    MembershipOut,
    OrganisationTierOut,
    OverrideIn,
    ProgramIn,
    ProgramOut,
    ProgramPage,
    ProgramPatch,
    ResultFilter,
    ResultPage,
    RunOut,
    RunPage,
    ScorecardDetailOut,
    ScorecardFields,
    ScorecardIn,
    ScorecardPage,
    ScoreFilter,
    ScorePage,
    ScoreTrendFilter,
    ScoreTrendOut,
    ScoringIn,
    ScoringOut,
    StandingSummaryOut,
    TierChangePage,
    VersionDetailOut,
    VersionPage,
    WarningPage,
    WhatIfIn,
    WhatIfOut,
)

router = Router()  # mounted in accord.api; holds the two tagged routers below
program_router = Router(tags=["programs"])
scorecard_router = Router(tags=["scorecards"])

READ = error_responses(403, 404, 422)
WRITE = error_responses(400, 403, 404, 409, 422)
RUNS_VIEW = "programs.view_evaluationrun"
SCORES_VIEW = "programs.view_score"
# Version-content keys, which POST /programs reports under "content." like the schema does.
CONTENT_KEYS = services.VERSION_FIELDS | {"tiers", "content"}


# -- helpers --------------------------------------------------------------------------
def _require(user: Any, permission: str) -> None:
    """403 unless ``user`` holds ``permission`` at all (rows are then narrowed by scope)."""
    if not user.has_perm(permission):
        raise PermissionDenied


def _page(items: QuerySet | list, query: PageInput, build: Callable[[Any], Any]) -> dict:
    """``{"count", "items"}`` of one ``limit``/``offset`` page, each item built."""
    count = len(items) if isinstance(items, list) else items.count()
    rows = items[query.offset : query.offset + query.limit]
    return {"count": count, "items": [build(row) for row in rows]}


def _organisation(user: Any, pk: int) -> Organisation:
    organisation = selectors.visible_organisations(user).filter(pk=pk).first()
    if organisation is None:
        raise Http404
    return organisation


@contextmanager
def _content_fields() -> Iterator[None]:
    """Key the draft content's errors under ``content.`` (as the request body nests it)."""
    try:
        yield
    except ValidationError as error:
        if not hasattr(error, "error_dict"):
            raise
        renamed = ValidationError(
            {
                (
                    f"content.{name}"
                    if name.split(".", 1)[0] in CONTENT_KEYS and name != "content"
                    else name
                ): messages
                for name, messages in error.error_dict.items()
            }
        )
        renamed.__class__ = type(error)
        raise renamed from error


def _content(payload: ContentIn) -> dict[str, Any]:
    """The content as ``services.clean_content`` takes it: only the keys that were sent."""
    return payload.model_dump(exclude_unset=True)


def _program_out(user: Any, program: Program) -> dict[str, Any]:
    numbers = dict(
        selectors.versions(user, program)
        .filter(status__in=[ProgramVersion.Status.PUBLISHED, ProgramVersion.Status.DRAFT])
        .values_list("status", "number")
    )
    return {
        **{name: getattr(program, name) for name in services.PROGRAM_FIELDS},
        "created_at": program.created_at,
        "live_version": numbers.get(ProgramVersion.Status.PUBLISHED),
        "draft_version": numbers.get(ProgramVersion.Status.DRAFT),
    }


def _version_out(version: ProgramVersion) -> dict[str, Any]:
    return {
        "number": version.number,
        "status": version.status,
        "grace_days": version.grace_days,
        "hysteresis_pct": version.hysteresis_pct,
        "cost_basis_metric": version.cost_basis_metric,
        "cost_basis_window": version.cost_basis_window,
        "notes": version.notes,
        "created_at": version.created_at,
        "published_at": version.published_at,
        "published_by_id": version.published_by_id,
        "content": services.version_content(version),
    }


def _version(user: Any, program: Program, number: int | None) -> ProgramVersion | None:
    return selectors.versions(user, program).filter(number=number).first()


def _run(user: Any, pk: int) -> EvaluationRun:
    """A run ``user`` may see: staff with full scope every run, others (a regional
    coordinator) only runs holding a result of an organisation they see; else 404."""
    run = selectors.runs(user).filter(pk=pk).first()
    if run is None:
        raise Http404
    if user.access_scope != SCOPE_ALL and not selectors.results(user, run).exists():
        raise Http404
    return run


def _run_out(user: Any, run: EvaluationRun) -> dict[str, Any]:
    out = {
        "id": run.pk,
        "program": run.program.code,
        "version": run.version.number,
        "as_of": run.as_of,
        "applied": run.applied,
        "trigger": run.trigger,
        "created_at": run.created_at,
        "created_by_id": run.created_by_id,
        "organisation_count": run.organisation_count,
        "summary": run.summary,
    }
    if user.access_scope != SCOPE_ALL:
        # The run's totals cover the whole network: show what the caller's scope holds.
        visible = selectors.results(user, run).order_by()
        out["organisation_count"] = visible.count()
        out["summary"] = {
            name: {
                row[field]: row["n"]
                for row in visible.values(field).annotate(n=Count("pk")).order_by(field)
            }
            for name, field in (("distribution", "effective_tier"), ("outcomes", "outcome"))
        }
    return out


def _result_out(result: EvaluationResult) -> dict[str, Any]:
    return {
        "organisation_id": result.organisation_id,
        "organisation_name": result.organisation.name,
        "external_key": result.organisation.external_key,
        "previous_tier": result.previous_tier,
        "qualified_tier": result.qualified_tier,
        "resulting_tier": result.resulting_tier,
        "effective_tier": result.effective_tier,
        "outcome": result.outcome,
        "grace_until": result.grace_until,
        "values": result.values,
    }


def _explanation(result: EvaluationResult, rules: Any = None) -> dict[str, Any]:
    run = result.run
    explained = selectors.explain_result(result, rules or selectors.run_rules(run))
    return {
        **explained,
        "run_id": run.pk,
        "program": run.program.code,
        "as_of": run.as_of,
        "organisation_id": result.organisation_id,
        "organisation_name": result.organisation.name,
        "gap": explained["gap"] or None,
    }


def _warning_out(warning: Any, metrics: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "id": warning.pk,
        "run_id": warning.run_id,
        "organisation_id": warning.organisation_id,
        "organisation_name": warning.organisation.name,
        "kind": warning.kind,
        "tier_code": warning.tier_code,
        "next_evaluation": warning.next_evaluation,
        # In the caller's language, from the kind and details (not the run's language).
        "message": warning_texts.describe(warning, metrics),
        "details": warning.details,
    }


def _membership_out(membership: Membership) -> dict[str, Any]:
    today = timezone.localdate()
    overriding = bool(membership.override_until and today < membership.override_until)
    return {
        "program": membership.program.code,
        "organisation_id": membership.organisation_id,
        "tier_code": membership.tier_code,
        "effective_tier": membership.effective_tier(today),
        "since": membership.since,
        "grace_target": membership.grace_target,
        "grace_started": membership.grace_started,
        "grace_until": membership.grace_until,
        "last_evaluated": membership.last_evaluated,
        "override": {
            "tier": membership.override_tier,
            "reason": membership.override_reason,
            "until": membership.override_until,
        }
        if overriding
        else None,
    }


def _benefits(tier: Tier) -> dict[str, Any]:
    return {
        "discount_pct": str(tier.discount_pct),
        "rebate_pct": str(tier.rebate_pct),
        "mdf_share_pct": str(tier.mdf_share_pct),
        "support_sla_hours": tier.support_sla_hours,
        "lead_priority": tier.lead_priority,
        "named_account_manager": tier.named_account_manager,
    }


def _change_out(change: Any) -> dict[str, Any]:
    return {
        "id": change.pk,
        "program": change.program.code,
        "organisation_id": change.organisation_id,
        "kind": change.kind,
        "from_tier": change.from_tier,
        "to_tier": change.to_tier,
        "effective": change.effective,
        "run_id": change.run_id,
        "reason": change.reason,
        "created_by_id": change.created_by_id,
        "created_at": change.created_at,
    }


# -- programs -------------------------------------------------------------------------
@program_router.get(
    "/programs",
    response={200: ProgramPage, **error_responses(422)},
    operation_id="programs_list",
)
def programs_list(request: HttpRequest, query: Query[PageInput]) -> Any:
    """Programs with their live version's number (and the draft's, for staff who edit)."""
    user = request.auth
    return _page(selectors.programs(user), query, lambda p: _program_out(user, p))


@program_router.post(
    "/programs", response={201: ProgramOut, **WRITE}, operation_id="programs_create"
)
def programs_create(request: HttpRequest, payload: ProgramIn) -> Any:
    """A new program with a first draft holding ``content`` (publish it to go live).
    Needs ``programs.add_program``; 409 when the code is taken."""
    user = request.auth
    data = payload.model_dump(exclude={"content"})
    content = _content(payload.content) if payload.content is not None else None
    with _content_fields():
        program = services.create_program(actor=user, data=data, content=content)
    return 201, _program_out(user, selectors.get_program(user, program.code))


@program_router.get(
    "/programs/{code}", response={200: ProgramOut, **READ}, operation_id="programs_get"
)
def programs_get(request: HttpRequest, code: Path[Code]) -> Any:
    return _program_out(request.auth, selectors.get_program(request.auth, code))


@program_router.patch(
    "/programs/{code}", response={200: ProgramOut, **WRITE}, operation_id="programs_update"
)
def programs_update(request: HttpRequest, code: Path[Code], payload: ProgramPatch) -> Any:
    """Change the name, scope or schedule; only the keys sent change."""
    user = request.auth
    program = selectors.get_program(user, code)
    services.update_program(
        actor=user, program=program, data=payload.model_dump(exclude_unset=True)
    )
    return _program_out(user, selectors.get_program(user, code))


# -- versions ---------------------------------------------------------------------------
@program_router.get(
    "/programs/{code}/versions",
    response={200: VersionPage, **READ},
    operation_id="programs_versions_list",
)
def programs_versions_list(request: HttpRequest, code: Path[Code], query: Query[PageInput]) -> Any:
    """Versions, newest first: live, retired and (for staff who edit) the draft."""
    user = request.auth
    program = selectors.get_program(user, code)
    return _page(selectors.versions(user, program).order_by("-number"), query, lambda v: v)


@program_router.get(
    "/programs/{code}/versions/{number}",
    response={200: VersionDetailOut, **READ},
    operation_id="programs_versions_get",
)
def programs_versions_get(request: HttpRequest, code: Path[Code], number: Path[ObjectId]) -> Any:
    """One version with its tiers, criteria and benefits."""
    user = request.auth
    version = _version(user, selectors.get_program(user, code), number)
    if version is None:
        raise Http404
    return _version_out(version)


@program_router.post(
    "/programs/{code}/draft",
    response={200: VersionDetailOut, 201: VersionDetailOut, **WRITE},
    operation_id="programs_draft_start",
)
def programs_draft_start(request: HttpRequest, code: Path[Code]) -> Any:
    """Open a draft copied from the live version (201), or answer the open draft (200)."""
    user = request.auth
    program = selectors.get_program(user, code)
    existed = selectors.draft_version(user, program) is not None
    draft = services.start_draft(actor=user, program=program)
    return (200 if existed else 201), _version_out(draft)


@program_router.put(
    "/programs/{code}/draft",
    response={200: VersionDetailOut, **WRITE},
    operation_id="programs_draft_save",
)
def programs_draft_save(request: HttpRequest, code: Path[Code], payload: ContentIn) -> Any:
    """Replace the draft's rules (opening a draft when there is none). Published versions
    never change. 422 names each bad place, e.g. ``tiers.1.criteria.0.metric``."""
    user = request.auth
    program = selectors.get_program(user, code)
    draft = services.save_draft(actor=user, program=program, content=_content(payload))
    return _version_out(draft)


@program_router.delete(
    "/programs/{code}/draft",
    response={204: None, **error_responses(403, 404, 409, 422)},
    operation_id="programs_draft_discard",
)
def programs_draft_discard(request: HttpRequest, code: Path[Code]) -> Any:
    """Throw the draft away (409 when there is none)."""
    user = request.auth
    services.discard_draft(actor=user, program=selectors.get_program(user, code))
    return 204, None


@program_router.post(
    "/programs/{code}/publish",
    response={200: VersionDetailOut, **WRITE},
    operation_id="programs_publish",
)
def programs_publish(request: HttpRequest, code: Path[Code]) -> Any:
    """Make the draft live (the live version retires). 409 without a draft; 422 when the
    draft has no tier. Needs ``programs.publish_program``."""
    user = request.auth
    version = services.publish_version(actor=user, program=selectors.get_program(user, code))
    return _version_out(version)


# -- evaluations ------------------------------------------------------------------------
@program_router.post(
    "/programs/{code}/evaluations",
    response={201: RunOut, **WRITE},
    operation_id="programs_evaluate",
)
def programs_evaluate(request: HttpRequest, code: Path[Code], payload: EvaluationIn) -> Any:
    """Evaluate the live version as of a date for every organisation in scope. ``apply``
    changes tiers (promotions at once, demotions after the grace period) and raises early
    warnings; an as_of before the last applied one can only be previewed (422). Needs
    ``programs.evaluate_program``, also for previews (they store a run)."""
    user = request.auth
    program = selectors.get_program(user, code)
    ensure_permitted(user, "evaluate", program)
    run = services.evaluate_program(
        actor=user,
        program=program,
        as_of=payload.as_of,
        apply=payload.apply,
        trigger=EvaluationRun.Trigger.API,
    )
    return 201, _run_out(user, run)


@program_router.get(
    "/programs/{code}/evaluations",
    response={200: RunPage, **READ},
    operation_id="programs_evaluations_list",
)
def programs_evaluations_list(
    request: HttpRequest, code: Path[Code], query: Query[PageInput]
) -> Any:
    """The program's evaluation runs, newest first (vendor staff: they cover the network)."""
    user = request.auth
    program = selectors.get_program(user, code)
    _require(user, RUNS_VIEW)
    runs = selectors.runs(user, program)
    if user.access_scope != SCOPE_ALL:
        runs = runs.filter(results__organisation__in=selectors.visible_organisations(user))
        runs = runs.distinct()
    return _page(runs, query, lambda run: _run_out(user, run))


@program_router.get(
    "/evaluations/{id}", response={200: RunOut, **READ}, operation_id="evaluations_get"
)
def evaluations_get(request: HttpRequest, id: Path[ObjectId]) -> Any:
    return _run_out(request.auth, _run(request.auth, id))


@program_router.get(
    "/evaluations/{id}/results",
    response={200: ResultPage, **READ},
    operation_id="evaluations_results",
)
def evaluations_results(
    request: HttpRequest, id: Path[ObjectId], filters: Query[ResultFilter]
) -> Any:
    """Each organisation's values and decision, by name; filter by effective tier, outcome
    or a name / key search."""
    user = request.auth
    results = selectors.results(user, _run(user, id))
    if filters.tier is not None:
        results = results.filter(effective_tier=filters.tier)
    if filters.outcome:
        results = results.filter(outcome=filters.outcome)
    if filters.q:
        results = results.filter(
            Q(organisation__name__icontains=filters.q)
            | Q(organisation__external_key__icontains=filters.q)
        )
    return _page(results, filters, _result_out)


@program_router.get(
    "/evaluations/{id}/results/{organisation_id}",
    response={200: ExplanationOut, **READ},
    operation_id="evaluations_explain",
)
def evaluations_explain(
    request: HttpRequest, id: Path[ObjectId], organisation_id: Path[ObjectId]
) -> Any:
    """Why the organisation got its result: every tier's criteria with value, threshold,
    the threshold kept under hysteresis and pass/fail, and the gap to the next tier."""
    user = request.auth
    run = _run(user, id)
    result = selectors.results(user, run).filter(organisation_id=organisation_id).first()
    if result is None:
        raise Http404
    return _explanation(result)


@program_router.get(
    "/evaluations/{id}/warnings",
    response={200: WarningPage, **READ},
    operation_id="evaluations_warnings",
)
def evaluations_warnings(request: HttpRequest, id: Path[ObjectId], query: Query[PageInput]) -> Any:
    """Early warnings raised by an applied run: who may drop a tier next time, and why."""
    user = request.auth
    metrics = warning_texts.metric_names()
    return _page(
        selectors.warnings(user, _run(user, id)), query, lambda w: _warning_out(w, metrics)
    )


# -- what-if --------------------------------------------------------------------------
@program_router.post(
    "/programs/{code}/what-if",
    response={200: WhatIfOut, **WRITE},
    operation_id="programs_what_if",
)
def programs_what_if(request: HttpRequest, code: Path[Code], payload: WhatIfIn) -> Any:
    """The draft (or ``version``) against the live version over up to 12 as_of dates,
    applied in order from an empty start: tier distribution, movers and benefit cost.
    Stores nothing. Needs ``programs.evaluate_program``."""
    user = request.auth
    program = selectors.get_program(user, code)
    ensure_permitted(user, "evaluate", program)
    version = None
    if payload.version is not None:
        version = _version(user, program, payload.version)
        if version is None:
            raise field_error("version", _("Unknown version."))
    return selectors.what_if(user, program, dates=payload.dates, version=version)


# -- tiers of an organisation, history, overrides ------------------------------------------
@program_router.get(
    "/organisations/{id}/tiers",
    response={200: list[OrganisationTierOut], **READ},
    operation_id="organisations_tiers",
)
def organisations_tiers(request: HttpRequest, id: Path[ObjectId]) -> Any:
    """The organisation's tier in each program: since when, grace period, override, the
    benefits, and its latest applied evaluation explained (criteria progress and the gap
    to the next tier) with that evaluation's early warnings."""
    user = request.auth
    organisation = _organisation(user, id)
    found = []
    metrics = warning_texts.metric_names()
    for membership in selectors.memberships(user, organisation).order_by("program__code"):
        program = membership.program
        live = selectors.live_version(program)
        tiers = {tier.code: tier for tier in live.tiers.all()} if live else {}
        out = _membership_out(membership)
        effective = tiers.get(out["effective_tier"])
        result = selectors.organisation_result(user, program, organisation)
        found.append(
            {
                **out,
                "program_name": program.name,
                "tier_name": getattr(tiers.get(membership.tier_code), "name", ""),
                "effective_tier_name": getattr(effective, "name", ""),
                "benefits": _benefits(effective) if effective else None,
                "latest": _explanation(result) if result else None,
                "warnings": [
                    _warning_out(w, metrics)
                    for w in selectors.warnings(user, result.run).filter(organisation=organisation)
                ]
                if result
                else [],
            }
        )
    return found


@program_router.get(
    "/organisations/{id}/tier-history",
    response={200: TierChangePage, **READ},
    operation_id="organisations_tier_history",
)
def organisations_tier_history(
    request: HttpRequest, id: Path[ObjectId], filters: Query[HistoryFilter], query: Query[PageInput]
) -> Any:
    """Every tier change of the organisation, newest first: entries, promotions,
    demotions, overrides and their end, each with its reason and run."""
    user = request.auth
    organisation = _organisation(user, id)
    programs: Iterable[Program] = (
        [selectors.get_program(user, filters.program)]
        if filters.program
        else selectors.programs(user)
    )
    changes = [
        change
        for program in programs
        for change in selectors.history(user, program, organisation).select_related("program")
    ]
    changes.sort(key=lambda change: (change.effective, change.pk), reverse=True)
    return _page(changes, query, _change_out)


@program_router.post(
    "/programs/{code}/overrides",
    response={200: MembershipOut, **WRITE},
    operation_id="programs_override",
)
def programs_override(request: HttpRequest, code: Path[Code], payload: OverrideIn) -> Any:
    """Hold an organisation in a tier until ``until`` (exclusive), whatever evaluations
    decide; a reason is required and recorded. Needs ``programs.override_program``."""
    user = request.auth
    program = selectors.get_program(user, code)
    organisation = selectors.visible_organisations(user).filter(pk=payload.organisation_id).first()
    if organisation is None:
        raise field_error("organisation_id", _("Unknown organisation."))
    membership = services.override_tier(
        actor=user,
        program=program,
        organisation=organisation,
        tier=payload.tier,
        reason=payload.reason,
        until=payload.until,
    )
    return _membership_out(membership)


@program_router.delete(
    "/programs/{code}/overrides/{organisation_id}",
    response={200: MembershipOut, **WRITE},
    operation_id="programs_override_end",
)
def programs_override_end(
    request: HttpRequest,
    code: Path[Code],
    organisation_id: Path[ObjectId],
    payload: EndOverrideIn,
) -> Any:
    """End an override now (the evaluated tier applies again); the body gives the reason.
    409 when no override is in force."""
    user = request.auth
    program = selectors.get_program(user, code)
    organisation = _organisation(user, organisation_id)
    membership = selectors.memberships(user, organisation).filter(program=program).first()
    if membership is None:
        raise Http404
    membership = services.end_override(actor=user, membership=membership, reason=payload.reason)
    return _membership_out(membership)


# -- scorecards -------------------------------------------------------------------------
def _scorecard_detail(template: ScorecardTemplate) -> dict[str, Any]:
    return {
        **{field: getattr(template, field) for field in scorecards.TEMPLATE_FIELDS},
        "created_at": template.created_at,
        "criteria": [
            {"metric": c.metric, "weight": c.weight, "rule": c.rule, "points": c.points}
            for c in template.criteria.all()
        ],
        "standings": list(template.standings.all()),
    }


def _scorecard_content(payload: ScorecardFields) -> tuple[dict[str, Any], dict[str, Any]]:
    data = payload.model_dump(exclude={"criteria", "standings"})
    content = {
        "criteria": [item.model_dump() for item in payload.criteria],
        "standings": [item.model_dump() for item in payload.standings],
    }
    return data, content


def _score_out(score: Score) -> dict[str, Any]:
    return {
        "scorecard": score.template.code,
        "organisation_id": score.organisation_id,
        "organisation_name": score.organisation.name,
        "period_start": score.period_start,
        "period_end": score.period_end,
        "as_of": score.as_of,
        "no_activity": score.no_activity,
        "score": score.score,
        "overall": score.overall,
        "standing": score.standing,
        "criteria": score.criteria,
        "overall_inputs": score.overall_inputs,
        "computed_at": score.computed_at,
    }


@scorecard_router.get(
    "/scorecards",
    response={200: ScorecardPage, **error_responses(422)},
    operation_id="scorecards_list",
)
def scorecards_list(request: HttpRequest, query: Query[PageInput]) -> Any:
    return _page(selectors.scorecards(request.auth), query, lambda template: template)


@scorecard_router.post(
    "/scorecards", response={201: ScorecardDetailOut, **WRITE}, operation_id="scorecards_create"
)
def scorecards_create(request: HttpRequest, payload: ScorecardIn) -> Any:
    """A scorecard: weighted criteria (weights sum to 100) and standings tiling 0-100, each
    with its consequences. Needs ``programs.add_scorecardtemplate``; 409 for a taken code."""
    data, content = _scorecard_content(payload)
    template = scorecards.save_scorecard(actor=request.auth, data=data, content=content)
    return 201, _scorecard_detail(selectors.get_scorecard(request.auth, template.code))


@scorecard_router.get(
    "/scorecards/{code}", response={200: ScorecardDetailOut, **READ}, operation_id="scorecards_get"
)
def scorecards_get(request: HttpRequest, code: Path[Code]) -> Any:
    return _scorecard_detail(selectors.get_scorecard(request.auth, code))


@scorecard_router.put(
    "/scorecards/{code}",
    response={200: ScorecardDetailOut, **WRITE},
    operation_id="scorecards_update",
)
def scorecards_update(request: HttpRequest, code: Path[Code], payload: ScorecardFields) -> Any:
    """Replace the scorecard's settings, criteria and standings (scores already stored
    keep the rules they were made with until it is scored again)."""
    user = request.auth
    template = selectors.get_scorecard(user, code)
    data, content = _scorecard_content(payload)
    scorecards.save_scorecard(actor=user, data=data, content=content, template=template)
    return _scorecard_detail(selectors.get_scorecard(user, code))


@scorecard_router.post(
    "/scorecards/{code}/scores",
    response={200: ScoringOut, **WRITE},
    operation_id="scorecards_score",
)
def scorecards_score(request: HttpRequest, code: Path[Code], payload: ScoringIn) -> Any:
    """Score every organisation in scope over the scorecard's recent complete periods up
    to ``as_of`` (replacing earlier scores of those periods). Needs
    ``programs.score_scorecardtemplate``."""
    user = request.auth
    template = selectors.get_scorecard(user, code)
    return scorecards.score_scorecard(actor=user, template=template, as_of=payload.as_of)


@scorecard_router.get(
    "/scorecards/{code}/scores",
    response={200: ScorePage, **READ},
    operation_id="scorecards_scores",
)
def scorecards_scores(
    request: HttpRequest, code: Path[Code], filters: Query[ScoreFilter], query: Query[PageInput]
) -> Any:
    """Stored scores the caller may see, newest period first, by organisation name."""
    user = request.auth
    scores = selectors.scores(user, selectors.get_scorecard(user, code)).select_related("template")
    if filters.period_start is not None:
        scores = scores.filter(period_start=filters.period_start)
    if filters.standing is not None:
        scores = scores.filter(standing=filters.standing)
    if filters.organisation is not None:
        scores = scores.filter(organisation_id=filters.organisation)
    scores = scores.order_by("-period_start", "organisation__name", "organisation_id")
    return _page(scores, query, _score_out)


@scorecard_router.get(
    "/organisations/{id}/scores",
    response={200: list[ScoreTrendOut], **READ},
    operation_id="organisations_scores",
)
def organisations_scores(
    request: HttpRequest, id: Path[ObjectId], filters: Query[ScoreTrendFilter]
) -> Any:
    """The organisation's score trend in each scorecard (or one): every period's score or
    no activity, the criteria behind it, and the overall score and standing."""
    user = request.auth
    organisation = _organisation(user, id)
    templates = (
        [selectors.get_scorecard(user, filters.scorecard)]
        if filters.scorecard
        else selectors.scorecards(user)
    )
    trends = []
    for template in templates:
        scores = (
            selectors.scores(user, template)
            .filter(organisation=organisation)
            .select_related("template")
            .order_by("period_start")
        )
        periods = [_score_out(score) for score in scores]
        if periods or filters.scorecard:
            trends.append({"scorecard": template.code, "name": template.name, "periods": periods})
    return trends


@scorecard_router.get(
    "/organisations/{id}/standing",
    response={200: StandingSummaryOut, **READ},
    operation_id="organisations_standing",
)
def organisations_standing(request: HttpRequest, id: Path[ObjectId]) -> Any:
    """What the organisation's current standings mean for deal registration, MDF requests
    and orders: none, warn or block, the reasons, and whether a review meeting is due."""
    user = request.auth
    organisation = _organisation(user, id)
    _require(user, SCORES_VIEW)
    actions = []
    for action in scorecards.ACTIONS:
        verdict = scorecards.consequence(organisation, action)
        actions.append(
            {
                "action": action,
                "level": verdict.level,
                "reasons": list(verdict.reasons),
                "review_meeting": verdict.review_meeting,
            }
        )
    standings = [
        {
            "scorecard": template.code,
            "scorecard_name": template.name,
            "standing": standing.code,
            "standing_name": standing.name,
            "overall": score.overall,
            "period_start": score.period_start,
        }
        for template, score, standing in scorecards.current_standings(organisation)
    ]
    return {"organisation_id": organisation.pk, "actions": actions, "standings": standings}


router.add_router("", program_router)
router.add_router("", scorecard_router)
