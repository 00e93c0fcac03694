"""Parsers of q, type and scopeQ: every construct, and the error message of bad input."""

from __future__ import annotations

import pytest

from herzstadt.ngsi.query import (
    And,
    AttrPath,
    Comparison,
    Exists,
    NotExists,
    Or,
    Pattern,
    QuerySyntaxError,
    Range,
    ScopePattern,
    TypeName,
    Value,
    ValueList,
    parse_q,
    parse_query,
    parse_scope_q,
    parse_type_expr,
    simple_type_terms,
    type_matches,
    type_terms,
)
from herzstadt.ngsi.query.parser import MAX_DEPTH, MAX_LENGTH, MAX_TERMS


def P(*names, meta=None, keys=()):
    return AttrPath(tuple(names), meta, tuple(keys))


def cmp(q):
    node = parse_q(q)
    assert isinstance(node, Comparison), node
    return node


# ------------------------------------------------------------------------------------ values
@pytest.mark.parametrize(
    ("q", "value"),
    [
        ("a==1", Value("number", 1)),
        ("a==-1", Value("number", -1)),
        ("a==+7", Value("number", 7)),
        ("a==2.5", Value("number", 2.5)),
        ("a==1e3", Value("number", 1000)),
        ("a==-1.5E-2", Value("number", -0.015)),
        ("a==.5", Value("number", 0.5)),
        ('a=="x"', Value("string", "x")),
        ('a==""', Value("string", "")),
        (
            'a=="with \\"quotes\\" and \\\\ backslash"',
            Value("string", 'with "quotes" and \\ backslash'),
        ),
        ('a=="a;b|c)d,e..f"', Value("string", "a;b|c)d,e..f")),
        ("a==true", Value("bool", True)),
        ("a==false", Value("bool", False)),
        ("a==2026-11-21T10:00:00Z", Value("datetime", "2026-11-21T10:00:00Z")),
        ("a==2026-11-21T10:00:00.123+01:00", Value("datetime", "2026-11-21T10:00:00.123+01:00")),
        ("a==2026-11-21", Value("date", "2026-11-21")),
        ("a==10:00:00Z", Value("time", "10:00:00Z")),
        ("a==10:00", Value("time", "10:00")),
        ("a==urn:ngsi-ld:Parking:1", Value("uri", "urn:ngsi-ld:Parking:1")),
        ("a==https://example.org/x?y=1", Value("uri", "https://example.org/x?y=1")),
    ],
)
def test_values(q, value):
    node = cmp(q)
    assert node.operand == value
    assert node.operand.kind == value.kind


def test_ranges_and_lists():
    assert cmp("a==1..5").operand == Range(Value("number", 1), Value("number", 5))
    assert cmp("a!=1.5..2").operand == Range(Value("number", 1.5), Value("number", 2))
    assert cmp('a=="a".."m"').operand == Range(Value("string", "a"), Value("string", "m"))
    r = cmp("a==2026-01-01T00:00:00Z..2026-12-31T23:59:59Z").operand
    assert r.low.kind == r.high.kind == "datetime"
    assert cmp("a==2026-01-01..2026-02-01").operand.family == "string"
    assert cmp('a=="x","y"').operand == ValueList((Value("string", "x"), Value("string", "y")))
    assert cmp("a==1,2,3").operand == ValueList(tuple(Value("number", i) for i in (1, 2, 3)))
    assert cmp('a!="x",2,true').operand.items[2] == Value("bool", True)


@pytest.mark.parametrize("op", ["==", "!=", ">", ">=", "<", "<=", "~=", "!~="])
def test_operators(op):
    node = cmp(f'a{op}"x"')
    assert node.op == op
    assert node.path == P("a")


def test_patterns():
    assert cmp('a~="^x.*"').operand == Pattern("^x.*")
    assert cmp("a~=(?i)ab(c|d)").operand == Pattern("(?i)ab(c|d)")
    assert cmp("a~=[;|]x").operand == Pattern("[;|]x")
    assert cmp("a!~=\\d+").operand == Pattern("\\d+")
    node = parse_q("a~=^x;b==1")
    assert isinstance(node, And)
    assert node.items[0].operand == Pattern("^x")
    node = parse_q("(a~=x|y)")  # an unquoted '|' at depth 0 ends the pattern
    assert isinstance(node, Or)


