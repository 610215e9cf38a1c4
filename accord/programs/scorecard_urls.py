"""Pages of scorecards and the what-if comparison (accord.programs)."""

from django.urls import path

import accord.core.converters  # noqa: F401  (registers the <id:...> converter)
from accord.programs import scorecard_views as views

app_name = "scorecards"
urlpatterns = [
    path("", views.scorecard_list, name="scorecard_list"),
]
