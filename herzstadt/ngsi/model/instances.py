"""Instances inside a stored entity: system timestamps, look-up and insertion by datasetId,
merge-patch of one instance."""

from __future__ import annotations

from typing import Any

from .vocab import VALUE_MEMBERS


def stamp(inst: dict[str, Any], now: str, created: str | None = None) -> dict[str, Any]:
    """Write createdAt/modifiedAt into an instance and its sub-attributes."""
    inst["createdAt"] = created or now
    inst["modifiedAt"] = now
    sub = inst.get("attrs")
    if sub:
        for lst in sub.values():
            if lst:
                for s in lst:
                    stamp(s, now, s.get("createdAt") if created else None)
    return inst


def stamp_attrs(attrs: dict[str, Any], now: str) -> None:
    for lst in attrs.values():
        if lst:
            for i in lst:
                stamp(i, now)


def instance_index(insts: list[Any], dataset_id: str | None) -> int:
    for n, i in enumerate(insts):
        if i.get("datasetId") == dataset_id:
            return n
    return -1


def put_instance(insts: list[Any], inst: dict[str, Any]) -> None:
    """Insert or replace by datasetId, keeping the default instance first."""
    n = instance_index(insts, inst.get("datasetId"))
    if n >= 0:
        insts[n] = inst
    elif "datasetId" in inst:
        insts.append(inst)
    else:
        insts.insert(0, inst)


def merge_instance(old: dict[str, Any], new: dict[str, Any], now: str) -> dict[str, Any]:
    """Merge-patch an instance: members in ``new`` win, sub-attributes merge recursively."""
    out = dict(old)
    if "type" in new and new["type"] != old.get("type"):
        # type change: drop the old value member
        for m in VALUE_MEMBERS:
            out.pop(m, None)
    for k, x in new.items():
        if k == "attrs":
            sub = dict(out.get("attrs") or {})
            for sk, sv in x.items():
                if sv is None:
                    sub.pop(sk, None)
                elif sub.get(sk):
                    sub[sk] = [merge_instance(sub[sk][0], sv[0], now)]
                else:
                    sub[sk] = [stamp(sv[0], now)]
            if sub:
                out["attrs"] = sub
            else:
                out.pop("attrs", None)
        elif k in ("createdAt", "modifiedAt"):
            continue
        else:
            out[k] = x
    out["modifiedAt"] = now
    out.setdefault("createdAt", now)
    return out
