"""Programs and scorecards from a TOML file (``accord programs load FILE``): each
``[[program]]`` becomes a program whose draft is published when it differs from the live
version; each ``[[scorecard]]`` is created or replaced. Loading the same file again
changes nothing."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _

from accord.core.errors import ValidationError
from accord.programs import services
from accord.programs.models import Program, ScorecardTemplate
from accord.programs.scorecards import clean_scorecard, save_scorecard

PROGRAM_KEYS = services.PROGRAM_FIELDS
SCORECARD_KEYS = frozenset(
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


def read(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise ValidationError({"file": [str(error)]}) from error


def _same(content: dict[str, Any], other: dict[str, Any]) -> bool:
    fields, tiers = services.clean_content(content)
    other_fields, other_tiers = services.clean_content(other)
    return tiers == other_tiers and all(other_fields.get(k) == v for k, v in fields.items())


def load(*, actor: Any, data: dict[str, Any], publish: bool = True) -> list[str]:
    """Apply the file's programs and scorecards; one line per thing done."""
    done = []
    for item in data.get("program", []):
        item = dict(item)
        content = item.pop("version", {})
        fields = {k: v for k, v in item.items() if k in PROGRAM_KEYS}
        unknown = set(item) - PROGRAM_KEYS
        if unknown:
            raise ValidationError({f"program.{k}": [_("Unknown field.")] for k in sorted(unknown)})
        program = Program.objects.filter(code=fields.get("code", "")).first()
        if program is None:
            program = services.create_program(actor=actor, data=fields, content=content)
            done.append(f"program {program.code}: created")
        else:
            changes = {k: v for k, v in fields.items() if k != "code" and getattr(program, k) != v}
            if changes:
                services.update_program(actor=actor, program=program, data=changes)
                done.append(f"program {program.code}: settings updated")
            live = services.live_version(program)
            if live is not None and _same(content, services.version_content(live)):
                done.append(f"program {program.code}: v{live.number} unchanged")
                continue
            services.save_draft(actor=actor, program=program, content=content)
        if publish:
            version = services.publish_version(actor=actor, program=program)
            done.append(f"program {program.code}: v{version.number} published")
    for item in data.get("scorecard", []):
        item = dict(item)
        content = {"criteria": item.pop("criteria", []), "standings": item.pop("standings", [])}
        unknown = set(item) - SCORECARD_KEYS
        if unknown:
            raise ValidationError(
                {f"scorecard.{k}": [_("Unknown field.")] for k in sorted(unknown)}
            )
        template = ScorecardTemplate.objects.filter(code=item.get("code", "")).first()
        if template is not None:
            criteria, standings = clean_scorecard(content)
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
            if stored == (criteria, sorted(standings, key=lambda s: s["min_score"])) and all(
                getattr(template, k) == template._meta.get_field(k).to_python(v)
                for k, v in item.items()
            ):
                done.append(f"scorecard {template.code}: unchanged")
                continue
        template = save_scorecard(
            actor=actor,
            data=item if template is None else {k: v for k, v in item.items() if k != "code"},
            content=content,
            template=template,
        )
        done.append(f"scorecard {template.code}: saved")
    return done
