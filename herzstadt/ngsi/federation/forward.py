"""Forwarding requests to the context sources of matching registrations (ETSI GS CIM 009 4.3.6).

Which registrations take part depends on their ``mode``:

* ``inclusive`` (the default) — the source holds data besides this broker's: queries and
  retrievals ask it and merge its answer with the local data; writes are done here and sent
  there too;
* ``exclusive`` — the source alone holds the registered attributes of the registered entities:
  a retrieval asks it for those and the local copies of them are not used; a write sends those
  attributes there and does the rest here;
* ``redirect`` — the broker only redirects: the request goes to the source(s), nothing of the
  registered data is read or written here;
* ``auxiliary`` — a fallback: read only (never written to), and its attributes are used only
  where neither this broker nor another source has them.

``local=true`` turns all of it off. Loop detection: every forwarded request carries a ``Via``
header with the incoming request's entries plus this broker's (``1.1 <host:port of the public
URL>``); a request whose ``Via`` already names this broker is refused with 508 LoopDetected,
and no request goes to an endpoint that is already in ``Via``.

A source that fails (refused by the allow-list, down, slow, an error status, an answer that is
not NGSI-LD) never fails the whole request: reads return what the others gave, writes report
the failure per source (207). Forwarding runs in the request's worker thread and fans out in a
bounded pool; the deadline of each source is ``csource_timeout``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import orjson

from ..errors import NgsiError
from .client import Answer, SourceClient, SourceFailed

log = logging.getLogger(__name__)

INCLUSIVE, EXCLUSIVE, REDIRECT, AUXILIARY = "inclusive", "exclusive", "redirect", "auxiliary"
#: headers a registration's contextSourceInfo may not set (the broker sets or forbids them)
_RESERVED_HEADERS = frozenset(
    {
        "host",
        "content-length",
        "content-type",
        "transfer-encoding",
        "connection",
        "via",
        "accept-encoding",
        "upgrade",
        "te",
        "trailer",
        "keep-alive",
        "proxy-authorization",
        "expect",
    }
)


class LoopDetected(NgsiError):
    name, status, title = "LoopDetected", 508, "Loop detected"


# ------------------------------------------------------------------------------- registrations
@dataclass(slots=True)
class Source:
    """What forwarding needs of one matching registration (adapted from the registry's type)."""

    id: str
    endpoint: str
    mode: str = INCLUSIVE
    #: RegistrationInfo, expanded: entities [{id|idPattern, type: [iri]}], propertyNames,
    #: relationshipNames ([iri])
    information: list[dict[str, Any]] = field(default_factory=list)
    headers: list[tuple[str, str]] = field(default_factory=list)  # contextSourceInfo
    tenant: str | None = None

    def entity_ids(self) -> list[str] | None:
        """The ids the registration names, when every entity selector names one (else None)."""
        ids: list[str] = []
        for info in self.information or [{}]:
            ents = info.get("entities") or []
            if not ents:
                return None
            for e in ents:
                if not isinstance(e, dict) or not e.get("id"):
                    return None
                if e["id"] not in ids:
                    ids.append(e["id"])
        return ids

    def types(self) -> list[str]:
        out: list[str] = []
        for info in self.information:
            for e in info.get("entities") or []:
                t = e.get("type") if isinstance(e, dict) else None
                for x in [t] if isinstance(t, str) else t or []:
                    if x not in out:
                        out.append(x)
        return out

    def attr_names(self) -> set[str] | None:
        """The registered attribute IRIs; None: a RegistrationInfo without names (any attr)."""
        names: set[str] = set()
        for info in self.information or [{}]:
            p = info.get("propertyNames") or []
            r = info.get("relationshipNames") or []
            if not p and not r:
                return None
            names.update(p)
            names.update(r)
        return names

    def covers(self, iri: str) -> bool:
        names = self.attr_names()
        return names is None or iri in names


def _adapt(reg: Any) -> Source | None:
    """A registry object (attributes or a dict) as a :class:`Source`."""

    def get(name: str, *alts: str) -> Any:
        for n in (name, *alts):
            if isinstance(reg, dict) and n in reg:
                return reg[n]
            if hasattr(reg, n):
                return getattr(reg, n)
        return None

    endpoint = get("endpoint")
    if not isinstance(endpoint, str) or not endpoint:
        return None
    info = [i.to_json() if hasattr(i, "to_json") else i for i in get("information") or ()]
    csi = get("context_source_info", "contextSourceInfo") or []
    headers: list[tuple[str, str]] = []
    for kv in csi if isinstance(csi, (list, tuple)) else []:
        if isinstance(kv, dict) and isinstance(kv.get("key"), str):
            k, v = kv["key"], kv.get("value")
            if isinstance(v, str) and k.lower() not in _RESERVED_HEADERS:
                headers.append((k, v))
        elif isinstance(kv, tuple) and len(kv) == 2:
            headers.append((str(kv[0]), str(kv[1])))
    return Source(
        id=str(get("id") or ""),
        endpoint=endpoint,
        mode=str(get("mode") or INCLUSIVE),
        information=[i for i in info if isinstance(i, dict)],
        headers=headers,
        tenant=get("remote_tenant"),
    )


Lookup = Callable[..., list[Any]]


def _default_lookup() -> Lookup | None:
    from ..csource import matching_registrations

    return matching_registrations


# ---------------------------------------------------------------------------------- the engine
class Forwarder:
    """Per broker: the client, the pool, the registration look-up and this broker's Via name."""

    def __init__(
        self,
        *,
        hosts: list[str],
        allow_private: bool,
        timeout: float,
        max_bytes: int,
        pool_size: int,
        self_name: str,
        base_path: str,
        lookup: Lookup | None = None,
    ):
        self.client = SourceClient(
            hosts, allow_private=allow_private, deadline=timeout, max_bytes=max_bytes
        )
        self.enabled = bool(hosts)
        self.pool = ThreadPoolExecutor(max_workers=max(1, pool_size), thread_name_prefix="csrc")
        self.self_name = self_name
        self.base_path = base_path
        self.lookup = lookup if lookup is not None else _default_lookup()

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)

    # -- loop detection -----------------------------------------------------------------------
    def via_names(self, via: str) -> list[str]:
        """The received-by names of a Via header (``1.1 a.example:80, 1.1 b`` -> [a…, b])."""
        out: list[str] = []
        for part in via.split(","):
            bits = part.strip().split()
            if len(bits) >= 2:
                out.append(bits[1].lower())
            elif bits:
                out.append(bits[0].lower())
        return out

    def check_loop(self, via: str) -> None:
        if via and self.self_name.lower() in self.via_names(via):
            raise LoopDetected(f"the request has already passed this broker (Via: {via})")

    def via_header(self, via: str) -> str:
        own = "1.1 " + self.self_name
        return f"{via}, {own}" if via else own

    # -- registrations ------------------------------------------------------------------------
    def sources(
        self,
        broker: Any,
        req: Any,
        operation: str,
        *,
        entity_id: str | None = None,
        types: list[str] | None = None,
        attrs: list[str] | None = None,
        modes: Iterable[str] | None = None,
    ) -> list[Source]:
        if not self.enabled or self.lookup is None:
            return []
        try:
            regs = self.lookup(
                broker.store,
                req.tenant,
                operation=operation,
                entity_ids=[entity_id] if entity_id is not None else None,
                types=types,
                attrs=attrs,
                modes=modes,
            )
        except NgsiError:
            raise
        except Exception:  # the registry must never break a local request
            log.exception("registration look-up failed")
            return []
        seen = set(self.via_names(getattr(req, "via", "") or ""))
        out: list[Source] = []
        for r in regs:
            s = _adapt(r)
            if s is None:
                continue
            if (urlsplit(s.endpoint).netloc or "").lower() in seen:
                continue  # the request has come through that broker already
            if s.mode == EXCLUSIVE and s.attr_names() is None:
                continue  # exclusive registrations name the attributes they hold; without: unused
            out.append(s)
        return out

    def registrations(self, broker: Any, req: Any, operation: str) -> list[tuple[Any, Source]]:
        """Every registration of the tenant offering ``operation`` (with its Source), for
        per-entity matching of batches (``raw.matches(types, ids, None, attrs)``)."""
        if not self.enabled or self.lookup is None:
            return []
        try:
            regs = self.lookup(broker.store, req.tenant, operation=operation)
        except Exception:
            log.exception("registration look-up failed")
            return []
        seen = set(self.via_names(getattr(req, "via", "") or ""))
        out: list[tuple[Any, Source]] = []
        for r in regs:
            s = _adapt(r)
            if s is None or not hasattr(r, "matches"):
                continue
            if (urlsplit(s.endpoint).netloc or "").lower() in seen:
                continue
            if s.mode == EXCLUSIVE and s.attr_names() is None:
                continue
            out.append((r, s))
        return out

    # -- HTTP ---------------------------------------------------------------------------------
    def url(self, src: Source, path: str, query: dict[str, str] | None = None) -> str:
        u = src.endpoint.rstrip("/") + self.base_path + path
        if query:
            u += "?" + urlencode(query, safe=",:;*()'!$@")
        return u

    def headers(self, src: Source, req: Any, *, body: Any = None) -> list[tuple[str, str]]:
        h: list[tuple[str, str]] = [("Accept", "application/json")]
        ctx_url = req.raw_context if isinstance(req.raw_context, str) else None
        if body is not None:
            has_ctx = (isinstance(body, dict) and "@context" in body) or (
                isinstance(body, list)
                and any(isinstance(e, dict) and "@context" in e for e in body)
            )
            h.append(("Content-Type", "application/ld+json" if has_ctx else "application/json"))
            if ctx_url and not has_ctx:
                h.append(("Link", _link(ctx_url)))
        elif ctx_url:
            h.append(("Link", _link(ctx_url)))
        h.append(("Via", self.via_header(getattr(req, "via", "") or "")))
        tenant = src.tenant
        if tenant:
            h.append(("NGSILD-Tenant", tenant))
        h.extend(src.headers)
        return h

    def send(
        self,
        src: Source,
        req: Any,
        method: str,
        path: str,
        query: dict[str, str] | None = None,
        body: Any = None,
    ) -> Answer:
        data = orjson.dumps(body) if body is not None else None
        return self.client.request(
            method, self.url(src, path, query), self.headers(src, req, body=body), data
        )

    def fan_out(
        self, calls: list[tuple[Source, Callable[[], Answer]]]
    ) -> list[tuple[Source, Answer | None]]:
        """Run the calls in the pool; a failed one gives None (logged by the client)."""
        if not calls:
            return []
        futs = [(src, self.pool.submit(fn)) for src, fn in calls]
        out: list[tuple[Source, Answer | None]] = []
        for src, f in futs:
            try:
                out.append((src, f.result(timeout=self.client.deadline + 5)))
            except SourceFailed:
                out.append((src, None))
            except Exception:
                log.exception("forwarding to %s failed", src.endpoint)
                out.append((src, None))
        return out


