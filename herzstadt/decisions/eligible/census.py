"""The census import: a CSV of the people who may vote → :class:`Elector` rows with the salted hash
of each identifier, nothing else.

Columns (header names in German or English, any order; ``;`` or ``,``): the identifier
(``kennung``/``identifier``), the birth date (``geburtsdatum``/``birth_date``, ``JJJJ-MM-TT`` or
``TT.MM.JJJJ``), the district of residence (``stadtteil``/``district``: its name or short name);
optional ``name``, ``strasse``/``street``, ``plz``/``postcode``, ``ort``/``town`` — used only for the
letters printed in the same request, never stored. The decision's rules are applied: the age
(``min_age``) on the day voting closes, and the districts of residence (``residence_districts``; none:
the whole city). Raw identifiers and birth dates are never stored.

A re-import replaces the census: new people are added, people no longer on it are removed — except
those who have already voted (their ``has_voted`` must stay) — and everyone else keeps their row, their
letter code and their linked account.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from herzstadt.decisions.eligibility import normalise, secret_hash
from herzstadt.decisions.eligible.codes import new_code
from herzstadt.decisions.models import Decision, Elector

#: a census file larger than this is refused (about 1.5 million rows)
MAX_BYTES = 64 * 1024 * 1024

COLUMNS: dict[str, tuple[str, ...]] = {
    "identifier": ("identifier", "kennung", "id", "ordnungsmerkmal", "personenkennung"),
    "birth_date": ("birth_date", "birthdate", "geburtsdatum", "geboren"),
    "district": ("district", "stadtteil", "ortsbezirk", "bezirk", "residence", "wohnort"),
    "name": ("name",),
    "street": ("street", "strasse", "straße", "anschrift", "address"),
    "postcode": ("postcode", "plz", "postleitzahl"),
    "town": ("town", "ort", "city"),
}
REQUIRED = ("identifier", "birth_date")


class CensusError(ValueError):
    """The file cannot be read; ``code`` names why (the page translates it)."""

    def __init__(self, code: str, **params: object) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


@dataclass(frozen=True)
class Letter:
    """One letter to print: the plain code and the address lines (only in memory)."""

    code: str
    name: str = ""
    street: str = ""
    postcode: str = ""
    town: str = ""


@dataclass
class CensusReport:
    rows: int = 0
    eligible: int = 0
    added: int = 0
    kept: int = 0
    too_young: int = 0
    elsewhere: int = 0
    duplicates: int = 0
    invalid: int = 0
    removed: int = 0
    kept_voted: int = 0
    letters: list[Letter] = field(default_factory=list, repr=False)


def parse_birth_date(value: str) -> dt.date | None:
    value = value.strip()
    for fmt in ("%Y-%m-%d", "%d.%m.%Y", "%d.%m.%y"):
        try:
            return dt.datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    return None


def age_on(birth: dt.date, day: dt.date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def _decode(data: bytes | str) -> str:
    if isinstance(data, str):
        return data
    if len(data) > MAX_BYTES:
        raise CensusError("too_large", max_mb=MAX_BYTES // (1024 * 1024))
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise CensusError("encoding")  # pragma: no cover - cp1252 decodes nearly everything


def _reader(text: str) -> tuple[csv.DictReader, dict[str, str]]:
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") >= first.count(",") and ";" in first else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    headers = {(h or "").strip().casefold(): h for h in (reader.fieldnames or [])}
    mapping: dict[str, str] = {}
    for key, names in COLUMNS.items():
        for name in names:
            if name in headers:
                mapping[key] = headers[name]
                break
    missing = [key for key in REQUIRED if key not in mapping]
    if missing:
        raise CensusError("missing_columns", columns=", ".join(missing))
    return reader, mapping


def _district_matcher(decision: Decision):
    allowed = list(decision.residence_districts.all())
    if not allowed:
        return lambda value: True
    names: set[str] = set()
    for district in allowed:
        names.add(district.slug.casefold())
        names.add(district.name.casefold())
    # every other value (another district of the city, an unknown one, none) is "elsewhere"
    return lambda value: value.strip().casefold() in names


def import_census(decision: Decision, data: bytes | str, *, letters: bool = False) -> CensusReport:
    """Read the census file ``data`` and replace the decision's census electors (one transaction).
    With ``letters``, every eligible person without a letter code gets one; the report's
    ``letters`` then hold the plain codes with the address columns, for the PDF of this request."""
    reader, cols = _reader(_decode(data))
    report = CensusReport()
    closing_day = timezone.localdate(decision.closes_at)
    in_residence = _district_matcher(decision)
    people: dict[str, dict[str, str]] = {}  # identifier hash → address columns
    for row in reader:
        report.rows += 1
        identifier = normalise(row.get(cols["identifier"]) or "")
        birth = parse_birth_date(row.get(cols["birth_date"]) or "")
        if not identifier or birth is None:
            report.invalid += 1
            continue
        if age_on(birth, closing_day) < decision.min_age:
            report.too_young += 1
            continue
        if not in_residence(row.get(cols.get("district", ""), "") or ""):
            report.elsewhere += 1
            continue
        digest = secret_hash(decision, identifier)
        if digest in people:
            report.duplicates += 1
            continue
        people[digest] = {
            key: (row.get(cols[key]) or "").strip()[:200]
            for key in ("name", "street", "postcode", "town")
            if key in cols
        }
    report.eligible = len(people)
    with transaction.atomic():
        Decision.objects.select_for_update().filter(pk=decision.pk).first()  # one import at a time
        existing = {
            e.identifier_hash: e
            for e in Elector.objects.filter(decision=decision, identifier_hash__isnull=False).only(
                "id", "identifier_hash", "code_hash", "has_voted"
            )
        }
        gone = [e for h, e in existing.items() if h not in people]
        report.kept_voted = sum(1 for e in gone if e.has_voted)
        stale = [e.pk for e in gone if not e.has_voted]
        for start in range(0, len(stale), 1000):
            Elector.objects.filter(pk__in=stale[start : start + 1000], has_voted=False).delete()
        report.removed = len(stale)
        new: list[Elector] = []
        coded: list[Elector] = []
        for digest, address in people.items():
            elector = existing.get(digest)
            code = new_code() if letters and (elector is None or not elector.code_hash) else ""
            if code:
                report.letters.append(Letter(code=code, **address))
            if elector is None:
                new.append(
                    Elector(
                        city_id=decision.city_id,
                        decision=decision,
                        identifier_hash=digest,
                        code_hash=secret_hash(decision, code) if code else None,
                    )
                )
            else:
                report.kept += 1
                if code:
                    elector.code_hash = secret_hash(decision, code)
                    coded.append(elector)
        Elector.objects.bulk_create(new, batch_size=1000)
        Elector.objects.bulk_update(coded, ["code_hash"], batch_size=1000)
        report.added = len(new)
    return report
