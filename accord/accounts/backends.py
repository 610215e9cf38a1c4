"""Authentication backend: e-mail login, permissions come from roles only."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend

from accord.accounts.models import User


class RoleBackend(ModelBackend):
    def authenticate(
        self,
        request: Any,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        email = (username or kwargs.get("email") or "").strip().lower()
        if not email or password is None:
            return None
        user = User.objects.select_related("organisation").filter(email=email).first()
        if user is None:
            User().set_password(password)  # same work either way: no user enumeration by timing
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None

    def get_user(self, user_id: int) -> User | None:
        user = User.objects.select_related("organisation").filter(pk=user_id).first()
        return user if user and self.user_can_authenticate(user) else None

    # Permissions live on the user model (roles); the backend adds nothing of its own.
    def get_user_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        return set()

    def get_group_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        return set()

    def get_all_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        return set()

    def has_perm(self, user_obj: Any, perm: str, obj: Any = None) -> bool:
        return False
