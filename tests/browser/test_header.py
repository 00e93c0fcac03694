"""The header on a phone: one compact row with a "Menü" button (a <details>, no JavaScript) that opens
every menu, "Abmelden" included; on a wide screen everything in one row. The footer's links are
apart (they ran together)."""

from __future__ import annotations

import itertools


def _box(locator):
    box = locator.bounding_box()
    assert box is not None, locator
    return box


def test_phone_header_is_compact_and_its_menu_works_by_keyboard(site):
    context = site.context(site.staff, width=320, height=640)
    page = context.new_page()
    try:
        page.goto(site.url + site.pages["process"])
        header = page.locator("header.site-header")
        assert _box(header)["height"] <= 80, "one row: brand and menu button"
        summary = page.locator("details.header-menu > summary")
        assert summary.is_visible() and summary.inner_text().strip() == "Menü"
        assert not page.locator(".header-wide").is_visible()
        sign_out = page.locator("details.header-menu form[action$='/logout/'] button")
        assert not sign_out.is_visible()
        page.keyboard.press("Tab")  # the skip link
        page.keyboard.press("Tab")  # the brand
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.tagName") == "SUMMARY"
        page.keyboard.press("Enter")
        assert page.locator("details.header-menu").get_attribute("open") is not None
        assert sign_out.is_visible() and sign_out.inner_text() == "Abmelden"
        box = _box(sign_out)
        assert box["x"] >= 0 and box["x"] + box["width"] <= 320, "Abmelden is on the screen"
        for name in ("Start", "Beteiligung", "Verwaltung", "English"):
            assert page.locator("details.header-menu").get_by_role("link", name=name).is_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 320
    finally:
        context.close()


def test_wide_header_shows_the_menus_in_one_row(site):
    context = site.context(site.staff, width=1280)
    page = context.new_page()
    try:
        page.goto(site.url + site.pages["home"])
        assert not page.locator("details.header-menu").is_visible()
        sign_out = page.locator(".header-wide form[action$='/logout/'] button")
        assert sign_out.is_visible()
        first = _box(page.locator(".header-wide nav").first.get_by_role("link").first)
        last = _box(sign_out)
        assert abs(first["y"] + first["height"] / 2 - (last["y"] + last["height"] / 2)) < 8, (
            "one row"
        )
        # exactly one copy of each menu is exposed to assistive technology
        assert page.get_by_role("navigation", name="Hauptnavigation").count() == 1
    finally:
        context.close()


def test_footer_links_are_apart(site):
    context = site.context(width=320)
    page = context.new_page()
    try:
        page.goto(site.url + site.pages["home"])
        links = page.locator("footer nav a")
        assert links.count() >= 1
        boxes = [_box(links.nth(i)) for i in range(links.count())]
        text = _box(page.locator("footer p").first)
        for box in boxes:
            assert box["y"] >= text["y"] + text["height"], "links below the sentence, not inside it"
        for a, b in itertools.pairwise(boxes):
            same_row = abs(a["y"] - b["y"]) < 2
            assert not same_row or b["x"] - (a["x"] + a["width"]) >= 16
    finally:
        context.close()
