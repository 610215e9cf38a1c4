"""Admin registrations for people, roles and tokens."""

from django.contrib import admin

from accord.accounts.models import ApiToken, Role, User
from accord.core.admin import RestrictedAdmin


@admin.register(User)
class UserAdmin(RestrictedAdmin):
    list_display = ["email", "full_name", "organisation", "is_active"]
    search_fields = ["email", "full_name"]
    raw_id_fields = ["organisation"]
    filter_horizontal = ["roles"]
    exclude = ["password", "territories"]


@admin.register(ApiToken)
class ApiTokenAdmin(RestrictedAdmin):
    list_display = ["name", "prefix", "user", "created_at", "last_used_at", "revoked_at"]
    exclude = ["key_hash"]
    readonly_fields = ["prefix", "user", "created_at", "last_used_at"]


@admin.register(Role)
class RoleAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "for_partners", "scope"]
