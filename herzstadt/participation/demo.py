"""The demo's participation: an open process for the Pfaff-Areal with ideas on the map, comments,
supports, a survey with answers and some ideas the city has answered (``demo/kaiserslautern.json``).

Idempotent: the process is matched by slug; its phases are re-dated around today on every load so the
demo always shows a running ideas phase; contributions are created only the first time. Outside
production it also creates two demo accounts for trying the back office (printed by ``herzstadt demo``).
"""

from __future__ import annotations

import datetime as dt
import json
import random
from pathlib import Path

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from herzstadt.accounts.models import Profile, Role
from herzstadt.accounts.roles import set_role
from herzstadt.core.models import City, District, Measure
from herzstadt.participation.models import (
    Category,
    Comment,
    Follow,
    Idea,
    Phase,
    Process,
    Question,
    Support,
    Survey,
    SurveyResponse,
)

#: One data file per city, named by the city's slug (e.g. ``demo/kaiserslautern.json``).
DEMO_DIR = Path(__file__).resolve().parent / "demo"
DEMO_PASSWORD = "herzstadt-demo"  # noqa: S105 - demo accounts only, never created in production
DEMO_STAFF = [
    ("stadt@demo.herzstadt.invalid", "Stadtverwaltung (Demo)", Role.STAFF),
    ("moderation@demo.herzstadt.invalid", "Moderation (Demo)", Role.MODERATOR),
]


def _person(n: int, name: str) -> User:
    email = f"person{n}@demo.herzstadt.invalid"
    user, created = User.objects.get_or_create(username=f"demo-{n}", defaults={"email": email})
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
        EmailAddress.objects.get_or_create(
            user=user, email=email, defaults={"verified": True, "primary": True}
        )
    Profile.objects.update_or_create(user=user, defaults={"display_name": name})
    return user


def _staff(city: City) -> list[str]:
    made = []
    for email, name, role in DEMO_STAFF:
        user, created = User.objects.get_or_create(username=email, defaults={"email": email})
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
            EmailAddress.objects.get_or_create(
                user=user, email=email, defaults={"verified": True, "primary": True}
            )
        Profile.objects.update_or_create(user=user, defaults={"display_name": name, "city": city})
        set_role(city, user, role)
        made.append(email)
    return made


def _answer(rng: random.Random, question: dict):
    kind = question["kind"]
    if kind == "single":
        return rng.choices(
            question["choices"], weights=[4, 5, 3, 3, 1][: len(question["choices"])]
        )[0]
    if kind == "multiple":
        return rng.sample(question["choices"], k=rng.randint(1, 3))
    if kind == "rating":
        return rng.choices(range(1, question.get("scale_max", 5) + 1), weights=[1, 1, 3, 5, 6])[0]
    texts = [
        "Bitte an barrierefreie Wege denken.",
        "Mehr Bänke und Schatten!",
        "Schön, dass wir gefragt werden.",
        "Bezahlbare Wohnungen für Familien.",
    ]
    return rng.choice(texts) if rng.random() < 0.4 else ""


def demo_loader(context) -> str:
    """The pillar's ``DemoLoader``: a process for every demo city that has a data file."""
    summaries = [
        load_city(city, path)
        for city in context.cities.values()
        if (path := DEMO_DIR / f"{city.slug}.json").is_file()
    ]
    return "; ".join(summaries)


