"""Merging one entity's representations from several sources (ETSI GS CIM 009 4.3.6.4).

Entities are merged in the stored (expanded) form: types and scopes are united; per attribute
and ``datasetId`` one instance is kept — the one with the most recent ``observedAt``, else the
most recent ``modifiedAt``, else the first one seen (callers pass this broker's own entity
first, so that on a tie the local instance wins).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def _rank(inst: dict[str, Any]) -> tuple[str, str]:
    return (str(inst.get("observedAt") or ""), str(inst.get("modifiedAt") or ""))


def _newer(cand: dict[str, Any], cur: dict[str, Any]) -> bool:
    a, b = _rank(cand), _rank(cur)
    if a[0] and b[0]:
        return a[0] > b[0]
    if a[0] != b[0]:  # only one has observedAt: it is the one that says when it is from
        return bool(a[0])
    return bool(a[1] and b[1] and a[1] > b[1])


def merge_attr(lists: Iterable[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Instances of one attribute from several sources -> one instance per datasetId."""
    kept: dict[Any, dict[str, Any]] = {}
    for insts in lists:
        for inst in insts or ():
            if not isinstance(inst, dict):
                continue
            ds = inst.get("datasetId")
            cur = kept.get(ds)
            if cur is None or _newer(inst, cur):
                kept[ds] = inst
    out = list(kept.values())
    out.sort(key=lambda i: 0 if "datasetId" not in i else 1)  # the default instance first
    return out


def merge_entities(docs: list[dict[str, Any]]) -> dict[str, Any]:
    """One entity from several stored-form documents of the same id (the first one leads)."""
    if len(docs) == 1:
        return docs[0]
    out: dict[str, Any] = {"id": docs[0]["id"]}
    types: list[str] = []
    scopes: list[str] = []
    names: list[str] = []
    per_attr: dict[str, list[list[dict[str, Any]]]] = {}
    created: list[str] = []
    modified: list[str] = []
    for d in docs:
        for t in d.get("type") or ():
            if t not in types:
                types.append(t)
        for s in d.get("scope") or ():
            if s not in scopes:
                scopes.append(s)
        for iri, insts in (d.get("attrs") or {}).items():
            if iri not in per_attr:
                names.append(iri)
                per_attr[iri] = []
            per_attr[iri].append(insts or [])
        if d.get("createdAt"):
            created.append(d["createdAt"])
        if d.get("modifiedAt"):
            modified.append(d["modifiedAt"])
    out["type"] = types
    if scopes:
        out["scope"] = scopes
    out["attrs"] = {iri: merge_attr(per_attr[iri]) for iri in names}
    if created:
        out["createdAt"] = min(created)
    if modified:
        out["modifiedAt"] = max(modified)
    return out


def merge_results(groups: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Entity lists of several sources (this broker's first) -> one list, one entity per id,
    in the order ids were first seen."""
    by_id: dict[str, list[dict[str, Any]]] = {}
    order: list[str] = []
    for docs in groups:
        for d in docs:
            eid = d.get("id")
            if not isinstance(eid, str):
                continue
            if eid not in by_id:
                by_id[eid] = []
                order.append(eid)
            by_id[eid].append(d)
    return [merge_entities(by_id[e]) for e in order]
