"""The REST API under /api/v1/: one NinjaAPI mounting each app's router."""

from __future__ import annotations

from ninja import NinjaAPI

from accord.accounts.auth import BearerTokenAuth
from accord.core.api import SessionAuth, install_error_handlers

api = NinjaAPI(
    title="Accord API",
    version="1",
    description=(
        "Partner, dealer and supplier relationship management. Authenticate with an API "
        "token (`Authorization: Bearer acc_...`) or the browser session. Errors are "
        '`{"error": code, "detail": message, "fields": {...}}`.'
    ),
    auth=[BearerTokenAuth(), SessionAuth()],
    urls_namespace="api",
    openapi_url="/openapi.json",
    docs_url="/docs",
)
install_error_handlers(api)


def _mount() -> None:
    from accord.accounts.api import router as accounts_router
    from accord.channel.api import router as channel_router
    from accord.core.audit_api import router as audit_router
    from accord.core.notifications_api import router as notifications_router
    from accord.deals.api import router as deals_router
    from accord.governance.api import router as governance_router
    from accord.imports.api import router as imports_router
    from accord.leads.api import router as leads_router
    from accord.metrics.api import router as metrics_router
    from accord.partners.api import router as partners_router
    from accord.programs.api import router as programs_router

    api.add_router("/v1/", partners_router)
    api.add_router("/v1/", accounts_router)
    api.add_router("/v1/", audit_router)
    api.add_router("/v1/", channel_router)
    api.add_router("/v1/", imports_router)
    api.add_router("/v1/", metrics_router)
    api.add_router("/v1/", programs_router)
    api.add_router("/v1/", notifications_router)
    api.add_router("/v1/", deals_router)
    api.add_router("/v1/", leads_router)
    api.add_router("/v1/", governance_router)


_mount()
