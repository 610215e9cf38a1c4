"""Programs and scorecards from a TOML file (``accord programs load FILE``): each
``[[program]]`` becomes a program whose draft is published when it differs from the live
version; each ``[[scorecard]]`` is created or replaced. Loading the same file again
changes nothing. The whole file is checked before anything is written, so a bad file
changes nothing either; errors name their place in the file (``program.0.version.tiers.1.
criteria.0.threshold``)."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _

from accord.core.errors import ValidationError
from accord.core.services import ensure_model_permitted, ensure_permitted, validate
from accord.programs import services
from accord.programs.models import Program, ScorecardTemplate
from accord.programs.scorecards import TEMPLATE_FIELDS, clean_scorecard, save_scorecard

PROGRAM_KEYS = services.PROGRAM_FIELDS
SCORECARD_KEYS = TEMPLATE_FIELDS
SECTIONS = ("program", "scorecard")


def read(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise ValidationError({"file": [str(error)]}) from error


def _same(content: dict[str, Any], other: dict[str, Any]) -> bool:
    fields, tiers = services.clean_content(content)
    other_fields, other_tiers = services.clean_content(other)
    return tiers == other_tiers and all(other_fields.get(k) == v for k, v in fields.items())


@dataclass
class _ProgramPlan:
    fields: dict[str, Any]
    content: dict[str, Any]
    program: Program | None  # None: to be created
    changes: dict[str, Any] = field(default_factory=dict)  # settings to update
    unchanged: bool = False  # the live version already says this


@dataclass
class _ScorecardPlan:
    data: dict[str, Any]
    content: dict[str, Any]
    template: ScorecardTemplate | None
    unchanged: bool = False


class _Errors:
    """Errors gathered over the whole file, keyed by their place in it."""

    def __init__(self) -> None:
        self.found: dict[str, list[str]] = {}

    def add(self, at: str, error: ValidationError) -> None:
        if hasattr(error, "error_dict"):
            for key, messages in error.message_dict.items():
                place = at if key == "__all__" else f"{at}.{key}"
                self.found.setdefault(place, []).extend(messages)
        else:
            self.found.setdefault(at, []).extend(error.messages)

    def fail(self, at: str, message: str) -> None:
        self.found.setdefault(at, []).append(message)


def _tables(data: Mapping[str, Any], section: str, errors: _Errors) -> list[dict[str, Any]]:
    items = data.get(section, [])
    if not isinstance(items, list) or not all(isinstance(item, Mapping) for item in items):
        errors.fail(section, _("Give each one as a [[%(section)s]] table.") % {"section": section})
        return []
    return [dict(item) for item in items]


def _plan_program(
    actor: Any, item: dict[str, Any], at: str, publish: bool, errors: _Errors
) -> _ProgramPlan | None:
    content = item.pop("version", {})
    unknown = set(item) - PROGRAM_KEYS
    for key in sorted(unknown):
        errors.fail(f"{at}.{key}", _("Unknown field."))
    fields = {k: v for k, v in item.items() if k in PROGRAM_KEYS}
    if not isinstance(content, Mapping):
        errors.fail(f"{at}.version", _("Give the version as a table."))
        return None
    content = dict(content)
    try:
        services.clean_content(content)
    except ValidationError as error:
        errors.add(f"{at}.version", error)
        return None
    if publish and not content.get("tiers"):
        errors.fail(f"{at}.version.tiers", _("A version needs at least one tier to go live."))
    scope_errors: dict[str, list[str]] = {}
    lists = services._scope_lists(fields, scope_errors)
    if scope_errors:
        errors.add(at, ValidationError(scope_errors))
        return None
    fields = {**fields, **lists}
    program = Program.objects.filter(code=str(fields.get("code", ""))).first()
    try:
        if program is None:
            ensure_model_permitted(actor, "add", Program)
            validate(Program(**fields))
        else:
            ensure_permitted(actor, "change", program)
            if publish:
                ensure_permitted(actor, "publish", program)
            candidate = Program.objects.get(pk=program.pk)
            for key, value in fields.items():
                setattr(candidate, key, value)
            validate(candidate)
    except ValidationError as error:
        errors.add(at, error)
        return None
    plan = _ProgramPlan(fields=fields, content=content, program=program)
    if program is not None:
        plan.changes = {k: v for k, v in fields.items() if k != "code" and getattr(program, k) != v}
        live = services.live_version(program)
        plan.unchanged = live is not None and _same(content, services.version_content(live))
    return plan


def _plan_scorecard(actor: Any, item: dict[str, Any], at: str, errors: _Errors) -> Any:
    content = {"criteria": item.pop("criteria", []), "standings": item.pop("standings", [])}
    for key in sorted(set(item) - SCORECARD_KEYS):
        errors.fail(f"{at}.{key}", _("Unknown field."))
    data = {k: v for k, v in item.items() if k in SCORECARD_KEYS}
    try:
        criteria, standings = clean_scorecard(content)
    except ValidationError as error:
        errors.add(at, error)
        return None
    template = ScorecardTemplate.objects.filter(code=str(data.get("code", ""))).first()
    try:
        if template is None:
            ensure_model_permitted(actor, "add", ScorecardTemplate)
            validate(ScorecardTemplate(**data))
        else:
            ensure_permitted(actor, "change", template)
            candidate = ScorecardTemplate.objects.get(pk=template.pk)
            for key, value in data.items():
                setattr(candidate, key, value)
            validate(candidate)
    except ValidationError as error:
        errors.add(at, error)
        return None
    plan = _ScorecardPlan(data=data, content=content, template=template)
    if template is not None:
        stored = (
            list(template.criteria.values("position", "metric", "weight", "rule", "points")),
            list(
                template.standings.values(
                    "code",
                    "name",
                    "name_zh",
                    "min_score",
                    "max_score",
                    "review_meeting",
                    "deal_registration",
                    "mdf_requests",
                    "orders",
                )
            ),
        )
        plan.unchanged = stored == (
            criteria,
            sorted(standings, key=lambda s: s["min_score"]),
        ) and all(
            getattr(template, k) == template._meta.get_field(k).to_python(v)
            for k, v in data.items()
        )
    return plan


def plan(
    *, actor: Any, data: Mapping[str, Any], publish: bool = True
) -> tuple[list[_ProgramPlan], list[_ScorecardPlan]]:
    """Check the whole file (fields, version content, scorecards, permissions) without
    writing; ValidationError naming every place at fault, PermissionDenied if the actor
    may not make a change the file asks for."""
    errors = _Errors()
    for key in sorted(set(data) - set(SECTIONS)):
        errors.fail(key, _("Unknown section: use [[program]] and [[scorecard]]."))
    programs, codes = [], set()
    for index, item in enumerate(_tables(data, "program", errors)):
        at = f"program.{index}"
        code = item.get("code")
        if code in codes:
            errors.fail(f"{at}.code", _("Two programs have this code."))
        codes.add(code)
        planned = _plan_program(actor, item, at, publish, errors)
        if planned is not None:
            programs.append(planned)
    scorecards, codes = [], set()
    for index, item in enumerate(_tables(data, "scorecard", errors)):
        at = f"scorecard.{index}"
        code = item.get("code")
        if code in codes:
            errors.fail(f"{at}.code", _("Two scorecards have this code."))
        codes.add(code)
        planned = _plan_scorecard(actor, item, at, errors)
        if planned is not None:
            scorecards.append(planned)
    if errors.found:
        raise ValidationError(errors.found)
    return programs, scorecards


def load(*, actor: Any, data: Mapping[str, Any], publish: bool = True) -> list[str]:
    """Apply the file's programs and scorecards; one line per thing done. Nothing is
    written unless the whole file is valid (see ``plan``)."""
    programs, scorecards = plan(actor=actor, data=data, publish=publish)
    done = []
    for item in programs:
        program = item.program
        if program is None:
            program = services.create_program(actor=actor, data=item.fields, content=item.content)
            done.append(f"program {program.code}: created")
        else:
            if item.changes:
                services.update_program(actor=actor, program=program, data=item.changes)
                done.append(f"program {program.code}: settings updated")
            if item.unchanged:
                live = services.live_version(program)
                done.append(f"program {program.code}: v{live.number} unchanged")
                continue
            draft = services.save_draft(actor=actor, program=program, content=item.content)
            if not publish:
                done.append(f"program {program.code}: v{draft.number} draft saved")
        if publish:
            version = services.publish_version(actor=actor, program=program)
            done.append(f"program {program.code}: v{version.number} published")
    for item in scorecards:
        template = item.template
        if item.unchanged:
            done.append(f"scorecard {template.code}: unchanged")
            continue
        template = save_scorecard(
            actor=actor,
            data=item.data
            if template is None
            else {k: v for k, v in item.data.items() if k != "code"},
            content=item.content,
            template=template,
        )
        done.append(f"scorecard {template.code}: saved")
    return done
