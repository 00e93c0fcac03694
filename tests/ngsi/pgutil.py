"""Clean-up of per-test tenants on PostgreSQL."""

from __future__ import annotations


def drop_tenant(store, tenant: str) -> None:
    if not tenant:
        return
    with store.write(tenant) as tx:
        cur = tx.cur
        for table in (
            "ngsi_entity_type",
            "ngsi_scope",
            "ngsi_geo",
            "ngsi_event",
            "ngsi_attr_instance",
            "ngsi_attr_rollup",
            "ngsi_temporal_setting",
            "ngsi_subscription",
            "ngsi_csource",
            "ngsi_csource_info",
            "ngsi_csource_sub",
            "ngsi_notification",
            "ngsi_context",
            "ngsi_audit",
            "ngsi_entity",
        ):
            cur.execute(f"DELETE FROM {table} WHERE tenant = %s", (tenant,))
        cur.execute("DELETE FROM ngsi_tenant WHERE name = %s", (tenant,))
    store._tenants.discard(tenant)
