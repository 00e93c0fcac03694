"""Rich text the city writes (process descriptions, phase texts, answers to ideas): safe Markdown.

Markdown (markdown-it-py, CommonMark with tables, strikethrough and bare web addresses made links)
becomes HTML, then nh3 keeps only a short list of formatting tags. Links get ``rel="nofollow ugc
noopener"`` and only ``http``, ``https`` and ``mailto`` addresses survive (``javascript:``, ``data:``
and the like are dropped by both steps); images become links to them (no third-party
requests from a citizen's browser); headings start at ``<h3>`` so a text never breaks the page's outline. A single
line break is kept as a line break, as people who never heard of Markdown expect. HTML written into
older texts passes through the same sanitiser, so texts from before Markdown still render.
"""

from __future__ import annotations

from functools import lru_cache

import nh3
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml

#: The tags a text may keep; everything else is removed (its content kept, scripts and styles dropped).
TAGS = frozenset(
    {"p", "br", "hr", "strong", "em", "s", "code", "pre", "blockquote", "ul", "ol", "li", "a"}
    | {"h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td"}
)
ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}, "th": {"align"}, "td": {"align"}}
URL_SCHEMES = frozenset({"http", "https", "mailto"})
LINK_REL = "nofollow ugc noopener"
#: The hint under every field whose text is rendered this way.
HELP = _(
    "Formatting (Markdown): an empty line starts a new paragraph, lines starting with “- ” make a "
    "list, **bold**, and a web address or [text](https://…) becomes a link."
)
#: Headings in a text start below the page's own ``<h1>`` and section ``<h2>``.
HEADING_OFFSET = 2


def _image_as_link(self, tokens, idx, options, env) -> str:
    """An image is shown as a link to it, named by its description: nothing loads by itself."""
    token = tokens[idx]
    src = escapeHtml(str(token.attrGet("src") or ""))
    alt = escapeHtml(self.renderInlineAsText(token.children or [], options, env) or src)
    return f'<a href="{src}">{alt}</a>'


def _shift_headings(state) -> None:
    for token in state.tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(int(token.tag[1]) + HEADING_OFFSET, 6)}"


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    md = MarkdownIt(
        "commonmark", {"html": True, "linkify": True, "breaks": True, "typographer": False}
    )
    md.enable(["table", "strikethrough", "linkify"])
    md.add_render_rule("image", _image_as_link)
    md.core.ruler.push("herzstadt_headings", _shift_headings)
    return md


def render(text: str | None) -> SafeString:
    """``text`` (Markdown, or older HTML) as sanitised HTML, safe to put into a page."""
    if not text or not text.strip():
        return mark_safe("")
    html = _parser().render(text)
    cleaned = nh3.clean(
        html,
        tags=set(TAGS),
        attributes={tag: set(names) for tag, names in ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel=LINK_REL,
        strip_comments=True,
    )
    return mark_safe(cleaned)
