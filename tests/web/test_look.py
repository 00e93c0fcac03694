"""Issue 10, part 12 and Leichte Sprache: the city's wordmark, icons, card images, the phase progress,
and the Leichte-Sprache switch (a plain link and a cookie, no JavaScript) with its fallback notice."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from herzstadt.core.leichte_sprache import COOKIE
from herzstadt.web.templatetags.look import ICONS, icon_svg

pytestmark = pytest.mark.django_db

TEMPLATES = Path(__file__).resolve().parents[2] / "herzstadt"


def _switch_on(client, back="/"):
    response = client.get("/leichte-sprache/", {"an": "1", "weiter": back})
    assert response.status_code == 302
    return response


# --- the switch ------------------------------------------------------------------------------------


def test_the_switch_is_a_link_that_sets_a_cookie_and_goes_back(client, city):
    html = client.get("/datenschutz/").content.decode()
    link = re.search(r'<p class="ls-switch"><a href="([^"]+)"[^>]*>(.*?)</a>', html, re.S)
    assert link, "the header has the Leichte-Sprache switch"
    assert "Leichte Sprache" in link.group(2)
    href = link.group(1).replace("&amp;", "&")
    assert href == "/leichte-sprache/?an=1&weiter=/datenschutz/"
    response = client.get(href)  # what a browser without JavaScript does
    assert response.status_code == 302 and response["Location"] == "/datenschutz/"
    cookie = response.cookies[COOKIE]
    assert cookie.value == "1" and cookie["httponly"] and cookie["samesite"] == "Lax"
    page = client.get("/datenschutz/")
    html = page.content.decode()
    assert "Daten·schutz" in html and "Sie dürfen Ihre Daten löschen." in html
    assert "Leichte Sprache ausschalten" in html
    assert "Cookie" in page["Vary"]
    off = client.get("/leichte-sprache/", {"an": "0", "weiter": "/datenschutz/"})
    assert off.status_code == 302 and off.cookies[COOKIE].value == ""
    html = client.get("/datenschutz/").content.decode()
    assert "Daten·schutz" not in html and "Leichte Sprache ausschalten" not in html


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/x", "javascript:alert(1)", ""]
)
def test_the_switch_only_goes_back_to_this_site(client, city, target):
    response = client.get("/leichte-sprache/", {"an": "1", "weiter": target})
    assert response.status_code == 302 and response["Location"] == "/"


def test_a_wrong_value_is_a_clear_400(client, city):
    response = client.get("/leichte-sprache/", {"an": "ja"})
    assert response.status_code == 400 and COOKIE not in response.cookies
    assert "an muss 0 (aus) oder 1 (an) sein." in response.content.decode()


def test_english_pages_have_no_switch_and_no_leichte_sprache(client, city):
    _switch_on(client)
    html = client.get("/en/privacy/").content.decode()
    assert 'class="ls-switch"' not in html
    assert "Daten·schutz" not in html and "Your rights" in html


# --- texts in Leichte Sprache ----------------------------------------------------------------------


def test_demo_pages_in_leichte_sprache_and_the_fallback_notice(client, demo):
    from herzstadt.core.models import Measure
    from herzstadt.participation.models import Process

    notice = "Diesen Text gibt es noch nicht in Leichter Sprache."
    ls_measures = Measure.objects.filter(city=demo).exclude(ls_summary="")
    assert ls_measures.count() >= 3
    measure = ls_measures.first()
    plain = Measure.objects.filter(city=demo, ls_summary="", ls_description="").first()
    pfaff = Process.objects.get(city=demo, slug="zukunft-pfaff-areal")
    assert pfaff.ls_summary and pfaff.ls_description and demo.ls_description

    # off: the ordinary texts, no notice
    assert demo.description in client.get("/").content.decode()
    html = client.get(measure.get_absolute_url()).content.decode()
    assert measure.summary in html and notice not in html

    _switch_on(client)
    home = client.get("/").content.decode()
    assert "Das ist die Internet·seite von der Stadt Kaiserslautern." in home
    assert demo.description not in home and notice not in home
    html = client.get(measure.get_absolute_url()).content.decode()
    assert measure.ls_summary.splitlines()[0] in html and measure.summary not in html
    assert notice not in html
    html = client.get(plain.get_absolute_url()).content.decode()
    assert notice in html and plain.summary in html  # the normal text, and said so
    html = client.get(pfaff.get_absolute_url()).content.decode()
    assert "Früher war dort eine Fabrik." in html
    # the plain-text description becomes paragraphs (not escaped markup)
    assert re.search(
        r"<p>Früher hat die Firma Pfaff dort Näh·maschinen gebaut\.<br\s*/?>\s*Die Fabrik", html
    )
    assert "Jetzt können Sie Ideen schreiben." in html  # the ideas phase in Leichte Sprache
    assert pfaff.summary not in html and notice not in html
    # cards say it too, briefly: three measures have Leichte Sprache, the others not yet
    listing = client.get("/massnahmen/").content.decode()
    assert measure.ls_summary.splitlines()[0] in listing
    assert listing.count("(noch nicht in Leichter Sprache)") == (
        Measure.objects.filter(city=demo, is_public=True, ls_summary="", ls_description="").count()
    )
    # the English page stays English
    html = client.get("/en" + pfaff.get_absolute_url()).content.decode()
    assert "Früher war dort eine Fabrik." not in html


def test_a_phase_without_leichte_sprache_says_so(client, process):
    phase = process.phases.get(kind="ideas")
    phase.description = "Ideen einreichen, verorten, kommentieren."
    phase.save()
    _switch_on(client)
    html = client.get(process.get_absolute_url()).content.decode()
    assert "(noch nicht in Leichter Sprache)" in html
    assert "Diesen Text gibt es noch nicht in Leichter Sprache." in html  # the process itself
    phase.ls_description = "Jetzt können Sie Ideen schreiben."
    phase.save()
    html = client.get(process.get_absolute_url()).content.decode()
    assert "(noch nicht in Leichter Sprache)" not in html
    assert "Jetzt können Sie Ideen schreiben." in html


def test_how_to_take_part_in_both_forms(client, city):
    html = client.get("/beteiligung/").content.decode()
    assert 'href="/mitmachen/"' in html
    html = client.get("/mitmachen/").content.decode()
    assert "<h1>So machen Sie mit</h1>" in html and "Zum Lesen brauchen Sie kein Konto." in html
    assert "Bürger·beteiligung" not in html
    assert "How to take part" in client.get("/en/taking-part/").content.decode()
    _switch_on(client)
    html = client.get("/mitmachen/").content.decode()
    assert "Das heißt: Bürger·beteiligung." in html
    assert "Leichte Sprache ausschalten" in html


def test_staff_write_leichte_sprache_in_the_back_office(client, actors, process):
    from herzstadt.participation.backoffice.forms import PhaseForm, ProcessForm

    form = ProcessForm(process.city, instance=process)
    assert {"ls_summary", "ls_description"} <= set(form.fields)
    assert "ls_description" in PhaseForm(process).fields


# --- the look --------------------------------------------------------------------------------------


def test_each_city_has_its_wordmark(client, city, other_city, settings):
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "musterstadt.example"]
    html = client.get("/").content.decode()
    mark = re.search(r'<p class="brand"><a [^>]*>\s*(<svg.*?</svg>)', html, re.S).group(1)
    assert 'role="img" aria-label="Kaiserslautern – herzlich digital"' in mark
    assert "♥" not in html
    html = client.get("/", HTTP_HOST="musterstadt.example").content.decode()
    assert 'role="img" aria-label="Musterstadt – Smart-City-Plattform"' in html
    assert ">Musterstadt</text>" in html


def test_the_phase_progress_marks_the_current_step(client, process):
    html = client.get(process.get_absolute_url()).content.decode()
    steps = re.search(r'<ol class="phases phase-progress">(.*?)</ol>', html, re.S).group(1)
    items = re.findall(r"<li [^>]*>", steps)
    assert len(items) == 3
    assert [('aria-current="step"' in item) for item in items] == [False, True, False]
    assert "Jetzt: Phase 2 von 3, Ideas" in html
    # the state is said in words, not by colour alone
    assert "abgeschlossen" in steps and "jetzt" in steps and "demnächst" in steps


def test_cards_have_images_and_icons(client, process, make_user):
    from django.core.files.base import ContentFile

    from herzstadt.participation.models import Idea

    author = make_user()
    Idea.objects.create(
        city=process.city, process=process, author=author, title="Ohne Bild", body="x"
    )
    with_image = Idea(city=process.city, process=process, author=author, title="Mit Bild", body="y")
    with_image.image.save("bild.png", ContentFile(b"\x89PNG\r\n\x1a\n"), save=False)
    with_image.save()
    html = client.get(process.get_absolute_url()).content.decode()
    assert f'<img class="card-image" src="{with_image.image.url}" alt=""' in html
    assert 'src="/static/herzstadt/placeholder-idea.svg" alt=""' in html
    assert '<svg class="icon icon-thumbs-up" aria-hidden="true" focusable="false"' in html
    listing = client.get("/beteiligung/").content.decode()
    assert 'src="/static/herzstadt/placeholder-process.svg" alt=""' in listing
    assert "Jetzt: Phase 2 von 3, Ideas" in listing
    assert '<ol class="phase-bar" aria-hidden="true">' in listing


def test_every_icon_a_template_uses_is_vendored():
    used = set()
    for template in TEMPLATES.rglob("*.html"):
        used |= set(re.findall(r'{%\s*icon\s+"([a-z0-9-]+)"\s*%}', template.read_text("utf-8")))
    assert used, "the templates use icons"
    vendored = {p.stem for p in ICONS.glob("*.svg")}
    assert used <= vendored, f"not vendored (scripts/vendor-assets.mjs): {used - vendored}"
    assert "ISC" in (ICONS / "LICENSE").read_text("utf-8")
    for name in used:
        svg = icon_svg(name)
        assert svg.startswith('<svg class="icon') and 'aria-hidden="true"' in svg
        assert "<!--" not in svg and "<script" not in svg
    with pytest.raises(ValueError):
        icon_svg("../../secret")


@pytest.mark.parametrize("page", ["/", "process"])
def test_map_pages_stay_under_200_kb_compressed(client, process, page):
    """The page and every static file it loads (styles, scripts, placeholder pictures, no uploads)."""
    import gzip

    from django.contrib.staticfiles import finders

    url = process.get_absolute_url() if page == "process" else page
    html = client.get(url).content
    total = len(gzip.compress(html, 9))
    assets = set(re.findall(rb'(?:href|src)="/static/([^"?#]+)"', html))
    assert any(a.endswith(b".js") for a in assets) and any(a.endswith(b".css") for a in assets)
    for asset in assets:
        path = finders.find(asset.decode())
        assert path, asset
        total += len(gzip.compress(Path(path).read_bytes(), 9))
    assert total <= 200 * 1024, f"{url}: {total} bytes compressed"
