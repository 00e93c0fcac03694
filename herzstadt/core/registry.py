"""The pillar registry: how a pillar plugs into the platform with one registration.

Each pillar (participation, urban data, and every coming one) describes what it brings in one
:class:`Pillar` manifest and registers it once, in its ``AppConfig.ready()``::

    from herzstadt.core import registry

    class KnowledgeConfig(AppConfig):
        def ready(self):
            from herzstadt.knowledge.pillar import PILLAR
            registry.register(PILLAR)

The platform's shell (``herzstadt/urls.py``, ``herzstadt/asgi.py``, ``herzstadt/demo.py``, the
navigation in ``web/base.html``, the back office, the personal-data export and account deletion, the
notification texts, the phase registry) reads everything from here, so ``core``, ``accounts`` and
``web`` never name a pillar. The shell's own parts (core, accounts) register the same way.

Everything here is plain data: frozen dataclasses with callables. Registering the same manifest
twice is a no-op; a second, different manifest under the same name, or two pillars claiming the same
URL namespace, notification kind, phase kind, feature, dataset id or ASGI prefix, raises
:class:`RegistryError` at start-up. The accessors sort and index the manifests lazily and cache the
result until the next (un)registration, so a request pays for dictionary look-ups only.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover - types only
    from django.http import HttpRequest
    from django.urls import ResolverMatch

    from herzstadt.core.models import City

#: Pages of the core that take panels.
PANEL_PAGES = ("home", "district", "measure", "backoffice", "idea")
#: Menus of the shell.
MENUS = ("main", "account", "backoffice")


class RegistryError(Exception):
    """A manifest conflicts with one already registered, or is malformed."""


# --- what a manifest is made of ---------------------------------------------------------------------
@dataclass(frozen=True)
class NavEntry:
    """A link in one of the shell's menus.

    ``current`` says on which pages the link is marked ``aria-current="page"``: view names such as
    ``"core:measure"`` or whole namespaces such as ``"knowledge:*"`` (default: the link's own
    view). ``visible(request)`` hides the link (e.g. only for signed-in people); ``permission`` names
    a rule (see :mod:`herzstadt.core.permissions`) asked with the current city; ``badge(request)``
    returns a number shown next to the label (``0``/``None``: no badge).
    """

    key: str
    label: Any
    url_name: str
    order: int = 100
    menu: str = "main"
    current: tuple[str, ...] = ()
    visible: Callable[[HttpRequest], bool] | None = None
    permission: str | None = None
    badge: Callable[[HttpRequest], int | None] | None = None
    #: Text after the badge's number for screen readers, e.g. "unread".
    badge_label: Any = ""
    #: A button in a small POST form (e.g. "Sign out") instead of a link.
    post: bool = False
    #: Append ``?next=<this page>`` (e.g. "Sign in").
    with_next: bool = False

    def is_current(self, match: ResolverMatch | None) -> bool:
        if match is None:
            return False
        for pattern in self.current or (self.url_name,):
            if pattern.endswith(":*"):
                if match.namespace == pattern[:-2] or match.namespace.startswith(pattern[:-1]):
                    return True
            elif match.view_name == pattern:
                return True
        return False


@dataclass(frozen=True)
class Panel:
    """A section a pillar adds to a core page: ``render(request, obj)`` returns HTML or ``""``.

    ``obj`` is the page's object: the city ("home", "backoffice"), the district, the measure or the
    idea (participation's idea page, "idea").
    """

    page: str
    render: Callable[[HttpRequest, Any], str]
    order: int = 100


@dataclass(frozen=True)
class BackofficeSection:
    """A part of the city's back office, listed on its home page and in its navigation for the
    people whose ``permission`` (asked with the current city) allows it."""

    key: str
    label: Any
    url_name: str
    permission: str
    description: Any = ""
    order: int = 100
    current: tuple[str, ...] = ()
    #: A short status line for the back-office home, e.g. "3 open reports" (``summary(city)``).
    summary: Callable[[City], str] | None = None

    def nav_entry(self) -> NavEntry:
        return NavEntry(
            key=self.key,
            label=self.label,
            url_name=self.url_name,
            order=self.order,
            menu="backoffice",
            current=self.current,
            permission=self.permission,
        )


@dataclass(frozen=True)
class MediaFolder:
    """Uploaded files under ``MEDIA_ROOT/<prefix>`` that a pillar owns (e.g. ``"ideas/"``).

    ``/media/<prefix>…`` is served only if ``visible(request, name)`` says so: the pillar answers
    whether the upload ``name`` (its path below ``MEDIA_ROOT``) belongs to content of the request's
    city that the person may see now (published, not hidden). ``None``: the file is not served (404).
    ``"public"``: anyone may see it (cacheable); ``"private"``: only this person (e.g. a moderator
    checking hidden content; not cached).
    """

    prefix: str
    visible: Callable[[HttpRequest, str], str | None]


@dataclass(frozen=True)
class AsgiMount:
    """A framework-free ASGI application served under ``prefix`` (e.g. ``"/ngsi-ld/"``), built by
    ``factory()`` once per worker process. It gets the lifespan events of the server."""

    prefix: str
    factory: Callable[[], Any]


@dataclass
class DemoContext:
    """Passed to every demo loader in order: the core's loader fills in the demo cities, so pillars
    never need to know a city's slug."""

    cities: dict[str, City] = field(default_factory=dict)
    #: The demo's main hosted city (the one the demo server shows).
    city: City | None = None


@dataclass(frozen=True)
class DemoLoader:
    """``load(context)`` loads (idempotently) the pillar's demo data and returns a short summary."""

    load: Callable[[DemoContext], object]
    order: int = 100


@dataclass(frozen=True)
class PersonalData:
    """A pillar's part of the GDPR self-service.

    ``export(user)`` returns JSON-ready sections ``{name: data}`` for the person's data export
    (Art. 15/20; datetimes are serialised by the caller); section names are unique across pillars.
    ``erase(user)`` runs inside the account-deletion transaction, *before* the account row is
    deleted: it anonymises or deletes what the foreign keys do not, and repairs derived data such as
    counters (Art. 17).
    """

    export: Callable[[Any], Mapping[str, Any]] | None = None
    erase: Callable[[Any], None] | None = None


@dataclass(frozen=True)
class NotificationKind:
    """A kind of in-app notification: ``text`` has a ``%(subject)s`` placeholder and is shown in the
    reader's language (use a lazy translation)."""

    key: str
    label: Any
    text: Any


@dataclass(frozen=True)
class Feature:
    """Something a phase of a participation process can open, e.g. ``"idea.create"``."""

    key: str
    label: Any


@dataclass(frozen=True)
class PhaseKind:
    """A kind of phase for participation processes and the features it opens. ``invitation`` says in
    one sentence what people can do in it."""

    key: str
    label: Any
    features: frozenset[str] = frozenset()
    invitation: Any = ""
    order: int = 100


@dataclass(frozen=True)
class ProcessKind:
    """A kind of participation process and the phase kinds it may run through, in their usual order."""

    key: str
    label: Any
    phase_kinds: tuple[str, ...]
    description: Any = ""
    order: int = 100


@dataclass(frozen=True)
class Distribution:
    """One download or API of a dataset: ``url`` is a path on this site (e.g. ``/api/v1/…``) or an
    absolute URL; ``media_type`` an IANA media type."""

    url: str
    media_type: str
    title: Any = ""
    format: str = ""


@dataclass(frozen=True)
class Dataset:
    """An open-data dataset a pillar publishes for a city (DCAT-AP.de: dcat:Dataset).

    ``themes`` are codes of the EU data-theme vocabulary (e.g. ``"GOVE"``, ``"TRAN"``, ``"ENVI"``);
    ``licence`` the URI of a DCAT-AP.de licence (e.g. ``http://dcat-ap.de/def/licenses/dl-by-de/2.0``);
    ``spatial`` a GeoJSON geometry; ``temporal`` a ``(start, end)`` pair (either may be ``None``).
    """

    identifier: str
    title: Any
    description: Any
    distributions: tuple[Distribution, ...]
    licence: str
    keywords: tuple[str, ...] = ()
    themes: tuple[str, ...] = ()
    landing_page: str = ""
    spatial: Mapping[str, Any] | None = None
    temporal: tuple[dt.datetime | dt.date | None, dt.datetime | dt.date | None] | None = None
    modified: dt.datetime | dt.date | None = None


@dataclass(frozen=True)
class BackgroundTask:
    """Work a pillar runs beside the web server: delivering notifications, listening to MQTT, a
    schedule. ``run(stop)`` works until the :class:`threading.Event` ``stop`` is set, then returns;
    it runs in a thread of a worker process (``herzstadt worker``; ``herzstadt serve`` starts one
    such process itself unless ``HERZSTADT_EMBEDDED_WORKER=0``). A task that raises is restarted
    with a growing pause. Several worker processes may run at once, so a task claims shared work
    (rows locked or leased) instead of assuming it is alone."""

    key: str
    run: Callable[[threading.Event], None]
    label: Any = ""
    order: int = 100


@dataclass(frozen=True)
class TransferPart:
    """A part of a measure another city can take over when it replicates the measure
    ("Übernehmen"), contributed by the pillar that owns it (participation: the process template with
    its phases and survey questions; urban data: the entity types the measure needs).

    ``export(measure)`` returns a JSON-serialisable template of the part (``None`` when the measure
    has nothing of it); the knowledge pillar publishes it in the measure's network record.
    ``adopt(measure, data, user)`` creates the part for the adopting city's new ``measure`` from such
    a template (the partner's data: validate it, never trust it), in the caller's transaction, and
    returns a short description of what it created. ``label`` names the part in the adoption form.
    """

    key: str
    label: Any
    export: Callable[[Any], Any]
    adopt: Callable[[Any, Any, Any], str]
    order: int = 100


@dataclass(frozen=True)
class Pillar:
    """Everything one pillar brings. Only ``name`` is required.

    - ``urls``: citizen URL patterns, included under ``i18n_patterns`` in the namespace ``namespace``
      (default: ``name``); ``api_urls``: language-independent patterns under ``/api/v1/`` (namespace
      ``api``, shared: names must be unique); ``backoffice_urls``: patterns under the back office
      (``/verwaltung/``, namespace ``backoffice``, shared)
    - ``nav``, ``panels``, ``backoffice_sections``, ``asgi_mounts``, ``demo``, ``personal_data``,
      ``notification_kinds``, ``features``, ``phase_kinds``, ``process_kinds``, ``tasks``,
      ``transfer_parts``: see the
      classes above
    - ``media``: the folders of uploads the pillar owns and decides the visibility of
    - ``datasets(city)``: the open-data datasets the pillar publishes for ``city``
    - ``url_order``: where the citizen patterns go among the other pillars' (lower first)
    """

    name: str
    label: Any = ""
    namespace: str = ""
    urls: Sequence[Any] = ()
    api_urls: Sequence[Any] = ()
    backoffice_urls: Sequence[Any] = ()
    url_order: int = 100
    nav: Sequence[NavEntry] = ()
    panels: Sequence[Panel] = ()
    backoffice_sections: Sequence[BackofficeSection] = ()
    asgi_mounts: Sequence[AsgiMount] = ()
    demo: DemoLoader | None = None
    personal_data: PersonalData | None = None
    datasets: Callable[[City], Iterable[Dataset]] | None = None
    notification_kinds: Sequence[NotificationKind] = ()
    features: Sequence[Feature] = ()
    phase_kinds: Sequence[PhaseKind] = ()
    process_kinds: Sequence[ProcessKind] = ()
    media: Sequence[MediaFolder] = ()
    tasks: Sequence[BackgroundTask] = ()
    transfer_parts: Sequence[TransferPart] = ()

    @property
    def url_namespace(self) -> str:
        return self.namespace or self.name


# --- the registry -----------------------------------------------------------------------------------
class Registry:
    """The registered pillars and indexes over them (rebuilt lazily after each change)."""

    def __init__(self) -> None:
        self._pillars: dict[str, Pillar] = {}
        self._lock = threading.RLock()
        self._index: _Index | None = None

    # changes
    def register(self, pillar: Pillar) -> Pillar:
        """Add ``pillar``; the same manifest again is a no-op. Raises :class:`RegistryError` on a
        conflict with what is registered, leaving the registry unchanged."""
        if not isinstance(pillar, Pillar):
            raise RegistryError(f"register() takes a Pillar manifest, not {type(pillar).__name__}")
        with self._lock:
            known = self._pillars.get(pillar.name)
            if known is not None:
                if known is pillar or known == pillar:
                    return known
                raise RegistryError(f"a different pillar named {pillar.name!r} is registered")
            candidate = {**self._pillars, pillar.name: pillar}
            _Index(candidate.values())  # validates; raises on conflicts
            self._pillars = candidate
            self._index = None
        return pillar

    def unregister(self, name: str) -> None:
        """Remove a pillar (for tests that register a throw-away one)."""
        with self._lock:
            self._pillars = {k: v for k, v in self._pillars.items() if k != name}
            self._index = None

    # reading
    @property
    def index(self) -> _Index:
        index = self._index
        if index is None:
            with self._lock:
                if self._index is None:
                    self._index = _Index(self._pillars.values())
                index = self._index
        return index

    def pillars(self) -> list[Pillar]:
        return self.index.pillars

    def get(self, name: str) -> Pillar | None:
        return self._pillars.get(name)


def _unique(items: Iterable[tuple[str, str]], what: str) -> dict[str, str]:
    """``{key: pillar}``; raises on a key claimed twice."""
    seen: dict[str, str] = {}
    for key, owner in items:
        if key in seen:
            raise RegistryError(
                f"{what} {key!r} is claimed by both {seen[key]!r} and {owner!r}"
                if seen[key] != owner
                else f"{what} {key!r} appears twice in {owner!r}"
            )
        seen[key] = owner
    return seen


class _Index:
    """Sorted and keyed views over a set of pillars, validated on construction."""

    def __init__(self, pillars: Iterable[Pillar]) -> None:
        self.pillars = sorted(pillars, key=lambda p: (p.url_order, p.name))
        ps = self.pillars
        _unique(((p.url_namespace, p.name) for p in ps if p.urls), "the URL namespace")
        _unique(((m.prefix, p.name) for p in ps for m in p.asgi_mounts), "the ASGI prefix")
        _unique(((f"{n.menu}:{n.key}", p.name) for p in ps for n in p.nav), "the navigation entry")
        _unique(((s.key, p.name) for p in ps for s in p.backoffice_sections), "the section")
        for page in {panel.page for p in ps for panel in p.panels} - set(PANEL_PAGES):
            raise RegistryError(f"there is no page {page!r} for panels (pages: {PANEL_PAGES})")
        for menu in {n.menu for p in ps for n in p.nav} - set(MENUS):
            raise RegistryError(f"there is no menu {menu!r} (menus: {MENUS})")
        _unique(((f.prefix, p.name) for p in ps for f in p.media), "the media folder")
        for folder in (f for p in ps for f in p.media):
            if (
                not folder.prefix.endswith("/")
                or folder.prefix.startswith("/")
                or ".." in folder.prefix
            ):
                raise RegistryError(
                    f"a media folder is relative and ends with '/': {folder.prefix!r}"
                )
        self.media = [f for p in ps for f in p.media]
        for mount in (m for p in ps for m in p.asgi_mounts):
            if not (mount.prefix.startswith("/") and mount.prefix.endswith("/")):
                raise RegistryError(f"an ASGI prefix starts and ends with '/': {mount.prefix!r}")

        self.notification_kinds: dict[str, NotificationKind] = {}
        _unique(
            ((k.key, p.name) for p in ps for k in p.notification_kinds), "the notification kind"
        )
        for p in ps:
            self.notification_kinds.update({k.key: k for k in p.notification_kinds})

        _unique(((f.key, p.name) for p in ps for f in p.features), "the feature")
        self.features = {f.key: f for p in ps for f in p.features}
        _unique(((k.key, p.name) for p in ps for k in p.phase_kinds), "the phase kind")
        self.phase_kinds = {
            k.key: k
            for k in sorted(
                (k for p in ps for k in p.phase_kinds), key=lambda k: (k.order, str(k.key))
            )
        }
        for kind in self.phase_kinds.values():
            unknown = set(kind.features) - set(self.features)
            if unknown:
                raise RegistryError(
                    f"the phase kind {kind.key!r} opens unknown features {sorted(unknown)}"
                )
        _unique(((k.key, p.name) for p in ps for k in p.process_kinds), "the process kind")
        self.process_kinds = {
            k.key: k
            for k in sorted((k for p in ps for k in p.process_kinds), key=lambda k: k.order)
        }
        for pkind in self.process_kinds.values():
            unknown = set(pkind.phase_kinds) - set(self.phase_kinds)
            if unknown:
                raise RegistryError(
                    f"the process kind {pkind.key!r} names unknown phase kinds {sorted(unknown)}"
                )

        self.panels: dict[str, list[Panel]] = {}
        for page in PANEL_PAGES:
            found = [(panel.order, i, panel) for i, p in enumerate(ps) for panel in p.panels]
            self.panels[page] = [
                x[2] for x in sorted(found, key=lambda x: x[:2]) if x[2].page == page
            ]

        sections = [s for p in ps for s in p.backoffice_sections]
        self.backoffice_sections = sorted(sections, key=lambda s: (s.order, s.key))
        entries = [n for p in ps for n in p.nav] + [s.nav_entry() for s in sections]
        self.nav: dict[str, list[NavEntry]] = {
            menu: sorted((n for n in entries if n.menu == menu), key=lambda n: (n.order, n.key))
            for menu in MENUS
        }
        self.asgi_mounts = [m for p in ps for m in p.asgi_mounts]
        demo = [(p.demo.order, p.name, p.demo) for p in ps if p.demo is not None]
        self.demo_loaders = [
            (name, loader) for _o, name, loader in sorted(demo, key=lambda x: x[:2])
        ]
        self.personal_data = [(p.name, p.personal_data) for p in ps if p.personal_data]
        _unique(((t.key, p.name) for p in ps for t in p.tasks), "the background task")
        self.tasks = sorted((t for p in ps for t in p.tasks), key=lambda t: (t.order, t.key))
        _unique(((t.key, p.name) for p in ps for t in p.transfer_parts), "the transfer part")
        self.transfer_parts = sorted(
            (t for p in ps for t in p.transfer_parts), key=lambda t: (t.order, t.key)
        )


#: The platform's registry. Use the module-level functions below.
REGISTRY = Registry()


def register(pillar: Pillar) -> Pillar:
    return REGISTRY.register(pillar)


def unregister(name: str) -> None:
    REGISTRY.unregister(name)


def pillars() -> list[Pillar]:
    """Every registered pillar, in URL order."""
    return REGISTRY.pillars()


def media_folder(name: str) -> MediaFolder | None:
    """The media folder that holds the upload ``name`` (a path below ``MEDIA_ROOT``), if any."""
    for folder in REGISTRY.index.media:
        if name.startswith(folder.prefix):
            return folder
    return None


def panels(page: str) -> list[Panel]:
    return REGISTRY.index.panels.get(page, [])


def nav(menu: str) -> list[NavEntry]:
    return REGISTRY.index.nav.get(menu, [])


def backoffice_sections() -> list[BackofficeSection]:
    return REGISTRY.index.backoffice_sections


def asgi_mounts() -> dict[str, Callable[[], Any]]:
    """``{prefix: factory}`` of every mounted ASGI application."""
    return {m.prefix: m.factory for m in REGISTRY.index.asgi_mounts}


def demo_loaders() -> list[tuple[str, DemoLoader]]:
    """``(pillar name, loader)`` in loading order."""
    return REGISTRY.index.demo_loaders


def transfer_parts() -> list[TransferPart]:
    """The parts of a measure other cities can take over, in order."""
    return REGISTRY.index.transfer_parts


def background_tasks() -> list[BackgroundTask]:
    """Every registered background task, in order."""
    return REGISTRY.index.tasks


def personal_data() -> list[tuple[str, PersonalData]]:
    return REGISTRY.index.personal_data


def notification_kind(key: str) -> NotificationKind | None:
    return REGISTRY.index.notification_kinds.get(key)


def notification_kinds() -> dict[str, NotificationKind]:
    return REGISTRY.index.notification_kinds


def features() -> dict[str, Feature]:
    return REGISTRY.index.features


def phase_kinds() -> dict[str, PhaseKind]:
    return REGISTRY.index.phase_kinds


def process_kinds() -> dict[str, ProcessKind]:
    return REGISTRY.index.process_kinds


def datasets(city: City) -> list[Dataset]:
    """The open-data datasets of every pillar for ``city`` (identifiers are unique)."""
    found: list[Dataset] = []
    owners: dict[str, str] = {}
    for pillar in pillars():
        if pillar.datasets is None:
            continue
        for dataset in pillar.datasets(city):
            if dataset.identifier in owners:
                raise RegistryError(
                    f"the dataset {dataset.identifier!r} is published by both "
                    f"{owners[dataset.identifier]!r} and {pillar.name!r}"
                )
            owners[dataset.identifier] = pillar.name
            found.append(dataset)
    return found
