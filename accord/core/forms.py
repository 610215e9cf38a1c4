"""Form helpers shared by every app's pages: service errors shown on forms, safe fields."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


def add_service_errors(form: forms.BaseForm, error: ValidationError) -> None:
    """Show a service's ValidationError (or Conflict, InvalidTransition) on ``form``.

    Messages for fields the form has go next to those fields; the rest go on top.
    """
    if hasattr(error, "error_dict"):
        for name, messages in error.message_dict.items():
            if name in form.fields:
                form.add_error(name, messages)
            else:
                label = "" if name in ("__all__", "non_field_errors") else f"{name}: "
                form.add_error(None, [f"{label}{message}" for message in messages])
    else:
        form.add_error(None, error.messages)


# ASCII and full-width (Chinese) commas and semicolons.
SEPARATORS = re.compile("[,;\uff0c\uff1b]")


class TagsField(forms.CharField):
    """Tags typed as one comma-separated line; cleans to a sorted list of unique names."""

    max_tags = 30
    max_tag_length = 50

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 2000)
        kwargs.setdefault("help_text", _("Separate tags with commas."))
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return ", ".join(str(v) for v in value)
        return value

    def clean(self, value: Any) -> list[str]:  # type: ignore[override]
        text = super().clean(value) or ""
        names = sorted({part.strip() for part in SEPARATORS.split(text) if part.strip()})
        too_long = [name for name in names if len(name) > self.max_tag_length]
        if too_long:
            raise ValidationError(
                _("A tag has at most %(limit)d characters."), params={"limit": self.max_tag_length}
            )
        if len(names) > self.max_tags:
            raise ValidationError(_("At most %(limit)d tags."), params={"limit": self.max_tags})
        return names


class ReasonForm(forms.Form):
    """The status a transition goes to and the optional reason recorded in the audit log."""

    status = forms.CharField(max_length=20)
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 1}),
    )
