"""The demo's decisions: the "Bürgerbudget Pfaff-Areal" in Kaiserslautern — a budget process with its
phases, 16 proposals (two not feasible, with reasons), 100,000 €, approval ballots (up to 5),
counted with the Method of Equal Shares (greedy beside it) — and a poll on a street name.

About 300 ballots go through the real code paths: a census of 1,200 people (identifier and letter
code on one elector row each), online votes of verified accounts (``verify_account`` +
``authorize_account``) and with voting codes (``authorize_code``), paper ballots at the polling
station (``authorize_identifier`` at the booth) and postal ballots (the voting card registered,
then each sheet entered by two clerks and cast once both entries agree). Then voting is closed and
the results are published (:func:`herzstadt.decisions.results.publish`), so the demo shows the
results, the ``.pb`` file and the log.

Deterministic: choices and people come from a seeded random generator (the log's batch order is
shuffled with :class:`random.SystemRandom`, as in production; the tally never depends on it).
Idempotent: a decision that exists (by slug) is left alone.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from herzstadt.core.models import City, District
from herzstadt.decisions import eligibility, results, voting
from herzstadt.decisions.eligible import booth, census, postal
from herzstadt.decisions.models import (
    Decision,
    DecisionKind,
    Feasibility,
    PollOption,
    Proposal,
)
from herzstadt.participation import api as participation

SEED = 14
BUDGET_SLUG = "buergerbudget-pfaff-areal"
POLL_SLUG = "strassenname-pfaff-areal"
#: eligible people on the demo's census (and 25 too young, whom the import leaves out)
CENSUS = 1200
#: (title, cost, feasible reason or None, description, groups that like it)
PROPOSALS: list[tuple[str, int, str | None, str, tuple[str, ...]]] = [
    (
        "Trinkbrunnen am Pfaff-Platz",
        6500,
        None,
        "Ein öffentlicher Trinkbrunnen mit Hundetränke am neuen Quartiersplatz.",
        ("family", "nature"),
    ),
    (
        "Überdachte Fahrradabstellanlage am Kesselhaus",
        18000,
        None,
        "40 überdachte Stellplätze mit Anlehnbügeln und Lademöglichkeit für E-Bikes.",
        ("bike",),
    ),
    (
        "Hochbeete zum Gärtnern für alle",
        4800,
        None,
        "Zwölf Hochbeete aus Holz, betreut von einer Nachbarschaftsgruppe.",
        ("nature", "family"),
    ),
    (
        "Sitzbänke und Schattenbäume in der Pfaffstraße",
        24000,
        None,
        "Acht Bänke und sechs klimaresistente Bäume entlang des Hauptwegs.",
        ("family", "nature"),
    ),
    (
        "Repair-Café in der alten Nähmaschinenfabrik",
        15000,
        None,
        "Werkzeug und Einrichtung für ein offenes Repair-Café, das Ehrenamtliche betreiben.",
        ("culture",),
    ),
    (
        "Wasserspielplatz im Quartierspark",
        38000,
        None,
        "Ein Spielplatz mit Wasserpumpe, Matschtisch und Bachlauf für Kinder bis zehn Jahre.",
        ("family",),
    ),
    (
        "Insektenwiese auf der Brachfläche",
        3500,
        None,
        "Eine Blühwiese mit heimischen Pflanzen statt Rasen, zweimal im Jahr gemäht.",
        ("nature",),
    ),
    (
        "Info-Stelen zur Geschichte der Pfaff-Werke",
        12000,
        None,
        "Sechs Stelen erzählen von 150 Jahren Nähmaschinenbau in Kaiserslautern.",
        ("culture",),
    ),
    (
        "Lastenrad zum Ausleihen",
        9500,
        None,
        "Zwei Lastenräder, kostenlos über eine Buchungsseite auszuleihen.",
        ("bike", "family"),
    ),
    (
        "Calisthenics-Anlage für Jugendliche",
        21000,
        None,
        "Stangen, Barren und Ringe zum Trainieren im Freien.",
        ("youth",),
    ),
    (
        "Offenes WLAN am Quartiersplatz",
        7800,
        None,
        "Freies WLAN rund um den Platz, ohne Anmeldung.",
        ("youth", "culture"),
    ),
    (
        "Nistkästen und Fledermausquartiere",
        2000,
        None,
        "30 Nistkästen und 10 Fledermauskästen an den alten Hallen.",
        ("nature",),
    ),
    (
        "Beleuchteter Fußweg zur Kammgarn",
        32000,
        None,
        "Insektenfreundliche Laternen am Fuß- und Radweg Richtung Kammgarn.",
        ("bike", "youth"),
    ),
    (
        "Legale Graffiti-Wand an der Halle 7",
        5500,
        None,
        "Eine Wand, die alle besprühen dürfen, mit einem jährlichen Festival.",
        ("youth", "culture"),
    ),
    (
        "Seilbahn vom Pfaff-Areal zum Betzenberg",
        40000,
        "Eine Seilbahn kostet mehrere Millionen Euro und braucht ein Planfeststellungsverfahren; der "
        "Bürgerhaushalt kann nur Vorhaben bis 40.000 € finanzieren, die die Stadt in einem Jahr "
        "umsetzen kann.",
        "Eine Seilbahn als schnelle Verbindung zum Stadion.",
        ("youth",),
    ),
    (
        "Skatepark auf dem Dach des Parkhauses",
        35000,
        "Das Parkhausdach gehört nicht der Stadt, und seine Statik trägt die zusätzlichen Lasten "
        "nicht. Die Stadt prüft stattdessen eine Fläche am Quartierspark.",
        "Ein Skatepark mit Blick über das Areal.",
        ("youth",),
    ),
]
#: voter groups and how many of the ~300 voters belong to them
GROUPS = {"family": 0.30, "bike": 0.20, "nature": 0.22, "youth": 0.13, "culture": 0.15}
#: how many ballots come in per channel (web with an account, online code, booth, postal)
CHANNEL_COUNTS = {"web": 60, "code": 150, "booth": 50, "postal": 40}


def _phases(process: Any, opens: dt.datetime, closes: dt.datetime) -> None:
    """The budget process's phases around the voting period."""
    kind = participation.process_kind("budget")
    keys = list(kind.phase_kinds) if kind else []
    default = [
        "budget_proposals",
        "budget_check",
        "budget_voting",
        "budget_results",
        "budget_implementation",
    ]
    keys = (keys + default[len(keys) :])[:5]
    titles = ["Vorschläge sammeln", "Machbarkeit prüfen", "Abstimmung", "Ergebnis", "Umsetzung"]
    spans = [
        (opens - dt.timedelta(days=70), opens - dt.timedelta(days=35)),
        (opens - dt.timedelta(days=35), opens),
        (opens, closes),
        (closes, closes + dt.timedelta(days=30)),
        (closes + dt.timedelta(days=30), closes + dt.timedelta(days=395)),
    ]
    for key, title, (start, end) in zip(keys, titles, spans, strict=True):
        participation.Phase.objects.create(
            city=process.city,
            process=process,
            kind=key,
            title=title,
            start=start,
            end=end,
        )


