"""The audit trail of writes: who changed which entities, recorded in the write's transaction.

Every successful write through :meth:`Broker.write` adds one row to ``ngsi_audit`` (time, tenant,
client id, operation, the first ``audit_max_ids`` entity ids, their count) before the transaction
commits, so the trail and the data can never disagree. The table is pruned per tenant to
``audit_max_rows`` rows and ``audit_max_days`` days; pruning runs inside every
``audit_prune_every``-th audited write of a process and looks only at the oldest rows through the
``(tenant, seq)`` index (never a full scan per write).

Only ``store.write(tenant)`` (a transaction with a DB-API cursor ``cur``), ``store.placeholder``
and ``store.dialect`` are used, so the module works with every SQL store.
"""
# ruff: noqa: S608 - SQL text from fixed table names and placeholders; all data is bound

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

#: SQLite: one b-tree keyed (tenant, seq), ``seq`` numbered per tenant inside the write (SQLite
#: serialises writers, so max + 1 cannot collide): a write adds one b-tree entry, not two.
#: PostgreSQL: concurrent writers, so a sequence and an index on (tenant, seq).
DDL = {
    "sqlite": (
        "CREATE TABLE IF NOT EXISTS ngsi_audit (tenant TEXT NOT NULL, seq INTEGER NOT NULL,"
        " at TEXT NOT NULL, client_id TEXT NOT NULL, operation TEXT NOT NULL,"
        " entity_ids TEXT NOT NULL, count INTEGER NOT NULL, PRIMARY KEY (tenant, seq))"
        " WITHOUT ROWID",
    ),
    "postgresql": (
        "SELECT pg_advisory_xact_lock(427312)",
        "CREATE TABLE IF NOT EXISTS ngsi_audit (seq bigserial PRIMARY KEY, tenant text NOT NULL,"
        " at text NOT NULL, client_id text NOT NULL, operation text NOT NULL,"
        " entity_ids text NOT NULL, count integer NOT NULL)",
        "CREATE INDEX IF NOT EXISTS ngsi_audit_tenant ON ngsi_audit (tenant, seq)",
    ),
}
#: rows the age pruning looks at per run (the oldest ones)
AGE_PRUNE_CHUNK = 10_000


def _iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def _now() -> str:
    t = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t * 1000) % 1000:03d}Z"


class AuditTrail:
    """Writes and reads ``ngsi_audit`` of one store."""

    def __init__(
        self,
        store: Any,
        *,
        max_rows: int = 100_000,
        max_days: float = 90,
        prune_every: int = 1000,
        max_ids: int = 100,
    ):
        self.store = store
        self.max_rows = max_rows
        self.max_days = max_days
        self.prune_every = max(1, prune_every)
        self.max_ids = max_ids
        self.p = p = store.placeholder
        if store.dialect == "sqlite":
            seq, seq_arg = f"(SELECT coalesce(max(seq), 0) + 1 FROM ngsi_audit WHERE tenant={p})", 1
        else:
            seq, seq_arg = "DEFAULT", 0
        self._insert = (
            "INSERT INTO ngsi_audit(tenant, seq, at, client_id, operation, entity_ids, count)"
            f" VALUES ({p},{seq},{p},{p},{p},{p},{p})"
        )
        self._seq_arg = seq_arg
        self._writes: dict[str, int] = {}
        self._lock = threading.Lock()
        with store.write("") as tx:
            for stmt in DDL[store.dialect]:
                tx.cur.execute(stmt)

    def record(
        self, cur: Any, tenant: str, client_id: str, operation: str, ids: Iterable[str]
    ) -> None:
        """Add one row inside the caller's transaction (``cur``); prune now and then."""
        ids = list(dict.fromkeys(ids))
        args = (
            tenant,
            _now(),
            client_id,
            operation,
            orjson.dumps(ids[: self.max_ids]).decode(),
            len(ids),
        )
        cur.execute(self._insert, (tenant, *args) if self._seq_arg else args)
        with self._lock:
            n = self._writes.get(tenant, 0) + 1
            self._writes[tenant] = n
        if n % self.prune_every == 0:
            self.prune(cur, tenant)

    def prune(self, cur: Any, tenant: str) -> None:
        """Keep the newest ``max_rows`` rows of the tenant and none older than ``max_days``."""
        p = self.p
        cur.execute(
            f"SELECT seq FROM ngsi_audit WHERE tenant={p} ORDER BY seq DESC LIMIT 1 OFFSET {p}",
            (tenant, self.max_rows),
        )
        row = cur.fetchone()
        if row is not None:
            cur.execute(f"DELETE FROM ngsi_audit WHERE tenant={p} AND seq <= {p}", (tenant, row[0]))
        cutoff = _iso(datetime.now(UTC) - timedelta(days=self.max_days))
        cur.execute(
            f"DELETE FROM ngsi_audit WHERE tenant={p} AND seq IN (SELECT seq FROM (SELECT seq, at"
            f" FROM ngsi_audit WHERE tenant={p} ORDER BY seq LIMIT {p}) oldest WHERE at < {p})",
            (tenant, tenant, AGE_PRUNE_CHUNK, cutoff),
        )

    def log(
        self, tenant: str, client_id: str | None = None, limit: int = 100, before: int | None = None
    ) -> list[dict[str, Any]]:
        """The newest entries of a tenant (optionally of one client), newest first; ``before``:
        only entries with a smaller ``seq`` (paging)."""
        p = self.p
        conds: list[str] = [f"tenant={p}"]
        args: list[Any] = [tenant]
        if client_id is not None:
            conds.append(f"client_id={p}")
            args.append(client_id)
        if before is not None:
            conds.append(f"seq < {p}")
            args.append(before)
        with self.store.write(tenant) as tx:
            tx.cur.execute(
                "SELECT seq, at, client_id, operation, entity_ids, count FROM ngsi_audit"
                f" WHERE {' AND '.join(conds)} ORDER BY seq DESC LIMIT {p}",
                (*args, max(0, int(limit))),
            )
            rows = tx.cur.fetchall()
        return [
            {
                "seq": seq,
                "at": at,
                "tenant": tenant,
                "clientId": client,
                "operation": op,
                "entityIds": orjson.loads(ids),
                "count": count,
            }
            for seq, at, client, op, ids, count in rows
        ]


class AuditedTx:
    """A store transaction that remembers which entities (and subscriptions) it changed."""

    __slots__ = ("ids", "tx")

    def __init__(self, tx: Any):
        self.tx = tx
        self.ids: list[str] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.tx, name)

    def events(self, rows: list[tuple[Any, ...]]) -> None:
        self.ids.extend(r[1] for r in rows)
        self.tx.events(rows)

    def insert_many(
        self, docs: list[dict[str, Any]], *, events_at: str | None = None
    ) -> list[dict[str, Any]]:
        """Returns the documents not inserted (their id exists); only the others are recorded."""
        taken: list[dict[str, Any]] = self.tx.insert_many(docs, events_at=events_at)
        skip = {id(d) for d in taken}
        self.ids.extend(d["id"] for d in docs if id(d) not in skip)
        return taken

    def sub_insert(self, sid: str, doc: dict[str, Any]) -> bool:
        ok: bool = self.tx.sub_insert(sid, doc)
        if ok:
            self.ids.append(sid)
        return ok

    def sub_update(self, sid: str, doc: dict[str, Any]) -> None:
        self.ids.append(sid)
        self.tx.sub_update(sid, doc)

    def sub_delete(self, sid: str) -> bool:
        ok: bool = self.tx.sub_delete(sid)
        if ok:
            self.ids.append(sid)
        return ok