# ------------------------------------------------------------------------------- attribute paths
@pytest.mark.parametrize(
    ("q", "path"),
    [
        ("temperature", P("temperature")),
        ("temperature.accuracy", P("temperature", "accuracy")),
        ("a.b.c", P("a", "b", "c")),
        ("address[streetAddress]", P("address", keys=["streetAddress"])),
        ("address[geo.city]", P("address", keys=["geo", "city"])),
        ("address[geo][city]", P("address", keys=["geo", "city"])),
        ("a.b[k]", P("a", "b", keys=["k"])),
        ("name[en]", P("name", keys=["en"])),
        ("temperature.observedAt", P("temperature", meta="observedAt")),
        ("temperature.accuracy.modifiedAt", P("temperature", "accuracy", meta="modifiedAt")),
        ("a.createdAt", P("a", meta="createdAt")),
        ("a.unitCode", P("a", meta="unitCode")),
        ("a.datasetId", P("a", meta="datasetId")),
        ("modifiedAt", P(meta="modifiedAt")),
        ("createdAt", P(meta="createdAt")),
        ("observedAt", P("observedAt")),
        ("ex:temperature", P("ex:temperature")),
        (
            "https://uri.etsi.org/ngsi-ld/default-context/temp",
            P("https://uri.etsi.org/ngsi-ld/default-context/temp"),
        ),
        (
            "https://ex.org/ns/temp.sub.observedAt",
            P("https://ex.org/ns/temp", "sub", meta="observedAt"),
        ),
        ("tempé_1-x", P("tempé_1-x")),
    ],
)
def test_paths(q, path):
    node = parse_q(q)
    assert isinstance(node, Exists)
    assert node.path == path
    assert node.path.text == q


def test_existence_and_logic():
    assert parse_q("!a") == NotExists(P("a"))
    assert parse_q("!a.b[c]") == NotExists(P("a", "b", keys=["c"]))
    node = parse_q("a;b|c")
    assert node == Or((And((Exists(P("a")), Exists(P("b")))), Exists(P("c"))))
    node = parse_q("a|b;c")
    assert node == Or((Exists(P("a")), And((Exists(P("b")), Exists(P("c"))))))
    node = parse_q("(a|b);c")
    assert node == And((Or((Exists(P("a")), Exists(P("b")))), Exists(P("c"))))
    assert parse_q("a;b;c") == And(tuple(Exists(P(x)) for x in "abc"))
    assert parse_q("((a);(b;c))") == And(tuple(Exists(P(x)) for x in "abc"))  # flattened
    assert parse_q(" a == 1 ; ( b | !c ) ") == And(
        (Comparison(P("a"), "==", Value("number", 1)), Or((Exists(P("b")), NotExists(P("c")))))
    )


def test_timestamps_are_normalised_for_system_members():
    assert cmp("a.observedAt>2026-11-21T11:00:00+01:00").operand == Value(
        "datetime", "2026-11-21T10:00:00.000Z"
    )
    assert (
        cmp("a.modifiedAt==2026-11-21T10:00:00.1234Z").operand.value == "2026-11-21T10:00:00.123Z"
    )
    assert cmp("modifiedAt>=2026-11-21T10:00:00").operand.value == "2026-11-21T10:00:00.000Z"
    r = cmp("a.createdAt==2026-01-01T00:00:00Z..2026-01-02T00:00:00Z").operand
    assert (r.low.value, r.high.value) == ("2026-01-01T00:00:00.000Z", "2026-01-02T00:00:00.000Z")
    # ordinary values keep their text
    assert cmp("a>2026-11-21T11:00:00+01:00").operand.value == "2026-11-21T11:00:00+01:00"


def test_parse_is_cached():
    assert parse_q("a==1;b>2") is parse_q("a==1;b>2")


