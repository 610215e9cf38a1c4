"""Forms of the program pages: evaluate, override, result filters, and the draft editor
(the nested tiers → criteria content that ``services.save_draft`` takes, parsed from and
rendered back into plain inputs so that nothing typed is lost on an error)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accord.core.forms import TagsField
from accord.partners.models import Organisation
from accord.programs.models import Cadence, Comparator, Outcome, Tier

MIN_DATE = dt.date(1990, 1, 1)
MAX_DATE = dt.date(2999, 12, 31)
OTHER = "other"
STANDARD_WINDOWS = (
    "month",
    "quarter",
    "year",
    "trailing_3",
    "trailing_6",
    "trailing_12",
    "trailing_24",
)
RESULT_SORTS = ("name", "tier", "previous", "outcome", "key")
# The editor reads at most this many tiers and criteria per tier from a post (the services
# allow 12 of each and say so; this only bounds what a crafted post can make us render).
MAX_POSTED = 40
TIER_TEXT = ("code", "name", "name_zh", "combine", "at_least")
BENEFIT_TEXT = ("discount_pct", "rebate_pct", "mdf_share_pct", "support_sla_hours", "lead_priority")
SETTING_TEXT = ("grace_days", "hysteresis_pct", "cost_basis_metric", "notes")
FIELD_LIMIT = 200
NOTES_LIMIT = 5000


def _check_date(value: dt.date | None) -> dt.date | None:
    if value is not None and not MIN_DATE <= value <= MAX_DATE:
        raise forms.ValidationError(_("Enter a date between 1990 and 2999."))
    return value


def window_label(window: str) -> str:
    """A window for people: "trailing 12 months", "calendar quarter"."""
    if window.startswith("trailing_"):
        return str(_("trailing %(months)s months")) % {"months": window.removeprefix("trailing_")}
    return str(
        {
            "month": _("calendar month"),
            "quarter": _("calendar quarter"),
            "year": _("calendar year"),
        }.get(window, window)
    )


def window_choices() -> list[tuple[str, str]]:
    return [(window, window_label(window)) for window in STANDARD_WINDOWS] + [
        (OTHER, str(_("Other: trailing_N")))
    ]


class EvaluateForm(forms.Form):
    """Evaluate the program as of a date: apply the live version, or preview (live or draft)."""

    APPLY, PREVIEW, DRAFT = "apply", "preview", "draft"

    as_of = forms.DateField(
        label=_("As of"), widget=forms.DateInput(attrs={"type": "date"}), required=True
    )
    mode = forms.ChoiceField(
        label=_("Mode"),
        widget=forms.RadioSelect,
        choices=[
            (APPLY, _("Apply: change tiers, open grace periods, send early warnings")),
            (PREVIEW, _("Preview the live version: change nothing")),
        ],
        initial=APPLY,
    )

    def __init__(self, *args: Any, has_draft: bool = False, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.initial.setdefault("as_of", timezone.localdate())
        if has_draft:
            self.fields["mode"].choices = [
                *self.fields["mode"].choices,
                (self.DRAFT, _("Preview the draft: change nothing")),
            ]

    def clean_as_of(self) -> dt.date | None:
        return _check_date(self.cleaned_data.get("as_of"))


class OverrideForm(forms.Form):
    """Hold an organisation in a tier until a date, whatever evaluations decide."""

    tier = forms.ChoiceField(label=_("Tier"))
    until = forms.DateField(
        label=_("Until (exclusive)"),
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("The override ends on this day; evaluations from then on decide again."),
    )
    reason = forms.CharField(
        label=_("Reason"), max_length=1000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, tiers: Iterable[tuple[str, str]] = (), **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["tier"].choices = [("", _("Choose a tier")), *tiers]

    def clean_until(self) -> dt.date | None:
        return _check_date(self.cleaned_data.get("until"))


class EndOverrideForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for ending the override"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        kwargs.setdefault("prefix", "end")
        super().__init__(*args, **kwargs)


class ResultFilterForm(forms.Form):
    """A run's results: tier, outcome, name or key; invalid values are ignored, never an error."""

    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Name or key")}),
    )
    tier = forms.ChoiceField(label=_("Tier"), required=False)
    outcome = forms.ChoiceField(
        label=_("Outcome"),
        required=False,
        choices=[("", _("Any outcome")), *Outcome.choices],
    )
    sort = forms.ChoiceField(
        required=False,
        widget=forms.HiddenInput,
        choices=[(key, key) for name in RESULT_SORTS for key in (name, f"-{name}")],
    )

    def __init__(self, *args: Any, tiers: Iterable[tuple[str, str]] = (), **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["tier"].choices = [("", _("Any tier")), *tiers, ("-", _("No tier"))]

    def filters(self) -> dict[str, str]:
        """The valid filter values (an invalid field is dropped, not reported)."""
        self.is_valid()
        cleaned = getattr(self, "cleaned_data", {})
        return {name: cleaned[name] for name in self.fields if cleaned.get(name)}


class RunFilterForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Runs"),
        required=False,
        choices=[
            ("", _("All runs")),
            ("applied", pgettext_lazy("evaluation runs", "Applied")),
            ("preview", _("Previews")),
        ],
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def chosen_kind(self) -> str:
        self.is_valid()
        return getattr(self, "cleaned_data", {}).get("kind") or ""


# -- the draft editor -------------------------------------------------------------------
def _window_parts(window: str) -> dict[str, str]:
    if window in STANDARD_WINDOWS:
        return {"window": window, "window_choice": window, "window_other": ""}
    return {"window": window, "window_choice": OTHER, "window_other": window}


def _text(value: Any, limit: int = FIELD_LIMIT) -> str:
    # NUL never belongs in a field (and PostgreSQL refuses it in text).
    return "" if value is None else str(value)[:limit].replace("\x00", "")


def new_criterion(metric: str = "revenue") -> dict[str, Any]:
    return {
        "metric": metric,
        "comparator": Comparator.GTE.value,
        "threshold": "",
        **_window_parts("trailing_12"),
        "errors": {},
    }


def new_tier() -> dict[str, Any]:
    return {
        "code": "",
        "name": "",
        "name_zh": "",
        "combine": Tier.Combine.ALL.value,
        "at_least": "",
        "discount_pct": "0",
        "rebate_pct": "0",
        "mdf_share_pct": "0",
        "support_sla_hours": "",
        "lead_priority": "0",
        "named_account_manager": False,
        "criteria": [],
        "errors": {},
    }


def editor_state(content: Mapping[str, Any] | None) -> dict[str, Any]:
    """The editor's fields from version content (``services.version_content``)."""
    content = content or {}
    state: dict[str, Any] = {
        "grace_days": _text(content.get("grace_days", 90)),
        "hysteresis_pct": _text(content.get("hysteresis_pct", "5")),
        "cost_basis_metric": _text(content.get("cost_basis_metric", "revenue")),
        **{
            f"cost_basis_{key}": value
            for key, value in _window_parts(
                _text(content.get("cost_basis_window", "trailing_12"))
            ).items()
        },
        "notes": _text(content.get("notes", ""), NOTES_LIMIT),
        "tiers": [],
        "errors": {},
    }
    for raw in content.get("tiers", []):
        tier = new_tier()
        for name in TIER_TEXT:
            tier[name] = _text(raw.get(name))
        tier["combine"] = tier["combine"] or Tier.Combine.ALL.value
        benefits = raw.get("benefits") or {}
        for name in BENEFIT_TEXT:
            tier[name] = _text(benefits.get(name))
        tier["named_account_manager"] = bool(benefits.get("named_account_manager"))
        tier["criteria"] = [
            {
                "metric": _text(item.get("metric")),
                "comparator": _text(item.get("comparator")),
                "threshold": _text(item.get("threshold")),
                **_window_parts(_text(item.get("window"))),
                "errors": {},
            }
            for item in raw.get("criteria", [])
        ]
        state["tiers"].append(tier)
    return state


def _indexes(data: Mapping[str, Any], pattern: re.Pattern[str]) -> list[int]:
    found = sorted({int(match.group(1)) for key in data if (match := pattern.fullmatch(key))})
    return found[:MAX_POSTED]


def _posted_window(data: Mapping[str, Any], prefix: str) -> dict[str, str]:
    choice = _text(data.get(f"{prefix}window_choice")).strip()
    other = _text(data.get(f"{prefix}window_other")).strip()
    if choice == OTHER or choice not in STANDARD_WINDOWS:
        return {"window": other, "window_choice": OTHER, "window_other": other}
    return {"window": choice, "window_choice": choice, "window_other": other}


def parse_editor(data: Mapping[str, Any]) -> dict[str, Any]:
    """The editor's fields from a post, in the order the page showed them."""
    state: dict[str, Any] = {name: _text(data.get(name)).strip() for name in SETTING_TEXT}
    state["notes"] = _text(data.get("notes"), NOTES_LIMIT)
    cost = _posted_window(data, "cost_basis_")
    state.update({f"cost_basis_{key}": value for key, value in cost.items()})
    state["tiers"] = []
    state["errors"] = {}
    for index in _indexes(data, re.compile(r"t(\d{1,4})-code")):
        at = f"t{index}-"
        tier = new_tier()
        for name in (*TIER_TEXT, *BENEFIT_TEXT):
            tier[name] = _text(data.get(at + name)).strip()
        tier["named_account_manager"] = bool(data.get(at + "named_account_manager"))
        for position in _indexes(data, re.compile(rf"t{index}-c(\d{{1,4}})-threshold")):
            cat = f"{at}c{position}-"
            tier["criteria"].append(
                {
                    "metric": _text(data.get(cat + "metric")).strip(),
                    "comparator": _text(data.get(cat + "comparator")).strip(),
                    "threshold": _text(data.get(cat + "threshold")).strip(),
                    **_posted_window(data, cat),
                    "errors": {},
                }
            )
        state["tiers"].append(tier)
    return state


OPERATION = re.compile(
    r"(?P<verb>add-tier|remove-tier|up|down|add-criterion|remove-criterion)"
    r"(?:-(?P<tier>\d{1,4}))?(?:-(?P<criterion>\d{1,4}))?"
)


def apply_operation(state: dict[str, Any], operation: str, default_metric: str) -> bool:
    """Add, remove or move a tier or criterion in ``state``; False when ``operation`` is not
    one (a crafted or stale button does nothing)."""
    match = OPERATION.fullmatch(operation or "")
    if match is None:
        return False
    verb = match.group("verb")
    tiers = state["tiers"]
    if verb == "add-tier":
        if len(tiers) >= MAX_POSTED:
            return False
        tiers.append(new_tier())
        return True
    if match.group("tier") is None or int(match.group("tier")) >= len(tiers):
        return False
    index = int(match.group("tier"))
    if verb == "remove-tier":
        del tiers[index]
    elif verb == "up" and index > 0:
        tiers[index - 1], tiers[index] = tiers[index], tiers[index - 1]
    elif verb == "down" and index < len(tiers) - 1:
        tiers[index + 1], tiers[index] = tiers[index], tiers[index + 1]
    elif verb == "add-criterion" and len(tiers[index]["criteria"]) < MAX_POSTED:
        tiers[index]["criteria"].append(new_criterion(default_metric))
    elif verb == "remove-criterion" and match.group("criterion") is not None:
        position = int(match.group("criterion"))
        if position >= len(tiers[index]["criteria"]):
            return False
        del tiers[index]["criteria"][position]
    else:
        return False
    return True


def editor_content(state: Mapping[str, Any]) -> dict[str, Any]:
    """The content ``services.save_draft`` takes, from the editor's fields."""
    return {
        "grace_days": state["grace_days"],
        "hysteresis_pct": state["hysteresis_pct"],
        "cost_basis_metric": state["cost_basis_metric"],
        "cost_basis_window": state["cost_basis_window"],
        "notes": state["notes"],
        "tiers": [
            {
                "code": tier["code"],
                "name": tier["name"],
                "name_zh": tier["name_zh"],
                "combine": tier["combine"],
                "at_least": tier["at_least"] or None,
                "benefits": {
                    "discount_pct": tier["discount_pct"],
                    "rebate_pct": tier["rebate_pct"],
                    "mdf_share_pct": tier["mdf_share_pct"],
                    "support_sla_hours": tier["support_sla_hours"] or None,
                    "lead_priority": tier["lead_priority"] or 0,
                    "named_account_manager": tier["named_account_manager"],
                },
                "criteria": [
                    {
                        "metric": item["metric"],
                        "comparator": item["comparator"],
                        "threshold": item["threshold"],
                        "window": item["window"],
                    }
                    for item in tier["criteria"]
                ],
            }
            for tier in state["tiers"]
        ],
    }


ERROR_KEY = re.compile(
    r"tiers\.(?P<tier>\d+)(?:\.(?P<rest>criteria\.(?P<criterion>\d+)(?:\.(?P<cfield>\w+))?|[\w.]+))?"
)


def attach_errors(state: dict[str, Any], errors: Mapping[str, list[str]]) -> list[str]:
    """Put each service error (keys like ``tiers.1.criteria.0.threshold``) next to its input
    in ``state``; the messages that belong to no input are returned for the top."""
    loose: list[str] = []
    for key, messages in errors.items():
        messages = [str(message) for message in messages]
        match = ERROR_KEY.fullmatch(key)
        if match is None:
            if key in (*SETTING_TEXT, "cost_basis_window", "tiers"):
                state["errors"].setdefault(key, []).extend(messages)
            else:
                label = "" if key in ("__all__", "content") else f"{key}: "
                loose.extend(f"{label}{message}" for message in messages)
            continue
        index = int(match.group("tier"))
        if index >= len(state["tiers"]):
            loose.extend(messages)
            continue
        tier = state["tiers"][index]
        if match.group("criterion") is not None:
            position = int(match.group("criterion"))
            if position >= len(tier["criteria"]):
                loose.extend(messages)
                continue
            field = match.group("cfield") or "all"
            tier["criteria"][position]["errors"].setdefault(field, []).extend(messages)
            continue
        field = (match.group("rest") or "all").removeprefix("benefits.")
        tier["errors"].setdefault(field, []).extend(messages)
    return loose


TIER_INPUTS = (*TIER_TEXT, *BENEFIT_TEXT, "named_account_manager")
CRITERION_INPUTS = ("metric", "comparator", "threshold", "window")


def number_inputs(state: dict[str, Any]) -> dict[str, Any]:
    """Give every tier and criterion the input names of its position (``t1-c0-threshold``),
    which is also the position service errors name (``tiers.1.criteria.0.threshold``)."""
    for index, tier in enumerate(state["tiers"]):
        tier["index"] = index
        tier["names"] = {name: f"t{index}-{name}" for name in TIER_INPUTS}
        for position, item in enumerate(tier["criteria"]):
            item["index"] = position
            item["names"] = {name: f"t{index}-c{position}-{name}" for name in CRITERION_INPUTS}
    return state


def has_errors(state: Mapping[str, Any]) -> bool:
    return bool(state["errors"]) or any(
        tier["errors"] or any(item["errors"] for item in tier["criteria"])
        for tier in state["tiers"]
    )


class ProgramSettingsForm(forms.Form):
    """A program's name, scope and schedule (its rules live in versions); with ``code`` when
    the program is new."""

    code = forms.SlugField(label=_("Code"), max_length=60)
    name = forms.CharField(label=_("Name"), max_length=120)
    name_zh = forms.CharField(label=_("Chinese name"), max_length=120, required=False)
    description = forms.CharField(
        label=_("Description"), required=False, max_length=4000, widget=forms.Textarea
    )
    kinds = forms.MultipleChoiceField(
        label=_("Organisation kinds"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: every kind."),
    )
    regions = TagsField(
        label=_("Regions"),
        help_text=_("Country codes or province / state names, separated by commas; empty: all."),
    )
    tags = TagsField(label=_("Tags"), help_text=_("Organisation tags; empty: any."))
    cadence = forms.ChoiceField(label=_("Evaluation cadence"), choices=Cadence.choices)
    schedule_enabled = forms.BooleanField(
        label=_("Evaluate and apply on schedule (the background worker)"), required=False
    )
    next_evaluation = forms.DateField(
        label=_("Next scheduled evaluation"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Empty: one cadence from today."),
    )

    def __init__(self, *args: Any, new: bool = True, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["kinds"].choices = [
            (value, label)
            for value, label in Organisation.Kind.choices
            if value != Organisation.Kind.VENDOR
        ]
        if not new:
            del self.fields["code"]

    def clean_code(self) -> str:
        code = self.cleaned_data["code"]
        if code == "new":
            raise forms.ValidationError(_("This code is reserved; choose another."))
        return code

    def clean_next_evaluation(self) -> dt.date | None:
        return _check_date(self.cleaned_data.get("next_evaluation"))
