"""Urban data's named permissions (see ``herzstadt.core.permissions``).

- ``urbandata.manage_access`` (a city, or anything of a city): the city's administrators manage
  who may use its NGSI-LD API: API clients, OAuth2 credentials, device keys, open-data types and
  CORS origins (back-office section "API-Zugänge").
"""

from __future__ import annotations

import rules
from django.utils.translation import gettext_lazy as _

from herzstadt.accounts import roles
from herzstadt.accounts.models import Role
from herzstadt.accounts.permissions import city_of
from herzstadt.core import permissions


@rules.predicate
def is_city_admin(user, obj) -> bool:
    city = city_of(obj)
    return city is not None and roles.has_role(user, city, Role.ADMIN)


permissions.define(
    "urbandata.manage_access",
    permissions.check(is_city_admin, _("Only administrators of this city may manage API access.")),
)
