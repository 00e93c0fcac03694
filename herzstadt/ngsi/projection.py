"""The ``pick``/``omit`` projection language (ETSI GS CIM 009 4.21): ``id,name,locatedAt{id,name}``.

``parse_projection(text) -> {name: subtree | None}``; a subtree applies to the entities linked
through that relationship (``join``).
"""

from __future__ import annotations

import re
from typing import Any

from .errors import BadRequestData

_NAME = re.compile(r"[^,{}\s;<>\"'=()&?]+")


def parse_projection(text: str, param: str = "pick") -> dict[str, dict[str, Any] | None]:
    pos = 0
    n = len(text)

    def fail(msg: str) -> BadRequestData:
        return BadRequestData(f"invalid {param} at position {pos}: {msg}")

    def parse_list(depth: int) -> dict[str, dict[str, Any] | None]:
        nonlocal pos
        out: dict[str, dict[str, Any] | None] = {}
        while True:
            m = _NAME.match(text, pos)
            if not m:
                if pos < n and text[pos] in ",{}":
                    raise fail(f"unexpected {text[pos]!r}")
                if pos < n:
                    raise fail(f"invalid character {text[pos]!r}")
                raise fail("a name is expected")
            name = m.group(0)
            if name in out:
                raise fail(f"{name!r} appears twice")
            pos = m.end()
            sub = None
            if pos < n and text[pos] == "{":
                pos += 1
                sub = parse_list(depth + 1)
                if pos >= n or text[pos] != "}":
                    raise fail("unclosed brace")
                pos += 1
            out[name] = sub
            if pos >= n:
                if depth:
                    raise fail("unclosed brace")
                return out
            c = text[pos]
            if c == ",":
                pos += 1
                continue
            if c == "}":
                if not depth:
                    raise fail("unbalanced brace")
                return out
            raise fail(f"invalid character {c!r}")

    if not text:
        raise BadRequestData(f"empty {param}")
    tree = parse_list(0)
    if pos != n:
        raise fail("trailing characters")
    return tree
