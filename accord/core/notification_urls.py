"""The notification inbox: each user's own messages."""

from django.urls import path

from accord.core import notification_views as views

app_name = "notifications"
urlpatterns = [
    path("", views.inbox, name="inbox"),
]
