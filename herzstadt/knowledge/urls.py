"""The knowledge catalogue ("Wissen") and the back office of measure profiles (helper: knowledge)."""

from __future__ import annotations

from typing import Any

#: citizen pages, namespace ``knowledge`` (under /wissen/)
urlpatterns: list[Any] = []
#: back-office pages (namespace ``backoffice``; names start with ``knowledge-``)
backoffice_urlpatterns: list[Any] = []
NAV: tuple[Any, ...] = ()
PANELS: tuple[Any, ...] = ()
SECTIONS: tuple[Any, ...] = ()
