"""``accord token create|list|revoke``: API tokens from the command line."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accord.accounts.models import ApiToken, User
from accord.accounts.services import create_api_token, revoke_api_token


def _messages(error: ValidationError) -> str:
    if hasattr(error, "error_dict"):
        return "; ".join(
            f"{name}: {' '.join(messages)}" for name, messages in error.message_dict.items()
        )
    return " ".join(error.messages)


class Command(BaseCommand):
    help = "Create, list and revoke API tokens. The secret is printed once, at creation."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        create = actions.add_parser("create", help="Create a token and print its secret once.")
        create.add_argument("--user", required=True, metavar="EMAIL", help="The token's user.")
        create.add_argument("--name", default="CLI token", help="What the token is for.")
        listing = actions.add_parser("list", help="List tokens (never their secrets).")
        listing.add_argument("--user", metavar="EMAIL", help="Only this user's tokens.")
        revoke = actions.add_parser("revoke", help="Revoke a token by its prefix.")
        revoke.add_argument("prefix", help="The token's prefix (shown by `token list`).")

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, f"_{options['action']}")(options)

    def _user(self, email: str) -> User:
        user = User.objects.filter(email=email.strip().lower()).first()
        if user is None:
            raise CommandError(f"No user with the e-mail address {email!r}.")
        return user

    def _create(self, options: dict[str, Any]) -> None:
        user = self._user(options["user"])
        if not user.is_active:
            raise CommandError(f"{user.email} is deactivated; a token would not work.")
        try:
            token, raw = create_api_token(actor=None, user=user, name=options["name"])
        except ValidationError as error:
            raise CommandError(_messages(error)) from error
        self.stderr.write(
            f"Token {token.prefix!r} ({token.name}) for {user.email}. Store the secret now: "
            "it is not shown again."
        )
        # The secret alone on stdout, so `accord token create ... > file` keeps just it.
        self.stdout.write(raw)

    def _list(self, options: dict[str, Any]) -> None:
        tokens = ApiToken.objects.select_related("user").order_by("user__email", "-created_at")
        if options.get("user"):
            tokens = tokens.filter(user=self._user(options["user"]))
        rows = [
            (
                token.prefix,
                token.user.email,
                token.name,
                f"{token.created_at:%Y-%m-%d %H:%M}",
                f"{token.last_used_at:%Y-%m-%d %H:%M}" if token.last_used_at else "never",
                "active" if token.is_active else ("revoked" if token.revoked_at else "expired"),
            )
            for token in tokens
        ]
        if not rows:
            self.stdout.write("No tokens.")
            return
        header = ("PREFIX", "USER", "NAME", "CREATED", "LAST USED", "STATUS")
        widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
        for row in [header, *rows]:
            self.stdout.write(
                "  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True)).rstrip()
            )

    def _revoke(self, options: dict[str, Any]) -> None:
        prefix = options["prefix"].strip()
        # Accept the whole secret too: its second part is the prefix.
        if prefix.startswith("acc_") and prefix.count("_") >= 2:
            prefix = prefix.split("_", 2)[1]
        token = ApiToken.objects.select_related("user").filter(prefix=prefix).first()
        if token is None:
            raise CommandError(f"No token with the prefix {prefix!r}.")
        if token.revoked_at is not None:
            self.stdout.write(f"Token {prefix!r} was already revoked.")
            return
        revoke_api_token(actor=None, token=token)
        self.stdout.write(f"Revoked token {prefix!r} ({token.name}) of {token.user.email}.")
