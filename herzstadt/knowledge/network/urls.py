"""Network pages, API and back office (helper: network)."""

from __future__ import annotations

from typing import Any

#: citizen pages, namespace ``knowledge``
urlpatterns: list[Any] = []
#: the network API under /api/v1/ (shared namespace ``api``; names start with ``network-``)
api_urlpatterns: list[Any] = []
#: back-office pages (namespace ``backoffice``; names start with ``network-``)
backoffice_urlpatterns: list[Any] = []
NAV: tuple[Any, ...] = ()
SECTIONS: tuple[Any, ...] = ()
PANELS: tuple[Any, ...] = ()
TASKS: tuple[Any, ...] = ()