@transaction.atomic
def load_city(city: City, path: Path) -> str:
    data = json.loads(path.read_text(encoding="utf-8"))
    spec = data["process"]
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    process, _created = Process.objects.update_or_create(
        city=city,
        slug=spec["slug"],
        defaults={
            "title": spec["title"],
            "summary": spec["summary"],
            "description": spec["description"],
            "district": District.objects.get(city=city, slug=spec["district"]),
            "measure": Measure.objects.filter(city=city, slug=spec["measure"]).first(),
            "is_published": True,
            "i18n": {"en": spec["en"]},
            "ls_summary": spec.get("ls", {}).get("summary", ""),
            "ls_description": spec.get("ls", {}).get("description", ""),
        },
    )
    process.phases.all().delete()
    for ph in spec["phases"]:
        Phase.objects.create(
            city=city,
            process=process,
            kind=ph["kind"],
            title=ph["title"],
            description=ph["description"],
            ls_description=ph.get("ls", {}).get("description", ""),
            start=now + dt.timedelta(days=ph["start_days"]),
            end=now + dt.timedelta(days=ph["end_days"]),
            i18n={"en": ph["en"]},
        )
    categories = {}
    for cat in spec["categories"]:
        categories[cat["name"]], _c = Category.objects.update_or_create(
            city=city,
            process=process,
            name=cat["name"],
            defaults={"i18n": {"en": {"name": cat["en"]}}},
        )
    staff = [] if settings.CONFIG.production else _staff(city)
    if process.ideas.exists():
        return f"participation: process {process.slug} refreshed"

    people = [_person(n, name) for n, name in enumerate(data["people"], start=1)]
    rng = random.Random(42)  # noqa: S311 - demo data
    ideas: dict[str, Idea] = {}
    for spec_idea in data["ideas"]:
        author = people[spec_idea["author"]]
        when = now - dt.timedelta(days=spec_idea["days_ago"], hours=3)
        idea = Idea.objects.create(
            city=city,
            process=process,
            author=author,
            title=spec_idea["title"],
            body=spec_idea["body"],
            category=categories[spec_idea["category"]],
            lon=spec_idea["lon"],
            lat=spec_idea["lat"],
            location_text=spec_idea["location"],
        )
        if spec_idea.get("status"):
            idea.status = spec_idea["status"]
            idea.status_reason = spec_idea["reason"]
            idea.status_changed_at = now - dt.timedelta(days=1)
            idea.measure = Measure.objects.filter(
                city=city, slug=spec_idea.get("measure", "")
            ).first()
            idea.save()
        Idea.objects.filter(pk=idea.pk).update(created_at=when)
        Follow.objects.create(city=city, user=author, idea=idea)
        supporters = [p for p in people if p != author][: spec_idea["supports"]]
        for p in supporters:
            support = Support.objects.create(city=city, idea=idea, user=p)
            days = rng.uniform(0, spec_idea["days_ago"])
            Support.objects.filter(pk=support.pk).update(created_at=now - dt.timedelta(days=days))
        ideas[spec_idea["key"]] = idea

    comments: list[Comment] = []
    for c in data["comments"]:
        comment = Comment.objects.create(
            city=city,
            idea=ideas[c["idea"]],
            author=people[c["author"]],
            body=c["body"],
            parent=comments[c["reply_to"]] if "reply_to" in c else None,
        )
        Comment.objects.filter(pk=comment.pk).update(
            created_at=now - dt.timedelta(days=c["days_ago"])
        )
        comments.append(comment)
    for idea in Idea.objects.filter(process=process).annotate(
        n_support=Count("supports", distinct=True), n_comment=Count("comments", distinct=True)
    ):
        Idea.objects.filter(pk=idea.pk).update(
            support_count=idea.n_support, comment_count=idea.n_comment
        )
    Follow.objects.create(city=city, user=people[0], process=process)

    sv = data["survey"]
    survey = Survey.objects.create(
        city=city,
        process=process,
        title=sv["title"],
        description=sv["description"],
        allow_anonymous=sv["allow_anonymous"],
        is_published=True,
        i18n={"en": sv["en"]},
    )
    questions = []
    for pos, q in enumerate(sv["questions"]):
        questions.append(
            Question.objects.create(
                city=city,
                survey=survey,
                kind=q["kind"],
                text=q["text"],
                help_text=q.get("help_text", ""),
                choices=q.get("choices", []),
                scale_max=q.get("scale_max", 5),
                required=q.get("required", True),
                position=pos,
                i18n={"en": {"text": q["en"]}},
            )
        )
    for i in range(sv["responses"]):
        answers = {}
        for q, qs in zip(questions, sv["questions"], strict=True):
            value = _answer(rng, qs)
            if value != "":
                answers[str(q.pk)] = value
        user = people[i] if i < len(people) else None
        response = SurveyResponse.objects.create(
            city=city,
            survey=survey,
            user=user,
            token_hash="" if user else f"demo-{i}",
            answers=answers,
        )
        when = now - dt.timedelta(days=rng.uniform(0, 20))
        SurveyResponse.objects.filter(pk=response.pk).update(created_at=when)
    summary = (
        f"participation: 1 process, {len(ideas)} ideas, {len(comments)} comments, "
        f"{Support.objects.filter(idea__process=process).count()} supports, "
        f"{sv['responses']} survey answers"
    )
    if staff:
        summary += f"; demo back-office accounts {', '.join(staff)} (password {DEMO_PASSWORD})"
    return summary
