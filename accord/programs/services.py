"""Writes of accord.programs: programs and their versions, evaluations (applied or not),
overrides and early warnings. Each top-level service is one durable, audited transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.db.models import Max, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accord.core.errors import Conflict, ValidationError
from accord.core.models import AuditEntry
from accord.core.services import (
    apply_changes,
    create_audited,
    ensure_model_permitted,
    ensure_permitted,
    record,
)
from accord.metrics.engine import KpiInputError, parse_period_kind
from accord.metrics.models import MetricDefinition
from accord.partners.models import Organisation
from accord.programs.bulk import insert_rows, update_rows
from accord.programs.evaluation import (
    evaluate,
    in_scope,
    load_rules,
    next_evaluation,
    pin_metric_versions,
)
from accord.programs.models import (
    Comparator,
    Criterion,
    EvaluationResult,
    EvaluationRun,
    Membership,
    Program,
    ProgramVersion,
    Tier,
    TierChange,
)
from accord.programs.rules import State
from accord.programs.warnings import early_warnings

BATCH_SIZE = 2000
RESULT_FIELDS = (
    "organisation",
    "previous_tier",
    "qualified_tier",
    "resulting_tier",
    "effective_tier",
    "outcome",
    "values",
    "grace_until",
)
PROGRAM_FIELDS = frozenset(
    {
        "code",
        "name",
        "name_zh",
        "description",
        "kinds",
        "regions",
        "tags",
        "cadence",
        "schedule_enabled",
        "next_evaluation",
    }
)
VERSION_FIELDS = frozenset(
    {"grace_days", "hysteresis_pct", "cost_basis_metric", "cost_basis_window", "notes"}
)
TIER_FIELDS = frozenset({"code", "name", "name_zh", "combine", "at_least", "benefits", "criteria"})
BENEFIT_FIELDS = frozenset(
    {
        "discount_pct",
        "rebate_pct",
        "mdf_share_pct",
        "support_sla_hours",
        "lead_priority",
        "named_account_manager",
    }
)
MAX_TIERS = 12
MAX_CRITERIA = 12
NUL = "\x00"  # never stored: PostgreSQL refuses it in text and JSON


# -- programs and versions ------------------------------------------------------------
def _scope_lists(data: Mapping[str, Any], errors: dict[str, list[str]]) -> dict[str, Any]:
    cleaned = {}
    for name in ("kinds", "regions", "tags"):
        if name not in data:
            continue
        value = data[name]
        if isinstance(value, str):
            value = [item.strip() for item in value.split(",") if item.strip()]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            errors[name] = [_("Give a list of names.")]
            continue
        if name == "kinds":
            unknown = sorted(set(value) - set(Organisation.Kind.values))
            if unknown:
                errors[name] = [_("Unknown kinds: %(kinds)s.") % {"kinds": ", ".join(unknown)}]
                continue
        cleaned[name] = value
    return cleaned


@transaction.atomic(durable=True)
def create_program(
    *, actor: Any, data: Mapping[str, Any], content: Mapping[str, Any] | None = None
) -> Program:
    """A new program, with a first draft version holding ``content`` (tiers, grace, ...)."""
    ensure_model_permitted(actor, "add", Program)
    unknown = set(data) - PROGRAM_FIELDS
    if unknown:
        raise ValidationError({name: [_("Unknown field.")] for name in sorted(unknown)})
    errors: dict[str, list[str]] = {}
    lists = _scope_lists(data, errors)
    if errors:
        raise ValidationError(errors)
    if Program.objects.filter(code=data.get("code", "")).exists():
        raise Conflict(_("A program with this code already exists."), "code")
    program = create_audited(actor=actor, obj=Program(**{**dict(data), **lists}))
    _save_draft(actor, program, content or {"tiers": []})
    return program


@transaction.atomic(durable=True)
def update_program(*, actor: Any, program: Program, data: Mapping[str, Any]) -> Program:
    """Change a program's name, scope or schedule (its rules change through versions)."""
    ensure_permitted(actor, "change", program)
    unknown = set(data) - (PROGRAM_FIELDS - {"code"})
    if unknown:
        raise ValidationError({name: [_("Unknown field.")] for name in sorted(unknown)})
    errors: dict[str, list[str]] = {}
    lists = _scope_lists(data, errors)
    if errors:
        raise ValidationError(errors)
    data = {**dict(data), **lists}
    if data.get("schedule_enabled") and not (
        data.get("next_evaluation") or program.next_evaluation
    ):
        data["next_evaluation"] = next_evaluation(program, timezone.localdate())
    program = Program.objects.select_for_update().get(pk=program.pk)
    return apply_changes(actor=actor, obj=program, data=data)


