"""JSON-LD @context handling for NGSI-LD: resolution, term expansion and compaction.

Only what NGSI-LD needs of JSON-LD: a context is reduced to a term map (term -> IRI), the
``@vocab`` and the prefixes; expansion and compaction are dictionary look-ups cached per context.
The core context is always applied last, so its (protected) terms win.

Resolution order for a context URL: the shipped core context (any ``…/ngsi-ld-core-context*.jsonld``),
contexts hosted by this broker (``/jsonldContexts``), the preload map (URL -> local file), the
in-memory cache of fetched contexts, and finally an HTTP GET with a short timeout.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import re
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from .errors import BadRequestData, InvalidRequest, LdContextNotAvailable

log = logging.getLogger(__name__)

CONTEXTS_DIR = Path(__file__).parent / "contexts"
CORE_FILE = CONTEXTS_DIR / "ngsi-ld-core-context-v1.9.jsonld"
CORE_URL = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.9.jsonld"
NGSI_LD = "https://uri.etsi.org/ngsi-ld/"
DEFAULT_VOCAB = "https://uri.etsi.org/ngsi-ld/default-context/"
ETSI_PRELOAD_FILE = CONTEXTS_DIR / "etsi-test-suite-preload.json"
LINK_REL = "http://www.w3.org/ns/json-ld#context"

_CORE_URL_RE = re.compile(r"^https?://.*/ngsi-ld-core-context(-v[0-9.]+)?\.jsonld$")
_LINK_RE = re.compile(r"<([^>]*)>([^,]*)")
_GEN_DELIMS = ("/", "#", ":", "?", "[", "]", "@")


def is_core_url(url: str) -> bool:
    return bool(_CORE_URL_RE.match(url))


def _load_json_file(path: Path) -> Any:
    return orjson.loads(path.read_bytes())


@dataclass
class StoredContext:
    """A context document known to the broker (for the /jsonldContexts API)."""

    id: str  # local identifier (hash for cached/implicit ones, uuid-like for hosted ones)
    url: str
    kind: str  # Hosted | Cached | ImplicitlyCreated
    doc: Any  # the whole JSON document ({"@context": ...})
    created_at: float = field(default_factory=time.time)
    last_used: float = field(default_factory=time.time)
    uses: int = 0
    origin: str = ""  # Downloaded | UserCreated | ...


class Context:
    """An active context: term map, vocab and caches for expansion and compaction."""

    __slots__ = (
        "_ccomp",
        "_cexp",
        "attr_iris",
        "inverse",
        "keywords",
        "prefixes",
        "raw",
        "serial",
        "terms",
        "types",
        "vocab",
    )
    _serials = itertools.count(1)

    def __init__(
        self,
        raw: Any,
        terms: dict[str, str],
        types: dict[str, str],
        vocab: str,
        keywords: frozenset[str] = frozenset(),
    ):
        self.raw = raw
        self.serial = next(Context._serials)  # unique per built context (cache keys)
        self.keywords = keywords  # terms that alias JSON-LD keywords (id, type, ...)  # what the request gave: None (core only), a URL, a list or an object
        self.terms = terms
        self.types = types  # term -> @type coercion ("@id", "@vocab", "@json", ...)
        self.vocab = vocab
        inverse: dict[str, str] = {}
        for term, iri in terms.items():
            # first definition wins for equal length; prefer the shortest term
            cur = inverse.get(iri)
            if cur is None or len(term) < len(cur):
                inverse[iri] = term
        self.inverse = inverse
        self.prefixes = sorted(
            ((t, i) for t, i in terms.items() if i.endswith(_GEN_DELIMS) and ":" not in t),
            key=lambda ti: -len(ti[1]),
        )
        self._cexp: dict[str, str] = {}
        self._ccomp: dict[str, str] = {}
        #: attribute names accepted by ``model.parse_attrs`` -> IRI (a parsing cache)
        self.attr_iris: dict[str, str] = {}

    def expand(self, term: str) -> str:
        try:
            return self._cexp[term]
        except KeyError:
            pass
        iri = self.terms.get(term)
        if iri is None:
            if ":" in term:
                prefix, _, suffix = term.partition(":")
                base = self.terms.get(prefix)
                iri = base + suffix if base is not None and not suffix.startswith("//") else term
            else:
                iri = self.vocab + term
        if len(self._cexp) < 100_000:
            self._cexp[term] = iri
        return iri

    def compact(self, iri: str) -> str:
        try:
            return self._ccomp[iri]
        except KeyError:
            pass
        term = self.inverse.get(iri)
        if term is None:
            term = iri
            if iri.startswith(self.vocab):
                rest = iri[len(self.vocab) :]
                if rest and ":" not in rest and rest not in self.terms:
                    term = rest
            if term is iri:
                for prefix, base in self.prefixes:
                    if iri.startswith(base) and len(iri) > len(base):
                        term = prefix + ":" + iri[len(base) :]
                        break
        if len(self._ccomp) < 100_000:
            self._ccomp[iri] = term
        return term

    def type_coercion(self, term: str) -> str | None:
        return self.types.get(term)

    @property
    def is_core(self) -> bool:
        return self.raw is None

    def link_url(self, core_url: str) -> str | None:
        """The URL to announce in a Link header, when the context is one URL (or core)."""
        if self.raw is None:
            return core_url
        if isinstance(self.raw, str):
            return self.raw
        return None


def _resolve_iri(value: str, defs: dict[str, Any], vocab: str, seen: set[str]) -> str:
    if value.startswith("@"):
        return value
    if ":" in value:
        prefix, _, suffix = value.partition(":")
        if suffix.startswith("//") or prefix in ("urn", "http", "https"):
            return value
        pdef = defs.get(prefix)
        if pdef is not None and prefix not in seen:
            base = _term_iri(prefix, pdef, defs, vocab, seen | {prefix})
            if base is not None and not base.startswith("@"):
                return base + suffix
        return value
    return vocab + value


def _term_iri(term: str, definition: Any, defs: dict, vocab: str, seen: set[str]) -> str | None:
    if isinstance(definition, str):
        return _resolve_iri(definition, defs, vocab, seen)
    if isinstance(definition, dict):
        ident = definition.get("@id")
        if isinstance(ident, str):
            return _resolve_iri(ident, defs, vocab, seen)
        if ident is None and "@reverse" not in definition:
            return _resolve_iri(term, defs, vocab, seen)
    return None


class ContextResolver:
    """Loads, caches and builds contexts. Thread-safe enough for a worker's event loop + threads."""

    def __init__(
        self,
        *,
        fetch_timeout: float = 5.0,
        preload_dir: str | Path | None = None,
        preload_files: list[str | Path] | None = None,
        use_etsi_preload: bool = True,
        core_url: str = CORE_URL,
        allow_remote: bool = True,
        max_cached: int = 1000,
    ):
        self.fetch_timeout = fetch_timeout
        self.core_url = core_url
        self.allow_remote = allow_remote
        self.max_cached = max_cached
        self._lock = threading.RLock()
        self.core_doc = _load_json_file(CORE_FILE)
        self.preload: dict[str, Path] = {}
        files: list[Path] = [Path(p) for p in (preload_files or [])]
        if use_etsi_preload and ETSI_PRELOAD_FILE.exists():
            files.insert(0, ETSI_PRELOAD_FILE)
        if preload_dir:
            d = Path(preload_dir)
            if d.is_dir():
                files.extend(sorted(d.glob("*.json")))
        for f in files:
            self._read_preload(f)
        self.stored: dict[str, StoredContext] = {}  # by id
        self.by_url: dict[str, StoredContext] = {}
        self._contexts: dict[Any, Context] = {}
        self.core = self._build(None)

    # -- preload ------------------------------------------------------------------------------
    def _read_preload(self, path: Path) -> None:
        """A preload map: JSON object ``{url: file}`` (file relative to the map's folder).

        Also accepted: ``{"contexts": {url: file}}`` and a list of ``{"url":…, "file":…}``.
        A ``*.json`` file in the preload folder that is not such a map is ignored.
        """
        try:
            data = _load_json_file(path)
        except (OSError, orjson.JSONDecodeError):
            log.warning("cannot read preload map %s", path)
            return
        if isinstance(data, dict) and isinstance(data.get("contexts"), (dict, list)):
            data = data["contexts"]
        items: list[tuple[str, str]] = []
        if isinstance(data, dict):
            if "@context" in data:
                return
            items = [(k, v) for k, v in data.items() if isinstance(v, str)]
        elif isinstance(data, list):
            for it in data:
                if isinstance(it, dict) and isinstance(it.get("url"), str):
                    f = it.get("file") or it.get("path")
                    if isinstance(f, str):
                        items.append((it["url"], f))
        for url, f in items:
            p = Path(f)
            if not p.is_absolute():
                p = path.parent / p
            self.preload[url] = p

    # -- documents ----------------------------------------------------------------------------
    def load_document(self, url: str) -> Any:
        """The JSON document behind a context URL (``{"@context": ...}``)."""
        if is_core_url(url):
            return self.core_doc
        sc = self.by_url.get(url)
        if sc is not None:
            return sc.doc
        if "/jsonldContexts/" in url:
            # a context hosted here, however the client spelt our origin or path
            sc = self.stored.get(url.rsplit("/jsonldContexts/", 1)[1])
            if sc is not None:
                return sc.doc
        p = self.preload.get(url)
        if p is not None:
            try:
                doc = _load_json_file(p)
            except (OSError, orjson.JSONDecodeError) as e:
                raise LdContextNotAvailable(f"preloaded @context {url} unreadable: {e}") from None
            self._remember(url, doc, "Cached", "Preloaded")
            return doc
        if url.startswith("urn:"):
            # an id of a hosted context
            raise LdContextNotAvailable(f"@context {url} not found")
        if not url.startswith(("http://", "https://")):
            raise BadRequestData(f"@context reference is not a valid URL: {url}")
        if not self.allow_remote:
            raise LdContextNotAvailable(f"@context {url} not available (remote fetching disabled)")
        doc = self._fetch(url)
        self._remember(url, doc, "Cached", "Downloaded")
        return doc

    def _fetch(self, url: str) -> Any:
        req = urllib.request.Request(  # noqa: S310 - http(s) only, checked by the caller
            url, headers={"Accept": "application/ld+json, application/json;q=0.9"}
        )
        try:
            with urllib.request.urlopen(req, timeout=self.fetch_timeout) as resp:  # noqa: S310
                body = resp.read(4 * 1024 * 1024 + 1)
        except Exception as e:
            raise LdContextNotAvailable(f"cannot fetch @context {url}: {e}") from None
        try:
            doc = orjson.loads(body)
        except orjson.JSONDecodeError:
            raise LdContextNotAvailable(f"@context {url} is not JSON") from None
        if not isinstance(doc, dict) or "@context" not in doc:
            raise LdContextNotAvailable(f"@context {url} has no @context member")
        return doc

    def _remember(self, url: str, doc: Any, kind: str, origin: str) -> StoredContext:
        with self._lock:
            sc = self.by_url.get(url)
            if sc is None:
                cid = "urn:ngsi-ld:Context:" + hashlib.sha1(url.encode()).hexdigest()[:20]  # noqa: S324
                sc = StoredContext(id=cid, url=url, kind=kind, doc=doc, origin=origin)
                self.stored[cid] = sc
                self.by_url[url] = sc
            return sc

    def host(self, doc: Any, base_url: str, cid: str) -> StoredContext:
        """Host a context document posted to /jsonldContexts."""
        url = base_url.rstrip("/") + "/" + cid
        sc = StoredContext(id=cid, url=url, kind="Hosted", doc=doc, origin="UserCreated")
        with self._lock:
            self.stored[cid] = sc
            self.by_url[url] = sc
            self.by_url[cid] = sc
        return sc

    def implicit(self, raw: Any, base_url: str) -> StoredContext:
        """Record an inline context used in a request (kind ImplicitlyCreated)."""
        key = orjson.dumps(raw, option=orjson.OPT_SORT_KEYS)
        cid = "urn:ngsi-ld:Context:" + hashlib.sha1(key).hexdigest()[:20]  # noqa: S324
        with self._lock:
            sc = self.stored.get(cid)
            if sc is None:
                url = base_url.rstrip("/") + "/" + cid
                sc = StoredContext(
                    id=cid, url=url, kind="ImplicitlyCreated", doc={"@context": raw}, origin=""
                )
                self.stored[cid] = sc
                self.by_url[url] = sc
        return sc

    def forget(self, sc: StoredContext) -> None:
        with self._lock:
            self.stored.pop(sc.id, None)
            for k in [k for k, v in self.by_url.items() if v is sc]:
                del self.by_url[k]
            self._contexts.clear()

    def reload(self, sc: StoredContext) -> None:
        doc = self._fetch(sc.url)
        with self._lock:
            sc.doc = doc
            sc.created_at = time.time()
            self._contexts.clear()

    # -- contexts -----------------------------------------------------------------------------
    def get(self, raw: Any) -> Context:
        """The active context for a request's @context (None = core only)."""
        if raw is None:
            return self.core
        key = raw if isinstance(raw, str) else orjson.dumps(raw)
        ctx = self._contexts.get(key)
        if ctx is None:
            ctx = self._build(raw)
            with self._lock:
                if len(self._contexts) > self.max_cached:
                    self._contexts.clear()
                self._contexts[key] = ctx
        if self.by_url:
            self._hit(raw)
        return ctx

    def _hit(self, raw: Any) -> None:
        for u in raw if isinstance(raw, list) else (raw,):
            if isinstance(u, str):
                sc = self.by_url.get(u)
                if sc is not None:
                    sc.uses += 1
                    sc.last_used = time.time()

    def _build(self, raw: Any) -> Context:
        defs: dict[str, Any] = {}
        vocab: list[str | None] = [None]
        self._collect(raw, defs, vocab, 0)
        core_defs: dict[str, Any] = {}
        core_vocab: list[str | None] = [None]
        self._collect(self.core_doc["@context"], core_defs, core_vocab, 0)
        user_vocab = vocab[0]
        defs.update(core_defs)
        voc = user_vocab or core_vocab[0] or DEFAULT_VOCAB
        terms: dict[str, str] = {}
        types: dict[str, str] = {}
        keywords: set[str] = set()
        for term, d in defs.items():
            if term.startswith("@"):
                continue
            iri = _term_iri(term, d, defs, voc, {term})
            if iri is None:
                continue
            if iri.startswith("@"):
                keywords.add(term)
                continue
            terms[term] = iri
            if isinstance(d, dict) and isinstance(d.get("@type"), str):
                types[term] = d["@type"]
        return Context(raw, terms, types, voc, frozenset(keywords))

    def _collect(self, item: Any, defs: dict, vocab: list, depth: int) -> None:
        if depth > 16:
            raise BadRequestData("@context nesting too deep")
        if item is None:
            return
        if isinstance(item, str):
            if is_core_url(item):
                return  # core is applied last anyway
            doc = self.load_document(item)
            inner = doc.get("@context") if isinstance(doc, dict) else None
            self._collect(inner, defs, vocab, depth + 1)
        elif isinstance(item, list):
            for it in item:
                self._collect(it, defs, vocab, depth + 1)
        elif isinstance(item, dict):
            for k, v in item.items():
                if k == "@vocab":
                    if isinstance(v, str):
                        vocab[0] = v
                elif k.startswith("@"):
                    continue
                elif v is None:
                    defs.pop(k, None)
                else:
                    defs[k] = v
        else:
            raise BadRequestData("@context must be a URL, an object or an array of them")


