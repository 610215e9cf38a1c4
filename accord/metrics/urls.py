"""Pages of accord.metrics: the KPI table, its exports, one organisation's KPI charts."""

from django.urls import path, re_path

import accord.core.converters  # noqa: F401  (registers the <id:...> converter)
from accord.metrics import views

app_name = "metrics"
urlpatterns = [
    path("", views.kpi_table, name="kpi_table"),
    re_path(r"^export\.(?P<fmt>csv|xlsx)$", views.kpi_export, name="kpi_export"),
    path("organisation/<id:pk>/", views.organisation_kpis, name="organisation_kpis"),
    path("plotly.min.js", views.plotly_js, name="plotly_js"),
]
