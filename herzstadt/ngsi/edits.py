"""Changes to stored entity documents (merge, append, update, NGSI-LD null) — pure functions."""

from __future__ import annotations

from typing import Any

from . import model
from .broker import clone_json
from .model import NULL


def finish_new(doc: dict[str, Any], now: str) -> dict[str, Any]:
    """Stamp a parsed entity for insertion; key order as in the stored form."""
    attrs = doc.pop("attrs")
    if doc.get("scope") is None:
        doc.pop("scope", None)
    doc["createdAt"] = now
    doc["modifiedAt"] = now
    for iri in list(attrs):
        if attrs[iri] is None:
            del attrs[iri]
    model.stamp_attrs(attrs, now)
    doc["attrs"] = attrs
    return doc


def merge_doc(old: dict[str, Any], frag: dict[str, Any], now: str) -> dict[str, Any]:
    """Merge a parsed fragment (attrs may hold None = delete) into a stored doc (copy)."""
    doc: dict[str, Any] = clone_json(old)
    if frag.get("type"):
        types = doc.get("type") or []
        for t in frag["type"]:
            if t not in types:
                types.append(t)
        doc["type"] = types
    if "scope" in frag:
        if frag["scope"] is None:
            doc.pop("scope", None)
        else:
            doc["scope"] = frag["scope"]
    attrs = doc.setdefault("attrs", {})
    for iri, insts in frag.get("attrs", {}).items():
        if insts is None:
            attrs.pop(iri, None)
            continue
        existing = attrs.get(iri)
        for inst in insts:
            if inst is None:
                continue
            ds = inst.get("datasetId")
            n = model.instance_index(existing, ds) if existing else -1
            if is_null(inst):
                if n >= 0 and existing is not None:
                    del existing[n]
                continue
            if n >= 0 and existing is not None:
                existing[n] = model.merge_instance(existing[n], inst, now)
            else:
                if existing is None:
                    existing = attrs[iri] = []
                model.put_instance(existing, model.stamp(inst, now))
        if iri in attrs and not attrs[iri]:
            del attrs[iri]
    doc["modifiedAt"] = now
    return doc


def is_null(inst: dict[str, Any]) -> bool:
    for m in model.VALUE_MEMBERS:
        x = inst.get(m)
        if x is None:
            continue
        if x == NULL or x == [NULL] or x == {"@none": NULL} or x == [{"object": NULL}]:
            return True
    return False


def apply_fragment(
    doc: dict[str, Any], frag: dict[str, Any], now: str, mode: str
) -> tuple[list[str], list[dict[str, Any]]]:
    """Apply a parsed fragment to ``doc`` in place.

    mode: ``append`` (add or overwrite), ``noOverwrite`` (add only), ``update`` (existing attributes
    only; new datasetId instances of existing attributes are added). ``urn:ngsi-ld:null`` deletes.
    Returns the UpdateResult lists (expanded attribute names).
    """
    updated: list[str] = []
    not_updated: list[dict[str, Any]] = []
    for t in frag.get("type") or []:
        if t not in doc["type"]:
            doc["type"].append(t)
    if "scope" in frag and frag["scope"] is not None:
        if mode == "update" and not doc.get("scope"):
            not_updated.append({"attributeName": "scope", "reason": "the entity has no scope"})
        elif mode == "noOverwrite":
            sc = doc.setdefault("scope", [])
            for x in frag["scope"]:
                if x not in sc:
                    sc.append(x)
            updated.append("scope")
        else:
            doc["scope"] = frag["scope"]
            updated.append("scope")
    attrs = doc.setdefault("attrs", {})
    for iri, insts in frag["attrs"].items():
        existing = attrs.get(iri)
        # mode "update" adds missing attributes too: the ETSI suite (011_01_03) expects it
        done = False
        for inst in insts or []:
            n = model.instance_index(existing, inst.get("datasetId")) if existing else -1
            if is_null(inst):
                if n >= 0 and existing is not None:
                    del existing[n]
                    done = True
                continue
            if n >= 0 and mode == "noOverwrite":
                continue
            if existing is None:
                existing = attrs[iri] = []
            model.stamp(inst, now, existing[n].get("createdAt") if n >= 0 else None)
            model.put_instance(existing, inst)
            done = True
        if iri in attrs and not attrs[iri]:
            del attrs[iri]
        if done:
            updated.append(iri)
        else:
            not_updated.append(
                {
                    "attributeName": iri,
                    "reason": "attribute exists and options=noOverwrite was given"
                    if mode == "noOverwrite"
                    else "attribute instance does not exist",
                }
            )
    return updated, not_updated


def merge_attrs(
    old: dict[str, Any], frag: dict[str, Any], now: str, no_overwrite: bool = False
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    doc: dict[str, Any] = clone_json(old)
    _, not_updated = apply_fragment(doc, frag, now, "noOverwrite" if no_overwrite else "append")
    doc["modifiedAt"] = now
    return doc, not_updated


def upsert_doc(
    cur: dict[str, Any] | None, frags: list[dict[str, Any]], now: str, update_mode: bool
) -> dict[str, Any]:
    """The document after upserting parsed fragments (in order) into ``cur`` (None: a new
    entity): each fragment replaces the entity (keeping createdAt), or with ``update_mode``
    updates its attributes. The fragments are not consumed (a retried transaction reuses them)."""
    for frag in frags:
        if cur is None:
            cur = finish_new(dict(frag), now)
        elif update_mode:
            cur, _ = merge_attrs(cur, frag, now)
        else:
            created = cur.get("createdAt", now)
            cur = finish_new(dict(frag), now)
            cur["createdAt"] = created
    assert cur is not None
    return cur
