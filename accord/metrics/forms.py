"""Forms of the KPI pages: the cross-organisation table's filters and the chart controls.

Metric choices are the current definitions the user may see (``selectors.current_metrics``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from accord.metrics import selectors
from accord.metrics.models import MetricDefinition
from accord.partners.models import Organisation

MIN_DATE = dt.date(1990, 1, 1)
MAX_DATE = dt.date(2999, 12, 31)
DEFAULT_TABLE_METRICS = ("revenue", "growth", "orders", "average_order_value", "gross_margin")
PERIOD_CHOICES = [
    ("month", _("Month")),
    ("quarter", _("Quarter")),
    ("year", _("Year")),
    ("trailing_12", _("Trailing 12 months")),
]
HISTORY_PERIOD_CHOICES = PERIOD_CHOICES[:3]
DEFAULT_HISTORY_PERIODS = {"month": 24, "quarter": 8, "year": 5}


def metric_label(metric: MetricDefinition) -> str:
    """The metric's name in the current language (its Chinese name when there is one)."""
    if (get_language() or "").lower().startswith("zh") and metric.name_zh:
        return metric.name_zh
    return metric.name


def _check_as_of(value: dt.date | None) -> dt.date:
    if value is None:
        return timezone.localdate()
    if not MIN_DATE <= value <= MAX_DATE:
        raise forms.ValidationError(_("Enter a date between 1990 and 2999."))
    return value


def _with_defaults(data: Any, defaults: dict[str, Any]) -> Any:
    data = data.copy()
    for name, value in defaults.items():
        if isinstance(value, list):
            if not [item for item in data.getlist(name) if item]:
                data.setlist(name, value)
        elif not data.get(name):
            data[name] = value
    return data


class KpiTableForm(forms.Form):
    """Which metrics, period and organisations the KPI table shows, and its order."""

    metrics = forms.MultipleChoiceField(
        label=_("Metrics"), required=False, widget=forms.CheckboxSelectMultiple
    )
    period = forms.ChoiceField(label=_("Period"), choices=PERIOD_CHOICES, required=False)
    as_of = forms.DateField(
        label=_("As of"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Name, key, city…")}),
    )
    kind = forms.ChoiceField(label=_("Kind"), required=False)
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("Any status")), *Organisation.Status.choices],
    )
    sort = forms.CharField(required=False, max_length=70, widget=forms.HiddenInput)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.available = list(selectors.current_metrics(user))
        self.fields["metrics"].choices = [(m.code, metric_label(m)) for m in self.available]
        kinds = Organisation.Kind.choices
        if getattr(user, "is_partner", True):
            kinds = [c for c in kinds if c[0] != Organisation.Kind.VENDOR]
        self.fields["kind"].choices = [("", _("Any kind")), *kinds]
        # What is not given is the default, and the widgets show it (checked metrics, dates).
        defaults = {
            "metrics": self.default_metrics(),
            "period": "quarter",
            "as_of": timezone.localdate().isoformat(),
        }
        if self.is_bound:
            self.data = _with_defaults(self.data, defaults)
        else:
            self.initial = {**defaults, **self.initial}

    def default_metrics(self) -> list[str]:
        codes = [m.code for m in self.available]
        chosen = [code for code in DEFAULT_TABLE_METRICS if code in codes]
        return chosen or codes[:5]

    def clean_metrics(self) -> list[str]:
        return self.cleaned_data.get("metrics") or self.default_metrics()

    def clean_period(self) -> str:
        return self.cleaned_data.get("period") or "quarter"

    def clean_as_of(self) -> dt.date:
        return _check_as_of(self.cleaned_data.get("as_of"))

    def clean_sort(self) -> str:
        sort = (self.cleaned_data.get("sort") or "name").strip()
        allowed = {"name", *self.cleaned_data.get("metrics", ())}
        if sort.lstrip("-") not in allowed:
            # A column that is not shown (or a made-up one) sorts by name, as a link would.
            return "name"
        return sort

    def choices(self) -> dict[str, Any]:
        """The cleaned choices; the defaults when the form was not submitted."""
        if not self.is_bound:
            return {
                "metrics": self.default_metrics(),
                "period": "quarter",
                "as_of": timezone.localdate(),
                "q": "",
                "kind": "",
                "status": "",
                "sort": "name",
            }
        return dict(self.cleaned_data)


class KpiHistoryForm(forms.Form):
    """The chart page's controls: period kind, how many periods, as of when."""

    period = forms.ChoiceField(label=_("Period"), choices=HISTORY_PERIOD_CHOICES, required=False)
    periods = forms.IntegerField(label=_("Periods"), required=False, min_value=2, max_value=60)
    as_of = forms.DateField(
        label=_("As of"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        defaults: dict[str, Any] = {
            "period": "month",
            "as_of": timezone.localdate().isoformat(),
        }
        if self.is_bound:
            self.data = _with_defaults(self.data, defaults)
            period = self.data.get("period")
            if not self.data.get("periods") and period in DEFAULT_HISTORY_PERIODS:
                self.data["periods"] = str(DEFAULT_HISTORY_PERIODS[period])
        else:
            self.initial = {**defaults, "periods": 24, **self.initial}

    def clean_period(self) -> str:
        return self.cleaned_data.get("period") or "month"

    def clean_as_of(self) -> dt.date:
        return _check_as_of(self.cleaned_data.get("as_of"))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if not cleaned.get("periods") and "periods" not in self.errors:
            cleaned["periods"] = DEFAULT_HISTORY_PERIODS.get(cleaned.get("period", "month"), 24)
        return cleaned

    def choices(self) -> dict[str, Any]:
        if not self.is_bound:
            return {"period": "month", "periods": 24, "as_of": timezone.localdate()}
        return dict(self.cleaned_data)
