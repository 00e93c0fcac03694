"""JSON-LD @context handling for NGSI-LD: resolution, term expansion and compaction.

Only what NGSI-LD needs of JSON-LD: a context is reduced to a term map (term -> IRI), the
``@vocab`` and the prefixes; expansion and compaction are dictionary look-ups cached per context.
The core context is always applied last, so its (protected) terms win.

Resolution order for a context URL: the shipped core context (any ``…/ngsi-ld-core-context*.jsonld``),
contexts hosted by this broker (``/jsonldContexts``), the preload map (URL -> local file), the
in-memory cache of fetched contexts, and finally an HTTP GET through :class:`SafeFetcher` (only from
allow-listed hosts on public addresses, with a total deadline and a size cap).
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from .errors import BadRequestData, InvalidRequest, LdContextNotAvailable
from .fetch import SafeFetcher, unavailable
from .lru import ByteLRU

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
    tenant: str = ""  # of a hosted or implicitly created one


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
        if len(self._cexp) < MEMO_ENTRIES:
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
        if len(self._ccomp) < MEMO_ENTRIES:
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


def _term_iri(
    term: str, definition: Any, defs: dict[str, Any], vocab: str, seen: set[str]
) -> str | None:
    if isinstance(definition, str):
        return _resolve_iri(definition, defs, vocab, seen)
    if isinstance(definition, dict):
        ident = definition.get("@id")
        if isinstance(ident, str):
            return _resolve_iri(ident, defs, vocab, seen)
        if ident is None and "@reverse" not in definition:
            return _resolve_iri(term, defs, vocab, seen)
    return None


#: entries each memo of a built context keeps (expansions, compactions, accepted attribute names)
MEMO_ENTRIES = 512
#: bytes one memo entry is counted with (two short strings and a dict slot)
MEMO_ENTRY_BYTES = 160
#: seconds a worker trusts its copy of a hosted @context: one deleted through another worker is
#: used here at most this long after its deletion
HOSTED_TTL = 5.0
#: seconds a @context URL whose fetch failed is answered 503 without trying again
FAILED_TTL = 10.0

#: ``(tenant, local id) -> StoredContext | None``: the hosted @contexts of the broker's store
HostedLookup = Callable[[str, str], "StoredContext | None"]


def _url_id(url: str) -> str:
    return "urn:ngsi-ld:Context:" + hashlib.sha1(url.encode()).hexdigest()[:20]  # noqa: S324


def local_id(url: str) -> str | None:
    """The local id a context reference names, if it may be one of ours (hosted or implicitly
    created): a ``urn:`` id or the last segment of a ``…/jsonldContexts/<id>`` URL."""
    if "/jsonldContexts/" in url:
        return url.rsplit("/jsonldContexts/", 1)[1]
    if url.startswith("urn:"):
        return url
    return None


def context_size(ctx: Context, key_len: int = 0) -> int:
    """The bytes a built context is counted with: its term maps and its memos at their bound."""
    n = key_len + 1000
    for term, iri in ctx.terms.items():
        n += len(term) + len(iri) + 120
    n += 120 * len(ctx.types)
    return n + 3 * MEMO_ENTRIES * MEMO_ENTRY_BYTES


_FOREVER = float("inf")


class ContextResolver:
    """Loads, caches and builds contexts. Thread-safe (the use cases run in worker threads).

    Memory is bounded by ``cache_bytes``: half for documents (fetched and preloaded ones, inline
    contexts recorded as implicitly created, copies of hosted ones), half for built contexts;
    both are LRU caches (:class:`ByteLRU`). Hosted @contexts live in the store (``hosted``
    looks them up per tenant); without a store they are kept in memory.
    """

    def __init__(
        self,
        *,
        fetch_timeout: float = 5.0,
        preload_dir: str | Path | None = None,
        preload_files: list[str | Path] | None = None,
        use_etsi_preload: bool = True,
        core_url: str = CORE_URL,
        allow_remote: bool = True,
        context_hosts: list[str] | None = None,
        allow_private: bool = False,
        max_bytes: int = 1024 * 1024,
        cache_bytes: int = 64 * 1024 * 1024,
        fetcher: SafeFetcher | None = None,
        hosted: HostedLookup | None = None,
        own_prefix: str = "",
    ):
        self.fetch_timeout = fetch_timeout
        self.core_url = core_url
        self.allow_remote = allow_remote
        self.fetcher = fetcher or SafeFetcher(
            list(context_hosts or ()),
            allow_private=allow_private,
            deadline=fetch_timeout,
            max_bytes=max_bytes,
        )
        self.hosted_lookup = hosted
        #: ``<public URL><base path>/jsonldContexts/``: our own URLs are never fetched
        self.own_prefix = own_prefix
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
        #: documents: ("url", url) -> StoredContext (Cached), ("implicit", tenant, id) ->
        #: StoredContext (ImplicitlyCreated), ("hosted", tenant, id) -> (expires, StoredContext)
        self.docs = ByteLRU(cache_bytes // 2)
        #: URLs whose fetch failed -> until when they are not tried again
        self._failed = ByteLRU(1024 * 1024)
        #: built contexts: key or (tenant, key) -> (Context, expires)
        self.contexts = ByteLRU(cache_bytes - cache_bytes // 2)
        self.core_entry = StoredContext(
            id=_url_id(core_url), url=core_url, kind="Cached", doc=self.core_doc, origin="Shipped"
        )
        self.core = self._build(None, "", [])

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
    def load_document(
        self, url: str, tenant: str = "", deps: list[StoredContext] | None = None
    ) -> Any:
        """The JSON document behind a context URL (``{"@context": ...}``); a hosted one is
        appended to ``deps``."""
        if is_core_url(url):
            return self.core_doc
        sc = self.docs.get(("url", url))
        if sc is not None:
            return sc.doc
        cid = local_id(url)
        if cid is not None:
            # a context hosted or implicitly created here, however the client spelt our origin
            sc = self.find_local(tenant, cid)
            if sc is not None:
                if deps is not None and sc.kind == "Hosted":
                    deps.append(sc)
                return sc.doc
            if url.startswith("urn:") or (self.own_prefix and url.startswith(self.own_prefix)):
                raise unavailable(url)  # never fetch from ourselves
        p = self.preload.get(url)
        if p is not None:
            doc = self._read_preloaded(url, p)
            self._remember(url, doc, "Cached", "Preloaded")
            return doc
        if not url.startswith(("http://", "https://")):
            raise BadRequestData(f"@context reference is not a valid URL: {url}")
        if not self.allow_remote:
            log.debug("@context %s not fetched: remote fetching is off", url)
            raise unavailable(url)
        doc = self._fetch(url)
        self._remember(url, doc, "Cached", "Downloaded")
        return doc

    def _read_preloaded(self, url: str, path: Path) -> Any:
        try:
            doc = _load_json_file(path)
        except (OSError, orjson.JSONDecodeError) as e:
            log.warning("preloaded @context %s (%s) unreadable: %s", url, path, e)
            raise unavailable(url) from None
        return doc

    def _fetch(self, url: str, *, retry: bool = False) -> Any:
        """Fetch and check a document; a URL that failed is not tried again for
        ``FAILED_TTL`` seconds (unless ``retry``), so requests naming a dead context server
        do not each hold a thread for the whole deadline."""
        until = self._failed.peek(url)
        if until is not None and until > time.monotonic() and not retry:
            raise unavailable(url)
        try:
            body = self.fetcher.fetch(url)  # raises LdContextNotAvailable with the one text
            try:
                doc = orjson.loads(body)
            except orjson.JSONDecodeError:
                log.debug("@context %s is not JSON", url)
                raise unavailable(url) from None
            if not isinstance(doc, dict) or "@context" not in doc:
                log.debug("@context %s has no @context member", url)
                raise unavailable(url)
        except LdContextNotAvailable:
            self._failed.put(url, time.monotonic() + FAILED_TTL, len(url) + 100)
            raise
        self._failed.pop(url)
        return doc

    def _remember(self, url: str, doc: Any, kind: str, origin: str) -> StoredContext:
        key = ("url", url)
        sc: StoredContext | None = self.docs.get(key)
        if sc is None:
            sc = StoredContext(id=_url_id(url), url=url, kind=kind, doc=doc, origin=origin)
            self.docs.put(key, sc, len(orjson.dumps(doc)) + len(url) + 200)
        return sc

    def cached(self) -> list[StoredContext]:
        """The fetched and preloaded documents held now (the core context first)."""
        out = [self.core_entry]
        out += [v for k, v in self.docs.items() if k[0] == "url" and v.url != self.core_url]
        return out

    def implicit_of(self, tenant: str) -> list[StoredContext]:
        return [v for k, v in self.docs.items() if k[0] == "implicit" and k[1] == tenant]

    def find_cached(self, ref: str) -> StoredContext | None:
        """A fetched or preloaded document by URL or local id."""
        sc: StoredContext | None = self.docs.peek(("url", ref))
        if sc is not None:
            return sc
        for k, v in self.docs.items():
            if k[0] == "url" and v.id == ref:
                return v  # type: ignore[no-any-return]
        return None

    def find_local(self, tenant: str, cid: str, *, fresh: bool = False) -> StoredContext | None:
        """An implicitly created or hosted @context of the tenant by its local id (``fresh``:
        a hosted one from the store, not from this worker's copy)."""
        sc: StoredContext | None = self.docs.get(("implicit", tenant, cid))
        if sc is not None:
            return sc
        return self.hosted(tenant, cid, fresh=fresh)

    def hosted(self, tenant: str, cid: str, *, fresh: bool = False) -> StoredContext | None:
        """A hosted @context of the tenant: this worker's copy for ``HOSTED_TTL`` seconds, then
        (and with ``fresh`` always) looked up in the store again."""
        key = ("hosted", tenant, cid)
        hit = self.docs.get(key)
        now = time.monotonic()
        if hit is not None and ((hit[0] > now and not fresh) or self.hosted_lookup is None):
            return hit[1]  # type: ignore[no-any-return]
        if self.hosted_lookup is None:
            return None
        sc = self.hosted_lookup(tenant, cid)
        if sc is None:
            if hit is not None:
                self._drop_hosted(tenant, cid)
            return None
        if hit is not None:
            sc.uses, sc.last_used = hit[1].uses, hit[1].last_used
        self.docs.put(key, (now + HOSTED_TTL, sc), len(orjson.dumps(sc.doc)) + 200)
        return sc

    def host(self, doc: Any, base_url: str, cid: str, tenant: str = "") -> StoredContext:
        """Keep a hosted context (posted to /jsonldContexts) in this worker: its copy of a
        stored one (``hosted`` is set), else the only copy."""
        url = base_url.rstrip("/") + "/" + cid
        sc = StoredContext(
            id=cid, url=url, kind="Hosted", doc=doc, origin="UserCreated", tenant=tenant
        )
        expires = _FOREVER if self.hosted_lookup is None else time.monotonic() + HOSTED_TTL
        self.docs.put(("hosted", tenant, cid), (expires, sc), len(orjson.dumps(doc)) + 200)
        return sc

    def implicit(self, raw: Any, base_url: str, tenant: str = "") -> StoredContext:
        """Record an inline context used in a request (kind ImplicitlyCreated)."""
        key = orjson.dumps(raw, option=orjson.OPT_SORT_KEYS)
        cid = "urn:ngsi-ld:Context:" + hashlib.sha1(key).hexdigest()[:20]  # noqa: S324
        k = ("implicit", tenant, cid)
        sc: StoredContext | None = self.docs.get(k)
        if sc is None:
            url = base_url.rstrip("/") + "/" + cid
            sc = StoredContext(
                id=cid,
                url=url,
                kind="ImplicitlyCreated",
                doc={"@context": raw},
                origin="",
                tenant=tenant,
            )
            self.docs.put(k, sc, 2 * len(key) + len(url) + 200)
        return sc

    def _drop_hosted(self, tenant: str, cid: str) -> None:
        self.docs.pop(("hosted", tenant, cid))
        # built contexts that used a hosted document are keyed (tenant, key)
        self.contexts.discard_if(lambda k, v: isinstance(k, tuple) and k[0] == tenant)

    def forget(self, sc: StoredContext) -> None:
        if sc.kind == "Hosted":
            self._drop_hosted(sc.tenant, sc.id)
        elif sc.kind == "ImplicitlyCreated":
            self.docs.pop(("implicit", sc.tenant, sc.id))
        else:
            self.docs.pop(("url", sc.url))
            self.contexts.clear()

    def reload(self, sc: StoredContext) -> None:
        """Read a cached context again: from its preload file, else from its URL."""
        p = self.preload.get(sc.url)
        if p is not None:
            doc = self._read_preloaded(sc.url, p)
        elif not self.allow_remote:
            raise unavailable(sc.url)
        else:
            doc = self._fetch(sc.url, retry=True)
        sc.doc = doc
        sc.created_at = time.time()
        self.docs.put(("url", sc.url), sc, len(orjson.dumps(doc)) + len(sc.url) + 200)
        self.contexts.clear()

    # -- contexts -----------------------------------------------------------------------------
    def get(self, raw: Any, tenant: str = "") -> Context:
        """The active context for a request's @context (None = core only) in a tenant (whose
        hosted @contexts it may name)."""
        if raw is None:
            return self.core
        key = raw if isinstance(raw, str) else orjson.dumps(raw)
        now = time.monotonic()
        hit = self.contexts.get((tenant, key))
        if hit is None or hit[1] <= now:
            hit = self.contexts.get(key)
        if hit is not None and hit[1] > now:
            ctx: Context = hit[0]
        else:
            deps: list[StoredContext] = []
            ctx = self._build(raw, tenant, deps)
            size = context_size(ctx, len(key))
            if deps:  # uses hosted documents: per tenant, and only as long as they are trusted
                self.contexts.put((tenant, key), (ctx, now + HOSTED_TTL), size)
            else:
                self.contexts.put(key, (ctx, _FOREVER), size)
        self._hit(raw, tenant)
        return ctx

    def _hit(self, raw: Any, tenant: str) -> None:
        for u in raw if isinstance(raw, list) else (raw,):
            if isinstance(u, str) and not is_core_url(u):
                sc = self.docs.peek(("url", u))
                if sc is None:
                    cid = local_id(u)
                    if cid is not None:
                        sc = self.docs.peek(("implicit", tenant, cid))
                        if sc is None:
                            h = self.docs.peek(("hosted", tenant, cid))
                            sc = h[1] if h is not None else None
                if sc is not None:
                    sc.uses += 1
                    sc.last_used = time.time()

    def _build(self, raw: Any, tenant: str, deps: list[StoredContext]) -> Context:
        defs: dict[str, Any] = {}
        vocab: list[str | None] = [None]
        self._collect(raw, defs, vocab, 0, tenant, deps)
        core_defs: dict[str, Any] = {}
        core_vocab: list[str | None] = [None]
        self._collect(self.core_doc["@context"], core_defs, core_vocab, 0, "", deps)
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

    def _collect(
        self,
        item: Any,
        defs: dict[str, Any],
        vocab: list[str | None],
        depth: int,
        tenant: str,
        deps: list[StoredContext],
    ) -> None:
        if depth > 16:
            raise BadRequestData("@context nesting too deep")
        if item is None:
            return
        if isinstance(item, str):
            if is_core_url(item):
                return  # core is applied last anyway
            doc = self.load_document(item, tenant, deps)
            inner = doc.get("@context") if isinstance(doc, dict) else None
            self._collect(inner, defs, vocab, depth + 1, tenant, deps)
        elif isinstance(item, list):
            for it in item:
                self._collect(it, defs, vocab, depth + 1, tenant, deps)
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