# ----------------------------------------------------------------------------------- bad q
BAD_Q = [
    ("", 0, "must not be empty"),
    ("   ", 0, "must not be empty"),
    ("a==", 3, "expected a value after '==', but the text ends here"),
    (
        "a==;b",
        3,
        'expected a value (a number, a "string", true, false, a date/time or a URI) '
        "after '==', found ';b'",
    ),
    ("a=1", 1, "'=' is not an operator, use '==' to compare for equality"),
    (
        "a==abc",
        3,
        "unquoted value 'abc' is not a number, true/false, a date/time or a URI; "
        'strings must be in double quotes, e.g. "abc"',
    ),
    ("a==True", 3, "'True' is not a value: booleans are written true and false"),
    ("a==12abc", 3, "'12abc' is not a valid number, date, time or date-time"),
    ("a==2026-13-01", 3, "invalid date '2026-13-01'"),
    ("a==2026-02-30T10:00:00Z", 3, "invalid date-time '2026-02-30T10:00:00Z'"),
    ("a==25:00", 3, "invalid time '25:00'"),
    (
        "a>true",
        2,
        "operator > needs a number, a quoted string, a date, a time or a date-time; "
        "true/false cannot be ordered",
    ),
    (
        "a<=urn:x:y",
        3,
        "operator <= needs a number, a quoted string, a date, a time or a "
        "date-time; the URI 'urn:x:y' cannot be ordered",
    ),
    ("a>1..5", 3, "a range (low..high) is only allowed with == and !=, not >"),
    ("a>1,2", 3, "a list of values (a,b,...) is only allowed with == and !=, not >"),
    ('a==1.."x"', 3, "the ends of the range are of different types (a number and a string)"),
    ("a==true..false", 3, "a range of true/false is not allowed"),
    ("a==1..5,7", 7, "a range cannot be combined with a list of values"),
    ("a==1,2..5", 6, "a list of values cannot contain a range"),
    ('a=="abc', 3, "unterminated string: the closing '\"' is missing"),
    ("a==1 2", 5, "expected ';', '|', ')' or the end after the value, found '2'"),
    (
        "a b",
        2,
        "expected an operator (==, !=, >, >=, <, <=, ~= or !~=), ';', '|', ')' or the "
        "end after attribute path 'a', found 'b'",
    ),
    (
        "a?",
        1,
        "expected an operator (==, !=, >, >=, <, <=, ~= or !~=), ';', '|', ')' or the "
        "end after attribute path 'a', found '?'",
    ),
    ("==1", 0, "expected an attribute name, found '==1'"),
    ("a;;b", 2, "expected an attribute path, '!' or '(', found ';b'"),
    ("a|", 2, "expected an attribute path, '!' or '(', but the text ends here"),
    ("(a", 2, "expected ')' to close the '(' at position 0, found the end of the text"),
    ("((a)", 4, "expected ')' to close the '(' at position 0, found the end of the text"),
    ("a)", 1, "unbalanced ')' without a matching '('"),
    ("()", 1, "expected an attribute path, '!' or '(', found ')'"),
    ("a.", 2, "expected a sub-attribute name after '.', found the end of the text"),
    ("a..b", 2, "expected a sub-attribute name after '.', found '.b'"),
    ("a[", 2, "expected a key inside '[...]', found the end of the text"),
    ("a[]", 2, "expected a key inside '[...]', found ']'"),
    ("a[b", 3, "expected '.' or ']' inside '[...]', found the end of the text"),
    ('a["b"]', 2, "quotes and backslashes are not allowed in '[...]' keys"),
    ("a[b].c", 4, "a '.' cannot follow ']'; write nested keys inside the brackets, e.g. attr[a.b]"),
    ("a.observedAt[x]", 15, "'.observedAt' cannot be followed by '[...]'"),
    (
        "!a==1",
        2,
        "'!' (attribute does not exist) takes a bare attribute path, it cannot be "
        "combined with an operator",
    ),
    ("!", 1, "expected an attribute name, found the end of the text"),
    ("a~=", 3, "expected a regular expression after '~=', found the end of the text"),
    ("a~=(", 3, "invalid pattern '(' at position 0: missing ')'"),
    ('a~="[a-"', 3, "invalid pattern '[a-' at position 0: missing ']'"),
    ("a~=(?P<x>a)", 3, "invalid pattern '(?P<x>a)' at position 0: named groups are not supported"),
    (
        "a~=a{1000000}",
        3,
        "invalid pattern 'a{1000000}' at position 1: repetition count 1000000 is larger than 255",
    ),
    ("a==1e999", 3, "number out of range: '1e999'"),
]


