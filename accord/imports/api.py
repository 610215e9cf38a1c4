"""REST endpoints of accord.imports (mounted under /api/v1/): run an import (multipart),
the history, one run, its report CSV, rollback, and the importable kinds."""

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from ninja import File, Form, Path, Query, Router
from ninja.files import UploadedFile
from ninja.pagination import paginate

from accord.core.schemas import ObjectId, Pagination, error_responses
from accord.imports import selectors, services
from accord.imports.kinds import KINDS
from accord.imports.schemas import (
    ImportBatchOut,
    ImportFilter,
    ImportKindOut,
    ImportRejectedOut,
    ImportResultOut,
)

router = Router(tags=["imports"])
MAX_MAPPING_BYTES = 256 * 1024
REFUSED_STATUS = {"forbidden": 403, "conflict": 409}


def _error(status: int, error: str, detail: str, **extra: Any) -> tuple[int, dict[str, Any]]:
    return status, {"error": error, "detail": detail, "fields": extra.pop("fields", {}), **extra}


@router.post(
    "/imports",
    response={200: ImportResultOut, 201: ImportResultOut, **error_responses(400, 403, 422)},
    operation_id="imports_create",
)
def imports_create(
    request: HttpRequest,
    kind: Form[str],
    file: File[UploadedFile],
    mapping: File[UploadedFile] = None,
    dry_run: Form[bool] = False,
    skip_invalid: Form[bool] = False,
) -> Any:
    """Import a CSV or XLSX file. 201 with the batch when applied, 200 for a dry run.

    When any row is bad (and ``skip_invalid`` is not set) nothing is written and the answer
    is 422 with ``error`` = ``import_rejected``: the usual error body plus ``issues``, the
    row report (each ``{row, column, value, reason}`` as in the result's ``issues``), and
    ``rows_read`` / ``rows_rejected``."""
    mapping_text = None
    if mapping is not None:
        if mapping.size and mapping.size > MAX_MAPPING_BYTES:
            return _error(
                422,
                "invalid",
                _("A mapping file is at most 256 KB."),
                fields={"mapping": [_("Too large.")]},
            )
        try:
            mapping_text = mapping.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            return _error(
                422,
                "invalid",
                _("The mapping file must be UTF-8 text (TOML)."),
                fields={"mapping": [_("Not UTF-8 text.")]},
            )
    try:
        result = services.run_import(
            actor=request.auth,
            kind=kind,
            source=file.file,
            file_name=file.name or "upload",
            mapping=mapping_text,
            dry_run=dry_run,
            skip_invalid=skip_invalid,
        )
    except services.ImportRefused as refused:
        status = REFUSED_STATUS.get(refused.code, 422)
        field = {"unknown_kind": "kind", "bad_mapping": "mapping"}.get(refused.code)
        return _error(
            status,
            "forbidden" if status == 403 else refused.code,
            refused.message,
            fields={field: [refused.message]} if field else {},
        )
    issues = [issue.as_dict() for issue in result.issues]
    if result.status == "rejected":
        # The error shape plus the row report (ErrorOut would drop ``issues``).
        status, body = _error(
            422,
            "import_rejected",
            _("The file was not imported: %(count)s problem(s).") % {"count": len(issues)},
            issues=issues,
            rows_read=result.rows_read,
            rows_rejected=result.rows_rejected,
        )
        return JsonResponse(ImportRejectedOut(**body).model_dump(), status=status)
    body = {
        "kind": result.kind,
        "status": result.status,
        "batch": result.batch,
        **result.summary(),
        "issues": issues,
        "preview": result.preview,
    }
    return (201 if result.status == "applied" else 200), body


@router.get(
    "/imports",
    response={200: list[ImportBatchOut], **error_responses(422)},
    operation_id="imports_list",
)
@paginate(Pagination)
def imports_list(request: HttpRequest, filters: Query[ImportFilter]) -> Any:
    """Import runs the caller may see, newest first (partner staff: their organisation's)."""
    return selectors.list_batches(request.auth, **filters.model_dump())


@router.get(
    "/imports/{id}",
    response={200: ImportBatchOut, **error_responses(404, 422)},
    operation_id="imports_get",
)
def imports_get(request: HttpRequest, id: Path[ObjectId]) -> Any:
    return selectors.get_batch(request.auth, id)


@router.get(
    "/imports/{id}/report.csv",
    response={200: str, **error_responses(404, 422)},
    operation_id="imports_report",
    openapi_extra={"responses": {"200": {"content": {"text/csv": {}}}}},
)
def imports_report(request: HttpRequest, id: Path[ObjectId]) -> HttpResponse:
    """The problems of the rows the run skipped: row, column, value, reason."""
    batch = selectors.get_batch(request.auth, id)
    response = HttpResponse(
        selectors.issues_csv(batch.report or []), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="import-{batch.pk}-report.csv"'
    return response


@router.post(
    "/imports/{id}/rollback",
    response={200: ImportBatchOut, **error_responses(403, 404, 409, 422)},
    operation_id="imports_rollback",
)
def imports_rollback(request: HttpRequest, id: Path[ObjectId]) -> Any:
    """Undo the run as a unit; 409 when a later run changed the same rows, when it was
    already rolled back, or when rows it created are used elsewhere."""
    batch = selectors.get_batch(request.auth, id)
    try:
        services.rollback_import(actor=request.auth, batch=batch)
    except services.ImportRefused as refused:
        return _error(409, "conflict", refused.message)
    return selectors.get_batch(request.auth, id)


@router.get(
    "/import-kinds",
    response={200: list[ImportKindOut], **error_responses()},
    operation_id="imports_kinds",
)
def imports_kinds(request: HttpRequest) -> Any:
    """What can be imported and each kind's fields, to build a mapping file."""
    return [
        {
            "code": kind.code,
            "label": str(kind.label),
            "description": str(kind.description),
            "identity": list(kind.identity),
            "fields": [
                {
                    "name": spec.name,
                    "type": spec.type,
                    "required": spec.required,
                    "lookup": spec.lookup,
                    "choices": list(spec.choices),
                    "help": str(spec.help),
                }
                for spec in kind.fields
            ],
        }
        for kind in KINDS.values()
    ]
