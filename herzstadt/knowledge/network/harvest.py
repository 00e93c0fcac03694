"""Harvesting the partners' catalogues (the worker task ``knowledge-harvest``).

A worker claims a due partner by moving its ``next_sync_at`` forward by a lease in one conditional
UPDATE (so several workers never harvest the same partner at once), reads every page of the
partner's measure catalogue (conditional on the ETag/Last-Modified of the last success: a 304
changes nothing), validates it and replaces the local copy in one transaction — measures that
vanished are deleted only after a complete, successful read. Any failure (refused connection,
timeout, 5xx, garbage) keeps the stale copy, sets status "error" with the reason and retries with a
growing pause (1, 2, 4 … minutes, at most the sync interval). Then the partner's DCAT catalogue is
read for a small list of its datasets; a failure there is noted apart and never fails the sync.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import orjson
from django.db import IntegrityError, close_old_connections, transaction
from django.db.models import Q
from django.utils import timezone

from herzstadt.knowledge.models import Partner, PartnerMeasure, SyncStatus
from herzstadt.knowledge.network import conf
from herzstadt.knowledge.network.client import NetworkError, request

log = logging.getLogger(__name__)

#: how often the task looks for due partners (seconds)
POLL = 5.0
#: how often pending report-backs are retried (seconds)
REPORT_RETRY = 300.0
MAX_DATASETS = 200


class Garbage(NetworkError):
    """The partner answered, but not with a catalogue."""


def _same_origin(a: str, b: str) -> bool:
    try:
        return conf.origin(a) == conf.origin(b)
    except ValueError:
        return False


def _with_limit(url: str) -> str:
    parts = urlsplit(url)
    query = parts.query + ("&" if parts.query else "") + urlencode({"limit": conf.PAGE_LIMIT})
    return urlunsplit(parts._replace(query=query))


def _json(body: bytes, what: str) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        raise Garbage(f"The {what} is not JSON.") from None


def _str(item: dict, key: str, limit: int) -> str:
    value = item.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise Garbage(f"A measure's field {key!r} is not a text.")
    return value[:limit]


def _url(value: Any) -> str:
    if not isinstance(value, str) or len(value) > 500:
        raise Garbage("A measure has no valid address (id).")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or "@" in parts.netloc:
        raise Garbage("A measure has no valid address (id).")
    return value


def parse_item(item: Any) -> dict[str, Any]:
    """The PartnerMeasure fields of one record (raises Garbage on a wrong shape)."""
    if not isinstance(item, dict):
        raise Garbage("A measure in the catalogue is not an object.")
    title = _str(item, "title", 200).strip()
    if not title:
        raise Garbage("A measure in the catalogue has no title.")
    page = item.get("url")
    version = item.get("version", 1)
    if not isinstance(version, int) or isinstance(version, bool) or version < 0:
        raise Garbage("A measure's version is not a whole number.")
    types = item.get("entity_types") or []
    if not isinstance(types, list) or not all(isinstance(t, str) for t in types):
        raise Garbage("A measure's entity_types is not a list of names.")
    modified = None
    if isinstance(item.get("modified"), str):
        try:
            modified = dt.datetime.fromisoformat(item["modified"].replace("Z", "+00:00"))
            if timezone.is_naive(modified):
                modified = timezone.make_aware(modified, dt.UTC)
        except ValueError:
            modified = None
    return {
        "remote_id": _url(item.get("id")),
        "url": _url(page) if page else "",
        "title": title,
        "summary": _str(item, "summary", 5000),
        "field_of_action": _str(item, "field_of_action", 200),
        "phase": _str(item, "phase", 16),
        "status": _str(item, "status", 16),
        "entity_types": [t[:200] for t in types[:100]],
        "version": min(version, 2**31 - 1),
        "modified": modified,
        "data": item,
    }


def _fetch_catalogue(partner: Partner) -> tuple[list[dict[str, Any]] | None, str, str]:
    """Every measure of the partner (``None`` when unchanged since the last success), and the
    validators of the first page."""
    if not partner.measures_url:
        raise NetworkError("The partner has no catalogue address.")
    url: str | None = _with_limit(partner.measures_url)
    headers = {"Accept": "application/json"}
    if partner.status == SyncStatus.OK:
        if partner.etag:
            headers["If-None-Match"] = partner.etag
        if partner.last_modified:
            headers["If-Modified-Since"] = partner.last_modified
    items: list[dict[str, Any]] = []
    seen: set[str] = set()
    etag = last_modified = ""
    for n in range(conf.MAX_PAGES):
        assert url is not None
        answer = request("GET", url, headers=headers)
        if answer.status == 304 and n == 0:
            return None, partner.etag, partner.last_modified
        if answer.status >= 500:
            raise NetworkError(f"The partner answered with an error (HTTP {answer.status}).")
        if answer.status == 404:
            raise NetworkError("The partner's catalogue was not found (HTTP 404).")
        if answer.status != 200:
            raise NetworkError(f"The partner answered with HTTP {answer.status}.")
        if n == 0:
            etag = answer.headers.get("etag", "")[:200]
            last_modified = answer.headers.get("last-modified", "")[:64]
        headers = {"Accept": "application/json"}
        page = _json(answer.body, "catalogue")
        if not isinstance(page, dict) or not isinstance(page.get("items"), list):
            raise Garbage("The answer is not a measure catalogue (no list of items).")
        for raw in page["items"]:
            fields = parse_item(raw)
            if fields["remote_id"] not in seen:
                seen.add(fields["remote_id"])
                items.append(fields)
        nxt = page.get("next")
        if not nxt:
            return items, etag, last_modified
        if not isinstance(nxt, str) or not _same_origin(nxt, partner.measures_url):
            raise Garbage("The catalogue's next page is not on the partner's address.")
        url = nxt
    raise Garbage(f"The catalogue has more than {conf.MAX_PAGES} pages.")


def _backoff(failures: int) -> dt.timedelta:
    return dt.timedelta(seconds=min(conf.sync_interval(), 60.0 * 2 ** min(failures - 1, 10)))


def _first(value: Any) -> Any:
    return value[0] if isinstance(value, list) and value else value


def _literal(value: Any) -> str:
    """A JSON-LD value as text: "x", {"@value": "x"}, [{"@language": "de", "@value": "x"}, …]."""
    if isinstance(value, list):
        de = [v for v in value if isinstance(v, dict) and v.get("@language") == "de"]
        value = (de or value or [None])[0]
    if isinstance(value, dict):
        value = value.get("@value", value.get("@id"))
    return value if isinstance(value, str) else ""


TITLE_KEYS = ("title", "dct:title", "dcterms:title", "http://purl.org/dc/terms/title")
LINK_KEYS = (
    "landingPage",
    "dcat:landingPage",
    "http://www.w3.org/ns/dcat#landingPage",
)
DATASET_TYPES = {"Dataset", "dcat:Dataset", "http://www.w3.org/ns/dcat#Dataset"}


def parse_dcat(doc: Any) -> list[dict[str, str]]:
    """Titles and links of the datasets in a JSON-LD DCAT catalogue (compacted or expanded)."""
    found: list[dict[str, str]] = []
    stack = [doc]
    visited = 0
    while stack and len(found) < MAX_DATASETS and visited < 100_000:
        node = stack.pop()
        visited += 1
        if isinstance(node, list):
            stack.extend(reversed(node))
            continue
        if not isinstance(node, dict):
            continue
        types = node.get("@type", node.get("type"))
        types = set(types if isinstance(types, list) else [types])
        if types & DATASET_TYPES:
            title = next((_literal(node[k]) for k in TITLE_KEYS if k in node), "")
            link = next((_literal(_first(node[k])) for k in LINK_KEYS if k in node), "")
            ident = node.get("@id", node.get("id"))
            url = link or (ident if isinstance(ident, str) else "")
            if title:
                safe = url if urlsplit(url).scheme in ("http", "https") else ""
                found.append({"title": title[:300], "url": safe[:500]})
        stack.extend(reversed([v for v in node.values() if isinstance(v, (dict, list))]))
    return found


def _sync_datasets(partner: Partner) -> None:
    if not partner.dcat_url:
        return
    try:
        answer = request("GET", partner.dcat_url, headers={"Accept": "application/ld+json"})
        if answer.status != 200:
            raise NetworkError(f"The DCAT catalogue answered with HTTP {answer.status}.")
        datasets = parse_dcat(_json(answer.body, "DCAT catalogue"))
    except NetworkError as e:
        Partner.objects.filter(pk=partner.pk).update(datasets_error=str(e))
        return
    except Exception as e:  # never let the DCAT copy break the measure sync
        log.exception("DCAT catalogue of partner %s", partner.pk)
        Partner.objects.filter(pk=partner.pk).update(datasets_error=str(e)[:500])
        return
    Partner.objects.filter(pk=partner.pk).update(
        datasets=datasets, datasets_synced_at=timezone.now(), datasets_error=""
    )


def sync_partner(partner: Partner) -> bool:
    """Harvest one partner now; True on success. Never raises for the partner's faults."""
    started = timezone.now()
    try:
        items, etag, last_modified = _fetch_catalogue(partner)
    except NetworkError as e:
        _failed(partner, str(e), started)
        return False
    except Exception as e:  # a bug must not kill the worker; the reason is logged
        log.exception("harvesting partner %s", partner.pk)
        _failed(partner, f"Unexpected error: {e.__class__.__name__}", started)
        return False
    try:
        _store(partner, items, etag, last_modified, started)
    except IntegrityError:  # another worker or a "sync now" stored the same rows meanwhile
        _failed(partner, "Two synchronisations overlapped; retrying.", started)
        return False
    _sync_datasets(partner)
    return True


