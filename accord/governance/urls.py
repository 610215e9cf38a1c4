"""Governance pages under /governance/."""

from django.urls import path

import accord.core.converters  # noqa: F401  (registers the <id:...> converter)
from accord.governance import views, views_admin, views_calendar, views_survey

app_name = "governance"
urlpatterns = [
    # The dashboard, issues, meetings, coverage, handovers, templates and settings (pages).
    path("", views_admin.dashboard, name="dashboard"),
    path("issues/", views_admin.issue_list, name="issue_list"),
    path("issues/export.csv", views_admin.issue_export, name="issue_export"),
    path("issues/new/", views_admin.issue_new, name="issue_new"),
    path("issues/<id:pk>/", views_admin.issue_detail, name="issue_detail"),
    path("issues/<id:pk>/respond/", views_admin.issue_respond, name="issue_respond"),
    path("issues/<id:pk>/comment/", views_admin.issue_comment, name="issue_comment"),
    path("issues/<id:pk>/assign/", views_admin.issue_assign, name="issue_assign"),
    path("issues/<id:pk>/resolve/", views_admin.issue_resolve, name="issue_resolve"),
    path("issues/<id:pk>/reopen/", views_admin.issue_reopen, name="issue_reopen"),
    path("issues/<id:pk>/attach/", views_admin.issue_attach, name="issue_attach"),
    path("attachments/<id:pk>/", views_admin.attachment_download, name="attachment_download"),
    path("meetings/<id:pk>/", views_admin.meeting_detail, name="meeting_detail"),
    path("meetings/<id:pk>/record/", views_admin.meeting_record, name="meeting_record"),
    path("meetings/<id:pk>/actions/", views_admin.meeting_add_action, name="meeting_add_action"),
    path("meetings/<id:pk>/cancel/", views_admin.meeting_cancel, name="meeting_cancel"),
    path("actions/<id:pk>/done/", views_admin.action_done, name="action_done"),
    path("coverage/", views_admin.coverage, name="coverage"),
    path("handovers/", views_admin.handover_list, name="handover_list"),
    path("handovers/new/", views_admin.handover_new, name="handover_new"),
    path("handovers/<id:pk>/", views_admin.handover_detail, name="handover_detail"),
    path("settings/", views_admin.settings_page, name="settings"),
    path("cadences/", views_admin.cadence_templates, name="cadence_templates"),
    path("cadences/<id:pk>/", views_admin.cadence_templates, name="cadence_template_edit"),
    path("slas/", views_admin.slas, name="slas"),
    path("onboarding-templates/", views_admin.onboarding_templates, name="onboarding_templates"),
    path(
        "onboarding-templates/<id:pk>/",
        views_admin.onboarding_templates,
        name="onboarding_template_edit",
    ),
    path("courses/", views_admin.courses, name="courses"),
    path("courses/<id:pk>/", views_admin.courses, name="course_edit"),
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