@pytest.mark.parametrize(("q", "pos", "detail"), BAD_Q, ids=[b[0] or "empty" for b in BAD_Q])
def test_bad_q(q, pos, detail):
    with pytest.raises(QuerySyntaxError) as ei:
        parse_q(q)
    e = ei.value
    assert (e.param, e.position, e.detail) == ("q", pos, detail)
    assert str(e) == f"Invalid q at position {pos}: {detail}"
    assert isinstance(e, ValueError)


def test_limits():
    with pytest.raises(QuerySyntaxError, match=f"too long .* at most {MAX_LENGTH}"):
        parse_q("a" * (MAX_LENGTH + 1))
    deep = "(" * (MAX_DEPTH + 1) + "a" + ")" * (MAX_DEPTH + 1)
    with pytest.raises(QuerySyntaxError) as ei:
        parse_q(deep)
    assert ei.value.detail == f"parentheses nested too deeply (at most {MAX_DEPTH} levels)"
    assert ei.value.position == MAX_DEPTH
    ok = "(" * MAX_DEPTH + "a" + ")" * MAX_DEPTH
    assert parse_q(ok) == Exists(P("a"))
    with pytest.raises(QuerySyntaxError, match=f"too many terms \\(at most {MAX_TERMS}\\)"):
        parse_q(";".join(["a"] * (MAX_TERMS + 1)))
    with pytest.raises(QuerySyntaxError, match="too many values in the list"):
        parse_q("a==" + ",".join(["1"] * 101))
    with pytest.raises(QuerySyntaxError, match="attribute path too deep"):
        parse_q(".".join("a" * 9))
    with pytest.raises(QuerySyntaxError, match="regular expression too long"):
        parse_q("a~=" + "x" * 1001)
    with pytest.raises(TypeError):
        parse_q(b"a==1")  # type: ignore[arg-type]


# --------------------------------------------------------------------------------- types
def test_type_expressions():
    A, B, C = TypeName("A"), TypeName("B"), TypeName("C")
    assert parse_type_expr("A") == A
    assert parse_type_expr("A,B") == Or((A, B))
    assert parse_type_expr("A|B") == Or((A, B))
    assert parse_type_expr("A;B") == And((A, B))
    assert parse_type_expr("A;B|C") == Or((And((A, B)), C))
    assert parse_type_expr("A,B;C") == Or((A, And((B, C))))
    assert parse_type_expr("(A,B);C") == And((Or((A, B)), C))
    node = parse_type_expr("(Building;Vehicle)|Device")
    assert node == Or((And((TypeName("Building"), TypeName("Vehicle"))), TypeName("Device")))
    assert parse_type_expr("https://ex.org/a.b/T,ex:U") == Or(
        (TypeName("https://ex.org/a.b/T"), TypeName("ex:U"))
    )
    assert list(type_terms(parse_type_expr("(A;B)|C"))) == ["A", "B", "C"]
    assert simple_type_terms(parse_type_expr("A,B|C")) == ["A", "B", "C"]
    assert simple_type_terms(parse_type_expr("A;B")) is None

    def ex(t):
        return "x:" + t

    assert type_matches(parse_type_expr("(A;B)|C"), ["x:A", "x:B"], ex)
    assert not type_matches(parse_type_expr("(A;B)|C"), ["x:A"], ex)
    assert type_matches(parse_type_expr("(A;B)|C"), ["x:C"], ex)


@pytest.mark.parametrize(
    ("text", "pos", "detail"),
    [
        ("", 0, "must not be empty"),
        ("A,", 2, "expected a type name or '(', but the text ends here"),
        ("A,,B", 2, "expected a type name or '(', found ',B'"),
        ("(A", 2, "expected ')' to close the '(' at position 0, found the end of the text"),
        ("A)", 1, "unbalanced ')' without a matching '('"),
        ("A B", 2, "expected ';', ',', '|', ')' or the end after type name 'A', found 'B'"),
        ('A"', 1, "expected ';', ',', '|', ')' or the end after type name 'A', found '\"'"),
    ],
)
def test_bad_type_expressions(text, pos, detail):
    with pytest.raises(QuerySyntaxError) as ei:
        parse_type_expr(text)
    assert (ei.value.param, ei.value.position, ei.value.detail) == ("type", pos, detail)