def live_version(program: Program) -> ProgramVersion | None:
    return program.versions.filter(status=ProgramVersion.Status.PUBLISHED).first()


def draft_version(program: Program) -> ProgramVersion | None:
    return program.versions.filter(status=ProgramVersion.Status.DRAFT).first()


def version_content(version: ProgramVersion) -> dict[str, Any]:
    """A version as the structured content ``save_draft`` takes (round-trips)."""
    tiers = []
    for tier in version.tiers.prefetch_related("criteria").order_by("rank"):
        tiers.append(
            {
                "code": tier.code,
                "name": tier.name,
                "name_zh": tier.name_zh,
                "combine": tier.combine,
                "at_least": tier.at_least,
                "benefits": {
                    "discount_pct": str(tier.discount_pct),
                    "rebate_pct": str(tier.rebate_pct),
                    "mdf_share_pct": str(tier.mdf_share_pct),
                    "support_sla_hours": tier.support_sla_hours,
                    "lead_priority": tier.lead_priority,
                    "named_account_manager": tier.named_account_manager,
                },
                "criteria": [
                    {
                        "metric": criterion.metric,
                        "comparator": criterion.comparator,
                        "threshold": format(criterion.threshold.normalize(), "f"),
                        "window": criterion.window,
                    }
                    for criterion in tier.criteria.all()
                ],
            }
        )
    return {
        "grace_days": version.grace_days,
        "hysteresis_pct": str(version.hysteresis_pct),
        "cost_basis_metric": version.cost_basis_metric,
        "cost_basis_window": version.cost_basis_window,
        "notes": version.notes,
        "tiers": tiers,
    }


def _decimal(
    value: Any,
    low: Decimal | None = None,
    high: Decimal | None = None,
    *,
    places: int = 6,
) -> Decimal:
    """A finite number within [low, high] of at most ``places`` decimal places (what its
    column keeps: more would be rounded when stored, and the stored version would no
    longer be what was given)."""
    if isinstance(value, bool) or value is None or value == "":
        raise ValueError(_("Enter a number."))
    try:
        number = Decimal(str(value).strip().replace(",", ""))
    except (InvalidOperation, ValueError) as error:
        raise ValueError(_("Enter a number.")) from error
    if not number.is_finite():
        raise ValueError(_("Enter a number."))
    # copy_abs, not abs(): abs() rounds to the context and overflows on 1e9999999.
    if number.copy_abs() >= Decimal(10) ** 18:
        raise ValueError(_("The number is too large."))
    if (low is not None and number < low) or (high is not None and number > high):
        raise ValueError(_("Enter a number from %(low)s to %(high)s.") % {"low": low, "high": high})
    if number != number.quantize(Decimal(1).scaleb(-places)):
        raise ValueError(_("Use at most %(places)s decimal places.") % {"places": places})
    return number


def _whole(value: Any, low: int, high: int, *, optional: bool = False) -> int | None:
    if optional and value in (None, ""):
        return None
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError) as error:
        raise ValueError(_("Enter a whole number.")) from error
    if not low <= number <= high:
        raise ValueError(
            _("Enter a whole number from %(low)s to %(high)s.") % {"low": low, "high": high}
        )
    return number