def _store(
    partner: Partner,
    items: list[dict[str, Any]] | None,
    etag: str,
    last_modified: str,
    started: dt.datetime,
) -> None:
    """Replace the local copy and mark the sync successful, in one transaction."""
    with transaction.atomic():
        if items is not None:
            seen = []
            for fields in items:
                remote_id = fields.pop("remote_id")
                seen.append(remote_id)
                obj = PartnerMeasure.objects.filter(partner=partner, remote_id=remote_id).first()
                if obj is None:
                    obj = PartnerMeasure(partner=partner, remote_id=remote_id)
                for k, v in fields.items():
                    setattr(obj, k, v)
                obj.save()
            PartnerMeasure.objects.filter(partner=partner).exclude(remote_id__in=seen).delete()
        Partner.objects.filter(pk=partner.pk).update(
            status=SyncStatus.OK,
            last_attempt_at=started,
            last_success_at=timezone.now(),
            last_error="",
            failures=0,
            etag=etag,
            last_modified=last_modified,
            next_sync_at=timezone.now() + dt.timedelta(seconds=conf.sync_interval()),
        )


def _failed(partner: Partner, reason: str, started: dt.datetime) -> None:
    failures = partner.failures + 1
    Partner.objects.filter(pk=partner.pk).update(
        status=SyncStatus.ERROR,
        last_attempt_at=started,
        last_error=reason[:2000],
        failures=failures,
        next_sync_at=timezone.now() + _backoff(failures),
    )


