"""``accord evaluate PROGRAM --as-of YYYY-MM-DD [--json] [--preview] [--user EMAIL]``.

Evaluates the live version of PROGRAM for every organisation in scope and applies it
(promotions, grace periods, demotions, early warnings), or with ``--preview`` stores the
run without changing any tier. Prints each organisation's tier, outcome and gap to the
next tier (or all of it, with every criterion, as JSON). Bad input: a message on stderr
and exit status 2.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.http import Http404

from accord.metrics.selectors import system_user
from accord.programs import selectors
from accord.programs.models import EvaluationRun
from accord.programs.services import evaluate_program

USAGE_ERROR = 2


def _fail(message: str) -> CommandError:
    return CommandError(message, returncode=USAGE_ERROR)


class Command(BaseCommand):
    help = "Evaluate a tiered program as of a date and apply it (or --preview)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("program", help="The program's code, e.g. reseller-program.")
        parser.add_argument("--as-of", dest="as_of", required=True, help="YYYY-MM-DD.")
        parser.add_argument("--json", action="store_true", help="Print the run as JSON.")
        parser.add_argument(
            "--preview", action="store_true", help="Store the run but change no tier."
        )
        parser.add_argument("--user", metavar="EMAIL", help="Run as this user.")

    def handle(self, *args: Any, **options: Any) -> None:
        user = system_user(options["user"])
        if user is None:
            raise _fail(
                f"No active user {options['user']}."
                if options["user"]
                else "No active vendor administrator to run as; give --user EMAIL."
            )
        try:
            as_of = dt.date.fromisoformat(options["as_of"].strip())
        except ValueError as error:
            raise _fail(
                f"--as-of must be a date as YYYY-MM-DD, not {options['as_of']!r}."
            ) from error
        try:
            program = selectors.get_program(user, options["program"])
        except Http404 as error:
            known = ", ".join(selectors.programs(user).values_list("code", flat=True)) or "none"
            raise _fail(f"Unknown program {options['program']!r}. Known: {known}.") from error
        try:
            run = evaluate_program(
                actor=user,
                program=program,
                as_of=as_of,
                apply=not options["preview"],
                trigger=EvaluationRun.Trigger.CLI,
            )
        except PermissionDenied as error:
            raise _fail(f"{user.email} may not evaluate {program.code}.") from error
        except ValidationError as error:
            raise _fail(" ".join(error.messages)) from error
        if options["json"]:
            self.stdout.write(json.dumps(self._document(user, run), ensure_ascii=False, indent=2))
        else:
            self._table(user, run)

    def _document(self, user: Any, run: EvaluationRun) -> dict[str, Any]:
        rules = selectors.run_rules(run)
        organisations = []
        for result in selectors.results(user, run):
            explained = selectors.explain_result(result, rules)
            organisations.append(
                {
                    "external_key": result.organisation.external_key,
                    "name": result.organisation.name,
                    **explained,
                }
            )
        return {
            "program": run.program.code,
            "version": run.version.number,
            "as_of": run.as_of.isoformat(),
            "run": run.pk,
            "applied": run.applied,
            "summary": run.summary,
            "organisations": organisations,
        }

    def _table(self, user: Any, run: EvaluationRun) -> None:
        rules = selectors.run_rules(run)
        names = selectors.tier_names(rules)
        self.stdout.write(
            f"{run.program.code} v{run.version.number} as of {run.as_of}: "
            f"{run.organisation_count} organisations, run #{run.pk}"
            + ("" if run.applied else " (preview, nothing applied)")
        )
        for result in selectors.results(user, run):
            explained = selectors.explain_result(result, rules)
            gap = explained["gap"]
            needs = "; ".join(item["text"] for item in gap.get("items", []))
            if needs and gap["missing"] < len(gap["items"]):
                needs = f"{gap['missing']} of: {needs}"
            tier = names.get(result.effective_tier, result.effective_tier or "-")
            line = f"{result.organisation.external_key or result.organisation_id:<12} "
            line += f"{result.organisation.name[:40]:<40} {tier:<12} {result.outcome:<16}"
            self.stdout.write((line + (f" {needs}" if needs else "")).rstrip())
        summary = run.summary
        distribution = ", ".join(
            f"{names.get(code, code or 'no tier')}: {count}"
            for code, count in sorted(summary.get("distribution", {}).items())
        )
        self.stdout.write(f"Tiers: {distribution}")
        if run.applied:
            self.stdout.write(
                f"Changes: {summary.get('changes', 0)}; "
                f"early warnings: {summary.get('warnings', 0)}"
            )
