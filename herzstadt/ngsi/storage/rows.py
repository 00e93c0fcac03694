"""Rows derived from a stored entity: the geo index rows and the encoded document."""

from __future__ import annotations

from typing import Any

import orjson

from ..errors import BadRequestData
from ..query import geo_index_rows


def has_geo(doc: dict[str, Any]) -> bool:
    for insts in (doc.get("attrs") or {}).values():
        for i in insts:
            if i.get("type") == "GeoProperty":
                return True
    return False


def geo_rows(doc: dict[str, Any]) -> list[tuple[Any, ...]]:
    """(attr, minx, miny, maxx, maxy) for every GeoProperty instance of a stored entity."""
    points = []
    for attr, insts in (doc.get("attrs") or {}).items():
        for i in insts:
            if i.get("type") == "GeoProperty":
                g = i.get("value") or {}
                if g.get("type") != "Point":
                    return [tuple(r) for r in geo_index_rows(doc)]
                x, y = g["coordinates"][0], g["coordinates"][1]
                points.append((attr, x, y, x, y))
    return points  # fast path: a point's bbox is the point


NUL_MESSAGE = "NUL characters (\\u0000) are not allowed in NGSI-LD data"


def encode_doc(doc: Any) -> str:
    """The JSON text of a document to store. A NUL character anywhere is a 400 on every database
    (PostgreSQL's text and jsonb cannot hold it); the check costs one substring search of the
    text that is written anyway."""
    text = orjson.dumps(doc).decode()
    if "\\u0000" in text and _has_nul(doc):
        raise BadRequestData(NUL_MESSAGE)
    return text


def _has_nul(doc: Any) -> bool:
    stack = [doc]
    while stack:
        x = stack.pop()
        if isinstance(x, str):
            if "\x00" in x:
                return True
        elif isinstance(x, dict):
            stack.extend(x.keys())
            stack.extend(x.values())
        elif isinstance(x, list):
            stack.extend(x)
    return False
