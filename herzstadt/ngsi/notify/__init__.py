"""Subscriptions that notify (ETSI GS CIM 009 5.8, 7.x): at-least-once delivery through an outbox.

schema.py     tables: the dispatcher's cursor over ``ngsi_event``, the outbox
              ``ngsi_notification`` and the per-subscription state/counters ``ngsi_sub_state``
endpoints.py  which endpoints may be connected to (allow-list, public addresses: no SSRF)
compile.py    a subscription document compiled for matching and rendering
dispatch.py   change events -> notification rows, in one transaction with the cursor
deliver.py    claims notification rows (leases), sends them over HTTP(S)/MQTT(S), retries
runner.py     the ``Notifier``: dispatcher + deliverer as one ``run(stop_event)`` loop

The design is described in docs/ngsi-ld.md ("Notifications").
"""

from __future__ import annotations

from typing import Any

__all__ = ["Notifier", "start_thread"]


def __getattr__(name: str) -> Any:
    # lazy: the broker imports ``notify.schema`` and the runner imports the broker
    if name in __all__:
        from . import runner

        return getattr(runner, name)
    raise AttributeError(name)
