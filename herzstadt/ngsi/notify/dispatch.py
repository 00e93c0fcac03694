"""The dispatcher: change events (``ngsi_event``) -> notification rows (``ngsi_notification``).

One round reads the events after the cursor, matches them against the subscriptions of their
tenants, renders the notifications and inserts them into the outbox, and advances the cursor —
all in ONE transaction: a crash before the commit leaves the cursor where it was (the events are
dispatched again), after it the notifications are stored. Only one dispatcher works at a time:
the cursor row is locked (PostgreSQL ``FOR UPDATE SKIP LOCKED``: the others skip the round;
SQLite: writes are serialised anyway).

PostgreSQL hands out event numbers (``seq``) before the writing transactions commit, so a later
number can be visible before an earlier one. The dispatcher therefore first takes a horizon: in
a tiny transaction it waits for ``LOCK TABLE ngsi_event IN SHARE MODE`` (granted once every
transaction that is inserting events has ended) and reads ``max(seq)``; every event up to it is
committed, every later one gets a higher number. On SQLite writes are serialised, so what is
visible is complete.
"""

# ruff: noqa: S608 - SQL text from fixed table names and placeholders; all data is bound
from __future__ import annotations

import datetime as dt
import logging
import time
import uuid
from dataclasses import dataclass, field, replace
from typing import Any

import orjson

from .. import model
from ..broker import Broker
from ..model.render import render_entity
from ..model.vocab import VALUE_MEMBER
from .compile import CompiledSub, compile_sub

log = logging.getLogger(__name__)

#: entities per notification (a larger change is split into several notifications)
MAX_DATA = 500
#: seconds between two checks of the periodic (timeInterval) subscriptions
PERIODIC_CHECK = 0.5


@dataclass(slots=True)
class Change:
    """What happened to one entity within a round of events."""

    created: bool = False
    deleted: bool = False
    head: bool = False  # type or scope changed
    attrs: dict[str, set[str]] = field(default_factory=dict)  # kind -> attribute IRIs
    types: list[str] | None = None  # from a create/head event (for deleted entities)
    deleted_at: str = ""
    at: str = ""  # time of the newest event (a subscription created later does not see it)
    first: dict[str, int] = field(default_factory=dict)  # attribute -> first event seq (round)
    deleted_ds: dict[str, list[str]] = field(default_factory=dict)  # attr -> deleted datasetIds
    deleted_seq: int = 0

    def add(self, kind: str, attr: str, seq: int) -> None:
        self.attrs.setdefault(kind, set()).add(attr)
        self.first.setdefault(attr, seq)


def _chunks(xs: list[Any], n: int) -> list[list[Any]]:
    return [xs[i : i + n] for i in range(0, len(xs), n)]


