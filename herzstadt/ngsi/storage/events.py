"""Append-only change events, written in the transaction of the change (docs/ngsi-ld.md)."""

from __future__ import annotations

from typing import Any, cast

import orjson


def event_rows(
    tenant: str, old: dict[str, Any] | None, new: dict[str, Any] | None, now: str
) -> list[tuple[Any, ...]]:
    """Append-only change events, written in the transaction of the change.

    Rows: (tenant, entity_id, attr, kind, instance_json, observed_at, modified_at).
    A created entity is ONE row (attr '', kind 'create', instance = the whole stored document);
    a deleted entity one row (attr '', kind 'delete'); an update one row per changed attribute
    instance (kind create/update/delete; a deleted instance is ``{"datasetId": ...}`` or ``{}``)
    plus an attr '' row (instance ``{"type": [...], "scope": [...]}``) when types/scope changed.
    """
    eid = cast("dict[str, Any]", new or old)["id"]
    rows: list[tuple[Any, ...]] = []
    if old is None and new is not None:
        rows.append((tenant, eid, "", "create", orjson.dumps(new).decode(), None, now))
        return rows
    if new is None and old is not None:
        rows.append((tenant, eid, "", "delete", None, None, now))
        return rows
    assert old is not None and new is not None
    if _entity_head(old) != _entity_head(new):
        rows.append(
            (tenant, eid, "", "update", orjson.dumps(_entity_head(new)).decode(), None, now)
        )
    oa, na = old.get("attrs") or {}, new.get("attrs") or {}
    dumps = orjson.dumps
    for attr, insts in na.items():
        before = oa.get(attr)
        if before is None or (
            len(before) == 1
            and len(insts) == 1
            and before[0].get("datasetId") == insts[0].get("datasetId")
        ):
            # fast path: a new attribute, or one instance replacing one instance
            if before is not None and before[0] == insts[0]:
                continue
            kind = "create" if before is None else "update"
            for i in insts:
                rows.append((tenant, eid, attr, kind, dumps(i).decode(), i.get("observedAt"), now))
            continue
        if before == insts:
            continue
        bykey = {i.get("datasetId"): i for i in before or []}
        for i in insts:
            b = bykey.pop(i.get("datasetId"), None)
            if b == i:
                continue
            rows.append(
                (
                    tenant,
                    eid,
                    attr,
                    "update" if b is not None else "create",
                    orjson.dumps(i).decode(),
                    i.get("observedAt"),
                    now,
                )
            )
        rows.extend(_deleted(tenant, eid, attr, ds, now) for ds in bykey)
    for attr, insts in oa.items():
        if attr not in na:
            rows.extend(_deleted(tenant, eid, attr, i.get("datasetId"), now) for i in insts)
    return rows


def _deleted(tenant: str, eid: str, attr: str, ds: str | None, now: str) -> tuple[Any, ...]:
    """The event row of a deleted attribute instance."""
    return (
        tenant,
        eid,
        attr,
        "delete",
        orjson.dumps({"datasetId": ds} if ds else {}).decode(),
        None,
        now,
    )


def _entity_head(doc: dict[str, Any]) -> dict[str, Any]:
    h = {"type": doc.get("type")}
    if "scope" in doc:
        h["scope"] = doc["scope"]
    return h
