"""The compiler's API and safety, and semantics pinned on small docs (Python and SQLite)."""

from __future__ import annotations

import sqlite3

import orjson
import pytest

from herzstadt.ngsi.query import (
    QuerySyntaxError,
    compile_matcher,
    compile_where,
    install_sqlite_functions,
    matches,
    parse_query,
    sqlite_regexp,
)

from .fixtures import NS, entity, expand, lang, listrel, prop, rel, vocab


def run_sqlite(docs, query, **kw):
    conn = sqlite3.connect(":memory:")
    install_sqlite_functions(conn)
    conn.execute("CREATE TABLE ngsi_entity (pk INTEGER PRIMARY KEY, doc TEXT)")
    for d in docs:
        conn.execute("INSERT INTO ngsi_entity(doc) VALUES (?)", (orjson.dumps(d).decode(),))
    f = compile_where(query, expand, "sqlite", **kw)
    rows = conn.execute(f"SELECT doc FROM ngsi_entity e WHERE {f.sql}", f.params).fetchall()
    return {orjson.loads(r[0])["id"] for r in rows}


def check(docs, params, expected):
    query = parse_query(**params)
    assert {d["id"] for d in docs if matches(query, d, expand)} == expected
    assert run_sqlite(docs, query) == expected


def test_any_instance_and_not_equal_semantics():
    docs = [
        entity("urn:1", ["T"], {"v": [prop(1), prop(2, datasetId="urn:ds:b")]}),
        entity("urn:2", ["T"], {"v": [prop(1)]}),
        entity("urn:3", ["T"], {"v": [prop("1")]}),
        entity("urn:4", ["T"], {}),
        entity("urn:5", ["T"], {"v": [prop([1, 3])]}),
        entity("urn:6", ["T"], {"v": [prop([3, 4])]}),
    ]
    check(docs, {"q": "v==2"}, {"urn:1"})
    check(docs, {"q": "v!=1"}, {"urn:1", "urn:6"})  # any instance; arrays: "does not contain"
    check(docs, {"q": "v==1"}, {"urn:1", "urn:2", "urn:5"})
    check(docs, {"q": 'v=="1"'}, {"urn:3"})  # no implicit conversion
    check(docs, {"q": 'v!="2"'}, {"urn:3"})  # type mismatch never matches, missing neither
    check(docs, {"q": "!v"}, {"urn:4"})
    check(docs, {"q": "v>2"}, {"urn:5", "urn:6"})


def test_relationship_language_vocab_listrelationship():
    docs = [
        entity(
            "urn:1", ["T"], {"r": [rel("urn:a")], "n": [lang({"en": "Bridge", "de": "Brücke"})]}
        ),
        entity("urn:2", ["T"], {"r": [rel(["urn:a", "urn:b"])], "n": [lang({"fr": ["Pont"]})]}),
        entity("urn:3", ["T"], {"r": [listrel(["urn:b"])], "c": [vocab(NS + "x")]}),
        entity("urn:4", ["T"], {"c": [vocab([NS + "y", NS + "x"])], "n": [prop("Bridge")]}),
    ]
    check(docs, {"q": "r==urn:a"}, {"urn:1", "urn:2"})
    check(docs, {"q": "r==urn:b"}, {"urn:2", "urn:3"})
    check(docs, {"q": "r!=urn:b"}, {"urn:1"})
    check(docs, {"q": 'n=="Bridge"'}, {"urn:1", "urn:4"})
    check(docs, {"q": 'n[de]=="Brücke"'}, {"urn:1"})
    check(docs, {"q": 'n[fr]=="Pont"'}, {"urn:2"})
    check(docs, {"q": "n[fr]"}, {"urn:2"})
    check(docs, {"q": 'c=="x"'}, {"urn:3", "urn:4"})
    check(docs, {"q": 'c=="y"'}, {"urn:4"})
    check(docs, {"q": 'c!="y"'}, {"urn:3"})
    check(docs, {"q": f'c=="{NS}y"'}, {"urn:4"})
    check(docs, {"q": 'n=="x"'}, set())  # a string value is not expanded for Properties


def test_unicode_order_and_escapes():
    docs = [
        entity(f"urn:{i}", ["T"], {"s": [prop(v)]})
        for i, v in enumerate(["a", "B", "ä", "z", "Ω", "日本", 'q"x', "a\\b"])
    ]
    check(docs, {"q": 's>"z"'}, {"urn:2", "urn:4", "urn:5"})  # code point order
    check(docs, {"q": 's<"a"'}, {"urn:1"})
    check(docs, {"q": 's=="q\\"x"'}, {"urn:6"})
    check(docs, {"q": 's=="a\\\\b"'}, {"urn:7"})
    check(docs, {"q": "s~=^.$"}, {"urn:0", "urn:1", "urn:2", "urn:3", "urn:4"})


