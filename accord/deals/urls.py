"""Deal registration pages under /deals/."""

from django.urls import path

from accord.deals import views

app_name = "deals"
urlpatterns = [
    path("", views.registration_list, name="registration_list"),
]
