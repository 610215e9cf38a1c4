"""Filter forms of the channel pages; invalid values are dropped, never an error page."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from accord.channel import selectors
from accord.channel.models import SalesLine


class FilterForm(forms.Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def filters(self) -> dict[str, Any]:
        """The valid filter values (an invalid field is dropped, not reported)."""
        self.is_valid()
        cleaned = getattr(self, "cleaned_data", {})
        return {name: cleaned[name] for name in self.fields if cleaned.get(name) not in (None, "")}


class ProductFilterForm(FilterForm):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Key, name, line…")}),
    )
    category = forms.TypedChoiceField(label=_("Category"), required=False, coerce=int)
    sort = forms.ChoiceField(
        required=False,
        widget=forms.HiddenInput,
        choices=[(key, key) for key in selectors.PRODUCT_SORTS],
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [
            ("", _("Any category")),
            *[(c.pk, c.name) for c in selectors.category_choices(user)],
        ]


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self) -> None:
        super().__init__(format="%Y-%m-%d")


class SalesFilterForm(FilterForm):
    organisation = forms.TypedChoiceField(label=_("Organisation"), required=False, coerce=int)
    direction = forms.ChoiceField(
        label=_("Direction"),
        required=False,
        choices=[("", _("Both directions")), *SalesLine.Direction.choices],
    )
    date_from = forms.DateField(label=_("From"), required=False, widget=DateInput())
    date_to = forms.DateField(
        label=_("Before"),
        required=False,
        widget=DateInput(),
        help_text=_("Lines up to the day before this date."),
    )
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=200,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": _("Order, end customer, city…")}
        ),
    )
    sort = forms.ChoiceField(
        required=False,
        widget=forms.HiddenInput,
        choices=[(key, key) for key in selectors.SALES_SORTS],
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organisation"].choices = [
            ("", _("Every organisation")),
            *selectors.organisation_choices(user),
        ]
