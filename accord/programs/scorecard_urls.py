"""Pages of scorecards: list, one scorecard, its editor, one organisation's scores."""

from django.urls import path

import accord.core.converters  # noqa: F401  (registers the <id:...> converter)
from accord.programs import scorecard_views as views

app_name = "scorecards"
urlpatterns = [
    path("", views.scorecard_list, name="scorecard_list"),
    path("new/", views.scorecard_create, name="scorecard_create"),
    path("<slug:code>/", views.scorecard_detail, name="scorecard_detail"),
    path("<slug:code>/edit/", views.scorecard_edit, name="scorecard_edit"),
    path("<slug:code>/score/", views.scorecard_score, name="scorecard_score"),
    path(
        "<slug:code>/organisations/<id:pk>/",
        views.scorecard_organisation,
        name="scorecard_organisation",
    ),
]
