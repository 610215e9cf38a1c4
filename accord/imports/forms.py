"""Forms of the import pages: the upload (kind, file, optional mapping) and the history filter.

The kind choices are the kinds the user may run (``Kind.permissions``); the service checks
again when it runs.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from accord.imports.kinds import KINDS
from accord.imports.models import ImportBatch

MAX_MAPPING_BYTES = 256 * 1024
FILE_TYPES = ".csv,.txt,.tsv,.xlsx"


def runnable_kinds(user: Any) -> list[tuple[str, str]]:
    """(code, label) of the kinds ``user`` has every permission to import."""
    return [
        (code, str(kind.label))
        for code, kind in KINDS.items()
        if all(user.has_perm(perm) for perm in kind.permissions)
    ]


class UploadForm(forms.Form):
    kind = forms.ChoiceField(label=_("What the file holds"))
    file = forms.FileField(
        label=_("File (CSV or XLSX)"),
        widget=forms.ClearableFileInput(attrs={"accept": FILE_TYPES}),
    )
    mapping = forms.FileField(
        label=_("Mapping file (TOML, optional)"),
        required=False,
        help_text=_(
            "Which column feeds which field, date formats, value maps. Without one, columns "
            "named like the fields are used."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".toml,text/plain"}),
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [("", _("Choose…")), *runnable_kinds(user)]

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        name = upload.name or ""
        if len(name) > 255:
            raise forms.ValidationError(_("The file name is too long (255 characters at most)."))
        return upload

    def clean_mapping(self) -> str | None:
        upload = self.cleaned_data.get("mapping")
        if not upload:
            return None
        if upload.size > MAX_MAPPING_BYTES:
            raise forms.ValidationError(_("A mapping file is at most 256 KB."))
        raw = upload.read()
        try:
            return raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise forms.ValidationError(_("The mapping file must be UTF-8 text (TOML).")) from None


class HistoryFilterForm(forms.Form):
    """The history's filters; an invalid value is dropped, not reported."""

    kind = forms.ChoiceField(label=_("Kind"), required=False)
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("Any status")), *ImportBatch.Status.choices],
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [
            ("", _("Any kind")),
            *[(code, kind.label) for code, kind in KINDS.items()],
        ]

    def filters(self) -> dict[str, str]:
        self.is_valid()
        cleaned = getattr(self, "cleaned_data", {})
        return {name: cleaned[name] for name in self.fields if cleaned.get(name)}