class Dispatcher:
    def __init__(self, broker: Broker):
        self.broker = broker
        self.store: Any = broker.store
        self.pg = self.store.dialect == "postgresql"
        self.p = self.store.placeholder
        self._compiled: dict[tuple[str, str], tuple[Any, CompiledSub | None]] = {}
        self._next_periodic_check = 0.0

    # --- reads outside the transaction (cheap: is there anything to do?)
    def newest(self) -> int:
        with self.store.reading() as cur:
            cur.execute("SELECT coalesce(max(seq), 0) FROM ngsi_event")
            return int(cur.fetchone()[0])

    def cursor(self) -> int:
        with self.store.reading() as cur:
            cur.execute("SELECT seq FROM ngsi_notify_cursor WHERE name='events'")
            r = cur.fetchone()
        return int(r[0]) if r else 0

    def _horizon(self) -> int:
        if not self.pg:
            return self.newest()
        with self.store.connection() as conn, conn.transaction():
            conn.execute("SET LOCAL lock_timeout = '10s'")
            conn.execute("LOCK TABLE ngsi_event IN SHARE MODE")
            row = conn.execute("SELECT coalesce(max(seq), 0) FROM ngsi_event").fetchone()
            return int(row[0])

    # --- one round
    def round(self, limit: int = 2000) -> int:
        """Dispatch the next events (at most ``limit``) and any due periodic notifications;
        returns the number of events and notifications handled (0: nothing to do)."""
        now = time.time()
        start = self.cursor()
        periodic = now >= self._next_periodic_check
        if self.newest() <= start and not periodic:
            return 0
        horizon = self._horizon()
        p = self.p
        done = 0
        with self.store.write("") as tx:
            c = tx.cur
            c.execute(
                "SELECT seq FROM ngsi_notify_cursor WHERE name='events'"
                + (" FOR UPDATE SKIP LOCKED" if self.pg else "")
            )
            r = c.fetchone()
            if r is None:
                return 0  # another dispatcher is at work
            c.execute(
                "SELECT seq, tenant, entity_id, attr, kind, instance, modified_at FROM ngsi_event"
                f" WHERE seq > {p} AND seq <= {p} ORDER BY seq LIMIT {p}",
                (int(r[0]), horizon, limit),
            )
            events = c.fetchall()
            if events:
                done += len(events) + self._dispatch(c, events, now)
                c.execute(
                    f"UPDATE ngsi_notify_cursor SET seq={p} WHERE name='events'",
                    (int(events[-1][0]),),
                )
            if periodic:
                self._next_periodic_check = now + PERIODIC_CHECK
                done += self._periodic(c, now)
                from ..csource import subs as csource_subs  # csource imports the notifier

                done += csource_subs.periodic(self.broker, c, p, now)
                done += csource_subs.expired(self.broker, c, p, now)
        return done

    # --- subscriptions
    def _compile(self, tenant: str, doc: dict[str, Any]) -> CompiledSub | None:
        key = (tenant, doc["id"])
        stamp = (doc.get("modifiedAt"), doc.get("jsonldContext"), doc.get("_notifyContext"))
        hit = self._compiled.get(key)
        if hit is not None and hit[0] == stamp:
            return hit[1]
        url = doc.get("jsonldContext") or doc.get("_notifyContext")
        raw = None if not url or url == self.broker.config.core_context_url else url
        if doc.get("_requestContext") is not None:
            raw = doc["_requestContext"]  # an implicitly created @context
        sub: CompiledSub | None
        try:
            sub = compile_sub(tenant, doc, self.broker.resolver.get(raw, tenant))
        except Exception as e:  # an @context gone, a stored subscription of an older version
            log.warning("subscription %s (tenant %r) cannot be matched: %s", doc["id"], tenant, e)
            sub = None
        if len(self._compiled) > 100_000:
            self._compiled.clear()
        self._compiled[key] = (stamp, sub)
        return sub

    def _subs(self, c: Any, tenants: list[str]) -> dict[str, list[CompiledSub]]:
        out: dict[str, list[CompiledSub]] = {}
        if not tenants:
            return out
        p = self.p
        c.execute(
            f"SELECT tenant, doc FROM ngsi_subscription WHERE tenant IN"
            f" ({','.join([p] * len(tenants))})",
            tenants,
        )
        for tenant, raw in c.fetchall():
            sub = self._compile(tenant, self.store._decode(raw))
            if sub is not None:
                out.setdefault(tenant, []).append(sub)
        return out

    # --- matching
    def _dispatch(self, c: Any, events: list[Any], now: float) -> int:
        changes: dict[tuple[str, str], Change] = {}
        for seq, tenant, eid, attr, kind, inst, modified_at in events:
            ch = changes.get((tenant, eid))
            if ch is None:
                ch = changes[(tenant, eid)] = Change()
            ch.at = max(ch.at, modified_at or "")
            if attr == "":
                if kind == "create":
                    ch.created, ch.deleted = True, False
                    ch.types = (self.store._decode(inst) if inst else {}).get("type")
                elif kind == "delete":
                    ch.deleted, ch.deleted_at, ch.deleted_seq = True, modified_at, int(seq)
                else:
                    ch.head = True
                    ch.types = (self.store._decode(inst) if inst else {}).get("type")
            else:
                ch.add(kind, attr, int(seq))
                if kind == "delete" and inst:
                    ds = self.store._decode(inst).get("datasetId")
                    if ds:
                        ch.deleted_ds.setdefault(attr, []).append(ds)
        nowdt = dt.datetime.fromtimestamp(now, dt.UTC)
        subs = self._subs(c, sorted({t for t, _ in changes}))
        subs = {
            t: [s for s in ss if s.active(nowdt) and not s.time_interval] for t, ss in subs.items()
        }
        by_tenant: dict[str, list[str]] = {}
        for t, eid in changes:
            if subs.get(t):
                by_tenant.setdefault(t, []).append(eid)
        if not by_tenant:
            return 0
        docs = self._docs(c, by_tenant)
        out: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
        owners: dict[tuple[str, str], CompiledSub] = {}
        for (tenant, eid), ch in changes.items():
            tsubs = subs.get(tenant)
            if not tsubs:
                continue
            doc = docs.get((tenant, eid))
            if doc is None and ch.deleted and ch.types is None:
                ch.types = self._last_types(c, tenant, eid)
            for sub in tsubs:
                extras: list[dict[str, Any]] = []
                if ch.at and ch.at < sub.doc.get("createdAt", ""):
                    continue  # the change committed before the subscription existed
                reason = _reason(sub, ch, doc)
                gone_attrs: list[str] = []
                if (
                    doc is None
                    and ch.deleted
                    and ch.deleted_seq
                    and (reason is None or sub.show_changes)
                    and ("attributeDeleted" in sub.triggers or sub.show_changes)
                ):
                    gone_attrs = self._attrs_before(c, tenant, eid, ch.deleted_seq)
                    if sub.watched is not None and not sub.show_changes:
                        gone_attrs = [a for a in gone_attrs if a in sub.watched]
                    if reason is None and gone_attrs:
                        reason = "attributeDeleted"
                if reason is None:
                    continue
                if doc is None:
                    types = ch.types or []
                    if not sub.selects(eid, types):
                        continue
                    at = ch.deleted_at or model.now_iso()
                    item = {"id": eid, "type": _compact_types(types, sub)}
                    if sub.ro.sys_attrs:
                        head = self._created(c, tenant, eid, ch.deleted_seq)
                        for k in ("createdAt", "modifiedAt"):
                            if head.get(k):
                                item[k] = head[k]
                    item["deletedAt"] = at
                    for attr in gone_attrs:
                        prev = self._previous(c, tenant, eid, attr, ch.deleted_seq)
                        if prev is not None:
                            item[sub.ctx.compact(attr)] = _gone(prev, sub, sub.show_changes, at)
                else:
                    if not sub.selects(eid, doc.get("type") or []):
                        continue
                    if sub.matcher is not None and not sub.matcher(doc):
                        continue
                    item = render_entity(doc, sub.ctx, sub.ro)
                    if sub.ro.key_values:
                        if sub.ro.sys_attrs:
                            for k in ("createdAt", "modifiedAt"):
                                if k in doc:
                                    item[k] = doc[k]
                        _datasets(doc, item, sub, ch)
                    self._changes(c, tenant, eid, ch, doc, sub, item)
                    if sub.join in ("flat", "inline"):
                        extras = self._join(tenant, doc, item, sub)
                out.setdefault((tenant, sub.sid, reason), []).extend([item, *extras])
                owners[(tenant, sub.sid)] = sub
        return self._emit(c, out, owners, now)

    def _emit(
        self,
        c: Any,
        out: dict[tuple[str, str, str], list[dict[str, Any]]],
        owners: dict[tuple[str, str], CompiledSub],
        now: float,
    ) -> int:
        if not out:
            return 0
        p = self.p
        throttled = self._throttled(c, [s for s in owners.values() if s.throttling > 0], now)
        rows = []
        sent: set[tuple[str, str]] = set()
        for (tenant, sid, reason), items in out.items():
            if (tenant, sid) in throttled:
                continue
            sub = owners[(tenant, sid)]
            for chunk in _chunks(items, MAX_DATA):
                rows.append(_row(sub, reason, chunk, now))
            sent.add((tenant, sid))
        self._insert(c, rows)
        if sent:
            c.executemany(
                f"INSERT INTO ngsi_sub_state(tenant, sub_id, last_sent) VALUES ({p},{p},{p})"
                " ON CONFLICT (tenant, sub_id) DO UPDATE SET last_sent = excluded.last_sent",
                [(t, s, now) for t, s in sent],
            )
        return len(rows)

    def _insert(self, c: Any, rows: list[tuple[Any, ...]]) -> None:
        if rows:
            p = self.p
            c.executemany(
                "INSERT INTO ngsi_notification(tenant, sub_id, ep_key, target, payload,"
                f" created_at, next_at) VALUES ({p},{p},{p},{p},{p},{p},{p})",
                rows,
            )

    def _throttled(self, c: Any, subs: list[CompiledSub], now: float) -> set[tuple[str, str]]:
        out: set[tuple[str, str]] = set()
        p = self.p
        for s in subs:
            c.execute(
                f"SELECT last_sent FROM ngsi_sub_state WHERE tenant={p} AND sub_id={p}",
                (s.tenant, s.sid),
            )
            r = c.fetchone()
            if r is not None and now - float(r[0]) < s.throttling:
                out.add((s.tenant, s.sid))
        return out

    def _docs(
        self, c: Any, by_tenant: dict[str, list[str]]
    ) -> dict[tuple[str, str], dict[str, Any]]:
        p = self.p
        docs: dict[tuple[str, str], dict[str, Any]] = {}
        for tenant, ids in by_tenant.items():
            for chunk in _chunks(sorted(ids), 500):
                c.execute(
                    f"SELECT id, doc FROM ngsi_entity WHERE tenant={p} AND id IN"
                    f" ({','.join([p] * len(chunk))})",
                    (tenant, *chunk),
                )
                for eid, raw in c.fetchall():
                    docs[(tenant, eid)] = self.store._decode(raw)
        return docs

    def _last_types(self, c: Any, tenant: str, eid: str) -> list[str] | None:
        """The types of a deleted entity: from its last create (or type change) event."""
        p = self.p
        c.execute(
            f"SELECT instance FROM ngsi_event WHERE tenant={p} AND entity_id={p} AND attr=''"
            " AND kind IN ('create', 'update') ORDER BY seq DESC LIMIT 1",
            (tenant, eid),
        )
        r = c.fetchone()
        if r is None or r[0] is None:
            return None
        types: list[str] | None = self.store._decode(r[0]).get("type")
        return types

    # --- linked entities (notification.join / joinLevel)
    def _join(
        self, tenant: str, doc: dict[str, Any], item: dict[str, Any], sub: CompiledSub
    ) -> list[dict[str, Any]]:
        """Inline: the linked entities go into ``item``; flat: they are returned (to follow the
        entity in ``data``)."""
        from ..auth import system_principal
        from ..broker import Req
        from ..render import _flat, _inline

        principal = system_principal(tenant)
        allowed = sub.doc.get("_principalTypes")
        if allowed is not None:  # linked entities only of the types the subscriber may read
            principal = replace(principal, entity_types=frozenset(allowed))
        req = Req(principal=principal, tenant=tenant, ctx=sub.ctx)
        if sub.join == "inline":
            _inline(self.broker, req, doc, item, sub.ro, sub.join_level, frozenset({doc["id"]}))
            return []
        return _flat(self.broker, req, [doc], [item], sub.ro, sub.join_level)[1:]

    # --- deleted attributes and previous values
    def _changes(
        self,
        c: Any,
        tenant: str,
        eid: str,
        ch: Change,
        doc: dict[str, Any],
        sub: CompiledSub,
        item: dict[str, Any],
    ) -> None:
        """Add the deleted attributes (value ``urn:ngsi-ld:null``) and, with ``showChanges``,
        the previous values of the changed ones to a rendered normalized entity."""
        attrs = doc.get("attrs") or {}
        keep, omit = sub.ro.attrs, sub.ro.omit
        for kind, names in ch.attrs.items():
            for attr in names:
                if (keep is not None and attr not in keep) or (omit is not None and attr in omit):
                    continue
                name = sub.ctx.compact(attr)
                if attr not in attrs:  # deleted (its last instance)
                    prev = self._previous(c, tenant, eid, attr, ch.first[attr])
                    if prev is not None:
                        item[name] = _gone(prev, sub, sub.show_changes, ch.at, attr_only=True)
                elif kind == "delete" and attr in ch.deleted_ds and not sub.ro.key_values:
                    # instances of other datasetIds remain: the deleted ones follow them
                    cur = item.get(name)
                    if cur is None:
                        continue
                    insts = cur if isinstance(cur, list) else [cur]
                    t = attrs[attr][0].get("type", "Property")
                    member = VALUE_MEMBER.get(t, "value")
                    insts += [
                        {"type": t, "datasetId": ds, member: model.NULL}
                        for ds in ch.deleted_ds[attr]
                        if sub.ro.dataset_id is None or ds in sub.ro.dataset_id
                    ]
                    item[name] = insts
                elif sub.show_changes and kind == "update" and isinstance(item.get(name), dict):
                    prev = self._previous(c, tenant, eid, attr, ch.first[attr])
                    if prev is not None:
                        member = _member(prev)
                        if member in prev:
                            key = "previous" + member[0].upper() + member[1:]
                            item[name][key] = _prev_value(prev, member, sub)

    def _previous(self, c: Any, tenant: str, eid: str, attr: str, seq: int) -> Any:
        """The default instance of ``attr`` before event ``seq`` (None: there was none)."""
        p = self.p
        c.execute(
            f"SELECT seq, kind, instance FROM ngsi_event WHERE tenant={p} AND entity_id={p}"
            f" AND attr={p} AND seq < {p} ORDER BY seq DESC LIMIT 1",
            (tenant, eid, attr, seq),
        )
        last = c.fetchone()
        c.execute(
            f"SELECT seq, instance FROM ngsi_event WHERE tenant={p} AND entity_id={p}"
            f" AND attr='' AND kind='create' AND seq < {p} ORDER BY seq DESC LIMIT 1",
            (tenant, eid, seq),
        )
        created = c.fetchone()
        if last is not None and (created is None or int(last[0]) > int(created[0])):
            if last[1] == "delete" or last[2] is None:
                return None
            return self.store._decode(last[2])
        if created is None or created[1] is None:
            return None
        insts = (self.store._decode(created[1]).get("attrs") or {}).get(attr) or []
        for i in insts:
            if i.get("datasetId") is None:
                return i
        return insts[0] if insts else None

    def _created(self, c: Any, tenant: str, eid: str, seq: int) -> dict[str, Any]:
        """The stored document of the entity's last creation before event ``seq``."""
        p = self.p
        c.execute(
            f"SELECT instance FROM ngsi_event WHERE tenant={p} AND entity_id={p}"
            f" AND attr='' AND kind='create' AND seq < {p} ORDER BY seq DESC LIMIT 1",
            (tenant, eid, seq),
        )
        r = c.fetchone()
        return self.store._decode(r[0]) if r and r[0] else {}

    def _attrs_before(self, c: Any, tenant: str, eid: str, seq: int) -> list[str]:
        """The attributes an entity had before event ``seq`` (its deletion)."""
        p = self.p
        c.execute(
            f"SELECT seq, instance FROM ngsi_event WHERE tenant={p} AND entity_id={p}"
            f" AND attr='' AND kind='create' AND seq < {p} ORDER BY seq DESC LIMIT 1",
            (tenant, eid, seq),
        )
        created = c.fetchone()
        if created is None:
            return []
        names = list((self.store._decode(created[1]).get("attrs") or {}).keys())
        c.execute(
            f"SELECT DISTINCT attr FROM ngsi_event WHERE tenant={p} AND entity_id={p}"
            f" AND attr <> '' AND seq > {p} AND seq < {p}",
            (tenant, eid, int(created[0]), seq),
        )
        for (a,) in c.fetchall():
            if a not in names:
                names.append(a)
        return [a for a in names if self._previous(c, tenant, eid, a, seq) is not None]

    # --- periodic notifications (timeInterval)
    def _periodic(self, c: Any, now: float) -> int:
        c.execute("SELECT tenant, doc FROM ngsi_subscription")
        nowdt = dt.datetime.fromtimestamp(now, dt.UTC)
        due: list[CompiledSub] = []
        for tenant, raw in c.fetchall():
            doc = self.store._decode(raw)
            if not doc.get("timeInterval"):
                continue
            sub = self._compile(tenant, doc)
            if sub is not None and sub.active(nowdt):
                due.append(sub)
        if not due:
            return 0
        p = self.p
        rows = []
        for sub in due:
            c.execute(
                f"SELECT next_periodic FROM ngsi_sub_state WHERE tenant={p} AND sub_id={p}",
                (sub.tenant, sub.sid),
            )
            r = c.fetchone()
            if r is not None and float(r[0]) > now:
                continue
            items = []
            for doc in self.store.all_docs(sub.tenant):
                if not sub.selects(doc["id"], doc.get("type") or []):
                    continue
                if sub.matcher is not None and not sub.matcher(doc):
                    continue
                items.append(render_entity(doc, sub.ctx, sub.ro))
            for chunk in _chunks(items, MAX_DATA):
                rows.append(_row(sub, "timeInterval", chunk, now))
            c.execute(
                "INSERT INTO ngsi_sub_state(tenant, sub_id, next_periodic, last_sent)"
                f" VALUES ({p},{p},{p},{p}) ON CONFLICT (tenant, sub_id) DO UPDATE SET"
                " next_periodic = excluded.next_periodic, last_sent = excluded.last_sent",
                (sub.tenant, sub.sid, now + sub.time_interval, now),
            )
        self._insert(c, rows)
        return len(rows)


