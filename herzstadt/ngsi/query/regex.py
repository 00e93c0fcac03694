"""The one pattern language of ``q`` (``~=``, ``!~=``), ``idPattern`` and scope wildcards.

A pattern runs in two engines: RE2 (``google-re2``; in Python and as SQLite's ``REGEXP``), which
never backtracks (time linear in the text), and PostgreSQL's own ``~`` (Spencer's ARE engine). The
two differ in many corners (``\\b`` is a word boundary in one and a backspace in the other,
``\\w``/``\\s``/``\\d`` are ASCII in RE2 and Unicode in PostgreSQL, ``.`` matches a newline only in
PostgreSQL, ``(?P<x>…)`` and lookaround exist in neither or one, PostgreSQL caps repetition counts at
255, ...). So a pattern is parsed here, checked against the language below, and written out again
as one pattern per engine with the same meaning; anything outside the language is a
``QuerySyntaxError`` (a 400 BadRequestData) on both databases.

The language (a pattern matches when it is found anywhere in the value, like ``re.search``):

* literal characters; ``\\`` before a punctuation character makes it literal (``\\.``, ``\\(``);
  ``\\t \\n \\r \\f \\v`` and ``\\xHH`` (exactly two hex digits) are those characters;
* ``.`` any character, newlines included;
* ``^`` start and ``$`` end of the value (never of a line);
* classes ``[abc]``, ``[^a-z0-9]`` (ranges by code point; ``]`` first or ``\\]`` is literal,
  ``-`` first, last or ``\\-``; ``[`` inside a class must be written ``\\[``), and the ASCII classes
  ``\\d`` = ``[0-9]``, ``\\w`` = ``[0-9A-Za-z_]``, ``\\s`` = ``[ \\t\\n\\v\\f\\r]``, their negations
  ``\\D \\W \\S`` (the negations not inside a class);
* groups ``(…)`` and ``(?:…)``, alternation ``|`` (empty alternatives allowed);
* repetition ``* + ?`` and ``{n}``, ``{n,}``, ``{n,m}`` with counts up to 255, each optionally lazy
  (``*?``); nested repetition counts multiply to at most 1000;
* ``(?i)`` at the very start: case-insensitive for the ASCII letters A–Z (other letters match
  exactly as written on both engines).

Rejected (400): backreferences, named groups, lookahead/lookbehind, atomic groups and possessive
repetition, other inline flags, ``\\b \\B \\A \\z \\Z \\p{…} \\Q…\\E`` and every other escape of a
letter or digit, POSIX bracket classes (``[[:alpha:]]``), NUL characters, patterns longer than
``MAX_PATTERN`` characters.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import re2

from .errors import QuerySyntaxError

MAX_PATTERN = 1000  # characters of a pattern as given
MAX_COUNT = 255  # PostgreSQL's RE_DUP_MAX
MAX_REPEAT_PRODUCT = 1000  # nested repetition counts multiplied

_PUNCT = frozenset(string.punctuation)
_ASCII_ALNUM = frozenset(string.ascii_letters + string.digits)
_HEX = frozenset(string.hexdigits)
_CHAR_ESCAPES = {"t": "\t", "n": "\n", "r": "\r", "f": "\f", "v": "\v"}
#: ASCII classes as (lo, hi) code point ranges
_DIGIT = ((48, 57),)
_WORD = ((48, 57), (65, 90), (95, 95), (97, 122))
_SPACE = ((9, 13), (32, 32))  # \t \n \v \f \r and space
_CLASS_ESCAPES = {"d": _DIGIT, "w": _WORD, "s": _SPACE}
_NEGATED_ESCAPES = {"D": _DIGIT, "W": _WORD, "S": _SPACE}
_SPECIAL_HINT = {
    "b": "word boundaries (\\b) are not supported",
    "B": "\\B is not supported",
    "A": "use ^ instead of \\A",
    "z": "use $ instead of \\z",
    "Z": "use $ instead of \\Z",
    "p": "Unicode classes (\\p{…}) are not supported",
    "P": "Unicode classes (\\P{…}) are not supported",
    "Q": "\\Q…\\E is not supported; escape each character with \\",
}


@dataclass(frozen=True, slots=True)
class CompiledPattern:
    """A checked pattern: ``source`` as given, ``re2`` and ``postgresql`` the same pattern for
    each engine; ``search(value)`` evaluates it (RE2)."""

    source: str
    re2: str
    postgresql: str
    matcher: Any

    def search(self, value: Any) -> bool:
        return isinstance(value, str) and self.matcher.search(value) is not None

    def for_dialect(self, dialect: str) -> str:
        return self.postgresql if dialect == "postgresql" else self.re2


def _re2_options() -> Any:
    o = re2.Options()
    o.dot_nl = True  # "." matches a newline, as in PostgreSQL's default mode
    o.never_capture = True  # only "is there a match" is asked
    o.log_errors = False
    return o


_OPTIONS = _re2_options()


@lru_cache(maxsize=2048)
def re2_compile(pattern: str) -> Any:
    """Compile an already translated pattern with the options the translation assumes."""
    return re2.compile(pattern, options=_OPTIONS)


def compile_pattern(text: Any, param: str = "q") -> CompiledPattern:
    """Check a pattern against the language (QuerySyntaxError naming ``param`` if it is outside)
    and translate it for both engines. Cached."""
    if not isinstance(text, str) or not text:
        raise QuerySyntaxError(param, "a pattern must be a non-empty string")
    try:
        return _compile(text)
    except _PatternError as e:
        where = f" at position {e.position}" if e.position is not None else ""
        raise QuerySyntaxError(param, f"invalid pattern {text[:60]!r}{where}: {e.detail}") from None


class _PatternError(Exception):
    def __init__(self, detail: str, position: int | None = None):
        super().__init__(detail)
        self.detail = detail
        self.position = position


@lru_cache(maxsize=2048)
def _compile(text: str) -> CompiledPattern:
    if len(text) > MAX_PATTERN:
        raise _PatternError(f"too long (at most {MAX_PATTERN} characters)")
    if "\x00" in text:
        raise _PatternError("NUL characters are not allowed", text.index("\x00"))
    out = _Translator(text).run()
    try:
        matcher = re2_compile(out)
    except re2.error as e:  # e.g. RE2's program size limit
        raise _PatternError(f"cannot be compiled ({_msg(e)})") from None
    return CompiledPattern(text, out, out, matcher)


def _msg(e: Exception) -> str:
    a = e.args[0] if e.args else e
    return a.decode(errors="replace") if isinstance(a, bytes) else str(a)


def _lit(c: str) -> str:
    """One literal character, written so that both engines read it as that character."""
    if c in _PUNCT:
        return "\\" + c
    return c


def _ranges_text(ranges: list[tuple[int, int]]) -> str:
    parts = []
    for lo, hi in ranges:
        if lo == hi:
            parts.append(_lit(chr(lo)))
        elif hi == lo + 1:
            parts.append(_lit(chr(lo)) + _lit(chr(hi)))
        else:
            parts.append(_lit(chr(lo)) + "-" + _lit(chr(hi)))
    return "".join(parts)


def _fold(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Add the other case of the ASCII letters in the ranges."""
    out = list(ranges)
    for lo, hi in ranges:
        for a, b, shift in ((97, 122, -32), (65, 90, 32)):
            s, e = max(lo, a), min(hi, b)
            if s <= e:
                out.append((s + shift, e + shift))
    return _merge(out)


