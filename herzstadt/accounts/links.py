"""Links stored with notifications, shown in the reader's language."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.urls import Resolver404, resolve, translate_url
from django.utils import translation


def in_language(url: str, lang: str) -> str:
    """The same page in ``lang``: ``/en/participation/x/`` → ``/beteiligung/x/`` for German. A
    notification keeps the address in the language of whoever caused it; readers get their own."""
    path = urlsplit(url).path
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            try:
                resolve(path)
            except Resolver404:
                continue
            return translate_url(url, lang)
    return url
