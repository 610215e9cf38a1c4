"""Pages of accord.accounts: sign-in and password flows, API tokens, users."""

from django.urls import path

import accord.core.converters  # noqa: F401  (registers the <id:...> converter)
from accord.accounts import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("password-reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path("password-reset/sent/", views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "password-reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password-reset/complete/",
        views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("password-change/", views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "password-change/done/", views.PasswordChangeDoneView.as_view(), name="password_change_done"
    ),
    path("tokens/", views.token_list, name="token_list"),
    path("tokens/<id:pk>/revoke/", views.token_revoke, name="token_revoke"),
    path("users/", views.user_list, name="user_list"),
    path("users/new/", views.user_create, name="user_create"),
    path("users/<id:pk>/", views.user_detail, name="user_detail"),
    path("users/<id:pk>/edit/", views.user_edit, name="user_edit"),
]
