"""Pages of accord.partners: organisations, contacts, agreements and territories."""

from django.urls import path

import accord.core.converters  # noqa: F401  (registers the <id:...> converter)
from accord.partners import views

app_name = "partners"
urlpatterns = [
    path("", views.home, name="home"),
    path("organisations/", views.organisation_list, name="organisation_list"),
    path("organisations/new/", views.organisation_create, name="organisation_create"),
    path("organisations/<id:pk>/", views.organisation_detail, name="organisation_detail"),
    path("organisations/<id:pk>/edit/", views.organisation_edit, name="organisation_edit"),
    path(
        "organisations/<id:pk>/transition/",
        views.organisation_transition,
        name="organisation_transition",
    ),
    path("organisations/<id:pk>/contacts/new/", views.contact_create, name="contact_create"),
    path("organisations/<id:pk>/agreements/new/", views.agreement_create, name="agreement_create"),
    path(
        "organisations/<id:pk>/territories/add/", views.assignment_create, name="assignment_create"
    ),
    path("contacts/<id:pk>/edit/", views.contact_edit, name="contact_edit"),
    path("contacts/<id:pk>/delete/", views.contact_delete, name="contact_delete"),
    path("agreements/<id:pk>/", views.agreement_detail, name="agreement_detail"),
    path("agreements/<id:pk>/edit/", views.agreement_edit, name="agreement_edit"),
    path("agreements/<id:pk>/transition/", views.agreement_transition, name="agreement_transition"),
    path(
        "territory-assignments/<id:pk>/remove/", views.assignment_delete, name="assignment_delete"
    ),
    path("territories/", views.territory_list, name="territory_list"),
    path("territories/new/", views.territory_create, name="territory_create"),
    path("territories/<id:pk>/edit/", views.territory_edit, name="territory_edit"),
    path("territories/<id:pk>/delete/", views.territory_delete, name="territory_delete"),
]
