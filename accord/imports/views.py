"""Pages of accord.imports: the history, the upload -> preview (dry run) -> import flow, one
import's page with its skipped rows and rollback.

Between the preview and the import the uploaded file waits under
``VAR_DIR/uploads/<token>/`` (a random token, owned by the user who uploaded it: anyone
else's token is a 404), and is deleted once imported or cancelled. Reads go through the
import selectors (``restrict()``), writes through the import services.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import time
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from accord.core.errors import PermissionDenied, ValidationError
from accord.imports import selectors, services
from accord.imports.forms import HistoryFilterForm, UploadForm
from accord.imports.kinds import KINDS

PAGE_SIZE = 25
REPORT_ROWS_SHOWN = 200
STAGE_MAX_AGE = 24 * 3600  # staged uploads nobody came back for are removed after a day
TOKEN = re.compile(r"[A-Za-z0-9_-]{32}")


def _require_perm(request: HttpRequest, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied


def _render(
    request: HttpRequest, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    response = render(request, template, context, status=status)
    patch_vary_headers(response, ("HX-Request", "HX-Target"))
    return response


def _redirect(request: HttpRequest, url: str) -> HttpResponse:
    """A redirect; for htmx, one that the whole page follows (not swapped into a target)."""
    if getattr(request, "htmx", False):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


def _issue_dict(issue: Any) -> dict[str, Any]:
    if isinstance(issue, dict):
        data = issue
    elif is_dataclass(issue):
        data = asdict(issue)
    else:
        data = vars(issue)
    return {
        "row": data.get("row"),
        "column": str(data.get("column") or ""),
        "value": str(data.get("value") if data.get("value") is not None else ""),
        "reason": str(data.get("reason") or ""),
    }


# -- staged uploads -------------------------------------------------------------------
def _uploads_dir() -> Path:
    return Path(settings.VAR_DIR) / "uploads"


def _purge_stale_uploads() -> None:
    root = _uploads_dir()
    if not root.is_dir():
        return
    cutoff = time.time() - STAGE_MAX_AGE
    for entry in root.iterdir():
        try:
            if entry.is_dir() and entry.stat().st_mtime < cutoff:
                shutil.rmtree(entry, ignore_errors=True)
        except OSError:
            continue


def _stage(user: Any, kind: str, upload: Any, mapping: str | None) -> str:
    """Write the upload under a fresh random token; return the token."""
    _purge_stale_uploads()
    token = secrets.token_urlsafe(24)  # 32 characters
    directory = _uploads_dir() / token
    directory.mkdir(parents=True, mode=0o700)
    with (directory / "source").open("wb") as target:
        for chunk in upload.chunks():
            target.write(chunk)
    meta = {
        "user": user.pk,
        "kind": kind,
        "file_name": Path(upload.name or "upload").name[:255],
        "mapping": mapping,
        "staged_at": time.time(),
    }
    (directory / "meta.json").write_text(json.dumps(meta))
    return token


def _staged(request: HttpRequest, token: str) -> tuple[Path, dict[str, Any]]:
    """The staged upload ``token`` of this user, else 404 (another user's token too)."""
    if not TOKEN.fullmatch(token):
        raise Http404
    directory = _uploads_dir() / token
    try:
        meta = json.loads((directory / "meta.json").read_text())
    except (OSError, ValueError) as error:
        raise Http404 from error
    if meta.get("user") != request.user.pk or not (directory / "source").is_file():
        raise Http404
    return directory, meta


def _unstage(directory: Path) -> None:
    shutil.rmtree(directory, ignore_errors=True)


def _run(request: HttpRequest, directory: Path, meta: dict[str, Any], **options: Any) -> Any:
    with (directory / "source").open("rb") as source:
        return services.run_import(
            actor=request.user,
            kind=meta["kind"],
            source=source,
            file_name=meta["file_name"],
            mapping=meta.get("mapping"),
            **options,
        )


def _dry_run(request: HttpRequest, directory: Path, meta: dict[str, Any]) -> Any:
    """Validate without writing. Run as if bad rows were skipped, so that the preview can
    say what the good rows would do; the row report lists the bad ones all the same."""
    return _run(request, directory, meta, dry_run=True, skip_invalid=True)


def _save_result(directory: Path, result: Any) -> None:
    """Keep what the dry run found for the preview page and its report CSV."""
    issues = sorted(
        (_issue_dict(issue) for issue in result.issues),
        key=lambda issue: -1 if issue["row"] is None else issue["row"],
    )
    bad_rows = len({issue["row"] for issue in issues if issue["row"] is not None})
    file_level = any(issue["row"] is None for issue in issues)
    summary = {
        "status": result.status,
        "rows_read": result.rows_read,
        "rows_skipped": result.rows_skipped,
        "rows_rejected": result.rows_rejected,
        "created": result.created,
        "updated": result.updated,
        "unchanged": result.unchanged,
        "issue_count": len(issues),
        "bad_rows": result.rows_rejected or bad_rows,
        "file_level": file_level,
        "issues": issues[:REPORT_ROWS_SHOWN],
        "preview": [{str(k): str(v) for k, v in row.items()} for row in result.preview],
    }
    (directory / "result.json").write_text(json.dumps(summary))
    (directory / "report.csv").write_text(selectors.issues_csv(issues), encoding="utf-8")


def _preview_url(token: str) -> str:
    return reverse("imports:import_preview", args=[token])


# -- pages ------------------------------------------------------------------------------
@login_required
@require_GET
def import_list(request: HttpRequest) -> HttpResponse:
    _require_perm(request, "imports.view_importbatch")
    form = HistoryFilterForm(request.GET or None)
    filters = form.filters()
    page = Paginator(selectors.list_batches(request.user, **filters), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    batches = list(page.object_list)
    for batch in batches:
        kind = KINDS.get(batch.kind)
        batch.kind_label = kind.label if kind else batch.kind
    return _render(
        request,
        "imports/import_list.html",
        {
            "nav": "imports",
            "form": form,
            "page_obj": page,
            "batches": batches,
            "filtered": bool(filters),
        },
    )


@login_required
def import_new(request: HttpRequest) -> HttpResponse:
    _require_perm(request, "imports.add_importbatch")
    form = UploadForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
        user=request.user,
        initial={"kind": request.GET.get("kind", "")},
    )
    if request.method == "POST" and form.is_valid():
        token = _stage(
            request.user,
            form.cleaned_data["kind"],
            form.cleaned_data["file"],
            form.cleaned_data["mapping"],
        )
        directory = _uploads_dir() / token
        meta = json.loads((directory / "meta.json").read_text())
        try:
            result = _dry_run(request, directory, meta)
        except (services.ImportRefused, ValidationError, PermissionDenied) as error:
            _unstage(directory)
            form.add_error(None, _error_text(error))
        else:
            _save_result(directory, result)
            return _redirect(request, _preview_url(token))
    template = (
        "imports/_upload_form.html"
        if getattr(request, "htmx", False) and request.method == "POST"
        else "imports/import_new.html"
    )
    kinds = [
        {
            "code": code,
            "label": kind.label,
            "description": kind.description,
            "fields": [(f.name, f.required, f.help) for f in kind.fields],
        }
        for code, kind in KINDS.items()
        if code in dict(form.fields["kind"].choices)
    ]
    return _render(request, template, {"nav": "imports", "form": form, "kinds": kinds})


def _error_text(error: Exception) -> str:
    messages_ = getattr(error, "messages", None)
    if messages_:
        return " ".join(str(m) for m in messages_)
    return str(error) or _("The import was refused.")


@login_required
def import_preview(request: HttpRequest, token: str) -> HttpResponse:
    _require_perm(request, "imports.add_importbatch")
    directory, meta = _staged(request, token)
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "cancel":
            _unstage(directory)
            messages.info(request, _("The upload was discarded; nothing was imported."))
            return _redirect(request, reverse("imports:import_new"))
        if action in ("import", "skip"):
            try:
                result = _run(request, directory, meta, skip_invalid=action == "skip")
            except (services.ImportRefused, ValidationError, PermissionDenied) as error:
                messages.error(request, _error_text(error))
            else:
                if result.status == "applied" and result.batch is not None:
                    _unstage(directory)
                    messages.success(
                        request,
                        _("Imported %(file)s: %(created)s created, %(updated)s updated.")
                        % {
                            "file": meta["file_name"],
                            "created": result.created,
                            "updated": result.updated,
                        },
                    )
                    return _redirect(
                        request, reverse("imports:batch_detail", args=[result.batch.pk])
                    )
                # The file has bad rows (or the data changed since the preview): show the
                # preview again as it stands now, with its row report and the skip choice.
                _save_result(directory, _dry_run(request, directory, meta))
                messages.error(
                    request, _("Nothing was imported: the file has rows that cannot be imported.")
                )
    try:
        summary = json.loads((directory / "result.json").read_text())
    except (OSError, ValueError):
        result = _dry_run(request, directory, meta)
        _save_result(directory, result)
        summary = json.loads((directory / "result.json").read_text())
    kind = KINDS.get(meta["kind"])
    preview_columns = list(summary["preview"][0].keys()) if summary["preview"] else []
    return _render(
        request,
        "imports/import_preview.html",
        {
            "nav": "imports",
            "token": token,
            "meta": meta,
            "kind_label": kind.label if kind else meta["kind"],
            "summary": summary,
            "preview_columns": preview_columns,
            "preview_rows": [
                [row.get(c, "") for c in preview_columns] for row in summary["preview"]
            ],
            "more_issues": summary["issue_count"] - len(summary["issues"]),
            # Skipping is offered when the dry run found bad rows but could import the rest
            # (not for a file-level problem, nor when no row is good).
            "can_skip": summary["issue_count"] > 0 and summary["status"] == "dry_run",
            "can_import": summary["issue_count"] == 0 and summary["status"] == "dry_run",
        },
    )


@login_required
@require_GET
def import_preview_report(request: HttpRequest, token: str) -> HttpResponse:
    _require_perm(request, "imports.add_importbatch")
    directory, _meta = _staged(request, token)
    path = directory / "report.csv"
    if not path.is_file():
        raise Http404
    response = FileResponse(path.open("rb"), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="import-report.csv"'
    return response


@login_required
@require_GET
def batch_detail(request: HttpRequest, pk: int) -> HttpResponse:
    batch = selectors.get_batch(request.user, pk)
    report = list(batch.report or [])
    kind = KINDS.get(batch.kind)
    return _render(
        request,
        "imports/batch_detail.html",
        {
            "nav": "imports",
            "batch": batch,
            "kind_label": kind.label if kind else batch.kind,
            "report": [_issue_dict(issue) for issue in report[:REPORT_ROWS_SHOWN]],
            "report_count": len(report),
            "more_issues": max(0, len(report) - REPORT_ROWS_SHOWN),
            "can_roll_back": batch.status == batch.Status.APPLIED
            and request.user.has_perm("imports.rollback_importbatch"),
        },
    )


@login_required
@require_GET
def batch_report(request: HttpRequest, pk: int) -> HttpResponse:
    batch = selectors.get_batch(request.user, pk)
    response = HttpResponse(
        selectors.issues_csv([_issue_dict(issue) for issue in batch.report or []]),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="import-{batch.pk}-report.csv"'
    return response


@login_required
def batch_rollback(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks for confirmation; POST rolls the import back (the service audits it)."""
    batch = selectors.get_batch(request.user, pk)
    _require_perm(request, "imports.rollback_importbatch")
    back = reverse("imports:batch_detail", args=[batch.pk])
    if request.method == "POST":
        try:
            services.rollback_import(actor=request.user, batch=batch)
        except (services.ImportRefused, ValidationError, PermissionDenied) as error:
            messages.error(request, _error_text(error))
        else:
            messages.success(request, _("Import #%(id)s was rolled back.") % {"id": batch.pk})
        return redirect(back)
    return _render(
        request,
        "imports/confirm.html",
        {
            "nav": "imports",
            "title": _("Roll back import"),
            "question": _(
                "Roll back import #%(id)s (%(file)s)? Rows it created are deleted and rows it "
                "changed get their previous values back."
            )
            % {"id": batch.pk, "file": batch.file_name},
            "button": _("Roll back"),
            "cancel_url": back,
        },
    )
