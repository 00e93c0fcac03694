"""Parsers for ``q`` (spec 4.9) and ``scopeQ`` (spec 4.19); the shared recursive-descent base.

Hand-written, scanner-less recursive descent: the tokens of the q language depend on where they
are (an attribute path may contain ':' and '/', a value may contain '-' and ':'), so the parser
reads characters directly. Every error names the position (0-based offset into the text) and what
was expected. ``;`` (AND) binds tighter than ``|`` (OR); parentheses group.

Limits against pathological input: ``MAX_LENGTH`` characters, ``MAX_DEPTH`` nested parentheses,
``MAX_TERMS`` query terms, ``MAX_VALUES`` values in one list, ``MAX_REGEX`` characters of a regex.
Results are cached on the text (``functools.lru_cache``); ASTs are immutable and safe to share.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime, time
from functools import lru_cache
from typing import Any

from .ast import (
    META_MEMBERS,
    TIMESTAMP_MEMBERS,
    And,
    AttrPath,
    Comparison,
    Exists,
    NotExists,
    Or,
    Pattern,
    QNode,
    Range,
    ScopeExpr,
    ScopePattern,
    Value,
    ValueList,
)
from .errors import QuerySyntaxError
from .regex import compile_pattern

MAX_LENGTH = 8192
MAX_DEPTH = 16
MAX_TERMS = 100
MAX_VALUES = 100
MAX_REGEX = 1000
MAX_PATH = 8

OPERATORS = ("!~=", "==", "!=", ">=", "<=", "~=", ">", "<")  # longest first
ORDERING = frozenset({">", ">=", "<", "<="})
_OPS_TEXT = "==, !=, >, >=, <, <=, ~= or !~="

_NUMBER = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")
_DATETIME = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?"
)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TIME = re.compile(r"\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?")
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:\S+")
# an absolute IRI used as attribute name: its authority may contain dots (not sub-attributes)
_IRI_START = re.compile(r"[A-Za-z][A-Za-z0-9+\-]*://[A-Za-z0-9\-._~:@]*")
_NAME_EXTRA = frozenset("_-:/#@")
_KEY_STOP = frozenset('[]."\\')


class BaseParser:
    """Character-level scanner with the AND/OR/parentheses grammar; subclasses parse the leaves."""

    param = "query"
    or_ops = "|"
    and_ops = ";"
    leaf_what = "a term"

    def __init__(self, text: str):
        if not isinstance(text, str):
            raise TypeError(f"{self.param} must be a str, not {type(text).__name__}")
        if "\x00" in text:  # PostgreSQL text cannot hold it; reject on every database
            raise QuerySyntaxError(self.param, "NUL characters are not allowed", text.index("\x00"))
        self.s = text
        self.n = len(text)
        self.i = 0
        self.depth = 0
        self.terms = 0

    # --- helpers
    def err(self, detail: str, pos: int | None = None) -> QuerySyntaxError:
        return QuerySyntaxError(self.param, detail, self.i if pos is None else pos)

    def found(self, pos: int | None = None) -> str:
        p = self.i if pos is None else pos
        if p >= self.n:
            return "the end of the text"
        chunk = self.s[p : p + 12]
        return f"'{chunk}'" + ("..." if p + 12 < self.n else "")

    def ws(self) -> None:
        s, n, i = self.s, self.n, self.i
        while i < n and s[i] in " \t\r\n":
            i += 1
        self.i = i

    def peek(self) -> str:
        return self.s[self.i] if self.i < self.n else ""

    def terminators(self) -> str:
        return self.or_ops + self.and_ops + ")"

    def expect_end_of_term(self, after: str) -> None:
        self.ws()
        if self.i < self.n and self.s[self.i] not in self.terminators():
            ops = ", ".join(f"'{c}'" for c in self.and_ops + self.or_ops)
            raise self.err(f"expected {ops}, ')' or the end after {after}, found {self.found()}")

    # --- grammar
    def parse(self) -> Any:
        if self.n > MAX_LENGTH:
            raise QuerySyntaxError(
                self.param, f"too long ({self.n} characters, at most {MAX_LENGTH})", None
            )
        if not self.s.strip():
            raise QuerySyntaxError(self.param, "must not be empty", 0)
        node = self.or_()
        self.ws()
        if self.i < self.n:
            if self.s[self.i] == ")":
                raise self.err("unbalanced ')' without a matching '('")
            ops = ", ".join(f"'{c}'" for c in self.and_ops + self.or_ops)
            raise self.err(f"expected {ops} or the end, found {self.found()}")
        return node

    def or_(self) -> Any:
        items = [self.and_()]
        while True:
            self.ws()
            if self.i < self.n and self.s[self.i] in self.or_ops:
                self.i += 1
                items.append(self.and_())
            else:
                break
        return _combine(Or, items)

    def and_(self) -> Any:
        items = [self.primary()]
        while True:
            self.ws()
            if self.i < self.n and self.s[self.i] in self.and_ops:
                self.i += 1
                items.append(self.primary())
            else:
                break
        return _combine(And, items)

    def primary(self) -> Any:
        self.ws()
        if self.i >= self.n:
            raise self.err(f"expected {self.leaf_what} or '(', but the text ends here")
        c = self.s[self.i]
        if c == "(":
            open_at = self.i
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise self.err(f"parentheses nested too deeply (at most {MAX_DEPTH} levels)")
            self.i += 1
            node = self.or_()
            self.ws()
            if self.peek() != ")":
                raise self.err(
                    f"expected ')' to close the '(' at position {open_at}, found {self.found()}"
                )
            self.i += 1
            self.depth -= 1
            return node
        if c in self.or_ops + self.and_ops + ")":
            raise self.err(f"expected {self.leaf_what} or '(', found {self.found()}")
        self.terms += 1
        if self.terms > MAX_TERMS:
            raise self.err(f"too many terms (at most {MAX_TERMS})")
        return self.leaf()

    def leaf(self) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError


def _combine(cls: type[Any], items: list[Any]) -> Any:
    if len(items) == 1:
        return items[0]
    flat: list[Any] = []
    for it in items:
        flat.extend(it.items if isinstance(it, cls) else (it,))
    return cls(tuple(flat))


# ============================================================================================= q
class QParser(BaseParser):
    param = "q"
    leaf_what = "an attribute path, '!'"

    def leaf(self) -> QNode:
        s = self.s
        if s[self.i] == "!":
            self.i += 1
            path = self.path()
            self.ws()
            if self.i < self.n and any(s.startswith(op, self.i) for op in OPERATORS):
                raise self.err(
                    "'!' (attribute does not exist) takes a bare attribute path, "
                    "it cannot be combined with an operator"
                )
            self.expect_end_of_term(f"'!{path.text}'")
            return NotExists(path)
        path = self.path()
        self.ws()
        op_at = self.i
        op = self.operator()
        if op is None:
            if self.i < self.n and s[self.i] not in self.terminators():
                raise self.err(
                    f"expected an operator ({_OPS_TEXT}), ';', '|', ')' or the end after "
                    f"attribute path '{path.text}', found {self.found()}"
                )
            return Exists(path)
        operand = self.operand(op, op_at, path)
        return Comparison(path, op, operand)

    def operator(self) -> str | None:
        s, i = self.s, self.i
        for op in OPERATORS:
            if s.startswith(op, i):
                self.i += len(op)
                return op
        if s.startswith("=", i):
            raise self.err("'=' is not an operator, use '==' to compare for equality")
        return None

    # --- attribute paths
    def name(self) -> str:
        s, n = self.s, self.n
        start = self.i
        m = _IRI_START.match(s, start)
        i = m.end() if m else start
        while i < n and (s[i].isalnum() or s[i] in _NAME_EXTRA):
            i += 1
        self.i = i
        return s[start:i]

    def path(self) -> AttrPath:
        s = self.s
        start = self.i
        first = self.name()
        if not first:
            raise self.err(f"expected an attribute name, found {self.found()}")
        names = [first]
        while self.peek() == ".":
            self.i += 1
            seg = self.name()
            if not seg:
                raise self.err(f"expected a sub-attribute name after '.', found {self.found()}")
            names.append(seg)
        keys: list[str] = []
        while self.peek() == "[":
            self.i += 1
            while True:
                k0 = self.i
                while self.i < self.n and s[self.i] not in _KEY_STOP and not s[self.i].isspace():
                    self.i += 1
                if self.i == k0:
                    if self.peek() in ('"', "\\"):
                        raise self.err("quotes and backslashes are not allowed in '[...]' keys")
                    raise self.err(f"expected a key inside '[...]', found {self.found()}")
                keys.append(s[k0 : self.i])
                c = self.peek()
                if c == ".":
                    self.i += 1
                    continue
                if c == "]":
                    self.i += 1
                    break
                if c in ('"', "\\"):
                    raise self.err("quotes and backslashes are not allowed in '[...]' keys")
                raise self.err(f"expected '.' or ']' inside '[...]', found {self.found()}")
            if self.peek() == ".":
                raise self.err(
                    "a '.' cannot follow ']'; write nested keys inside the brackets, e.g. attr[a.b]"
                )
        meta = None
        if len(names) >= 2 and names[-1] in META_MEMBERS:
            meta = names.pop()
            if keys:
                raise self.err(f"'.{meta}' cannot be followed by '[...]'")
        elif len(names) == 1 and names[0] in ("createdAt", "modifiedAt") and not keys:
            meta = names.pop()  # the entity's own system timestamp
        if len(names) > MAX_PATH:
            raise self.err(f"attribute path too deep (at most {MAX_PATH} names)", start)
        return AttrPath(tuple(names), meta, tuple(keys), s[start : self.i])

    # --- values
    def operand(self, op: str, op_at: int, path: AttrPath) -> Any:
        if op in ("~=", "!~="):
            operand: Any = self.regex(op)
            self.expect_end_of_term("the regular expression")
            return operand
        first = self.value(op)
        self.ws()
        s = self.s
        if s.startswith("..", self.i):
            if op not in ("==", "!="):
                raise self.err(f"a range (low..high) is only allowed with == and !=, not {op}")
            self.i += 2
            second = self.value("..")
            if first.family != second.family:
                raise self.err(
                    f"the ends of the range are of different types ({_desc(first)} and "
                    f"{_desc(second)})",
                    op_at + len(op),
                )
            if first.family == "bool":
                raise self.err("a range of true/false is not allowed", op_at + len(op))
            operand = Range(first, second)
            self.ws()
            if self.peek() == ",":
                raise self.err("a range cannot be combined with a list of values")
        elif self.peek() == ",":
            if op not in ("==", "!="):
                raise self.err(
                    f"a list of values (a,b,...) is only allowed with == and !=, not {op}"
                )
            items = [first]
            while self.peek() == ",":
                self.i += 1
                items.append(self.value(","))
                if len(items) > MAX_VALUES:
                    raise self.err(f"too many values in the list (at most {MAX_VALUES})")
                self.ws()
            if self.s.startswith("..", self.i):
                raise self.err("a list of values cannot contain a range")
            operand = ValueList(tuple(items))
        else:
            operand = first
            if op in ORDERING and first.kind in ("bool", "uri"):
                raise self.err(
                    f"operator {op} needs a number, a quoted string, a date, a time or a "
                    f"date-time; {_desc(first)} cannot be ordered",
                    op_at + len(op),
                )
        self.expect_end_of_term("the value")
        if path.meta in TIMESTAMP_MEMBERS:
            operand = _normalize_timestamps(operand)
        return operand

    def value(self, after: str) -> Value:
        self.ws()
        s, n = self.s, self.n
        if self.i >= n:
            raise self.err(f"expected a value after '{after}', but the text ends here")
        if s[self.i] == '"':
            return Value("string", self.quoted())
        start = self.i
        i = start
        while i < n and s[i] not in ",;|)" and not s[i].isspace() and not s.startswith("..", i):
            i += 1
        self.i = i
        tok = s[start:i]
        if not tok:
            raise self.err(
                f'expected a value (a number, a "string", true, false, a date/time or a URI) '
                f"after '{after}', found {self.found()}"
            )
        return self.classify(tok, start)

    def classify(self, tok: str, pos: int) -> Value:
        if tok == "true":
            return Value("bool", True)
        if tok == "false":
            return Value("bool", False)
        if _NUMBER.fullmatch(tok):
            if len(tok) > 40:
                raise self.err(f"number too long: '{tok[:40]}...'", pos)
            if any(c in tok for c in ".eE"):
                f = float(tok)
                if not math.isfinite(f):
                    raise self.err(f"number out of range: '{tok}'", pos)
                return Value("number", int(f) if f.is_integer() and abs(f) < 2**53 else f)
            n = int(tok)
            # beyond 64 bits a database (and orjson) hold the number as a double
            return Value("number", n if -(2**63) <= n < 2**63 else float(n))
        if _DATETIME.fullmatch(tok):
            try:
                datetime.fromisoformat(tok)
            except ValueError:
                raise self.err(f"invalid date-time '{tok}'", pos) from None
            return Value("datetime", tok)
        if _DATE.fullmatch(tok):
            try:
                date.fromisoformat(tok)
            except ValueError:
                raise self.err(f"invalid date '{tok}'", pos) from None
            return Value("date", tok)
        if _TIME.fullmatch(tok):
            try:
                time.fromisoformat(tok)
            except ValueError:
                raise self.err(f"invalid time '{tok}'", pos) from None
            return Value("time", tok)
        if tok[0].isdigit() or tok[0] in "+-.":
            raise self.err(f"'{tok}' is not a valid number, date, time or date-time", pos)
        if _URI.fullmatch(tok):
            return Value("uri", tok)
        if tok in ("True", "False", "TRUE", "FALSE"):
            raise self.err(f"'{tok}' is not a value: booleans are written true and false", pos)
        raise self.err(
            f"unquoted value '{tok}' is not a number, true/false, a date/time or a URI; "
            f'strings must be in double quotes, e.g. "{tok}"',
            pos,
        )

    def quoted(self) -> str:
        s, n = self.s, self.n
        start = self.i
        i = start + 1
        out: list[str] = []
        while i < n:
            c = s[i]
            if c == "\\" and i + 1 < n and s[i + 1] in '"\\':
                out.append(s[i + 1])
                i += 2
                continue
            if c == '"':
                self.i = i + 1
                return "".join(out)
            out.append(c)
            i += 1
        raise self.err("unterminated string: the closing '\"' is missing", start)

    def regex(self, op: str) -> Pattern:
        self.ws()
        s, n = self.s, self.n
        start = self.i
        if self.peek() == '"':
            pat = self.quoted()
        else:
            i, depth, in_class = start, 0, False
            while i < n:
                c = s[i]
                if c == "\\":
                    i += 2
                    continue
                if in_class:
                    in_class = c != "]"
                elif c == "[":
                    in_class = True
                elif c == "(":
                    depth += 1
                elif c == ")":
                    if depth == 0:
                        break
                    depth -= 1
                elif c in ";|" and depth == 0:
                    break
                i += 1
            self.i = min(i, n)
            pat = s[start : self.i].rstrip()
        if not pat:
            raise self.err(f"expected a regular expression after '{op}', found {self.found()}")
        if len(pat) > MAX_REGEX:
            raise self.err(f"regular expression too long (at most {MAX_REGEX} characters)", start)
        try:
            compile_pattern(pat, self.param)
        except QuerySyntaxError as e:
            raise self.err(e.detail, start) from None
        return Pattern(pat)


def _desc(v: Value) -> str:
    return {
        "bool": "true/false",
        "uri": f"the URI '{v.value}'",
        "number": "a number",
        "string": "a string",
        "datetime": "a date-time",
        "date": "a date",
        "time": "a time",
    }.get(v.kind, v.kind)


def normalize_datetime(text: str) -> str:
    """ISO 8601 date-time -> the stored form ``YYYY-MM-DDTHH:MM:SS.fffZ`` (UTC; naive = UTC)."""
    d = datetime.fromisoformat(text)
    if d.tzinfo is not None:
        d = d.astimezone(UTC)
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + f"{d.microsecond // 1000:03d}Z"


def _normalize_timestamps(operand: Any) -> Any:
    def fix(v: Value) -> Value:
        return Value("datetime", normalize_datetime(v.value)) if v.kind == "datetime" else v

    if isinstance(operand, Value):
        return fix(operand)
    if isinstance(operand, Range):
        return Range(fix(operand.low), fix(operand.high))
    if isinstance(operand, ValueList):
        return ValueList(tuple(fix(v) for v in operand.items))
    return operand


@lru_cache(maxsize=2048)
def _parse_q(text: str) -> QNode:
    node: QNode = QParser(text).parse()
    return node


def parse_q(text: str) -> QNode:
    """Parse an NGSI-LD ``q`` expression (already percent-decoded); raises QuerySyntaxError."""
    if not isinstance(text, str):
        raise TypeError("q must be a str")
    return _parse_q(text)


# ========================================================================================= scopeQ
_SCOPE_STOP = frozenset('/#+;|,()"')


class ScopeParser(BaseParser):
    param = "scopeQ"
    or_ops = ",|"
    and_ops = ";"
    leaf_what = "a scope starting with '/'"

    def leaf(self) -> ScopePattern:
        s, n = self.s, self.n
        if s[self.i] != "/":
            raise self.err(f"expected a scope starting with '/' or '(', found {self.found()}")
        self.i += 1
        levels: list[str] = []
        descendants = False
        if self.peek() == "#":
            self.i += 1
            descendants = True
        else:
            while True:
                if self.peek() == "+":
                    self.i += 1
                    levels.append("+")
                else:
                    k0 = self.i
                    while self.i < n and s[self.i] not in _SCOPE_STOP and not s[self.i].isspace():
                        self.i += 1
                    if self.i == k0:
                        raise self.err(
                            f"expected a scope level, '+' or '#' after '/', found {self.found()}"
                        )
                    levels.append(s[k0 : self.i])
                c = self.peek()
                if c == "/":
                    self.i += 1
                    if self.peek() == "#":
                        self.i += 1
                        descendants = True
                        break
                    continue
                if c in ("#", "+"):
                    raise self.err(f"'{c}' must be a whole scope level (e.g. /a/{c})")
                break
        start = self.i
        self.expect_end_of_term("the scope")
        pat = ScopePattern(tuple(levels), descendants)
        if pat.has_wildcard:  # runs as a pattern: it must fit the pattern language's limits
            from ._common import scope_regex  # (_common imports this module)

            try:
                compile_pattern(scope_regex(pat), self.param)
            except QuerySyntaxError as e:
                raise self.err(e.detail, start) from None
        return pat


@lru_cache(maxsize=1024)
def _parse_scope_q(text: str) -> ScopeExpr:
    expr: ScopeExpr = ScopeParser(text).parse()
    return expr


def parse_scope_q(text: str) -> ScopeExpr:
    """Parse an NGSI-LD ``scopeQ`` expression; raises QuerySyntaxError."""
    if not isinstance(text, str):
        raise TypeError("scopeQ must be a str")
    return _parse_scope_q(text)