def clean_content(content: Mapping[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Validate version content; (version fields, tiers) or ValidationError whose keys name
    the place, e.g. ``tiers.1.criteria.0.threshold``."""
    errors: dict[str, list[str]] = {}

    def fail(key: str, message: str) -> None:
        errors.setdefault(key, []).append(message)

    if not isinstance(content, Mapping):
        raise ValidationError({"content": [_("Give the version as an object.")]})
    unknown = set(content) - VERSION_FIELDS - {"tiers"}
    for name in sorted(unknown):
        fail(name, _("Unknown field."))
    fields: dict[str, Any] = {}
    for name, parse in (
        ("grace_days", lambda v: _whole(v, 0, 3650)),
        ("hysteresis_pct", lambda v: _decimal(v, Decimal(0), Decimal(50), places=2)),
    ):
        if name in content:
            try:
                fields[name] = parse(content[name])
            except ValueError as error:
                fail(name, str(error))
    metrics = set(MetricDefinition.objects.values_list("code", flat=True))
    for name in ("cost_basis_metric", "notes"):
        if name in content:
            fields[name] = str(content[name] or "")
    if NUL in fields.get("notes", ""):
        fail("notes", _("Null characters are not allowed."))
    if "cost_basis_metric" in fields and fields["cost_basis_metric"] not in metrics:
        fail("cost_basis_metric", _("Unknown metric."))
    if "cost_basis_window" in content:
        try:
            parse_period_kind(str(content["cost_basis_window"]))
            fields["cost_basis_window"] = str(content["cost_basis_window"])
        except KpiInputError as error:
            fail("cost_basis_window", error.message)
    raw_tiers = content.get("tiers", [])
    if not isinstance(raw_tiers, list):
        fail("tiers", _("Give a list of tiers."))
        raw_tiers = []
    if len(raw_tiers) > MAX_TIERS:
        fail("tiers", _("At most %(max)s tiers.") % {"max": MAX_TIERS})
        raw_tiers = []
    tiers, codes = [], set()
    for index, raw in enumerate(raw_tiers):
        at = f"tiers.{index}"
        if not isinstance(raw, Mapping):
            fail(at, _("Give each tier as an object."))
            continue
        for name in sorted(set(raw) - TIER_FIELDS):
            fail(f"{at}.{name}", _("Unknown field."))
        code = str(raw.get("code") or "").strip()
        if not code or len(code) > 40 or not code.replace("-", "").replace("_", "").isalnum():
            fail(f"{at}.code", _("Give a code of letters, digits, - and _ (at most 40)."))
        elif code in codes:
            fail(f"{at}.code", _("Two tiers have this code."))
        codes.add(code)
        name = str(raw.get("name") or "").strip()
        if not name or len(name) > 80:
            fail(f"{at}.name", _("Give a name of at most 80 characters."))
        for key in ("name", "name_zh"):
            if NUL in str(raw.get(key) or ""):
                fail(f"{at}.{key}", _("Null characters are not allowed."))
        combine = raw.get("combine") or "all"
        if combine not in Tier.Combine.values:
            fail(f"{at}.combine", _("Choose all, any or at_least."))
        criteria_raw = raw.get("criteria") or []
        if not isinstance(criteria_raw, list) or len(criteria_raw) > MAX_CRITERIA:
            fail(
                f"{at}.criteria",
                _("Give a list of at most %(max)s criteria.") % {"max": MAX_CRITERIA},
            )
            criteria_raw = []
        at_least = None
        if combine == "at_least":
            try:
                at_least = _whole(raw.get("at_least"), 1, max(len(criteria_raw), 1))
            except ValueError as error:
                fail(f"{at}.at_least", str(error))
        benefits_raw = raw.get("benefits") or {}
        benefits: dict[str, Any] = {}
        if not isinstance(benefits_raw, Mapping):
            fail(f"{at}.benefits", _("Give the benefits as an object."))
            benefits_raw = {}
        for bname in sorted(set(benefits_raw) - BENEFIT_FIELDS):
            fail(f"{at}.benefits.{bname}", _("Unknown field."))
        for bname in ("discount_pct", "rebate_pct", "mdf_share_pct"):
            benefits[bname] = Decimal(0)
            if benefits_raw.get(bname) not in (None, ""):
                try:
                    benefits[bname] = _decimal(
                        benefits_raw[bname], Decimal(0), Decimal(100), places=2
                    )
                except ValueError as error:
                    fail(f"{at}.benefits.{bname}", str(error))
        for bname, parse in (
            ("support_sla_hours", lambda v: _whole(v, 1, 8760, optional=True)),
            ("lead_priority", lambda v: _whole(v or 0, 0, 100)),
        ):
            try:
                benefits[bname] = parse(benefits_raw.get(bname))
            except ValueError as error:
                fail(f"{at}.benefits.{bname}", str(error))
        benefits["named_account_manager"] = bool(benefits_raw.get("named_account_manager"))
        criteria = []
        for position, item in enumerate(criteria_raw):
            cat = f"{at}.criteria.{position}"
            if not isinstance(item, Mapping):
                fail(cat, _("Give each criterion as an object."))
                continue
            for cname in sorted(set(item) - {"metric", "comparator", "threshold", "window"}):
                fail(f"{cat}.{cname}", _("Unknown field."))
            metric = str(item.get("metric") or "")
            if metric not in metrics:
                fail(f"{cat}.metric", _("Unknown metric '%(metric)s'.") % {"metric": metric[:60]})
            comparator = item.get("comparator") or "gte"
            if comparator not in Comparator.values:
                fail(f"{cat}.comparator", _("Choose gte, gt, lte or lt."))
            try:
                threshold = _decimal(item.get("threshold"))
            except ValueError as error:
                fail(f"{cat}.threshold", str(error))
                threshold = Decimal(0)
            window = str(item.get("window") or "trailing_12")
            try:
                parse_period_kind(window)
            except KpiInputError as error:
                fail(f"{cat}.window", error.message)
            criteria.append(
                {
                    "position": position,
                    "metric": metric,
                    "comparator": comparator,
                    "threshold": threshold,
                    "window": window,
                }
            )
        tiers.append(
            {
                "rank": index,
                "code": code,
                "name": name,
                "name_zh": str(raw.get("name_zh") or "")[:80],
                "combine": combine,
                "at_least": at_least,
                "benefits": benefits,
                "criteria": criteria,
            }
        )
    if errors:
        raise ValidationError(errors)
    return fields, tiers


def _save_draft(actor: Any, program: Program, content: Mapping[str, Any]) -> ProgramVersion:
    fields, tiers = clean_content(content)
    draft = draft_version(program)
    if draft is None:
        latest = program.versions.aggregate(latest=Max("number"))["latest"] or 0
        draft = ProgramVersion.objects.create(program=program, number=latest + 1, **fields)
        record(actor=actor, obj=draft, action=AuditEntry.Action.CREATE, changes={})
    else:
        for name, value in fields.items():
            setattr(draft, name, value)
        draft.save()
    draft.tiers.all().delete()
    for tier in tiers:
        made = Tier.objects.create(
            version=draft,
            rank=tier["rank"],
            code=tier["code"],
            name=tier["name"],
            name_zh=tier["name_zh"],
            combine=tier["combine"],
            at_least=tier["at_least"],
            **{
                k: v
                for k, v in tier["benefits"].items()
                if v is not None or k == "support_sla_hours"
            },
        )
        Criterion.objects.bulk_create(Criterion(tier=made, **item) for item in tier["criteria"])
    record(
        actor=actor,
        obj=draft,
        action=AuditEntry.Action.UPDATE,
        changes={"content": [None, _jsonable(version_content(draft))]},
    )
    return draft


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    return value


@transaction.atomic(durable=True)
def save_draft(*, actor: Any, program: Program, content: Mapping[str, Any]) -> ProgramVersion:
    """Replace the draft's rules with ``content`` (creating the draft when there is none).
    A published version is never edited: this always writes the draft."""
    ensure_permitted(actor, "change", program)
    Program.objects.select_for_update().filter(pk=program.pk).first()
    return _save_draft(actor, program, content)


@transaction.atomic(durable=True)
def start_draft(*, actor: Any, program: Program) -> ProgramVersion:
    """A draft copied from the live version (or the existing draft, if one is open)."""
    ensure_permitted(actor, "change", program)
    Program.objects.select_for_update().filter(pk=program.pk).first()
    draft = draft_version(program)
    if draft is not None:
        return draft
    live = live_version(program)
    return _save_draft(actor, program, version_content(live) if live else {"tiers": []})


@transaction.atomic(durable=True)
def discard_draft(*, actor: Any, program: Program) -> None:
    ensure_permitted(actor, "change", program)
    draft = draft_version(program)
    if draft is None:
        raise Conflict(_("There is no draft to discard."))
    if draft.runs.exists():
        draft.runs.all().delete()
    record(actor=actor, obj=draft, action=AuditEntry.Action.DELETE, changes={})
    draft.delete()


@transaction.atomic(durable=True)
def publish_version(*, actor: Any, program: Program) -> ProgramVersion:
    """Make the draft live: metric versions are pinned, the previous live version retires,
    and from now on the version is immutable."""
    ensure_permitted(actor, "publish", program)
    Program.objects.select_for_update().filter(pk=program.pk).first()
    draft = draft_version(program)
    if draft is None:
        raise Conflict(_("There is no draft to publish."))
    if not draft.tiers.exists():
        raise ValidationError({"tiers": [_("A version needs at least one tier to go live.")]})
    live = live_version(program)
    if live is not None:
        live.status = ProgramVersion.Status.RETIRED
        live.save(update_fields=["status"])
        record(
            actor=actor,
            obj=live,
            action=AuditEntry.Action.TRANSITION,
            changes={"status": ["published", "retired"]},
        )
    pin_metric_versions(draft)
    draft.status = ProgramVersion.Status.PUBLISHED
    draft.published_at = timezone.now()
    draft.published_by = actor if getattr(actor, "pk", None) else None
    draft.save(update_fields=["status", "published_at", "published_by"])
    record(
        actor=actor,
        obj=draft,
        action=AuditEntry.Action.TRANSITION,
        changes={"status": ["draft", "published"]},
    )
    return draft


# -- evaluation -----------------------------------------------------------------------
def _states(program: Program, organisation_ids: list[int]) -> dict[int, tuple[Membership, State]]:
    memberships = Membership.objects.filter(program=program)
    found = {}
    for membership in memberships.iterator(chunk_size=BATCH_SIZE):
        found[membership.organisation_id] = (
            membership,
            State(
                tier=membership.tier_code,
                grace_target=membership.grace_target,
                grace_started=membership.grace_started,
                grace_until=membership.grace_until,
            ),
        )
    return found


def _change_kind(outcome: str, previous: str, new: str) -> str | None:
    if previous == new:
        return None
    if outcome == "entered" or not previous:
        return TierChange.Kind.ENTRY
    if outcome == "promoted":
        return TierChange.Kind.PROMOTION
    return TierChange.Kind.DEMOTION


@transaction.atomic(durable=True)
def evaluate_program(
    *,
    actor: Any,
    program: Program,
    as_of: dt.date,
    apply: bool = True,
    trigger: str = EvaluationRun.Trigger.MANUAL,
    version: ProgramVersion | None = None,
    organisations: QuerySet | None = None,
) -> EvaluationRun:
    """Evaluate a version (the live one by default) for every organisation in scope at
    ``as_of`` and store the run with each organisation's values and decision.

    ``apply`` changes memberships: promotions at once, demotions through the grace period,
    overrides honoured until they expire; it also lists early warnings and notifies the
    account managers. Applying is refused for an ``as_of`` before the last applied one
    (history is re-run without applying). Re-running the same ``as_of`` decides the same.
    """
    # A preview is stored too (a run over the whole network): it needs the same right as
    # applying, as every page, API call and command that offers it already asks.
    ensure_permitted(actor, "evaluate", program)
    program = Program.objects.select_for_update().get(pk=program.pk)
    version = version or live_version(program)
    if version is None:
        raise Conflict(_("The program has no published version to evaluate."))
    if apply and version.status != ProgramVersion.Status.PUBLISHED:
        raise Conflict(_("Only the live version is applied; evaluate a draft without applying."))
    last = program.runs.filter(applied=True).aggregate(last=Max("as_of"))["last"] if apply else None
    if last is not None and as_of < last:
        raise ValidationError(
            {
                "as_of": [
                    _(
                        "Evaluations were applied up to %(last)s; an earlier as_of can only be "
                        "previewed (without applying)."
                    )
                    % {"last": last.isoformat()}
                ]
            }
        )
    rules = load_rules(version)
    scope = in_scope(program, organisations)
    try:
        evaluation = evaluate(rules, as_of=as_of, organisations=scope)
    except KpiInputError as error:
        raise ValidationError({error.field: [error.message]}) from error
    known = _states(program, evaluation.organisation_ids)
    states = {org: state for org, (_membership, state) in known.items()}
    decisions = evaluation.decide(states)
    run = EvaluationRun.objects.create(
        program=program,
        version=version,
        as_of=as_of,
        applied=apply,
        trigger=trigger,
        created_by=actor if getattr(actor, "pk", None) else None,
        organisation_count=len(evaluation.organisation_ids),
        inputs={"version": version.number, "rules": rules.as_dict()},
    )
    results = []
    distribution: dict[str, int] = {}
    outcomes: dict[str, int] = {}
    no_membership = (None, None)
    stored = evaluation.stored_rows()
    for org, values in zip(evaluation.organisation_ids, stored, strict=True):
        decision = decisions[org]
        previous = states.get(org)
        membership = known.get(org, no_membership)[0]
        state = decision.state
        effective = state.tier
        outcome = decision.outcome
        if (
            membership is not None
            and membership.override_until
            and as_of < membership.override_until
        ):
            effective = membership.override_tier
            outcome = "overridden"
        distribution[effective] = distribution.get(effective, 0) + 1
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
        results.append(
            (
                org,
                previous.tier if previous else "",
                decision.qualified,
                state.tier,
                effective,
                outcome,
                values,
                state.grace_until,
            )
        )
    # One statement whatever the number of organisations (bulk_create would need one per
    # 111 rows on SQLite).
    insert_rows(EvaluationResult, RESULT_FIELDS, results, constants={"run": run.pk})
    summary: dict[str, Any] = {
        "distribution": distribution,
        "outcomes": outcomes,
        "cost": str(evaluation.cost({o: d.state.tier for o, d in decisions.items()})),
    }
    if apply:
        summary["changes"] = _apply(actor, program, run, evaluation, decisions, known)
        warnings = early_warnings(program, run, evaluation, decisions, known)
        summary["warnings"] = len(warnings)
        if program.schedule_enabled:
            program.next_evaluation = next_evaluation(program, as_of)
            program.save(update_fields=["next_evaluation"])
    run.summary = summary
    run.save(update_fields=["summary"])
    record(
        actor=actor,
        obj=run,
        action=AuditEntry.Action.CREATE,
        changes={
            "as_of": [None, as_of.isoformat()],
            "version": [None, version.number],
            "applied": [None, apply],
            "organisations": [None, run.organisation_count],
        },
    )
    return run


def _apply(
    actor: Any,
    program: Program,
    run: EvaluationRun,
    evaluation: Any,
    decisions: Mapping[int, Any],
    known: Mapping[int, tuple[Membership, State]],
) -> int:
    """Write the decisions into memberships and the tier history; returns the changes.
    One statement per table, whatever the number of organisations."""
    as_of = run.as_of
    creates, updates, history = [], [], []
    by = actor.pk if getattr(actor, "pk", None) else None
    ended = TierChange.Kind.OVERRIDE_ENDED
    no_membership = (None, State())
    for org, decision in decisions.items():
        state = decision.state
        membership, previous = known.get(org, no_membership)
        ended_override = (
            membership is not None
            and membership.override_until is not None
            and as_of >= membership.override_until
        )
        if membership is None:
            if not state.tier:
                continue
            creates.append((org, state.tier, as_of, as_of))
        else:
            if previous != state or ended_override or membership.last_evaluated != as_of:
                if previous.tier != state.tier:
                    membership.since = as_of
                membership.tier_code = state.tier
                membership.grace_target = state.grace_target
                membership.grace_started = state.grace_started
                membership.grace_until = state.grace_until
                membership.last_evaluated = as_of
                if ended_override:
                    history.append(
                        (
                            org,
                            ended,
                            membership.override_tier,
                            state.tier,
                            membership.override_reason,
                        )
                    )
                    membership.override_tier = ""
                    membership.override_reason = ""
                    membership.override_until = None
                updates.append(
                    (
                        membership.pk,
                        membership.tier_code,
                        membership.since,
                        membership.grace_target,
                        membership.grace_started,
                        membership.grace_until,
                        membership.last_evaluated,
                        membership.override_tier,
                        membership.override_reason,
                        membership.override_until,
                    )
                )
        kind = _change_kind(decision.outcome, previous.tier, state.tier)
        if kind:
            history.append((org, kind, previous.tier, state.tier, decision.outcome))
    insert_rows(
        Membership,
        ("organisation", "tier_code", "since", "last_evaluated"),
        creates,
        constants={"program": program.pk},
    )
    update_rows(
        Membership,
        (
            "tier_code",
            "since",
            "grace_target",
            "grace_started",
            "grace_until",
            "last_evaluated",
            "override_tier",
            "override_reason",
            "override_until",
        ),
        updates,
    )
    insert_rows(
        TierChange,
        ("organisation", "kind", "from_tier", "to_tier", "reason"),
        history,
        constants={
            "program": program.pk,
            "effective": as_of,
            "run": run.pk,
            "created_by": by,
            "created_at": timezone.now(),
        },
    )
    return sum(1 for change in history if change[1] != ended)


# -- overrides ------------------------------------------------------------------------
@transaction.atomic(durable=True)
def override_tier(
    *,
    actor: Any,
    program: Program,
    organisation: Organisation,
    tier: str,
    reason: str,
    until: dt.date,
) -> Membership:
    """Hold ``organisation`` in ``tier`` until ``until`` (exclusive) whatever evaluations
    decide; a reason and an expiry are required, and the change is audited."""
    ensure_permitted(actor, "override", program)
    ensure_permitted(actor, "view", organisation)
    errors: dict[str, list[str]] = {}
    live = live_version(program)
    codes = set(live.tiers.values_list("code", flat=True)) if live else set()
    if tier not in codes:
        errors["tier"] = [_("Choose a tier of the live version.")]
    if not in_scope(program).filter(pk=organisation.pk).exists():
        errors["organisation"] = [
            _("The program does not apply to this organisation (its kinds, regions or tags).")
        ]
    if not str(reason or "").strip():
        errors["reason"] = [_("Give the reason for the override.")]
    today = timezone.localdate()
    if not isinstance(until, dt.date) or until <= today:
        errors["until"] = [_("The override must expire after today.")]
    elif until > today + dt.timedelta(days=731):
        errors["until"] = [_("An override lasts at most two years.")]
    if errors:
        raise ValidationError(errors)
    membership, _created = Membership.objects.select_for_update().get_or_create(
        program=program, organisation=organisation, defaults={"since": today}
    )
    before = membership.effective_tier(today)
    membership.override_tier = tier
    membership.override_reason = reason.strip()
    membership.override_until = until
    membership.override_by = actor if getattr(actor, "pk", None) else None
    membership.save()
    TierChange.objects.create(
        program=program,
        organisation=organisation,
        kind=TierChange.Kind.OVERRIDE,
        from_tier=before,
        to_tier=tier,
        effective=today,
        reason=membership.override_reason,
        created_by=membership.override_by,
    )
    record(
        actor=actor,
        obj=membership,
        action=AuditEntry.Action.UPDATE,
        changes={"override": [before, tier], "until": [None, until.isoformat()]},
        reason=membership.override_reason,
    )
    return membership


@transaction.atomic(durable=True)
def end_override(*, actor: Any, membership: Membership, reason: str) -> Membership:
    ensure_permitted(actor, "override", membership.program)
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    if not membership.override_until:
        raise Conflict(_("No override is in force."))
    if not str(reason or "").strip():
        raise ValidationError({"reason": [_("Give the reason for ending the override.")]})
    today = timezone.localdate()
    TierChange.objects.create(
        program=membership.program,
        organisation=membership.organisation,
        kind=TierChange.Kind.OVERRIDE_ENDED,
        from_tier=membership.override_tier,
        to_tier=membership.tier_code,
        effective=today,
        reason=reason.strip(),
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    record(
        actor=actor,
        obj=membership,
        action=AuditEntry.Action.UPDATE,
        changes={"override": [membership.override_tier, None]},
        reason=reason.strip(),
    )
    membership.override_tier = ""
    membership.override_reason = ""
    membership.override_until = None
    membership.save()
    return membership