def parse_link_header(value: str) -> str | None:
    """The JSON-LD context URL of a ``Link`` header, or None; several context links are a 400."""
    found: list[str] = []
    for m in _LINK_RE.finditer(value):
        params = m.group(2)
        if "rel" in params and LINK_REL in params:
            found.append(m.group(1).strip())
    if len(found) > 1:
        raise BadRequestData("more than one JSON-LD @context Link header")
    if not found:
        if value.strip() and "<" not in value:
            raise BadRequestData("invalid Link header")
        return None
    url = found[0]
    if not url or not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:\S+$", url):
        raise BadRequestData(f"invalid @context URL in Link header: {url!r}")
    return url


def link_header(url: str) -> bytes:
    return f'<{url}>; rel="{LINK_REL}"; type="application/ld+json"'.encode()


def check_context_value(raw: Any) -> None:
    """Validate the shape of a body ``@context`` (URL, object or array of them)."""
    if isinstance(raw, str):
        if not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:\S+$", raw):
            raise BadRequestData(f"invalid @context URL: {raw!r}")
        return
    if isinstance(raw, dict):
        return
    if isinstance(raw, list):
        for it in raw:
            if isinstance(it, list):
                raise BadRequestData("@context arrays cannot be nested")
            check_context_value(it)
        return
    raise InvalidRequest("@context must be a URL, an object or an array")