def _compact_types(types: list[str], sub: CompiledSub) -> Any:
    names = [sub.ctx.compact(t) for t in types]
    return names[0] if len(names) == 1 else names


def _datasets(doc: dict[str, Any], item: dict[str, Any], sub: CompiledSub, ch: Change) -> None:
    """keyValues of an attribute with several instances (datasetIds): ``{"dataset": {datasetId
    or "@none": value}}``, deleted instances with the null value."""
    from ..model.render import _simplified_value

    for iri, insts in (doc.get("attrs") or {}).items():
        name = sub.ctx.compact(iri)
        gone = ch.deleted_ds.get(iri, [])
        if name not in item or (len(insts) < 2 and not gone):
            continue
        ds: dict[str, Any] = {}
        for i in insts:
            key = i.get("datasetId") or "@none"
            if sub.ro.dataset_id is None or key in sub.ro.dataset_id:
                ds[key] = _simplified_value(i, sub.ctx, sub.ro)
        for g in gone:
            if sub.ro.dataset_id is None or g in sub.ro.dataset_id:
                ds[g] = model.NULL
        item[name] = {"dataset": ds}


def _member(inst: dict[str, Any]) -> str:
    return VALUE_MEMBER.get(inst.get("type", "Property"), "value")


def _prev_value(prev: dict[str, Any], member: str, sub: CompiledSub) -> Any:
    value = prev[member]
    if member == "vocab":
        if isinstance(value, list):
            return [sub.ctx.compact(v) for v in value]
        return sub.ctx.compact(value)
    return value


