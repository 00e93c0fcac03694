"""The decisions pillar's named permissions (see ``herzstadt.core.permissions``).

- ``decisions.manage`` (a city, or anything of a city): staff and administrators of the city set up
  decisions, their proposals (feasibility check) and options (back-office section "Entscheidungen"),
  import the census, print the letters with voting codes, publish results and turn winners into
  measures.
- ``decisions.count`` (a city): the clerks of the polling station and of the postal count —
  moderators, staff and administrators of the city — identify voters, enter paper ballots and
  register voting cards.
"""

from __future__ import annotations

from herzstadt.accounts.permissions import MODERATE, STAFF
from herzstadt.core import permissions

permissions.define("decisions.manage", STAFF)
permissions.define("decisions.count", MODERATE)
