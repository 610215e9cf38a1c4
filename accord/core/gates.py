"""Gates: platform actions (new deal registrations, MDF requests, orders) that a rule elsewhere
may warn about or block for an organisation — e.g. a scorecard standing. The app that owns the
action asks here; the app that owns the rule registers a checker, so neither imports the other."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

ACTIONS = ("deal_registration", "mdf_requests", "orders")
LEVELS = {"none": 0, "warn": 1, "block": 2}


@dataclass(frozen=True)
class Verdict:
    """What the rules say about one action for one organisation, and why."""

    level: str  # none | warn | block
    reasons: tuple[str, ...] = ()
    review_meeting: bool = False

    @property
    def blocked(self) -> bool:
        return self.level == "block"


@dataclass(frozen=True)
class Block:
    """A block in force for an organisation: for actions dated after ``since``."""

    since: dt.date
    reason: str


Checker = Callable[[str, int], Verdict]
BulkChecker = Callable[[str], dict[int, Block]]
_checkers: list[Checker] = []
_bulk_checkers: list[BulkChecker] = []


def register(checker: Checker, bulk: BulkChecker) -> None:
    """Add a rule: ``checker(action, organisation_id)`` for one organisation and
    ``bulk(action)`` for every organisation it blocks (imports check millions of rows)."""
    if checker not in _checkers:
        _checkers.append(checker)
        _bulk_checkers.append(bulk)


def check(action: str, organisation_id: int) -> Verdict:
    """The strictest verdict of every registered rule, with all their reasons."""
    if action not in ACTIONS:
        raise ValueError(action)
    level, reasons, review = "none", [], False
    for checker in _checkers:
        verdict = checker(action, organisation_id)
        review = review or verdict.review_meeting
        reasons.extend(verdict.reasons)
        if LEVELS[verdict.level] > LEVELS[level]:
            level = verdict.level
    return Verdict(level, tuple(reasons), review)


def blocked(action: str) -> dict[int, Block]:
    """Every organisation some rule blocks for ``action`` (the earliest block wins)."""
    if action not in ACTIONS:
        raise ValueError(action)
    found: dict[int, Block] = {}
    for bulk in _bulk_checkers:
        for organisation_id, block in bulk(action).items():
            current = found.get(organisation_id)
            if current is None or block.since < current.since:
                found[organisation_id] = block
    return found
