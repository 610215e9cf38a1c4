"""Pages of accord.programs: programs, their editor, evaluations, results, tier history."""

from django.urls import path

import accord.core.converters  # noqa: F401  (registers the <id:...> converter)
from accord.programs import views, whatif_views

app_name = "programs"
urlpatterns = [
    path("", views.program_list, name="program_list"),
    # The what-if page has its own module (whatif_views.py).
    path("<slug:code>/what-if/", whatif_views.what_if, name="what_if"),
]
