"""Tables of the context source registry (``CREATE … IF NOT EXISTS``; created when a broker opens
its store, like the notifier's).

``ngsi_csource``       one row per registration and tenant: the registration (expanded IRIs,
                       JSON), its mode, endpoint, expiry (epoch seconds, NULL: never) and creation
                       time (the order of listings)
``ngsi_csource_info``  the index of what a registration offers: one row per EntityInfo (expanded
                       type, id or idPattern; NULL type: a RegistrationInfo without entities,
                       which matches any type), used to pick candidate registrations quickly
``ngsi_csource_sub``   the context source registration subscriptions (5.11) per tenant
"""

from __future__ import annotations

from typing import Any

_COMMON = """
CREATE TABLE IF NOT EXISTS ngsi_csource (
    tenant TEXT NOT NULL, id TEXT NOT NULL, doc TEXT NOT NULL, mode TEXT NOT NULL,
    endpoint TEXT NOT NULL, expires_at {real}, created_at {real} NOT NULL,
    PRIMARY KEY (tenant, id)
);
CREATE TABLE IF NOT EXISTS ngsi_csource_info (
    tenant TEXT NOT NULL, reg_id TEXT NOT NULL, type TEXT, eid TEXT, id_pattern TEXT
);
CREATE INDEX IF NOT EXISTS ngsi_csource_info_type ON ngsi_csource_info (tenant, type);
CREATE INDEX IF NOT EXISTS ngsi_csource_info_reg ON ngsi_csource_info (tenant, reg_id);
CREATE TABLE IF NOT EXISTS ngsi_csource_sub (
    tenant TEXT NOT NULL, id TEXT NOT NULL, doc TEXT NOT NULL, created_at {real} NOT NULL,
    PRIMARY KEY (tenant, id)
)
"""

SQLITE = _COMMON.format(real="REAL")
POSTGRES = _COMMON.format(real="double precision")


def ensure(store: Any) -> None:
    """Create the registry's tables (idempotent)."""
    if getattr(store, "_csource_schema", False):
        return
    pg = store.dialect == "postgresql"
    with store.write("") as tx:
        cur = tx.cur
        if pg:
            cur.execute("SELECT pg_advisory_xact_lock(427313)")
        for stmt in (POSTGRES if pg else SQLITE).split(";"):
            if stmt.strip():
                cur.execute(stmt)
    store._csource_schema = True
