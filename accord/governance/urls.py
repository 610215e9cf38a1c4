"""Governance pages under /governance/."""

from django.urls import path

import accord.core.converters  # noqa: F401  (registers the <id:...> converter)
from accord.governance import views, views_calendar

app_name = "governance"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    # The meeting calendar and its .ics feed (meetings-issues).
    path("calendar/", views_calendar.calendar_page, name="calendar"),
    path("calendar.ics", views_calendar.calendar_ics, name="calendar_ics"),
    path("calendar/<str:key>.ics", views_calendar.calendar_feed, name="calendar_feed"),
]
