"""Safe Markdown for texts the city writes (issue 10, formatting): paragraphs, lists and links work,
nothing dangerous survives."""

import re

import pytest
from django.template import Context, Template

from herzstadt.core.richtext import render


def test_paragraphs_lists_line_breaks_and_headings_below_the_page_outline():
    html = render("# Ziel\n\nErster Absatz\nzweite Zeile\n\n- eins\n- zwei\n\n1. a\n2. b")
    assert "<h3>Ziel</h3>" in html and "<h1>" not in html
    assert "<p>Erster Absatz<br>\nzweite Zeile</p>" in html
    assert "<ul>\n<li>eins</li>" in html and "<ol>" in html


def test_links_and_bare_addresses_are_clickable_with_a_safe_rel():
    html = render("Mehr: https://www.kaiserslautern.de/pfaff und [Plan](https://example.org/p.pdf)")
    assert '<a href="https://www.kaiserslautern.de/pfaff" rel="nofollow ugc noopener">' in html
    assert '<a href="https://example.org/p.pdf" rel="nofollow ugc noopener">Plan</a>' in html
    assert 'href="mailto:info@example.org"' in render("Schreiben Sie an info@example.org")


@pytest.mark.parametrize(
    "evil",
    [
        "<script>alert(1)</script>",
        '<img src="x" onerror="alert(1)">',
        "[klick](javascript:alert(1))",
        '<a href="javascript:alert(1)">klick</a>',
        '<a href="data:text/html;base64,PHNjcmlwdD4=">klick</a>',
        '<p style="position:fixed" onclick="alert(1)">x</p>',
        "<iframe src=https://evil.example></iframe>",
        "[klick](vbscript:msgbox)",
    ],
)
def test_nothing_dangerous_survives(evil):
    html = render(f"Text {evil} Ende").lower()
    for bad in ("<script", "onerror", "onclick", "style=", "<iframe", "<img"):
        assert bad not in html, (bad, html)
    for href in re.findall(r'href="([^"]*)"', html):
        assert href.split(":")[0] in ("http", "https", "mailto"), html


def test_images_become_links_so_nothing_loads_by_itself():
    html = render("![Lageplan](https://example.org/plan.png)")
    assert "<img" not in html
    assert '<a href="https://example.org/plan.png" rel="nofollow ugc noopener">Lageplan</a>' in html


def test_older_html_texts_still_render_sanitised():
    assert render("<p>Alt <strong>fett</strong></p>") == "<p>Alt <strong>fett</strong></p>"


def test_empty_text_and_the_template_filter():
    assert render("") == "" and render(None) == "" and render("  \n") == ""
    out = Template("{% load richtext %}{{ text|markdown }}").render(
        Context({"text": "**fett** <b onclick=x>"})
    )
    assert out.startswith("<p><strong>fett</strong>") and "onclick" not in out