def _choice(rng: random.Random, ids: dict[str, list[str]], all_ids: list[str]) -> dict[str, int]:
    group = rng.choices(list(GROUPS), weights=list(GROUPS.values()))[0]
    liked = list(ids[group])
    rng.shuffle(liked)
    picked = set(liked[: rng.randint(1, min(4, len(liked)))])
    while len(picked) < 5 and rng.random() < 0.45:
        picked.add(rng.choice(all_ids))
    return {n: 1 for n in sorted(picked, key=int)}


def _clerks(city: City) -> tuple[User, User]:
    clerks = []
    for n in (1, 2):
        user, created = User.objects.get_or_create(
            username=f"demo-wahlhelfer-{n}",
            defaults={"email": f"wahlhelfer{n}@demo.herzstadt.invalid"},
        )
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        clerks.append(user)
    return clerks[0], clerks[1]


def _census(decision: Decision, size: int, too_young: int = 0) -> list[tuple[str, str]]:
    """The census import with letters (``eligible.census.import_census``): ``size`` eligible people
    and ``too_young`` who are not; returns (identifier, letter code) of the eligible ones. The
    identifier rides in the letter's name column, the way the demo knows whose letter is whose."""
    rng = random.Random(f"{SEED}-census-{decision.slug}")  # noqa: S311 - demo data
    closing = timezone.localdate(decision.closes_at)
    rows = ["kennung;geburtsdatum;name;strasse;plz;ort"]
    for i in range(1, size + too_young + 1):
        age = rng.randint(16, 90) if i <= size else rng.randint(5, decision.min_age - 2)
        born = closing - dt.timedelta(days=age * 365 + rng.randint(30, 300))
        rows.append(
            f"KL-{i:06d};{born.isoformat()};KL-{i:06d};Pfaffstraße {i % 90 + 1};67655;"
            "Kaiserslautern"
        )
    report = census.import_census(decision, "\n".join(rows) + "\n", letters=True)
    return [(letter.name, letter.code) for letter in report.letters]


