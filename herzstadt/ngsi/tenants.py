"""Tenants of the broker: created and deleted explicitly (by a city or an admin), not by writes.

With access control (not ``open_access``) a tenant exists when the verifier's ``tenant_policy``
says so; the store records it in ``ngsi_tenant`` (``create_tenant``, or ``ensure_tenant`` on the
first request the policy allows). Under open access the store creates tenants on their first
write, as before.
"""
# ruff: noqa: S608 - SQL text from fixed table names and placeholders; all data is bound

from __future__ import annotations

from typing import Any

from .broker import Broker

#: tables with a ``tenant`` column, emptied by ``delete_tenant``
TENANT_TABLES = (
    "ngsi_entity_type",
    "ngsi_scope",
    "ngsi_geo",
    "ngsi_event",
    "ngsi_attr_instance",
    "ngsi_attr_rollup",
    "ngsi_temporal_setting",
    "ngsi_subscription",
    "ngsi_notification",
    "ngsi_sub_state",
    "ngsi_context",
    "ngsi_audit",
    "ngsi_entity",
)


def create_tenant(broker: Broker, tenant: str) -> None:
    """Record the tenant in the store (idempotent)."""
    with broker.store.write(tenant):
        pass  # the store inserts an unknown tenant into ngsi_tenant when a write begins


def ensure_tenant(broker: Broker, tenant: str) -> None:
    """``create_tenant`` unless the store knows the tenant already (cached: cheap)."""
    if not broker.store.tenant_exists(tenant):
        create_tenant(broker, tenant)


def delete_tenant(broker: Broker, tenant: str) -> None:
    """Delete the tenant and all its data (entities, indexes, events, subscriptions, audit)."""
    p = broker.store.placeholder
    with broker.store.write(tenant) as tx:
        for table in TENANT_TABLES:
            tx.cur.execute(f"DELETE FROM {table} WHERE tenant = {p}", (tenant,))
        tx.cur.execute(f"DELETE FROM ngsi_tenant WHERE name = {p}", (tenant,))
    known = getattr(broker.store, "_tenants", None)
    if known is not None:
        known.discard(tenant)


def audit_log(
    broker: Broker,
    tenant: str,
    client_id: str | None = None,
    limit: int = 100,
    before: int | None = None,
) -> list[dict[str, Any]]:
    """The audit trail of a tenant, newest first (see ``audit``); for the back office."""
    return broker.audit.log(tenant, client_id, limit, before)
