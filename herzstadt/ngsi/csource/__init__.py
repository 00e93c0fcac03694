"""Context sources (ETSI GS CIM 009 5.9-5.11): registrations, discovery, csource subscriptions.

schema.py    tables (``CREATE … IF NOT EXISTS``, created when a broker opens its store)
registry.py  the stored registrations: validation, storage, matching (``matching_registrations``,
             the API the distributed operations build on)
api.py       ``/csourceRegistrations`` use cases
subs.py      ``/csourceSubscriptions`` use cases and their notifications (through the notifier's
             outbox, ``herzstadt.ngsi.notify``)

The design is described in docs/ngsi-ld.md ("Context sources").
"""

from __future__ import annotations

from .registry import RegInfo, Registration, matching_registrations

__all__ = ["RegInfo", "Registration", "matching_registrations"]
