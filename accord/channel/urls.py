"""Pages of accord.channel."""

from django.urls import path  # noqa: F401

app_name = "channel"
urlpatterns: list = []
