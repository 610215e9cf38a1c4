"""Account pages: throttled login, logout, password reset and change, API tokens, users."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accord.accounts import selectors, services
from accord.accounts.forms import TokenForm, UserFilterForm, UserForm
from accord.core.errors import PermissionDenied, ValidationError
from accord.core.forms import add_service_errors

USER_PAGE_SIZE = 50


def _client_address(request: HttpRequest) -> str:
    return str(request.META.get("REMOTE_ADDR") or "unknown")


def _login_name(request: HttpRequest) -> str:
    # Cache keys stay short and printable whatever was typed (no e-mail is longer).
    value = str(request.POST.get("username", "")).strip().lower()[:200]
    return "".join(ch for ch in value if ch.isprintable() and not ch.isspace())


class LoginView(auth_views.LoginView):
    """Django's login, refused for a while after too many failures (per e-mail and client)."""

    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if services.login_throttled(_login_name(request), _client_address(request)):
            form = self.get_form_class()(request, initial={"username": _login_name(request)})
            minutes = max(1, settings.ACCORD_LOGIN_WINDOW_SECONDS // 60)
            context = self.get_context_data(form=form, throttled=True, minutes=minutes)
            return self.render_to_response(context, status=429)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form: Any) -> HttpResponse:
        services.register_login_failure(_login_name(self.request), _client_address(self.request))
        return super().form_invalid(form)

    def form_valid(self, form: Any) -> HttpResponse:
        services.clear_login_failures(_login_name(self.request), _client_address(self.request))
        response = super().form_valid(form)
        language = form.get_user().language
        if language in dict(settings.LANGUAGES):
            # The user's saved language wins over the browser's from now on.
            response.set_cookie(
                settings.LANGUAGE_COOKIE_NAME,
                language,
                max_age=settings.LANGUAGE_COOKIE_AGE,
                samesite="Lax",
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=False,
            )
        return response


class LogoutView(auth_views.LogoutView):
    pass


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "registration/password_reset_form.html"
    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "registration/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "registration/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "registration/password_reset_complete.html"


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "registration/password_change_form.html"
    success_url = reverse_lazy("accounts:password_change_done")


class PasswordChangeDoneView(auth_views.PasswordChangeDoneView):
    template_name = "registration/password_change_done.html"


# -- API tokens --------------------------------------------------------------------
@login_required
def token_list(request: HttpRequest) -> HttpResponse:
    """The user's own tokens; POST creates one and shows its secret on this response only."""
    user = request.user
    form = TokenForm(request.POST if request.method == "POST" else None)
    created = raw = None
    if request.method == "POST":
        if not user.has_perm("accounts.add_apitoken"):
            raise PermissionDenied
        if form.is_valid():
            try:
                created, raw = services.create_api_token(
                    actor=user,
                    user=user,
                    name=form.cleaned_data["name"],
                    expires_at=form.expires_at(),
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                form = TokenForm()
    response = render(
        request,
        "accounts/token_list.html",
        {
            "nav": "tokens",
            "form": form,
            "tokens": selectors.list_own_tokens(user),
            "created": created,
            "raw_token": raw,
        },
    )
    if raw:
        # The secret must not linger in any cache.
        response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = selectors.get_own_token(request.user, pk)
    services.revoke_api_token(actor=request.user, token=token)
    messages.success(request, _("Token %(name)s was revoked.") % {"name": token.name})
    return redirect("accounts:token_list")


# -- users ----------------------------------------------------------------------------
def _require_perm(request: HttpRequest, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied


@login_required
def user_list(request: HttpRequest) -> HttpResponse:
    _require_perm(request, "accounts.view_user")
    form = UserFilterForm(request.GET or None)
    q = form.cleaned_data.get("q", "") if form.is_valid() else ""
    page = Paginator(selectors.list_users(request.user, q=q), USER_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "accounts/user_list.html",
        {
            "nav": "users",
            "form": form,
            "page_obj": page,
            "users": page.object_list,
        },
    )


@login_required
def user_detail(request: HttpRequest, pk: int) -> HttpResponse:
    shown = selectors.get_user(request.user, pk)
    return render(request, "accounts/user_detail.html", {"nav": "users", "shown": shown})


@login_required
def user_create(request: HttpRequest) -> HttpResponse:
    _require_perm(request, "accounts.add_user")
    form = UserForm(
        request.POST if request.method == "POST" else None,
        actor=request.user,
        initial={"organisation": request.user.organisation_id, "is_active": True},
    )
    if request.method == "POST" and form.is_valid():
        try:
            created = services.create_user(
                actor=request.user,
                organisation=form.cleaned_data["organisation"],
                data=form.service_data(),
                roles=form.role_codes(),
                password=form.cleaned_data.get("password") or None,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("User %(email)s was created.") % {"email": created.email})
            return redirect("accounts:user_detail", pk=created.pk)
    return render(
        request,
        "accounts/user_form.html",
        {
            "nav": "users",
            "form": form,
            "shown": None,
        },
    )


@login_required
def user_edit(request: HttpRequest, pk: int) -> HttpResponse:
    shown = selectors.get_user(request.user, pk, "change")
    form = UserForm(
        request.POST if request.method == "POST" else None, actor=request.user, instance=shown
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.update_user(
                actor=request.user,
                user=shown,
                data=form.service_data(),
                roles=form.role_codes(),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Your changes were saved."))
            return redirect("accounts:user_detail", pk=shown.pk)
    return render(
        request,
        "accounts/user_form.html",
        {
            "nav": "users",
            "form": form,
            "shown": shown,
        },
    )
