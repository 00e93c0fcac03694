"""The pattern language of ``~=``/``idPattern`` (query/regex.py): RE2 everywhere in Python and
SQLite (no catastrophic backtracking), the same meaning on PostgreSQL, a 400 for anything one of
the engines cannot run."""

from __future__ import annotations

import os
import sqlite3
import string

import pytest
import re2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from herzstadt.ngsi.query import (
    QuerySyntaxError,
    compile_pattern,
    install_sqlite_functions,
    parse_q,
    parse_query,
)

PG_URL = os.environ.get("HERZSTADT_TEST_DATABASE_URL", "")

ACCEPTED = [
    # (pattern, value, found)
    ("^Pfaff", "Pfaff-Areal", True),
    ("(a+)+$", "a" * 40 + "b", False),  # catastrophic for a backtracking engine
    ("(a|aa)+$", "a" * 60 + "!", False),
    ("a.b", "a\nb", True),  # "." matches a newline on both engines
    ("b$", "ab\n", False),  # "$" is the end of the value, never before a final newline
    ("^a", "\na", False),
    ("\\d+", "٣", False),  # ASCII classes
    ("\\w", "ä", False),
    ("\\s", "\v", True),
    ("[\\d\\s]", " ", True),
    ("(?i)straße", "STRAßE", True),  # ASCII letters fold, ß stays ß
    ("(?i)[^a-c]", "ABC", False),
    ("[]a]", "]", True),
    ("[a-]", "-", True),
    ("x{,5}", "x{,5}", True),  # not a repetition: literal on both engines
    ("\\x41", "A", True),
    ("a{2,3}?", "aa", True),
    ("(|a)", "b", True),
    ("[à-ÿ]", "ß", False),  # ranges by code point
    ("a{255}", "a" * 255, True),
    ("(a{10}){100}", "a" * 999, False),
]

REJECTED = [
    ("(?P<x>a)", "named groups"),
    ("(?<x>a)", "named groups"),
    ("a{1000000}", "larger than 255"),
    ("a{256}", "larger than 255"),
    ("(a{100}){20}", "multiply to 2000"),
    ("(a)\\1", "backreferences"),
    ("(?=a)", "lookahead"),
    ("(?<!a)b", "lookahead and lookbehind"),
    ("(?>a)", "atomic"),
    ("a*+", "cannot be repeated"),
    ("a**", "cannot be repeated"),
    ("(?s)a", "inline flags"),
    ("a(?i)b", "inline flags"),
    ("\\bword", "word boundaries"),
    ("\\Aa", "use ^"),
    ("a\\Z", "use $"),
    ("\\p{L}", "Unicode classes"),
    ("[[:alpha:]]", "POSIX"),
    ("[a[]", "\\["),
    ("[z-a]", "invalid range"),
    ("*a", "nothing to repeat"),
    ("^*", "anchor"),
    ("a\\", "lone"),
    ("(a", "missing ')'"),
    ("a)", "unbalanced"),
    ("a\x00", "NUL"),
    ("\\x00", "NUL"),
    ("a" * 1001, "too long"),
]


@pytest.mark.parametrize(("pattern", "value", "found"), ACCEPTED)
def test_accepted_patterns_run_on_re2(pattern, value, found):
    cp = compile_pattern(pattern)
    assert isinstance(cp.matcher, re2._Regexp)  # compiled by RE2, never by Python's re
    assert cp.search(value) is found


@pytest.mark.parametrize(("pattern", "why"), REJECTED)
def test_rejected_patterns(pattern, why):
    with pytest.raises(QuerySyntaxError) as ei:
        compile_pattern(pattern, "idPattern")
    assert ei.value.param == "idPattern" and why in ei.value.detail
    with pytest.raises(QuerySyntaxError):
        parse_query(idPattern=pattern)
    if '"' not in pattern and "\x00" not in pattern:
        with pytest.raises(QuerySyntaxError):
            parse_q(
                f'name~="{pattern}"' if "|" in pattern or ";" in pattern else f"name~={pattern}"
            )


def test_sqlite_regexp_is_re2_and_linear():
    c = sqlite3.connect(":memory:")
    install_sqlite_functions(c)
    # 40 characters: Python's re needs ~2^40 steps for this; RE2 answers at once
    cp = compile_pattern("(a+)+$")
    assert c.execute("SELECT ? REGEXP ?", ("a" * 40 + "b", cp.re2)).fetchone()[0] == 0
    assert c.execute("SELECT ? REGEXP ?", ("a" * 40, cp.re2)).fetchone()[0] == 1
    # a pattern RE2 cannot compile is no match, never an error inside SQLite
    assert c.execute("SELECT 'a' REGEXP '(?P<x'").fetchone()[0] == 0


@pytest.fixture(scope="module")
def pg():
    if not PG_URL:
        pytest.skip("HERZSTADT_TEST_DATABASE_URL not set")
    import psycopg

    conn = psycopg.connect(PG_URL, autocommit=True)
    yield conn
    conn.close()


def _pg_search(conn, pattern: str, value: str) -> bool:
    return conn.execute("SELECT %s::text ~ %s::text", (value, pattern)).fetchone()[0]


@pytest.mark.parametrize(("pattern", "value", "found"), ACCEPTED)
def test_postgresql_gives_the_same_answer(pg, pattern, value, found):
    assert _pg_search(pg, compile_pattern(pattern).postgresql, value) is found


PUNCT_CASES = [
    (p, v)
    for ch in string.punctuation + " \t\n€ä"
    for p, v in (
        ("\\" + ch if ch in string.punctuation else ch, ch),
        ("[\\" + ch + "]" if ch in string.punctuation else "[" + ch + "]", ch),
        ("[^\\" + ch + "]" if ch in string.punctuation else "[^" + ch + "]", ch),
    )
]


def test_every_escaped_character_means_the_same(pg):
    for pattern, value in PUNCT_CASES:
        cp = compile_pattern(pattern)
        assert cp.search(value) == _pg_search(pg, cp.postgresql, value), pattern


_ALPHABET = list("abAB.^$|()[]*+?{}-,0123\\dwsDWSxi:é ")
_VALUES = st.text(alphabet="abAB01 -.é\n[]{}|", max_size=12)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(_ALPHABET), min_size=1, max_size=14).map("".join), _VALUES)
def test_random_patterns_agree_on_both_engines(pg, pattern, value):
    """Any pattern the language accepts runs on PostgreSQL and finds what RE2 finds."""
    try:
        cp = compile_pattern(pattern)
    except QuerySyntaxError:
        return
    assert cp.search(value) == _pg_search(pg, cp.postgresql, value), (pattern, cp.postgresql)
