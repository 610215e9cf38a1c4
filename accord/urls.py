"""Root URLconf: pages, the API, the admin and language switching."""

from django.contrib import admin
from django.urls import include, path

from accord.api import api

urlpatterns = [
    path("api/", api.urls),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("accord.accounts.urls")),
    path("channel/", include("accord.channel.urls")),
    path("imports/", include("accord.imports.urls")),
    path("kpis/", include("accord.metrics.urls")),
    path("programs/", include("accord.programs.urls")),
    path("scorecards/", include("accord.programs.scorecard_urls")),
    path("deals/", include("accord.deals.urls")),
    path("leads/", include("accord.leads.urls")),
    path("governance/", include("accord.governance.urls")),
    path("notifications/", include("accord.core.notification_urls")),
    path("", include("accord.partners.urls")),
]

handler404 = "accord.core.views.page_not_found"
handler403 = "accord.core.views.permission_denied"
handler400 = "accord.core.views.bad_request"
handler500 = "accord.core.views.server_error"
