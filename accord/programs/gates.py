"""Scorecard standings as gates (accord.core.gates): the consequences of each organisation's
current standing, for one organisation and, set-based, for all."""

from __future__ import annotations

from django.db.models import OuterRef, Subquery
from django.utils.translation import gettext as _

from accord.core.gates import Block, Verdict
from accord.partners.models import Organisation
from accord.programs.models import Consequence, Score, ScorecardTemplate
from accord.programs.scorecards import consequence, localised_name


def check(action: str, organisation_id: int) -> Verdict:
    organisation = Organisation.objects.filter(pk=organisation_id).first()
    if organisation is None:
        return Verdict("none")
    return consequence(organisation, action)


def blocked(action: str) -> dict[int, Block]:
    """Organisations whose standing in an active scorecard's latest scoring blocks
    ``action`` (the standing of each one's newest scored period, as ``check`` reads it),
    from the date that scoring was computed as of: two queries per scorecard."""
    found: dict[int, Block] = {}
    for template in ScorecardTemplate.objects.filter(is_active=True):
        codes = {
            standing.code: localised_name(standing)
            for standing in template.standings.all()
            if getattr(standing, action) == Consequence.BLOCK
        }
        if not codes:
            continue
        # Each organisation's own newest scored period, as consequence() reads it: the
        # scorecard's newest period would miss an organisation scored no longer (out of
        # scope) that check() still blocks, and the reverse.
        newest = (
            Score.objects.filter(template=template, organisation=OuterRef("organisation"))
            .order_by("-period_start")
            .values("period_start")[:1]
        )
        rows = Score.objects.filter(
            template=template, standing__in=codes, period_start=Subquery(newest)
        ).values_list("organisation_id", "as_of", "standing", "overall")
        for organisation_id, as_of, standing, overall in rows:
            found[organisation_id] = Block(
                as_of,
                _(
                    "%(scorecard)s: standing %(standing)s (overall score %(score)s) blocks this "
                    "since %(since)s."
                )
                % {
                    "scorecard": localised_name(template),
                    "standing": codes[standing],
                    "score": overall,
                    "since": as_of.isoformat(),
                },
            )
    return found