def _gone(
    prev: dict[str, Any], sub: CompiledSub, show: bool, at: str, *, attr_only: bool = False
) -> Any:
    """A deleted attribute in a notification: its type, the null value, with ``showChanges``
    the previous value, with ``sysAttrs`` its times (keyValues: the null value alone)."""
    if sub.ro.key_values:
        return model.NULL
    member = _member(prev)
    out: dict[str, Any] = {"type": prev.get("type", "Property")}
    if show and member in prev:
        out["previous" + member[0].upper() + member[1:]] = _prev_value(prev, member, sub)
    # a deleted LanguageProperty attribute: {"@none": null} (ETSI 046_34_04); of a deleted
    # entity: the null value itself (046_37)
    lang = attr_only and member == "languageMap"
    out[member] = {"@none": model.NULL} if lang else model.NULL
    if prev.get("datasetId"):
        out["datasetId"] = prev["datasetId"]
    if sub.ro.sys_attrs:
        for k in ("createdAt", "modifiedAt"):
            if k in prev:
                out[k] = prev[k]
        out["deletedAt"] = at or model.now_iso()
    return out


_ATTR_TRIGGER = {
    "create": "attributeCreated",
    "update": "attributeUpdated",
    "delete": "attributeDeleted",
}


def _reason(sub: CompiledSub, ch: Change, doc: dict[str, Any] | None) -> str | None:
    """The trigger (of the subscription's ``notificationTrigger``) this change fires, or None."""
    trig, watched = sub.triggers, sub.watched
    if ch.deleted and doc is None:
        return "entityDeleted" if "entityDeleted" in trig else None
    if ch.created:
        if "entityCreated" in trig:
            return "entityCreated"
        if "attributeCreated" in trig and doc is not None:
            names = set((doc.get("attrs") or {}).keys())
            if watched is None or names & watched:
                return "attributeCreated"
    changed: set[str] = set()
    for kind, attrs in ch.attrs.items():
        changed |= attrs
        t = _ATTR_TRIGGER[kind]
        if t in trig and (watched is None or attrs & watched):
            return t
    if (
        "entityUpdated" in trig
        and (ch.head or changed)
        and not ch.created
        and (watched is None or changed & watched)
    ):
        return "entityUpdated"
    return None


def _row(sub: CompiledSub, reason: str, data: list[dict[str, Any]], now: float) -> tuple[Any, ...]:
    payload = {
        "id": f"urn:ngsi-ld:Notification:{uuid.uuid4().hex}",
        "type": "Notification",
        "subscriptionId": sub.sid,
        "triggerReason": reason,
        "data": data,
    }
    # deliveries are grouped into lanes by endpoint URI (see deliver.py)
    key = str(sub.target["uri"])
    return (
        sub.tenant,
        sub.sid,
        key,
        orjson.dumps(sub.target).decode(),
        orjson.dumps(payload).decode(),
        now,
        now,
    )
