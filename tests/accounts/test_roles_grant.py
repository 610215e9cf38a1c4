"""The administrator holds every permission of every built-in role, so it can grant each
(nobody grants a permission they do not hold)."""

from __future__ import annotations

import pytest

from accord.accounts.roles import BUILTIN_ROLES


@pytest.mark.parametrize("code", sorted(BUILTIN_ROLES))
def test_the_administrator_can_grant_every_builtin_role(code: str) -> None:
    administrator = set(BUILTIN_ROLES["administrator"][3])
    assert set(BUILTIN_ROLES[code][3]) <= administrator