def _link(url: str) -> str:
    return f'<{url}>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"'


def entity_path(eid: str, *rest: str) -> str:
    p = "/entities/" + quote(eid, safe=":")
    for r in rest:
        p += "/" + quote(r, safe=":")
    return p


def answer_json(ans: Answer | None) -> Any:
    if ans is None or not ans.body:
        return None
    try:
        return orjson.loads(ans.body)
    except orjson.JSONDecodeError:
        return None


def problem_of(src: Source, ans: Answer | None, eid: str | None = None) -> dict[str, Any]:
    """An error entry of a 207 answer for one source's failure."""
    data = answer_json(ans)
    status = ans.status if ans is not None else 504
    if isinstance(data, dict) and "type" in data and "status" in data:
        err = {k: data[k] for k in ("type", "title", "status", "detail") if k in data}
    else:
        err = {
            "type": "https://uri.etsi.org/ngsi-ld/errors/"
            + ("InternalError" if ans is None else "OperationNotSupported"),
            "title": "Context source failed" if ans is None else "Context source error",
            "status": status,
            "detail": f"context source {src.endpoint} "
            + ("did not answer" if ans is None else f"answered {status}"),
        }
    entry: dict[str, Any] = {"error": err, "registrationId": src.id}
    if eid is not None:
        entry["entityId"] = eid
    return entry
