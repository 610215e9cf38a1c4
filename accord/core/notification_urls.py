"""The notification inbox: each user's own messages, marked read one by one or all at once."""

from django.urls import path

import accord.core.converters  # noqa: F401  (registers the <id:...> converter)
from accord.core import notification_views as views

app_name = "notifications"
urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("read-all/", views.mark_all_read, name="mark_all_read"),
    path("<id:pk>/read/", views.mark_read, name="mark_read"),
]
