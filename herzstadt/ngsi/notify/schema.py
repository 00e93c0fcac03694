"""Tables of the notifier (``CREATE … IF NOT EXISTS``; created when a broker opens its store).

``ngsi_notify_cursor``  the last ``ngsi_event.seq`` turned into notifications (one row, global:
                        the dispatcher walks the events of every tenant in one pass)
``ngsi_notification``   the outbox: one row per notification to send (tenant, subscription,
                        target, payload), with its lease (``lease_until``/``lease_owner``), the
                        attempts so far and the time of the next attempt (``next_at``)
``ngsi_sub_state``      per subscription: counters and times (timesSent, timesFailed,
                        lastNotification, lastSuccess, lastFailure), the time of the last
                        notification (throttling) and of the next periodic one (timeInterval)
"""

# ruff: noqa: S608 - SQL text from fixed table names and placeholders; all data is bound
from __future__ import annotations

from typing import Any

SQLITE = """
CREATE TABLE IF NOT EXISTS ngsi_notify_cursor (name TEXT PRIMARY KEY, seq INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS ngsi_notification (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant TEXT NOT NULL, sub_id TEXT NOT NULL, ep_key TEXT NOT NULL, target TEXT NOT NULL,
    payload TEXT NOT NULL, created_at REAL NOT NULL, next_at REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0, lease_until REAL NOT NULL DEFAULT 0, lease_owner TEXT
);
CREATE INDEX IF NOT EXISTS ngsi_notification_due ON ngsi_notification (next_at, id);
CREATE INDEX IF NOT EXISTS ngsi_notification_sub ON ngsi_notification (tenant, sub_id);
CREATE TABLE IF NOT EXISTS ngsi_sub_state (
    tenant TEXT NOT NULL, sub_id TEXT NOT NULL,
    times_sent INTEGER NOT NULL DEFAULT 0, times_failed INTEGER NOT NULL DEFAULT 0,
    last_notification TEXT, last_success TEXT, last_failure TEXT,
    last_sent REAL NOT NULL DEFAULT 0, next_periodic REAL NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant, sub_id)
) WITHOUT ROWID
"""

POSTGRES = """
CREATE TABLE IF NOT EXISTS ngsi_notify_cursor (name text PRIMARY KEY, seq bigint NOT NULL);
CREATE TABLE IF NOT EXISTS ngsi_notification (
    id bigserial PRIMARY KEY,
    tenant text NOT NULL, sub_id text NOT NULL, ep_key text NOT NULL, target text NOT NULL,
    payload text NOT NULL, created_at double precision NOT NULL,
    next_at double precision NOT NULL, attempts integer NOT NULL DEFAULT 0,
    lease_until double precision NOT NULL DEFAULT 0, lease_owner text
);
CREATE INDEX IF NOT EXISTS ngsi_notification_due ON ngsi_notification (next_at, id);
CREATE INDEX IF NOT EXISTS ngsi_notification_sub ON ngsi_notification (tenant, sub_id);
CREATE TABLE IF NOT EXISTS ngsi_sub_state (
    tenant text NOT NULL, sub_id text NOT NULL,
    times_sent bigint NOT NULL DEFAULT 0, times_failed bigint NOT NULL DEFAULT 0,
    last_notification text, last_success text, last_failure text,
    last_sent double precision NOT NULL DEFAULT 0,
    next_periodic double precision NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant, sub_id)
)
"""

CURSOR = "events"


def ensure(store: Any) -> None:
    """Create the notifier's tables (idempotent) and the cursor row, which starts at the newest
    event: a new installation does not notify about its history."""
    if getattr(store, "_notify_schema", False):
        return
    pg = store.dialect == "postgresql"
    with store.write("") as tx:
        cur = tx.cur
        if pg:
            cur.execute("SELECT pg_advisory_xact_lock(427312)")
        for stmt in (POSTGRES if pg else SQLITE).split(";"):
            if stmt.strip():
                cur.execute(stmt)
        cur.execute(
            "INSERT INTO ngsi_notify_cursor(name, seq)"
            " SELECT 'events', coalesce(max(seq), 0) FROM ngsi_event WHERE true"
            " ON CONFLICT (name) DO NOTHING"
        )
    store._notify_schema = True


def sub_state(store: Any, tenant: str, sid: str) -> dict[str, Any] | None:
    """The counters and times of a subscription (None before its first notification)."""
    p = store.placeholder
    with store.reading() as cur:
        cur.execute(
            "SELECT times_sent, times_failed, last_notification, last_success, last_failure"
            f" FROM ngsi_sub_state WHERE tenant={p} AND sub_id={p}",
            (tenant, sid),
        )
        r = cur.fetchone()
    if r is None or r[2] is None:
        # no outcome yet: the row may exist for throttling or the next periodic notification
        return None
    return {
        "timesSent": int(r[0]),
        "timesFailed": int(r[1]),
        "lastNotification": r[2],
        "lastSuccess": r[3],
        "lastFailure": r[4],
    }


def forget_subscription(cur: Any, p: str, tenant: str, sid: str) -> None:
    """Inside a write: drop the pending notifications and the state of a deleted subscription."""
    cur.execute(f"DELETE FROM ngsi_notification WHERE tenant={p} AND sub_id={p}", (tenant, sid))
    cur.execute(f"DELETE FROM ngsi_sub_state WHERE tenant={p} AND sub_id={p}", (tenant, sid))
