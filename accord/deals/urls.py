"""Deal registration pages under /deals/."""

from django.urls import path, re_path

import accord.core.converters  # noqa: F401  (registers the <id:...> converter)
from accord.deals import views

app_name = "deals"
urlpatterns = [
    path("", views.registration_list, name="registration_list"),
    re_path(r"^export\.(?P<fmt>csv|xlsx)$", views.registration_export, name="registration_export"),
    path("new/", views.registration_new, name="registration_new"),
    path("similar/", views.similar, name="similar"),
    path("queue/", views.approval_queue, name="approval_queue"),
    path("rules/", views.rules_edit, name="rules"),
    path("customers/", views.customer_list, name="customer_list"),
    path("customers/new/", views.customer_new, name="customer_new"),
    path("customers/<id:pk>/", views.customer_edit, name="customer_edit"),
    path("<id:pk>/", views.registration_detail, name="registration_detail"),
    path("<id:pk>/edit/", views.registration_edit, name="registration_edit"),
    path("<id:pk>/act/", views.registration_action, name="registration_action"),
    path(
        "<id:pk>/conflicts/<id:conflict_id>/resolve/",
        views.conflict_resolve,
        name="conflict_resolve",
    ),
]
