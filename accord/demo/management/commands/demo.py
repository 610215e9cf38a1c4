"""``accord demo``: migrate, load the demo network, print the logins, serve on loopback."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from accord.accounts.roles import ROLE_LABELS
from accord.demo.deals import describe as describe_deals
from accord.demo.governance import describe as describe_governance
from accord.demo.governance import load_demo_governance
from accord.demo.network import (
    DEFAULT_ORGANISATIONS,
    DEFAULT_SEED,
    DEMO_PASSWORD,
    MIN_ORGANISATIONS,
    load_demo_network,
)
from accord.demo.programs import describe


class Command(BaseCommand):
    help = (
        "Create or migrate the database, load the deterministic demo network (only what is "
        "missing: re-running changes nothing), print the demo logins and serve the app."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--organisations",
            type=int,
            default=DEFAULT_ORGANISATIONS,
            help=f"How many organisations (default {DEFAULT_ORGANISATIONS}).",
        )
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="Random seed.")
        parser.add_argument(
            "--method",
            choices=["auto", "services", "bulk"],
            default="auto",
            help="Write through the services (audited) or with bulk inserts; "
            "auto picks services for demo-sized networks.",
        )
        parser.add_argument("--no-serve", action="store_true", help="Load, then exit.")
        parser.add_argument(
            "--no-channel",
            action="store_true",
            help="Skip the channel data (products, sales, stock, deliveries, surveys) and "
            "the partner program, scorecards, deal registrations and leads built on it.",
        )
        parser.add_argument("--host", default="127.0.0.1", help="Address to serve on.")
        parser.add_argument("--port", type=int, default=8000, help="Port to serve on.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["organisations"] < MIN_ORGANISATIONS:
            raise CommandError(
                f"The demo network needs at least {MIN_ORGANISATIONS} organisations."
            )
        verbosity = options["verbosity"]
        call_command("migrate", interactive=False, verbosity=max(verbosity - 1, 0))

        started = time.perf_counter()

        def progress(done: int, total: int) -> None:
            if verbosity >= 1 and total > 5000:
                self.stdout.write(f"  {done:,} / {total:,} organisations", ending="\r")
                self.stdout.flush()

        summary = load_demo_network(
            options["organisations"],
            options["seed"],
            method=options["method"],
            progress=progress,
            channel=not options["no_channel"],
            programs=not options["no_channel"],
            deals=not options["no_channel"],
        )
        elapsed = time.perf_counter() - started
        governance_started = time.perf_counter()
        governance = load_demo_governance(timezone.localdate(), options["seed"])
        governance.seconds = time.perf_counter() - governance_started
        if summary.created_anything():
            self.stdout.write(
                self.style.SUCCESS(
                    f"Demo network loaded in {elapsed:.1f} s ({summary.method}): "
                    f"{summary.organisations:,} organisations, {summary.contacts:,} contacts, "
                    f"{summary.agreements:,} agreements with {summary.targets:,} KPI targets, "
                    f"{summary.assignments:,} territory assignments, "
                    f"{summary.territories} territories, {summary.users} users."
                )
            )
            channel = summary.channel
            if channel.total():
                self.stdout.write(
                    f"Channel data: {channel.sales_lines:,} sales lines, "
                    f"{channel.inventory:,} inventory snapshots, {channel.deliveries:,} "
                    f"deliveries, {channel.surveys:,} survey responses, "
                    f"{channel.certifications:,} certifications, {channel.products} products, "
                    f"{channel.rates} exchange rates."
                )
            if summary.programs.total():
                self.stdout.write(describe(summary.programs))
            if summary.deals.total():
                self.stdout.write(describe_deals(summary.deals))
        if governance.total():
            self.stdout.write(
                describe_governance(
                    governance, base_url=f"http://{options['host']}:{options['port']}"
                )
            )
        if not summary.created_anything() and not governance.total():
            self.stdout.write(
                f"The demo network is already loaded ({summary.existing_organisations:,} "
                "organisations); nothing changed."
            )
        self._print_logins(summary.logins)
        if options["no_serve"]:
            return
        self.stdout.write(
            f"\nServing on http://{options['host']}:{options['port']}/  (Ctrl+C to stop)\n"
        )
        # runserver without the reloader; --insecure serves the static files although
        # DEBUG stays off. Loopback only, for the demo: production uses `accord serve`.
        call_command(
            "runserver",
            f"{options['host']}:{options['port']}",
            use_reloader=False,
            insecure_serving=True,
            skip_checks=True,
        )

    def _print_logins(self, logins: list[tuple[str, str, str]]) -> None:
        self.stdout.write("\nDemo logins (every user's password: " + DEMO_PASSWORD + ")")
        width = max(len(email) for email, _, _ in logins)
        for email, role, organisation in logins:
            self.stdout.write(f"  {email:<{width}}  {ROLE_LABELS[role]!s:<26}  {organisation}")
        self.stdout.write(f"Database: {_database_label()}")


def _database_label() -> str:
    database = settings.DATABASES["default"]
    if database["ENGINE"].endswith("sqlite3"):
        return str(database["NAME"])
    return f"{database['ENGINE'].rsplit('.', 1)[-1]} {database.get('NAME', '')}"
