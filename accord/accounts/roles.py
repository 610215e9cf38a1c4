"""The built-in roles: what each may do (permissions) and which rows it reaches (scope)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

CHANNEL_VIEW = [
    "channel.view_product",
    "channel.view_productcategory",
    "channel.view_exchangerate",
    "channel.view_salesline",
    "channel.view_salesrollup",
    "channel.view_inventorysnapshot",
    "channel.view_delivery",
    "channel.view_surveyresponse",
    "channel.view_certification",
    "metrics.view_metricdefinition",
    "metrics.view_kpirun",
    "metrics.view_kpivalue",
    "imports.view_importbatch",
]
# Programs, tiers and scorecards as anyone in scope may read them: partners see the rules,
# and (through restrict) only their own memberships, results, history, warnings and scores.
PROGRAMS_VIEW = [
    "programs.view_program",
    "programs.view_programversion",
    "programs.view_tier",
    "programs.view_criterion",
    "programs.view_membership",
    "programs.view_evaluationresult",
    "programs.view_tierchange",
    "programs.view_warning",
    "programs.view_scorecardtemplate",
    "programs.view_scorecardcriterion",
    "programs.view_standing",
    "programs.view_score",
]
# Evaluation runs summarise every organisation: vendor staff only.
RUNS_VIEW = ["programs.view_evaluationrun"]
PROGRAMS_EDIT = [
    "programs.add_program",
    "programs.change_program",
    "programs.publish_program",
    "programs.evaluate_program",
    "programs.override_program",
    "programs.add_scorecardtemplate",
    "programs.change_scorecardtemplate",
    "programs.score_scorecardtemplate",
]
# Deal registrations and leads as partners see them: through restrict, only their own
# registrations (and the bare fact of a conflict), the leads offered to them and the
# routing events about them.
DEALS_VIEW = [
    "deals.view_registration",
    "deals.view_registrationline",
    "deals.view_conflict",
    "deals.view_engagementrules",
    "leads.view_lead",
    "leads.view_routingevent",
]
# What only vendor staff read: resolved end customers, routing rules, lead settings and the
# governance settings.
DEALS_STAFF_VIEW = [
    "governance.view_governancesettings",
    "deals.view_endcustomer",
    "leads.view_routingrule",
    "leads.view_leadsettings",
]
DEALS_REGISTER = ["deals.add_registration", "deals.change_registration"]
LEADS_RESPOND = ["leads.respond_lead", "leads.change_lead"]
DEALS_DECIDE = [
    "deals.decide_registration",
    "deals.manage_engagement",
    "deals.change_engagementrules",
    "deals.add_endcustomer",
    "deals.change_endcustomer",
    "deals.change_conflict",
]
LEADS_ROUTE = [
    "leads.add_lead",
    "leads.change_lead",
    "leads.route_lead",
    "leads.add_routingrule",
    "leads.change_routingrule",
    "leads.delete_routingrule",
    "leads.change_leadsettings",
]
# Governance as anyone in scope reads it: partners, through restrict, only their own
# relationship (and of health checks only their own side's answers).
GOVERNANCE_VIEW = [
    "governance.view_relationship",
    "governance.view_roleassignment",
    "governance.view_contactslot",
    "governance.view_keyperson",
    "governance.view_cadencetemplate",
    "governance.view_meeting",
    "governance.view_actionitem",
    "governance.view_issue",
    "governance.view_issueevent",
    "governance.view_issueattachment",
    "governance.view_severitysla",
    "governance.view_healthsurvey",
    "governance.view_healthresponse",
    "governance.view_onboardingtemplate",
    "governance.view_onboardingplan",
    "governance.view_onboardingtask",
    "governance.view_course",
    "governance.view_certificationrequirement",
    "governance.view_handover",
]
# What partner staff do on their side: raise and answer issues, attach files, record
# meetings they attend, complete their action items and onboarding tasks, name their
# side of the contact map and their key people. Services keep them to their own side.
GOVERNANCE_PARTNER = [
    "governance.add_issue",
    "governance.change_issue",
    "governance.add_issueattachment",
    "governance.change_meeting",
    "governance.add_actionitem",
    "governance.change_actionitem",
    "governance.change_onboardingtask",
    "governance.change_contactslot",
    "governance.add_keyperson",
    "governance.change_keyperson",
]
# Running governance of the relationships: structure, cadence, health checks, issue
# resolution, handovers and onboarding.
GOVERNANCE_RUN = [
    *GOVERNANCE_PARTNER,
    "governance.add_relationship",
    "governance.change_relationship",
    "governance.add_roleassignment",
    "governance.change_roleassignment",
    "governance.delete_roleassignment",
    "governance.add_contactslot",
    "governance.delete_contactslot",
    "governance.delete_keyperson",
    "governance.add_meeting",
    "governance.delete_actionitem",
    "governance.resolve_issue",
    "governance.add_healthsurvey",
    "governance.change_healthsurvey",
    "governance.add_handover",
    "governance.view_governancesettings",
    "governance.add_onboardingplan",
    "governance.change_onboardingplan",
    "governance.add_onboardingtask",
]
# Network-wide templates and settings: cadences, SLAs, onboarding, courses, requirements.
GOVERNANCE_MANAGE = [
    "governance.manage_governance",
    "governance.view_governancesettings",
    "governance.change_governancesettings",
    *[
        f"governance.{action}_{model}"
        for model in (
            "cadencetemplate",
            "severitysla",
            "onboardingtemplate",
            "course",
            "certificationrequirement",
        )
        for action in ("add", "change", "delete")
    ],
]
VIEW_ALL = [
    *CHANNEL_VIEW,
    *PROGRAMS_VIEW,
    *DEALS_VIEW,
    *GOVERNANCE_VIEW,
    "partners.view_organisation",
    "partners.view_contact",
    "partners.view_territory",
    "partners.view_territoryassignment",
    "partners.view_agreement",
    "partners.view_agreementtarget",
    "core.view_auditentry",
]
ORGANISATIONS_EDIT = [
    "partners.add_organisation",
    "partners.change_organisation",
    "partners.transition_organisation",
    "partners.add_contact",
    "partners.change_contact",
    "partners.delete_contact",
]
AGREEMENTS_EDIT = [
    "partners.add_agreement",
    "partners.change_agreement",
    "partners.transition_agreement",
    "partners.add_agreementtarget",
    "partners.change_agreementtarget",
    "partners.delete_agreementtarget",
]
TERRITORY_EDIT = [
    "partners.add_territory",
    "partners.change_territory",
    "partners.delete_territory",
    "partners.add_territoryassignment",
    "partners.delete_territoryassignment",
]
USERS_ADMIN = [
    "accounts.view_user",
    "accounts.add_user",
    "accounts.change_user",
    "accounts.view_apitoken",
    "accounts.delete_apitoken",
]
OWN_TOKENS = ["accounts.add_apitoken"]
# Importing a kind needs imports.add_importbatch plus add/change on the kind's model.
CHANNEL_EDIT = [
    f"channel.{action}_{model}"
    for model in (
        "product",
        "productcategory",
        "exchangerate",
        "salesline",
        "inventorysnapshot",
        "delivery",
        "surveyresponse",
        "certification",
    )
    for action in ("add", "change")
] + [
    "imports.add_importbatch",
    "imports.rollback_importbatch",
    "metrics.add_metricdefinition",
    "metrics.change_metricdefinition",
    "metrics.add_kpirun",
]
# What partner staff may send about themselves: their sell-through, stock and certificates.
PARTNER_DATA_EDIT = [
    "channel.add_salesline",
    "channel.change_salesline",
    "channel.add_inventorysnapshot",
    "channel.change_inventorysnapshot",
    "channel.add_certification",
    "channel.change_certification",
    "imports.add_importbatch",
    "imports.rollback_importbatch",
]

# code: (English name, for partners, scope, permissions)
BUILTIN_ROLES: dict[str, tuple[str, bool, str, list[str]]] = {
    "administrator": (
        "Administrator",
        False,
        "all",
        VIEW_ALL
        + ORGANISATIONS_EDIT
        + AGREEMENTS_EDIT
        + TERRITORY_EDIT
        + USERS_ADMIN
        + OWN_TOKENS
        + CHANNEL_EDIT
        + RUNS_VIEW
        + DEALS_STAFF_VIEW
        + PROGRAMS_EDIT
        + DEALS_REGISTER
        + DEALS_DECIDE
        + LEADS_ROUTE
        + GOVERNANCE_RUN
        + GOVERNANCE_MANAGE
        # Held so the administrator may grant the partner roles (nobody grants what they
        # do not hold); answering an offer on a partner's behalf is an administrator's call.
        + ["leads.respond_lead"]
        + ["partners.delete_organisation", "partners.delete_agreement"],
    ),
    "executive": ("Executive", False, "all", VIEW_ALL + RUNS_VIEW + DEALS_STAFF_VIEW + OWN_TOKENS),
    "channel_manager": (
        "Channel manager",
        False,
        "all",
        VIEW_ALL
        + ORGANISATIONS_EDIT
        + AGREEMENTS_EDIT
        + ["partners.add_territoryassignment", "partners.delete_territoryassignment"]
        + CHANNEL_EDIT
        + RUNS_VIEW
        + DEALS_STAFF_VIEW
        + PROGRAMS_EDIT
        + DEALS_REGISTER
        + DEALS_DECIDE
        + LEADS_ROUTE
        + GOVERNANCE_RUN
        + GOVERNANCE_MANAGE
        + OWN_TOKENS,
    ),
    "partner_account_manager": (
        "Partner account manager",
        False,
        "all",
        VIEW_ALL
        + [
            "partners.change_organisation",
            "partners.add_contact",
            "partners.change_contact",
            "partners.delete_contact",
        ]
        + AGREEMENTS_EDIT
        + RUNS_VIEW
        + DEALS_STAFF_VIEW
        + ["programs.override_program"]
        + DEALS_REGISTER
        + ["deals.decide_registration", "deals.change_conflict"]
        + ["leads.add_lead", "leads.change_lead", "leads.route_lead"]
        + GOVERNANCE_RUN
        + OWN_TOKENS,
    ),
    "regional_coordinator": (
        "Regional coordinator",
        False,
        "territory",
        VIEW_ALL
        + ["partners.change_organisation", "partners.add_contact", "partners.change_contact"]
        + RUNS_VIEW
        + DEALS_STAFF_VIEW
        + GOVERNANCE_RUN
        + OWN_TOKENS,
    ),
    "commercial_manager": (
        "Commercial manager",
        False,
        "all",
        VIEW_ALL + AGREEMENTS_EDIT + RUNS_VIEW + DEALS_STAFF_VIEW + GOVERNANCE_RUN + OWN_TOKENS,
    ),
    "service_delivery_manager": (
        "Service-delivery manager",
        False,
        "all",
        VIEW_ALL
        + ["partners.add_contact", "partners.change_contact"]
        + RUNS_VIEW
        + DEALS_STAFF_VIEW
        + GOVERNANCE_RUN
        + OWN_TOKENS,
    ),
    "transformation_manager": (
        "Transformation manager",
        False,
        "all",
        VIEW_ALL + RUNS_VIEW + DEALS_STAFF_VIEW + GOVERNANCE_RUN + OWN_TOKENS,
    ),
    "analyst": ("Analyst", False, "all", VIEW_ALL + RUNS_VIEW + DEALS_STAFF_VIEW + OWN_TOKENS),
    "partner_admin": (
        "Partner administrator",
        True,
        "organisation",
        VIEW_ALL
        + [
            "partners.change_organisation",
            "partners.add_contact",
            "partners.change_contact",
            "partners.delete_contact",
        ]
        + USERS_ADMIN
        + PARTNER_DATA_EDIT
        + DEALS_REGISTER
        + LEADS_RESPOND
        + GOVERNANCE_PARTNER
        + OWN_TOKENS,
    ),
    "partner_sales": (
        "Partner sales",
        True,
        "organisation",
        VIEW_ALL
        + ["partners.add_contact", "partners.change_contact"]
        + PARTNER_DATA_EDIT
        + DEALS_REGISTER
        + LEADS_RESPOND
        + GOVERNANCE_PARTNER
        + OWN_TOKENS,
    ),
    "partner_viewer": (
        "Partner viewer",
        True,
        "organisation",
        [
            "partners.view_organisation",
            "partners.view_contact",
            "partners.view_agreement",
            "partners.view_agreementtarget",
            "partners.view_territory",
            "partners.view_territoryassignment",
        ]
        + CHANNEL_VIEW
        + PROGRAMS_VIEW
        + DEALS_VIEW
        + GOVERNANCE_VIEW
        + OWN_TOKENS,
    ),
}

ROLE_LABELS = {
    "administrator": _("Administrator"),
    "executive": _("Executive"),
    "channel_manager": _("Channel manager"),
    "partner_account_manager": _("Partner account manager"),
    "regional_coordinator": _("Regional coordinator"),
    "commercial_manager": _("Commercial manager"),
    "service_delivery_manager": _("Service-delivery manager"),
    "transformation_manager": _("Transformation manager"),
    "analyst": _("Analyst"),
    "partner_admin": _("Partner administrator"),
    "partner_sales": _("Partner sales"),
    "partner_viewer": _("Partner viewer"),
}


def sync_builtin_roles(role_model: Any) -> None:
    """Create or update the built-in roles; custom roles are left alone. Idempotent."""
    for code, (name, for_partners, scope, permissions) in BUILTIN_ROLES.items():
        role_model.objects.update_or_create(
            code=code,
            defaults={
                "name": name,
                "for_partners": for_partners,
                "scope": scope,
                "permissions": sorted(set(permissions)),
            },
        )
