"""Admin registrations for partners (read through restrict())."""

from django.contrib import admin

from accord.core.admin import RestrictedAdmin
from accord.partners.models import Agreement, AgreementTarget, Contact, Organisation, Territory


class ContactInline(admin.TabularInline):
    model = Contact
    extra = 0


class TargetInline(admin.TabularInline):
    model = AgreementTarget
    extra = 0


@admin.register(Organisation)
class OrganisationAdmin(RestrictedAdmin):
    list_display = ["name", "kind", "status", "country", "parent"]
    list_filter = ["kind", "status", "country"]
    search_fields = ["name", "legal_name", "tax_id", "website_domain"]
    raw_id_fields = ["parent"]
    inlines = [ContactInline]


@admin.register(Territory)
class TerritoryAdmin(RestrictedAdmin):
    list_display = ["code", "name", "level", "parent"]
    list_filter = ["level"]
    search_fields = ["code", "name"]


@admin.register(Agreement)
class AgreementAdmin(RestrictedAdmin):
    list_display = ["reference", "organisation", "type", "status", "start_on", "end_on"]
    list_filter = ["type", "status"]
    raw_id_fields = ["organisation"]
    inlines = [TargetInline]
