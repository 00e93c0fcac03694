"""The live district's charts in a real browser: the kind-of-data page with both charts (24 hours,
30 days), its tables opened, in German and English at 1280 and 320 px — axe-clean, no overflow."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.browser.test_pages import WIDTHS, check


@pytest.fixture
def fake_history(monkeypatch):
    from herzstadt.urbandata import history
    from herzstadt.urbandata.charts import Point

    def reader(tenant, ids, attr, start, end, daily):
        if daily:
            return [
                Point(start + dt.timedelta(days=d), 18.5 + d % 7, 9.25 + d % 3, 44.0 + d % 5)
                for d in range(30)
            ]
        return [Point(start + dt.timedelta(hours=h), 20.0 + (h % 12) * 1.5) for h in range(24)]

    monkeypatch.setattr(history, "reader", reader)
    history.history_cache.clear()
    yield
    history.history_cache.clear()


@pytest.mark.parametrize("lang", ["de", "en"])
def test_charts_are_accessible(site, fake_history, lang):
    from django.urls import translate_url

    path = translate_url(site.pages["urban-data"], lang)
    context = site.context(None)
    page = context.new_page()
    try:
        response = page.goto(site.url + path)
        assert response is not None and response.status == 200, path
        assert page.locator("svg.chart-svg").count() >= 2
        assert page.locator("svg.chart-svg title").first.text_content()
        for summary in page.locator("figure.chart details > summary").all():
            summary.click()  # the tables, opened
        assert page.locator("figure.chart table").first.is_visible()
        problems = []
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            problems += [f"{width}px: {p}" for p in check(page)]
        assert not problems, f"{path}\n" + "\n".join(problems)
    finally:
        page.close()
        context.close()
