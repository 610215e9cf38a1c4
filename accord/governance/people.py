"""People in governance: the contact that stands for a user, which side a contact or user is
on, and notifications to contacts in each one's own language."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import translation

from accord.core.models import Notification
from accord.core.services import notify_many
from accord.governance.models import Side
from accord.partners.models import Contact, Organisation


def side_of_user(user: Any) -> str:
    """``partner`` for partner staff, ``vendor`` for the vendor's own people."""
    return Side.PARTNER if getattr(user, "is_partner", False) else Side.VENDOR


def side_of_contact(contact: Contact) -> str:
    return Side.VENDOR if contact.organisation.is_vendor else Side.PARTNER


def contact_for_user(user: Any) -> Contact | None:
    """The contact card of ``user`` at their own organisation (the vendor's for vendor
    staff), created on first use; None for the system (``user=None``) or a user without an
    organisation."""
    if user is None or not getattr(user, "pk", None):
        return None
    organisation_id = user.organisation_id or Organisation.objects.vendor().pk
    found = (
        Contact.objects.filter(user=user, organisation_id=organisation_id).order_by("pk").first()
    )
    if found is not None:
        return found
    if user.email:
        by_email = (
            Contact.objects.filter(
                organisation_id=organisation_id, email__iexact=user.email, user__isnull=True
            )
            .order_by("pk")
            .first()
        )
        if by_email is not None:
            Contact.objects.filter(pk=by_email.pk).update(user=user)
            by_email.user = user
            return by_email
    return Contact.objects.create(
        organisation_id=organisation_id,
        full_name=user.full_name or user.email,
        email=user.email,
        user=user,
    )


def notify_contacts(
    contacts: Iterable[Contact | None],
    *,
    subject: Callable[[], str],
    body: Callable[[], str],
    link: str,
    organisation: Organisation | None,
    skip_user: Any = None,
) -> list[Notification]:
    """Tell each contact (once, Nones and inactive people skipped), in their language.

    ``subject`` and ``body`` are callables run with the recipient's language active. A
    contact with an active portal account gets an in-app notification (e-mailed on commit);
    one without gets the e-mail alone. ``skip_user`` (the actor) is not told about their
    own action. Call inside the service's transaction.
    """
    notes: list[Notification] = []
    seen: set[int] = set()
    for contact in contacts:
        if contact is None or contact.pk in seen or not contact.active:
            continue
        seen.add(contact.pk)
        user = contact.user
        if user is not None and user.is_active:
            if skip_user is not None and user.pk == getattr(skip_user, "pk", None):
                continue
            with translation.override(user.language or settings.LANGUAGE_CODE):
                notes.append(
                    Notification(
                        recipient=user,
                        subject=str(subject()),
                        body=str(body()),
                        link=link,
                        organisation=organisation,
                    )
                )
        elif contact.email:
            with translation.override(settings.LANGUAGE_CODE):
                transaction.on_commit(
                    partial(
                        send_mail,
                        str(subject())[:200],
                        f"{body()}\n\n{link}",
                        None,
                        [contact.email],
                        fail_silently=True,
                    )
                )
    return notify_many(notes) if notes else []
