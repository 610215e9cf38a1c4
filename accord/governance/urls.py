"""Governance pages under /governance/."""

from django.urls import path

import accord.core.converters  # noqa: F401  (registers the <id:...> converter)
from accord.governance import views

app_name = "governance"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
]
