"""The decisions pillar's named permissions (see ``herzstadt.core.permissions``).

- ``decisions.manage`` (a city): staff and administrators of the city set up decisions, their
  proposals (feasibility check) and options (back-office section "Entscheidungen").
- ``decisions.count`` (a city): moderators and up enter paper ballots at a polling station and
  postal ballots (clerks).
"""

from __future__ import annotations

from herzstadt.accounts.permissions import MODERATE, STAFF
from herzstadt.core import permissions

permissions.define("decisions.manage", STAFF)
permissions.define("decisions.count", MODERATE)