def test_injection_attempts_are_just_values():
    docs = [entity("urn:1", ["T"], {"s": [prop("x'); DROP TABLE ngsi_entity; --")]})]
    check(docs, {"q": 's=="x\'); DROP TABLE ngsi_entity; --"'}, {"urn:1"})
    q = parse_query(q='s=="\' OR 1=1 --"', type="T;x'--")
    f = compile_where(q, expand, "sqlite")
    assert "'--" not in f.sql and "OR 1=1" not in f.sql
    assert run_sqlite(docs, q) == set()
    f = compile_where(parse_query(q="a[k'x]==1"), expand, "postgresql")
    assert "k'x" not in f.sql and "k'x" in f.params


def test_compile_where_api():
    q = parse_query(q="a>1", type="T")
    f = compile_where(q, expand, "sqlite")
    assert f.sql.count("?") == len(f.params)
    assert f.post_filter is None and f.bbox is None
    g = compile_where(q, expand, "postgresql")
    assert g.sql.count("%s") == len(g.params) and "?" not in g.sql.replace("?|", "")
    f.params.append("mutated")
    assert compile_where(q, expand, "sqlite").params == f.params[:-1]  # fresh list per call
    assert compile_where(parse_query(), expand, "sqlite").sql == "1"
    assert compile_where(parse_query(), expand, "postgresql").sql == "TRUE"
    with pytest.raises(ValueError, match="dialect"):
        compile_where(q, expand, "mysql")
    with pytest.raises(ValueError, match="alias"):
        compile_where(q, expand, "sqlite", alias="e; DROP")
    f = compile_where(parse_query(q="a>1"), expand, "sqlite", alias="ent")
    assert "ent.doc" in f.sql and "e.doc" not in f.sql
    f = compile_where(parse_query(id="urn:a,urn:b"), expand, "sqlite", id_column="e.id")
    assert f.sql == "e.id IN (?, ?)" and f.params == ["urn:a", "urn:b"]


def test_geo_options():
    q = parse_query(georel="near;maxDistance==100", geometry="Point", coordinates="[8,49]")
    f = compile_where(q, expand, "sqlite", tenant="t1")
    assert "ngsi_geo" in f.sql and "t1" in f.params and f.post_filter is not None
    assert f.bbox[0] == "https://uri.etsi.org/ngsi-ld/location" and f.bbox_mode == "intersects"
    f = compile_where(q, expand, "postgresql", geo_sql=False)
    assert f.sql == "TRUE" and f.post_filter is not None and f.bbox is not None
    f = compile_where(
        parse_query(georel="disjoint", geometry="Point", coordinates="[8,49]"), expand, "sqlite"
    )
    assert f.bbox is None and "g.attr = ?" in f.sql and "minx" not in f.sql


def test_expansion_is_part_of_the_cache_key():
    docs = [entity("urn:1", ["T"], {"v": [prop(1)]})]
    q = parse_query(q="v==1")
    other = lambda t: "https://other.org/" + t  # noqa: E731
    assert matches(q, docs[0], expand)
    assert not matches(q, docs[0], other)
    a = compile_where(q, expand, "sqlite")
    b = compile_where(q, other, "sqlite")
    assert a.params != b.params
    assert compile_matcher(q, expand) is compile_matcher(q, expand)


def test_value_expansion_failure_is_ignored():
    def strict(t):
        if " " in t:
            raise ValueError("not a term")
        return expand(t)

    docs = [entity("urn:1", ["T"], {"c": [vocab(NS + "x")], "n": [prop("a b")]})]
    q = parse_query(q='n=="a b"|c=="x"')
    assert matches(q, docs[0], strict)
    assert compile_where(q, strict, "sqlite").sql


def test_bad_attribute_iri_for_sqlite():
    q = parse_query(q="v==1")
    with pytest.raises(QuerySyntaxError, match="cannot be queried"):
        compile_where(q, lambda t: 'http://x/"bad', "sqlite")


def test_sqlite_regexp_function():
    assert sqlite_regexp("^a", "abc") == 1
    assert sqlite_regexp("^a", "bca") == 0
    assert sqlite_regexp("^a", None) == 0
    assert sqlite_regexp("^1", 1) == 0
    assert sqlite_regexp("(", "x") == 0
    conn = sqlite3.connect(":memory:")
    install_sqlite_functions(conn)
    assert conn.execute("SELECT 'abc' REGEXP 'b.$'").fetchone()[0] == 1