def claim_due(now: dt.datetime | None = None, limit: int = 10) -> list[Partner]:
    """Partners whose sync is due, each claimed by moving ``next_sync_at`` past a lease (a
    conditional UPDATE: of several workers only one gets a partner)."""
    now = now or timezone.now()
    due = list(
        Partner.objects.filter(enabled=True)
        .filter(Q(next_sync_at__isnull=True) | Q(next_sync_at__lte=now))
        .order_by("next_sync_at", "pk")[:limit]
    )
    claimed = []
    lease = now + dt.timedelta(seconds=conf.LEASE)
    for p in due:
        if Partner.objects.filter(pk=p.pk, next_sync_at=p.next_sync_at).update(next_sync_at=lease):
            p.next_sync_at = lease
            claimed.append(p)
    return claimed


def run_once(retry_reports: bool = True) -> int:
    """One round of the task: harvest the due partners, retry pending reports. How many partners."""
    from herzstadt.knowledge.network.adopt import retry_pending_reports

    partners = claim_due()
    for p in partners:
        sync_partner(p)
    if retry_reports:
        retry_pending_reports()
    return len(partners)


def run(stop: threading.Event) -> None:
    """The worker task ``knowledge-harvest``."""
    last_retry = 0.0
    while not stop.is_set():
        close_old_connections()
        try:
            now = time.monotonic()
            retry = now - last_retry >= REPORT_RETRY
            if retry:
                last_retry = now
            run_once(retry_reports=retry)
        except Exception:
            log.exception("knowledge-harvest round failed")
        finally:
            close_old_connections()
        stop.wait(POLL)
