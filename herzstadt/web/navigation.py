"""The shell's menus, built per request from the navigation entries pillars registered."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from django.http import HttpRequest
from django.urls import reverse

from herzstadt.core import permissions, registry


@dataclass(frozen=True)
class MenuItem:
    key: str
    label: str
    url: str
    current: bool
    badge: int | None
    badge_label: str
    post: bool


def _visible(request: HttpRequest, entry: registry.NavEntry, city) -> bool:
    if entry.visible is not None and not entry.visible(request):
        return False
    if entry.permission is not None:
        if not city:
            return False
        return permissions.allowed(getattr(request, "user", None), entry.permission, city)
    return True


def menu(request: HttpRequest, name: str) -> list[MenuItem]:
    """The entries of menu ``name`` this visitor may see, with their addresses in the active
    language and whether they lead to the current page."""
    city = getattr(request, "city", None)
    match = getattr(request, "resolver_match", None)
    items = []
    for entry in registry.nav(name):
        if not _visible(request, entry, city):
            continue
        url = reverse(entry.url_name)
        if entry.with_next:
            url += "?next=" + quote(request.get_full_path())
        items.append(
            MenuItem(
                key=entry.key,
                label=str(entry.label),
                url=url,
                current=entry.is_current(match),
                badge=entry.badge(request) if entry.badge is not None else None,
                badge_label=str(entry.badge_label),
                post=entry.post,
            )
        )
    return items


class Menus:
    """``{{ nav.main }}``, ``{{ nav.account }}``, ``{{ nav.backoffice }}``: each built on first use."""

    def __init__(self, request: HttpRequest) -> None:
        self._request = request
        self._built: dict[str, list[MenuItem]] = {}

    def __getattr__(self, name: str) -> list[MenuItem]:
        if name.startswith("_") or name not in registry.MENUS:
            raise AttributeError(name)
        if name not in self._built:
            self._built[name] = menu(self._request, name)
        return self._built[name]
