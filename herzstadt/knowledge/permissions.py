"""The knowledge pillar's named permissions (see ``herzstadt.core.permissions``).

- ``knowledge.manage`` (a city, or anything of a city: a measure, a profile): staff and
  administrators of the city edit its measures' profiles (back-office section "Wissenstransfer")
  and see profiles that are not shared yet.
"""

from __future__ import annotations

from herzstadt.accounts.permissions import STAFF
from herzstadt.core import permissions

permissions.define("knowledge.manage", STAFF)
