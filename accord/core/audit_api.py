"""REST API of the audit log: every write made through a service, as the caller may see it."""

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router
from ninja.pagination import paginate

from accord.core import selectors
from accord.core.schemas import AuditEntryFilter, AuditEntryOut, Pagination, error_responses

router = Router(tags=["audit"])


@router.get(
    "/audit",
    response={200: list[AuditEntryOut], **error_responses(422)},
    operation_id="audit_list",
)
@paginate(Pagination)
def audit_list(request: HttpRequest, filters: Query[AuditEntryFilter]) -> Any:
    """Audit entries, newest first. Partner staff see their own organisations' entries only;
    vendor master data (territories) is visible to vendor staff."""
    return selectors.search_audit_entries(request.auth, **filters.model_dump())
