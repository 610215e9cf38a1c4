"""Forms of the scorecard pages (filters, "score now", the editor) and of the what-if page.

Forms check what a person typed (numbers, dates, "value:score" pairs); the rules that span
rows (weights summing to 100, standings tiling 0..100) are the services' and come back as
errors keyed like ``criteria.1.points``, which ``ScorecardEditor`` puts next to that field.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from accord.core.forms import TagsField, add_service_errors
from accord.metrics import selectors as metric_selectors
from accord.partners.models import Organisation
from accord.programs import selectors
from accord.programs.models import (
    Cadence,
    Consequence,
    ScorecardCriterion,
    ScorecardTemplate,
)

MIN_DATE = dt.date(1990, 1, 1)
MAX_DATE = dt.date(2999, 12, 31)
# ASCII and full-width (Chinese) separators between pairs, and within a pair.
PAIR_SEPARATORS = re.compile("[,;\uff0c\uff1b]")
VALUE_SEPARATORS = re.compile("[:\uff1a]")
SORTS = ("name", "-name", "overall", "-overall")
NO_STANDING = "none"
RESERVED_CODES = frozenset({"new"})  # /scorecards/new/ is the page that creates one


def localised(obj: Any, field: str = "name") -> str:
    """``obj.name_zh`` in Chinese when it has one, else ``obj.name`` (also for dicts)."""
    get = obj.get if isinstance(obj, Mapping) else lambda key, default="": getattr(obj, key, "")
    if (get_language() or "").lower().startswith("zh") and get(f"{field}_zh", ""):
        return str(get(f"{field}_zh", ""))
    return str(get(field, ""))


def check_date(value: dt.date | None) -> dt.date | None:
    if value is not None and not MIN_DATE <= value <= MAX_DATE:
        raise ValidationError(_("Enter a date between 1990 and 2999."))
    return value


def number_text(value: Any) -> str:
    """A Decimal as typed in the editor: no exponent, no trailing zeros."""
    try:
        number = Decimal(str(value))
        if not number.is_finite() or abs(number.adjusted()) > 30:  # ``f`` prints every digit
            return str(value)
        text = format(number.normalize(), "f")
    except ArithmeticError:  # InvalidOperation, or Overflow from normalize() on 1e9999999
        return str(value)
    return "0" if text in ("-0", "") else text


def points_text(points: Sequence[Sequence[Any]]) -> str:
    """``[[0, 0], [250000, 60]]`` as ``"0:0, 250000:60"``."""
    return ", ".join(f"{number_text(value)}:{number_text(score)}" for value, score in points)


def parse_points(text: str) -> list[list[str]]:
    """``"0:0, 250000:60"`` as ``[["0", "0"], ["250000", "60"]]``; ValidationError naming
    the part that is not a ``value:score`` pair of numbers."""
    pairs = []
    for part in PAIR_SEPARATORS.split(text or ""):
        part = part.strip()
        if not part:
            continue
        pieces = VALUE_SEPARATORS.split(part)
        if len(pieces) != 2:
            raise ValidationError(
                _("'%(part)s' is not a value:score pair (e.g. 250000:60)."),
                params={"part": part[:40]},
            )
        try:
            value, score = (Decimal(piece.strip().replace(" ", "")) for piece in pieces)
        except InvalidOperation as error:
            raise ValidationError(
                _("'%(part)s' is not a pair of numbers (write 250000, not 250,000)."),
                params={"part": part[:40]},
            ) from error
        if not value.is_finite() or not score.is_finite():
            raise ValidationError(
                _("'%(part)s' is not a pair of numbers."), params={"part": part[:40]}
            )
        pairs.append([number_text(value), number_text(score)])
    if not pairs:
        raise ValidationError(_("Give the points as value:score pairs, e.g. 0:0, 500000:100."))
    return pairs


# -- the scorecard page --------------------------------------------------------------------
class StandingFilterForm(forms.Form):
    """Filters of the latest standings table; an invalid value is dropped, never an error."""

    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Organisation name")}),
    )
    standing = forms.ChoiceField(label=_("Standing"), required=False)
    sort = forms.ChoiceField(
        required=False, widget=forms.HiddenInput, choices=[(key, key) for key in SORTS]
    )

    def __init__(self, *args: Any, standings: Sequence[Any], **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["standing"].choices = [
            ("", _("Any standing")),
            *[(s.code, localised(s)) for s in standings],
            (NO_STANDING, _("No standing (no activity)")),
        ]

    def filters(self) -> dict[str, str]:
        self.is_valid()
        cleaned = getattr(self, "cleaned_data", {})
        return {
            "q": cleaned.get("q", "").strip(),
            "standing": cleaned.get("standing", ""),
            "sort": cleaned.get("sort") or "name",
        }


class ScoreNowForm(forms.Form):
    """Score every organisation in scope up to ``as_of``."""

    as_of = forms.DateField(
        label=_("As of"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("Complete periods up to this date are scored."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["as_of"].initial = timezone.localdate()

    def clean_as_of(self) -> dt.date | None:
        return check_date(self.cleaned_data.get("as_of"))


# -- the editor ------------------------------------------------------------------------------
class ScorecardSettingsForm(forms.Form):
    """The template's own fields: the shape ``scorecards.save_scorecard`` takes as ``data``."""

    code = forms.SlugField(
        label=_("Code"),
        max_length=60,
        help_text=_("Letters, digits and hyphens; it names the scorecard in links."),
    )
    name = forms.CharField(label=_("Name"), max_length=120)
    name_zh = forms.CharField(label=_("Chinese name"), max_length=120, required=False)
    description = forms.CharField(
        label=_("Description"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    period = forms.ChoiceField(label=_("Period"), choices=Cadence.choices)
    decay = forms.DecimalField(
        label=_("Decay per period"),
        min_value=Decimal(0),
        max_value=Decimal(1),
        max_digits=4,
        decimal_places=3,
        help_text=_("A period n periods back weighs decay to the power n in the overall score."),
    )
    history_periods = forms.IntegerField(
        label=_("Periods in the overall score"), min_value=1, max_value=24
    )
    kinds = forms.MultipleChoiceField(
        label=_("Organisation kinds"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=[c for c in Organisation.Kind.choices if c[0] != Organisation.Kind.VENDOR],
        help_text=_("None ticked: every kind."),
    )
    regions = TagsField(
        label=_("Regions"),
        help_text=_("Country codes or province / state names, separated by commas; empty: all."),
    )
    tags = TagsField(label=_("Tags"), help_text=_("Separate tags with commas; empty: any."))
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args: Any, template: ScorecardTemplate | None = None, **kwargs: Any):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.template = template
        if template is not None:
            # The code names the scorecard in links and in the API: it is not edited.
            self.fields["code"].disabled = True
            self.fields["code"].required = False

    def clean_code(self) -> str:
        code = self.cleaned_data.get("code") or ""
        if self.template is None and code in RESERVED_CODES:
            raise ValidationError(
                _("'%(code)s' names a page of its own; choose another code."),
                params={"code": code},
            )
        return code

    def data_for_service(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        if self.template is not None:
            data.pop("code", None)
        return data


def template_initial(template: ScorecardTemplate) -> dict[str, Any]:
    return {
        "code": template.code,
        "name": template.name,
        "name_zh": template.name_zh,
        "description": template.description,
        "period": template.period,
        "decay": number_text(template.decay),
        "history_periods": template.history_periods,
        "kinds": list(template.kinds or []),
        "regions": list(template.regions or []),
        "tags": list(template.tags or []),
        "is_active": template.is_active,
    }


class CriterionRowForm(forms.Form):
    """One criterion: a metric, its weight, and how its value maps to 0..100."""

    metric = forms.ChoiceField(label=_("Metric"))
    weight = forms.IntegerField(label=_("Weight"), min_value=1, max_value=100)
    rule = forms.ChoiceField(
        label=_("Rule"), choices=ScorecardCriterion.Rule.choices, initial="linear"
    )
    points = forms.CharField(
        label=_("Points (value:score)"),
        max_length=1000,
        widget=forms.TextInput(attrs={"placeholder": "0:0, 250000:60, 500000:100"}),
    )

    def __init__(self, *args: Any, metric_choices: Sequence[tuple[str, str]] = (), **kwargs: Any):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["metric"].choices = [("", "—"), *metric_choices]

    def clean_points(self) -> list[list[str]]:
        return parse_points(self.cleaned_data.get("points", ""))


class StandingRowForm(forms.Form):
    """One standing: a band [from, to) of the overall score and its consequences."""

    code = forms.SlugField(label=_("Code"), max_length=40)
    name = forms.CharField(label=_("Name"), max_length=80)
    name_zh = forms.CharField(label=_("Chinese name"), max_length=80, required=False)
    min_score = forms.DecimalField(
        label=_("From score"), max_digits=5, decimal_places=2, min_value=0, max_value=100
    )
    max_score = forms.DecimalField(
        label=_("To score"), max_digits=5, decimal_places=2, min_value=0, max_value=100
    )
    deal_registration = forms.ChoiceField(
        label=_("Deal registrations"), choices=Consequence.choices, initial=Consequence.NONE
    )
    mdf_requests = forms.ChoiceField(
        label=_("MDF requests"), choices=Consequence.choices, initial=Consequence.NONE
    )
    orders = forms.ChoiceField(
        label=_("Orders"), choices=Consequence.choices, initial=Consequence.NONE
    )
    review_meeting = forms.BooleanField(label=_("Review meeting"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


CriterionFormSet = forms.formset_factory(
    CriterionRowForm, extra=1, can_delete=True, max_num=20, validate_max=True, absolute_max=40
)
StandingFormSet = forms.formset_factory(
    StandingRowForm, extra=1, can_delete=True, max_num=20, validate_max=True, absolute_max=40
)


def metric_choices(user: Any) -> list[tuple[str, str]]:
    return [(m.code, f"{localised(m)} ({m.code})") for m in metric_selectors.current_metrics(user)]


def _kept(formset: forms.BaseFormSet) -> list[tuple[int, forms.Form]]:
    """(form index, form) of the rows to save: filled in and not marked for removal."""
    return [
        (index, form)
        for index, form in enumerate(formset.forms)
        if form.has_changed() and not formset._should_delete_form(form)
    ]


class ScorecardEditor:
    """The settings form and the two row formsets of the editor, read and shown together.

    ``content()`` is what ``scorecards.save_scorecard`` takes; ``add_service_errors`` puts
    the service's keyed errors (``criteria.1.points``, ``standings``, ``decay``) back on
    the row, the formset or the settings field they are about.
    """

    def __init__(
        self,
        user: Any,
        data: Any = None,
        template: ScorecardTemplate | None = None,
        initial: Mapping[str, Any] | None = None,
    ) -> None:
        self.template = template
        choices = metric_choices(user)
        known = {code for code, _label in choices}
        criteria_initial, standings_initial = [], []
        if template is not None and data is None:
            for criterion in template.criteria.all():
                if criterion.metric not in known:  # a metric since removed: still shown
                    choices.append((criterion.metric, criterion.metric))
                    known.add(criterion.metric)
                criteria_initial.append(
                    {
                        "metric": criterion.metric,
                        "weight": criterion.weight,
                        "rule": criterion.rule,
                        "points": points_text(criterion.points),
                    }
                )
            standings_initial = [
                {
                    "code": s.code,
                    "name": s.name,
                    "name_zh": s.name_zh,
                    "min_score": number_text(s.min_score),
                    "max_score": number_text(s.max_score),
                    "deal_registration": s.deal_registration,
                    "mdf_requests": s.mdf_requests,
                    "orders": s.orders,
                    "review_meeting": s.review_meeting,
                }
                for s in template.standings.all()
            ]
        settings_initial = dict(initial or {})
        if template is not None:
            settings_initial = {**template_initial(template), **settings_initial}
        else:
            settings_initial = {
                "period": Cadence.QUARTER,
                "decay": Decimal("0.5"),
                "history_periods": 4,
                "is_active": True,
                **settings_initial,
            }
        self.settings = ScorecardSettingsForm(data, template=template, initial=settings_initial)
        self.criteria = CriterionFormSet(
            data,
            prefix="criteria",
            initial=criteria_initial,
            form_kwargs={"metric_choices": choices},
        )
        self.standings = StandingFormSet(data, prefix="standings", initial=standings_initial)
        self.criteria_errors: list[str] = []
        self.standings_errors: list[str] = []
        self._criteria_rows: list[int] = []
        self._standing_rows: list[int] = []

    def is_valid(self) -> bool:
        # Every part is checked (no short cut) so that all their errors show at once; an
        # all-empty criteria or standings list is the service's to refuse, in its words.
        valid = [self.settings.is_valid(), self.criteria.is_valid(), self.standings.is_valid()]
        return all(valid)

    @property
    def errors(self) -> bool:
        return bool(
            self.settings.errors
            or any(self.criteria.errors)
            or self.criteria.non_form_errors()
            or any(self.standings.errors)
            or self.standings.non_form_errors()
            or self.criteria_errors
            or self.standings_errors
        )

    def content(self) -> dict[str, Any]:
        criteria_rows = _kept(self.criteria)
        standing_rows = _kept(self.standings)
        self._criteria_rows = [index for index, _form in criteria_rows]
        self._standing_rows = [index for index, _form in standing_rows]
        return {
            "criteria": [
                {
                    "metric": form.cleaned_data["metric"],
                    "weight": form.cleaned_data["weight"],
                    "rule": form.cleaned_data["rule"],
                    "points": form.cleaned_data["points"],
                }
                for _index, form in criteria_rows
            ],
            "standings": [
                {
                    name: form.cleaned_data[name]
                    for name in StandingRowForm.base_fields
                    if name in form.cleaned_data
                }
                for _index, form in standing_rows
            ],
        }

    def add_service_errors(self, error: ValidationError) -> None:
        """Each message at its place: a row's field, the criteria or standings as a whole,
        or the settings form (its fields, else the top of the form)."""
        if not hasattr(error, "error_dict"):
            add_service_errors(self.settings, error)
            return
        rest: dict[str, list[str]] = {}
        for key, messages in error.message_dict.items():
            parts = key.split(".")
            group = parts[0]
            if group in ("criteria", "standings"):
                formset = self.criteria if group == "criteria" else self.standings
                rows = self._criteria_rows if group == "criteria" else self._standing_rows
                at_group = self.criteria_errors if group == "criteria" else self.standings_errors
                form = None
                if len(parts) >= 2 and parts[1].isdigit() and int(parts[1]) < len(rows):
                    form = formset.forms[rows[int(parts[1])]]
                field = parts[2] if len(parts) >= 3 else None
                if form is not None and field in form.fields:
                    form.add_error(field, messages)
                elif form is not None:
                    form.add_error(None, messages)
                else:
                    at_group.extend(messages)
            else:
                rest[key] = messages
        if rest:
            add_service_errors(self.settings, ValidationError(rest))


# -- what-if ---------------------------------------------------------------------------------
def last_quarter_ends(today: dt.date, count: int = 4) -> list[dt.date]:
    """The last ``count`` quarter ends strictly before ``today``, oldest first."""
    ends = []
    year, quarter = today.year, (today.month - 1) // 3 + 1
    while len(ends) < count:
        quarter -= 1
        if quarter == 0:
            year, quarter = year - 1, 4
        end = dt.date(year, quarter * 3, 31 if quarter in (1, 4) else 30)
        if end < today:
            ends.append(end)
    return sorted(ends)


class DateListWidget(forms.Widget):
    """One ``<input type=date>`` per date, all under the same name, plus an empty one."""

    template_name = "programs/_whatif_dates_widget.html"

    def value_from_datadict(self, data: Any, files: Any, name: str) -> list[str]:
        if hasattr(data, "getlist"):
            return [str(v) for v in data.getlist(name)]
        value = data.get(name)
        return (
            []
            if value is None
            else [str(v) for v in (value if isinstance(value, list) else [value])]
        )

    def value_omitted_from_data(self, data: Any, files: Any, name: str) -> bool:
        return name not in data

    def get_context(self, name: str, value: Any, attrs: Any) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        values = value if isinstance(value, list | tuple) else ([value] if value else [])
        shown = [v.isoformat() if isinstance(v, dt.date) else str(v) for v in values if v]
        context["widget"]["values"] = [*shown, ""][: selectors.MAX_WHAT_IF_DATES]
        return context


class WhatIfForm(forms.Form):
    """The dates the draft and the live version are compared at."""

    as_of = forms.Field(label=_("As of dates"), widget=DateListWidget, required=False)

    def __init__(self, *args: Any, today: dt.date | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.defaults = last_quarter_ends(today or timezone.localdate())
        self.fields["as_of"].initial = self.defaults

    def clean_as_of(self) -> list[dt.date]:
        values = [v.strip() for v in self.cleaned_data.get("as_of") or [] if v and v.strip()]
        if not values:
            return list(self.defaults)
        try:
            dates = selectors.parse_dates(values)
        except ValidationError as error:
            raise ValidationError(
                error.message_dict.get("dates", error.messages)
                if hasattr(error, "error_dict")
                else error.messages
            ) from error
        for day in dates:
            check_date(day)
        return dates

    def dates(self) -> list[dt.date]:
        if not self.is_bound:
            return list(self.defaults)
        return self.cleaned_data["as_of"]