# --------------------------------------------------------------------------------- scopeQ
def test_scope_q():
    assert parse_scope_q("/a/b") == ScopePattern(("a", "b"))
    assert parse_scope_q("/a/#") == ScopePattern(("a",), True)
    assert parse_scope_q("/#") == ScopePattern((), True)
    assert parse_scope_q("/+/b") == ScopePattern(("+", "b"))
    assert parse_scope_q("/a/+/#") == ScopePattern(("a", "+"), True)
    assert parse_scope_q("/a,/b") == Or((ScopePattern(("a",)), ScopePattern(("b",))))
    assert parse_scope_q("/a|/b") == Or((ScopePattern(("a",)), ScopePattern(("b",))))
    assert parse_scope_q("/a;/b,/c") == Or(
        (And((ScopePattern(("a",)), ScopePattern(("b",)))), ScopePattern(("c",)))
    )
    assert parse_scope_q("/a;(/b,/c)") == And(
        (ScopePattern(("a",)), Or((ScopePattern(("b",)), ScopePattern(("c",)))))
    )
    assert parse_scope_q("/Kaiserslautern/Pfaff-Areal").text == "/Kaiserslautern/Pfaff-Areal"
    assert parse_scope_q("/a/+/#").text == "/a/+/#"


@pytest.mark.parametrize(
    ("text", "pos", "detail"),
    [
        ("a", 0, "expected a scope starting with '/' or '(', found 'a'"),
        ("/", 1, "expected a scope level, '+' or '#' after '/', found the end of the text"),
        ("/a/", 3, "expected a scope level, '+' or '#' after '/', found the end of the text"),
        ("/a//b", 3, "expected a scope level, '+' or '#' after '/', found '/b'"),
        ("/a#", 2, "'#' must be a whole scope level (e.g. /a/#)"),
        ("/a+", 2, "'+' must be a whole scope level (e.g. /a/+)"),
        ("/a/#/b", 4, "expected ';', ',', '|', ')' or the end after the scope, found '/b'"),
        ("/a,", 3, "expected a scope starting with '/' or '(', but the text ends here"),
    ],
)
def test_bad_scope_q(text, pos, detail):
    with pytest.raises(QuerySyntaxError) as ei:
        parse_scope_q(text)
    assert (ei.value.param, ei.value.position, ei.value.detail) == ("scopeQ", pos, detail)


# ----------------------------------------------------------------------------- parse_query
def test_parse_query_bundle():
    q = parse_query(
        type="A,B",
        q="x>1",
        scopeQ="/a/#",
        id="urn:a, urn:b,urn:a",
        idPattern="^urn:",
        attrs="x,y",
        georel="near;maxDistance==10",
        geometry="Point",
        coordinates="[8,49]",
    )
    assert q.type == Or((TypeName("A"), TypeName("B")))
    assert q.ids == ("urn:a", "urn:b")
    assert q.attrs == ("x", "y")
    assert q.geo is not None and q.geo.geoproperty == "location"
    assert parse_query() == parse_query()
    assert hash(q) == hash(
        parse_query(
            type="A,B",
            q="x>1",
            scopeQ="/a/#",
            id="urn:a,urn:b",
            idPattern="^urn:",
            attrs="x,y",
            georel="near;maxDistance==10",
            geometry="Point",
            coordinates="[8,49]",
        )
    )


@pytest.mark.parametrize(
    ("kwargs", "param", "detail"),
    [
        (
            {"idPattern": "("},
            "idPattern",
            "invalid pattern '(' at position 0: missing ')'",
        ),
        ({"id": "urn:a,,urn:b"}, "id", "must be a comma-separated list of non-empty names"),
        ({"attrs": ""}, "attrs", "must be a comma-separated list of non-empty names"),
        (
            {"georel": "within"},
            "geometry",
            "georel, geometry and coordinates must be given together (missing: geometry, coordinates)",
        ),
        ({"q": "a=="}, "q", "expected a value after '==', but the text ends here"),
        ({"scopeQ": "x"}, "scopeQ", "expected a scope starting with '/' or '(', found 'x'"),
    ],
)
def test_parse_query_errors_name_the_parameter(kwargs, param, detail):
    with pytest.raises(QuerySyntaxError) as ei:
        parse_query(**kwargs)
    assert (ei.value.param, ei.value.detail) == (param, detail)
