"""Governance pages under /governance/."""

from django.urls import path

import accord.core.converters  # noqa: F401  (registers the <id:...> converter)
from accord.governance import views, views_calendar, views_survey

app_name = "governance"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    # The meeting calendar and its .ics feed (meetings-issues).
    path("calendar/", views_calendar.calendar_page, name="calendar"),
    path("calendar.ics", views_calendar.calendar_ics, name="calendar_ics"),
    path("calendar/<str:key>.ics", views_calendar.calendar_feed, name="calendar_feed"),
    # One relationship (its id is the organisation's) and its tabs' forms (relationship-ui).
    path("relationships/", views.relationship_list, name="relationship_list"),
    path("relationships/<id:pk>/", views.relationship_detail, name="relationship_detail"),
    path("relationships/<id:pk>/edit/", views.relationship_edit, name="relationship_edit"),
    path("relationships/<id:pk>/roles/", views.roles_set, name="roles_set"),
    path("relationships/<id:pk>/slots/", views.slot_set, name="slot_set"),
    path(
        "relationships/<id:pk>/slots/<id:slot_pk>/delete/",
        views.slot_delete,
        name="slot_delete",
    ),
    path("relationships/<id:pk>/key-people/", views.key_person_add, name="key_person_add"),
    path(
        "relationships/<id:pk>/key-people/<id:key_pk>/remove/",
        views.key_person_remove,
        name="key_person_remove",
    ),
    path("relationships/<id:pk>/cadence/apply/", views.cadence_apply, name="cadence_apply"),
    path("relationships/<id:pk>/meetings/new/", views.meeting_new, name="meeting_new"),
    path("relationships/<id:pk>/health/open/", views.health_open, name="health_open"),
    path("relationships/<id:pk>/onboarding/new/", views.onboarding_new, name="onboarding_new"),
    path("tasks/<id:pk>/done/", views.task_done, name="task_done"),
    # The public health-check page: no login, the signed link is the credential (health).
    path("survey/<str:token>/", views_survey.survey_answer, name="survey"),
]
