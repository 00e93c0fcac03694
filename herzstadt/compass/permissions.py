"""The compass's named permissions (see ``herzstadt.core.permissions``).

- ``compass.manage`` (a city, or anything of a city): staff and administrators of the city edit its
  values, goals and indicators, compute indicators, assess measures and tag measures and ideas
  with goals (back-office section "Kompass").
- ``compass.rate`` (a participation process): a contributor of the process's city (signed in, not
  blocked, e-mail confirmed) while the process's active phase opens the feature ``compass.rate``
  (the phase kind "Kompass-Bewertung").
"""

from __future__ import annotations

import rules
from django.utils.translation import gettext_lazy as _

from herzstadt.accounts.permissions import CONTRIBUTE, STAFF
from herzstadt.core import permissions

#: the feature the phase kind "Kompass-Bewertung" opens
RATE = "compass.rate"


@rules.predicate
def rating_is_open(user, process) -> bool:
    return process is not None and process.allows(RATE)


permissions.define("compass.manage", STAFF)
permissions.define(
    "compass.rate",
    *CONTRIBUTE,
    permissions.check(rating_is_open, _("The compass rating is not open in this phase.")),
)