def _budget(city: City, district: District | None, now: dt.datetime) -> str:
    rng = random.Random(SEED)  # noqa: S311 - demo data
    opens = now - dt.timedelta(days=28)
    process = participation.Process.objects.create(
        city=city,
        slug=BUDGET_SLUG,
        title="Bürgerbudget Pfaff-Areal",
        summary="100.000 € für das Pfaff-Areal: Vorschläge machen, prüfen lassen, abstimmen.",
        district=district,
        kind="budget",
        is_published=True,
    )
    decision = Decision.objects.create(
        city=city,
        kind=DecisionKind.BUDGET,
        slug=BUDGET_SLUG,
        title="Bürgerbudget Pfaff-Areal",
        description=(
            "Die Bürgerinnen und Bürger entscheiden, wofür 100.000 € auf dem Pfaff-Areal "
            "ausgegeben werden. Jede Person darf bis zu fünf Vorschläge ankreuzen; gezählt wird "
            "mit der Methode der gleichen Anteile."
        ),
        process=process,
        district=district,
        budget_eur=100_000,
        ballot_style="approval",
        max_choices=5,
        counting_rule="mes",
        opens_at=opens,
        closes_at=now + dt.timedelta(hours=1),  # open while the demo's ballots are cast
        results_at=now + dt.timedelta(hours=1),
        min_age=14,
        is_published=True,
    )
    _phases(process, opens, now)
    ids: dict[str, list[str]] = {g: [] for g in GROUPS}
    all_ids = []
    for number, (title, cost, reason, description, groups) in enumerate(PROPOSALS, start=1):
        Proposal.objects.create(
            city=city,
            decision=decision,
            number=number,
            title=title,
            description=description,
            cost_eur=cost,
            feasibility=Feasibility.NOT_FEASIBLE if reason else Feasibility.FEASIBLE,
            feasibility_reason=reason
            or "Die Verwaltung hat Kosten und Fläche geprüft: umsetzbar im nächsten Jahr.",
            district=district,
        )
        if not reason:
            all_ids.append(str(number))
            for g in groups:
                ids[g].append(str(number))
    people = _census(decision, CENSUS, too_young=25)
    rng.shuffle(people)
    queue = iter(people)
    clerk_a, clerk_b = _clerks(city)

    for n in range(CHANNEL_COUNTS["web"]):
        identifier, code = next(queue)
        user, created = User.objects.get_or_create(
            username=f"demo-buergerbudget-{n + 1}",
            defaults={"email": f"buergerbudget{n + 1}@demo.herzstadt.invalid"},
        )
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        eligibility.verify_account(decision, user, code)
        elector = eligibility.authorize_account(decision, user)
        voting.cast(decision, elector, _choice(rng, ids, all_ids), "web")
    for _ in range(CHANNEL_COUNTS["code"]):
        identifier, code = next(queue)
        elector = eligibility.authorize_code(decision, code)
        voting.cast(decision, elector, _choice(rng, ids, all_ids), "code")
    for _ in range(CHANNEL_COUNTS["booth"]):
        identifier, code = next(queue)
        booth.cast_paper(decision, identifier, _choice(rng, ids, all_ids))
    # postal: the returned voting cards are registered first (the elector is marked), then each
    # anonymous ballot sheet is entered by two clerks and cast once both entries agree
    sheets = []
    for n in range(CHANNEL_COUNTS["postal"]):
        identifier, code = next(queue)
        postal.register_card(decision, code if n % 2 else identifier)
        sheets.append((f"B{n + 1:04d}", _choice(rng, ids, all_ids)))
    for envelope, choice in sheets:
        postal.enter_sheet(decision, clerk_a, envelope, choice)
        postal.enter_sheet(decision, clerk_b, envelope, choice)

    # voting closes, the results are published
    Decision.objects.filter(pk=decision.pk).update(
        closes_at=timezone.now(), results_at=timezone.now()
    )
    decision.refresh_from_db()
    Decision.objects.filter(pk=decision.pk).update(
        council_date=(now + dt.timedelta(days=21)).date(),
        council_resolution="0815/2026",
        council_url="https://www.kaiserslautern.de/ratsinfo/0815-2026",
    )
    decision.refresh_from_db()
    data = results.publish(decision)
    won = data["rules"]["mes"]["winners"]
    return f"{data['ballots']} ballots, {len(won)} proposals funded by equal shares"


