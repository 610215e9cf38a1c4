"""Lead pages under /leads/."""

from django.urls import path, re_path

import accord.core.converters  # noqa: F401  (registers the <id:...> converter)
from accord.leads import views

app_name = "leads"
urlpatterns = [
    path("", views.lead_list, name="lead_list"),
    re_path(r"^export\.(?P<fmt>csv|xlsx)$", views.lead_export, name="lead_export"),
    path("new/", views.lead_new, name="lead_new"),
    path("rules/", views.rules_edit, name="rules"),
    path("settings/", views.lead_settings, name="settings"),
    path("<id:pk>/", views.lead_detail, name="lead_detail"),
    path("<id:pk>/accept/", views.lead_accept, name="lead_accept"),
    path("<id:pk>/decline/", views.lead_decline, name="lead_decline"),
    path("<id:pk>/assign/", views.lead_assign, name="lead_assign"),
    path("<id:pk>/route/", views.lead_route, name="lead_route"),
    path("<id:pk>/close/", views.lead_close, name="lead_close"),
]
