"""The demo network: the hosted demo cities follow each other over HTTP (helper: network).

In the single-process demo every hosted city lives in the same installation, so each follows the
others at this installation's own address (``HERZSTADT_NETWORK_SELF_URL``, or
``http://127.0.0.1:$HERZSTADT_PORT`` that ``herzstadt demo`` sets): the main city (Kaiserslautern)
follows every other hosted city, the others follow the main city. The requests really go over
HTTP, as they would between separate installations. Every origin issues a key to its follower, so
replications are reported back. The first harvest is due a few seconds after the loader ran (the
worker task ``knowledge-harvest`` does it once the server is up).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone

from herzstadt.core.models import City, CityRole
from herzstadt.knowledge.models import Partner
from herzstadt.knowledge.network import conf, keys

#: where the demo's partners are when no address of the installation is known
FALLBACK_URL = "http://127.0.0.1:8000"
#: the first harvest waits this long for the server to listen
FIRST_DELAY = dt.timedelta(seconds=8)


def _follow(follower: City, origin: City, base: str, main: bool) -> bool:
    """``follower`` follows ``origin`` at ``base``; True when the partner is new."""
    partner = Partner.objects.filter(city=follower, remote_slug=origin.slug).first()
    created = partner is None
    if partner is None:
        partner = Partner(city=follower, remote_slug=origin.slug)
    partner.base_url = base
    partner.name = origin.name
    partner.measures_url = f"{base}/api/v1/network/{origin.slug}/measures/"
    # the DCAT catalogue is served per host: at the bare address it is the main city's
    partner.dcat_url = f"{base}/dcat/catalog.jsonld" if main else ""
    if not partner.api_key or keys.check(partner.api_key) is None:
        _row, partner.api_key = keys.issue(origin, follower.name)
    partner.enabled = True
    partner.etag = partner.last_modified = ""
    partner.next_sync_at = timezone.now() + FIRST_DELAY
    partner.save()
    return created


def load_partners(context: Any) -> str:
    """Partner records between the demo's hosted cities (idempotent)."""
    main = getattr(context, "city", None)
    cities = [
        c
        for c in getattr(context, "cities", {}).values()
        if c.role == CityRole.HOSTED and (main is None or c.pk != main.pk)
    ]
    if main is None or not cities:
        return "no partners (one hosted city)"
    base = conf.self_url() or FALLBACK_URL
    new = 0
    with transaction.atomic():
        for other in cities:
            new += _follow(main, other, base, main=False)
            new += _follow(other, main, base, main=True)
    return f"{2 * len(cities)} partner links at {base} ({new} new)"
