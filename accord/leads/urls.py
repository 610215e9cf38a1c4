"""Lead pages under /leads/."""

from django.urls import path

from accord.leads import views

app_name = "leads"
urlpatterns = [
    path("", views.lead_list, name="lead_list"),
]