def _poll(city: City, district: District | None, now: dt.datetime) -> str:
    rng = random.Random(f"{SEED}-poll")  # noqa: S311 - demo data
    decision = Decision.objects.create(
        city=city,
        kind=DecisionKind.POLL,
        slug=POLL_SLUG,
        title="Wie soll der neue Platz auf dem Pfaff-Areal heißen?",
        question="Welchen Namen soll der Quartiersplatz auf dem Pfaff-Areal bekommen?",
        description="Eine Befragung: der Stadtrat entscheidet, die Abstimmung berät ihn.",
        district=district,
        binding=False,
        opens_at=now - dt.timedelta(days=14),
        closes_at=now + dt.timedelta(hours=1),
        results_at=now + dt.timedelta(hours=1),
        channel_booth=False,
        channel_postal=False,
        is_published=True,
    )
    labels = ["Nähmaschinenplatz", "Georg-Michael-Pfaff-Platz", "Platz der Arbeit"]
    for number, label in enumerate(labels, start=1):
        PollOption.objects.create(city=city, decision=decision, number=number, label=label)
    people = _census(decision, 200)[:120]
    for _identifier, code in people:
        elector = eligibility.authorize_code(decision, code)
        option = rng.choices(["1", "2", "3"], weights=[0.5, 0.3, 0.2])[0]
        voting.cast(decision, elector, {option: 1}, "code")
    Decision.objects.filter(pk=decision.pk).update(
        closes_at=timezone.now(), results_at=timezone.now()
    )
    decision.refresh_from_db()
    data = results.publish(decision)
    return f"{data['ballots']} ballots on the street name"


def load_demo(context: Any) -> str:
    """Load the demo's decisions into the demo city (once)."""
    city = context.city or City.objects.filter(slug="kaiserslautern").first()
    if city is None:
        return "no demo city"
    district = District.objects.filter(city=city, slug="pfaff-areal").first()
    now = timezone.now()
    done = []
    if not Decision.objects.filter(city=city, slug=BUDGET_SLUG).exists():
        with transaction.atomic():
            done.append(_budget(city, district, now))
    if not Decision.objects.filter(city=city, slug=POLL_SLUG).exists():
        with transaction.atomic():
            done.append(_poll(city, district, now))
    return "; ".join(done) or "already loaded"