def _merge(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for lo, hi in sorted(ranges):
        if out and lo <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return out


def _class(ranges: tuple[Any, ...] | list[Any], negated: bool) -> str:
    return "[" + ("^" if negated else "") + _ranges_text(list(ranges)) + "]"


class _Translator:
    """Recursive descent over the pattern, writing the translated form as it goes."""

    def __init__(self, text: str):
        self.s = text
        self.i = 0
        self.icase = False

    def err(self, detail: str, pos: int | None = None) -> _PatternError:
        return _PatternError(detail, self.i if pos is None else pos)

    def run(self) -> str:
        if self.s.startswith("(?i)"):
            self.icase = True
            self.i = 4
        body, _ = self.alternation(0)
        if self.i < len(self.s):  # an unmatched ")"
            raise self.err("unbalanced ')'")
        return body

    # alternation := sequence ('|' sequence)*; returns (text, largest repetition product)
    def alternation(self, depth: int) -> tuple[str, int]:
        if depth > 50:
            raise self.err("groups nested too deeply (at most 50)")
        parts = []
        worst = 1
        while True:
            seq, prod = self.sequence(depth)
            parts.append(seq)
            worst = max(worst, prod)
            if self.i < len(self.s) and self.s[self.i] == "|":
                self.i += 1
                continue
            return "|".join(parts), worst

    def sequence(self, depth: int) -> tuple[str, int]:
        out: list[str] = []
        worst = 1
        s = self.s
        while self.i < len(s) and s[self.i] not in "|)":
            start = self.i
            atom, inner, repeatable = self.atom(depth)
            count = self.quantifier(repeatable, start)
            if count is None:
                out.append(atom)
                worst = max(worst, inner)
                continue
            text, factor = count
            prod = inner * factor
            if prod > MAX_REPEAT_PRODUCT:
                raise self.err(
                    f"nested repetition counts multiply to {prod} (at most {MAX_REPEAT_PRODUCT})",
                    start,
                )
            worst = max(worst, prod)
            out.append(atom + text)
        return "".join(out), worst

    def atom(self, depth: int) -> tuple[str, int, bool]:
        """(text, repetition product inside, can be repeated)"""
        s = self.s
        c = s[self.i]
        if c == "(":
            return self.group(depth)
        if c in "*+?":
            raise self.err(f"'{c}' has nothing to repeat")
        if c == "{" and self._bound_at(self.i) is not None:
            raise self.err("a repetition count has nothing to repeat")
        self.i += 1
        if c == ".":
            return ".", 1, True
        if c in "^$":
            return c, 1, False
        if c == "[":
            return self.char_class(), 1, True
        if c == "\\":
            return self.escape(), 1, True
        if c == "]":
            return "\\]", 1, True
        return self._char(c), 1, True

    def _char(self, c: str) -> str:
        o = ord(c)
        if self.icase and (65 <= o <= 90 or 97 <= o <= 122):
            return _class(_fold([(o, o)]), False)
        return _lit(c)

    def group(self, depth: int) -> tuple[str, int, bool]:
        s = self.s
        start = self.i
        self.i += 1
        if s.startswith("?", self.i):
            if s.startswith("?:", self.i):
                self.i += 2
            else:
                rest = s[self.i : self.i + 4]
                if rest.startswith("?P<") or (rest.startswith("?<") and rest[2:3] not in "=!"):
                    what = "named groups are not supported"
                elif rest.startswith(("?=", "?!", "?<=", "?<!")):
                    what = "lookahead and lookbehind are not supported"
                elif rest.startswith("?>"):
                    what = "atomic groups are not supported"
                elif rest.startswith("?#"):
                    what = "comments are not supported"
                else:
                    what = "inline flags are only supported as (?i) at the start"
                raise self.err(what, start)
        body, prod = self.alternation(depth + 1)
        if self.i >= len(s) or s[self.i] != ")":
            raise self.err("missing ')'", start)
        self.i += 1
        return "(?:" + body + ")", prod, True

    def _bound_at(self, i: int) -> tuple[int, int | None, int] | None:
        """A ``{n}``, ``{n,}`` or ``{n,m}`` at ``i``: (n, m or None for open, end index)."""
        s = self.s
        if i >= len(s) or s[i] != "{":
            return None
        j = i + 1
        k = j
        while k < len(s) and s[k].isdigit() and s[k] in _ASCII_ALNUM:
            k += 1
        if k == j:
            return None
        n = int(s[j:k])
        if k < len(s) and s[k] == "}":
            return n, n, k + 1
        if k >= len(s) or s[k] != ",":
            return None
        k += 1
        m0 = k
        while k < len(s) and s[k].isdigit() and s[k] in _ASCII_ALNUM:
            k += 1
        if k >= len(s) or s[k] != "}":
            return None
        m = int(s[m0:k]) if k > m0 else None
        return n, m, k + 1

    def quantifier(self, repeatable: bool, start: int) -> tuple[str, int] | None:
        s = self.s
        if self.i >= len(s):
            return None
        c = s[self.i]
        bound = self._bound_at(self.i)
        if c in "*+?":
            text, factor = c, 1  # open-ended: the program holds the atom once
            self.i += 1
        elif bound is not None:
            n, m, end = bound
            top = n if m is None else m
            if top > MAX_COUNT:
                raise self.err(f"repetition count {top} is larger than {MAX_COUNT}")
            if m is not None and m < n:
                raise self.err(f"repetition {{{n},{m}}}: the maximum is below the minimum")
            text = f"{{{n}}}" if m == n else f"{{{n},}}" if m is None else f"{{{n},{m}}}"
            factor = max(top, 1)  # the program holds the atom this many times
            self.i = end
        else:
            return None
        if not repeatable:
            raise self.err("an anchor (^ or $) cannot be repeated", start)
        if self.i < len(s) and s[self.i] == "?":
            text += "?"
            self.i += 1
        if self.i < len(s) and (s[self.i] in "*+?" or self._bound_at(self.i) is not None):
            raise self.err("a repetition cannot be repeated directly (possessive or double)")
        return text, factor

    def escape(self) -> str:
        """After a backslash outside a class."""
        s = self.s
        if self.i >= len(s):
            raise self.err("the pattern ends with a lone '\\'")
        c = s[self.i]
        self.i += 1
        if c in _CLASS_ESCAPES:
            return _class(_CLASS_ESCAPES[c], False)
        if c in _NEGATED_ESCAPES:
            return _class(_NEGATED_ESCAPES[c], True)
        ch = self._char_escape(c)
        return self._char(ch)

    def _char_escape(self, c: str) -> str:
        """A single character written with an escape (the character after ``\\`` is ``c``)."""
        if c in _CHAR_ESCAPES:
            return _CHAR_ESCAPES[c]
        if c == "x":
            h = self.s[self.i : self.i + 2]
            if len(h) != 2 or not all(x in _HEX for x in h):
                raise self.err("\\x needs exactly two hex digits (\\xHH)")
            self.i += 2
            ch = chr(int(h, 16))
            if ch == "\x00":
                raise self.err("NUL characters are not allowed")
            return ch
        if c in _PUNCT or c == " ":
            return c
        if c.isdigit():
            raise self.err("backreferences and octal escapes are not supported", self.i - 2)
        if c in _SPECIAL_HINT:
            raise self.err(_SPECIAL_HINT[c], self.i - 2)
        if c.isalnum():
            raise self.err(f"unknown escape \\{c}", self.i - 2)
        return c  # a non-ASCII, non-alphanumeric character: literal

    def char_class(self) -> str:
        """After ``[``: the class up to its ``]``."""
        s = self.s
        start = self.i - 1
        negated = False
        if self.i < len(s) and s[self.i] == "^":
            negated = True
            self.i += 1
        ranges: list[tuple[int, int]] = []
        first = True
        while True:
            if self.i >= len(s):
                raise self.err("missing ']'", start)
            c = s[self.i]
            if c == "]" and not first:
                self.i += 1
                break
            first = False
            lo = self._class_char(ranges)
            if lo is None:
                continue  # a class escape (\d, \w, \s) was added
            if s.startswith("-", self.i) and self.i + 1 < len(s) and s[self.i + 1] != "]":
                self.i += 1
                hi = self._class_char(ranges, in_range=True)
                if hi is None or hi < lo:
                    raise self.err("invalid range in a character class")
                ranges.append((lo, hi))
            else:
                ranges.append((lo, lo))
        if not ranges:
            raise self.err("empty character class", start)
        merged = _fold(ranges) if self.icase else _merge(ranges)
        return _class(merged, negated)

    def _class_char(self, ranges: list[Any], in_range: bool = False) -> int | None:
        s = self.s
        c = s[self.i]
        self.i += 1
        if c == "[":
            nxt = s[self.i : self.i + 1]
            if nxt in (":", ".", "="):
                raise self.err("POSIX bracket classes ([:alpha:] …) are not supported", self.i - 1)
            raise self.err("write a literal '[' inside a class as \\[", self.i - 1)
        if c != "\\":
            return ord(c)
        if self.i >= len(s):
            raise self.err("the pattern ends with a lone '\\'")
        e = s[self.i]
        self.i += 1
        if e in _CLASS_ESCAPES:
            if in_range:
                raise self.err(f"\\{e} cannot end a range")
            ranges.extend(_CLASS_ESCAPES[e])
            return None
        if e in _NEGATED_ESCAPES:
            raise self.err(f"\\{e} is not supported inside a character class", self.i - 2)
        if e == "b":
            raise self.err("\\b is not supported inside a character class", self.i - 2)
        return ord(self._char_escape(e))


def search(text: str, value: Any) -> bool:
    """Whether the (already checked) pattern ``text`` is found in ``value``."""
    return compile_pattern(text).search(value)
