"""Pages of accord.imports: history, upload with preview, one import and its rollback."""

from django.urls import path

import accord.core.converters  # noqa: F401  (registers the <id:...> converter)
from accord.imports import views

app_name = "imports"
urlpatterns = [
    path("", views.import_list, name="import_list"),
    path("new/", views.import_new, name="import_new"),
    path("staged/<str:token>/", views.import_preview, name="import_preview"),
    path(
        "staged/<str:token>/report.csv", views.import_preview_report, name="import_preview_report"
    ),
    path("<id:pk>/", views.batch_detail, name="batch_detail"),
    path("<id:pk>/report.csv", views.batch_report, name="batch_report"),
    path("<id:pk>/rollback/", views.batch_rollback, name="batch_rollback"),
]
