"""Pages of accord.programs: programs, their editor, evaluations, results, tier history."""

from django.urls import path, re_path

import accord.core.converters  # noqa: F401  (registers the <id:...> converter)
from accord.programs import views, whatif_views

app_name = "programs"
urlpatterns = [
    path("", views.program_list, name="program_list"),
    path("new/", views.program_create, name="program_create"),
    path("<slug:code>/settings/", views.program_settings, name="program_settings"),
    path("<slug:code>/", views.program_detail, name="program_detail"),
    path("<slug:code>/evaluate/", views.program_evaluate, name="program_evaluate"),
    path("<slug:code>/edit/", views.draft_edit, name="draft_edit"),
    path("<slug:code>/publish/", views.draft_publish, name="draft_publish"),
    path("<slug:code>/discard/", views.draft_discard, name="draft_discard"),
    path("<slug:code>/runs/", views.run_list, name="run_list"),
    path("<slug:code>/runs/<id:pk>/", views.run_detail, name="run_detail"),
    re_path(
        r"^(?P<code>[-a-zA-Z0-9_]+)/runs/(?P<pk>[0-9]{1,18})/export\.(?P<fmt>csv|xlsx)$",
        views.run_export,
        name="run_export",
    ),
    path(
        "<slug:code>/runs/<id:pk>/why/<id:organisation_id>/",
        views.result_why,
        name="result_why",
    ),
    # Notifications link here (accord.programs.warnings): keep the path.
    path("<slug:code>/organisations/<id:pk>/", views.organisation_program, name="organisation"),
    path("<slug:code>/organisations/<id:pk>/override/", views.override_set, name="override"),
    path(
        "<slug:code>/organisations/<id:pk>/override/end/",
        views.override_end,
        name="override_end",
    ),
    # The what-if page has its own module (whatif_views.py).
    path("<slug:code>/what-if/", whatif_views.what_if, name="what_if"),
]
