"""Every page type, in German and English, at 1280 and 320 CSS pixels: no WCAG 2.1 A/AA violation
that axe-core finds, and no horizontal scrolling (WCAG 1.4.10 reflow)."""

from __future__ import annotations

import pytest

from tests.browser.conftest import AXE

WIDTHS = (1280, 320)
#: Pages a visitor sees signed out (signed in, they redirect); every other page is seen by an
#: administrator of the city, so the full header (account menu, back office, badges) is on it.
ANONYMOUS = {"sign-in", "sign-up", "home-anonymous"}
PAGES = [
    "home",
    "home-anonymous",
    "district",
    "measures",
    "measure",
    "measure-data",
    "urban-data",
    "urban-data-personal",
    "processes",
    "process",
    "idea",
    "idea-form",
    "survey",
    "survey-results",
    "sign-in",
    "sign-up",
    "profile",
    "notifications",
    "privacy",
    "bo-home",
    "bo-moderation",
    "bo-hidden",
    "bo-ideas",
    "bo-idea-answer",
    "bo-process",
    "bo-process-edit",
    "bo-process-create",
    "bo-survey",
    "bo-statistics",
    "bo-exports",
    "bo-roles",
    "bo-blocked",
    "bo-api-access",
    "bo-api-open-data",
    "bo-api-client-create",
    "knowledge",
    "knowledge-search",
    "knowledge-profile",
    "knowledge-partner",
    "measure-knowledge",
    "bo-knowledge",
    "bo-knowledge-edit",
    "compass",
    "compass-indicator",
    "compass-goal",
    "compass-measure",
    "compass-portfolio",
    "compass-districts",
    "compass-rate-list",
    "compass-rate",
    "bo-compass",
    "bo-compass-indicator",
    "bo-compass-goal",
    "bo-compass-assess",
    "decision-results",
    "decision-results-poll",
    "bo-decision-results",
    "decisions",
    "decision",
    "decision-proposal",
    "decision-vote",
    "decision-log",
    "decision-receipt",
    "bo-decisions",
    "bo-decision-edit",
    "bo-decision-proposals",
    "bo-decision-proposal-edit",
]

AXE_RUN = """async () => {
  const result = await axe.run(document, {
    runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    resultTypes: ["violations"],
  });
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map(n => n.target.join(" ") + " :: " + n.failureSummary),
  }));
}"""

OVERFLOW = """() => {
  const width = window.innerWidth;
  const scrolls = el => { for (let p = el.parentElement; p; p = p.parentElement) {
    if (["auto", "scroll", "hidden"].includes(getComputedStyle(p).overflowX)) return true; } return false; };
  const wide = [];
  for (const el of document.querySelectorAll("body *")) {
    const r = el.getBoundingClientRect();
    if (r.right > width + 1 && r.width > 0 && !scrolls(el)
        && !(el.parentElement && el.parentElement.getBoundingClientRect().right > width + 1)) {
      wide.push(el.tagName.toLowerCase() + (el.className && typeof el.className === "string"
        ? "." + el.className.trim().split(/\\s+/).join(".") : "") + " right=" + Math.round(r.right));
    }
  }
  return {scroll: document.documentElement.scrollWidth, inner: width, wide: wide.slice(0, 8)};
}"""


@pytest.fixture(scope="module")
def contexts(site):
    made = {}

    def get(anonymous: bool, leichte_sprache: bool = False):
        key = (anonymous, leichte_sprache)
        if key not in made:
            made[key] = site.context(None if anonymous else site.staff)
            if leichte_sprache:  # what the header's "Leichte Sprache" switch sets
                made[key].add_cookies([{"name": "herzstadt_ls", "value": "1", "url": site.url}])
        return made[key]

    yield get
    for context in made.values():
        context.close()


def check(page) -> list[str]:
    """The problems on the page as shown now: axe violations and horizontal overflow."""
    problems = []
    if page.evaluate("typeof axe === 'undefined'"):
        page.add_script_tag(path=str(AXE))
    for v in page.evaluate(AXE_RUN):
        problems.append(f"axe {v['id']} ({v['impact']}): {v['help']}: {v['nodes']}")
    overflow = page.evaluate(OVERFLOW)
    if overflow["scroll"] > overflow["inner"]:
        problems.append(
            f"horizontal overflow: scrollWidth {overflow['scroll']} > {overflow['inner']}: "
            f"{overflow['wide']}"
        )
    return problems


@pytest.mark.parametrize("lang", ["de", "en", "ls"])
@pytest.mark.parametrize("name", PAGES)
def test_page(site, contexts, name, lang):
    """``ls``: German pages in Leichte Sprache (the switch's cookie)."""
    from django.urls import translate_url

    path = site.pages[name.removesuffix("-anonymous")]
    if lang == "en":
        path = translate_url(path, lang)
    page = contexts(name in ANONYMOUS, lang == "ls").new_page()
    try:
        response = page.goto(site.url + path)
        assert response is not None and response.status == 200, (path, response and response.status)
        assert page.locator("html").get_attribute("lang") == ("de" if lang == "ls" else lang)
        if lang == "ls":
            assert page.get_by_role("link", name="Leichte Sprache ausschalten").count() >= 1
        problems = []
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            problems += [f"{width}px: {p}" for p in check(page)]
        assert not problems, f"{path}\n" + "\n".join(problems)
    finally:
        page.close()
