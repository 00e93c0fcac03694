"""The participation part of a measure another city can take over (``TransferPart``
"participation-process"): a template of the measure's published processes.

``export(measure)`` describes each published process of the measure without anything personal or
dated: title, summary, description, kind, its phases in order (kind, title, description and a
duration in days instead of dates), its categories and its published surveys with their questions
(kind, text, hint, choices, scale, required). No ideas, comments, answers, follows or authors.

``adopt(measure, data, user)`` checks a partner's template strictly (types, lengths, counts; phase
and question kinds against the registry) and creates, for the adopting city's new ``measure``, each
process as a **draft** with its phases back to back from today, its categories and its surveys as
drafts — through the back office's use cases (``backoffice.commands``), so ``user`` must be staff
of the measure's city. A phase of a kind this installation does not know is skipped with a note; any
other fault refuses the whole template (``ValidationError``) and nothing is written.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from herzstadt.core import registry
from herzstadt.core.models import Measure
from herzstadt.participation import phases
from herzstadt.participation.backoffice import commands
from herzstadt.participation.models import (
    Category,
    Phase,
    Process,
    Question,
    QuestionKind,
    Survey,
)

KEY = "participation-process"
#: Version of the template's format (``format``); a newer major format is refused.
FORMAT = 1

# limits of a template (beyond the models' own field lengths)
MAX_PROCESSES = 5
MAX_PHASES = 12
MAX_CATEGORIES = 30
MAX_SURVEYS = 10
MAX_QUESTIONS = 50
MAX_CHOICES = 30
MAX_DURATION_DAYS = 730
MAX_LONG_TEXT = 20_000
LANGUAGES = ("en",)

DAY = dt.timedelta(days=1)


# --- export ---------------------------------------------------------------------------------------
def _en(obj: Any, *keys: str) -> dict[str, Any]:
    english = (obj.i18n or {}).get("en") or {}
    found = {k: english[k] for k in keys if isinstance(english.get(k), str) and english[k]}
    return {"en": found} if found else {}


def _duration_days(phase: Phase) -> int:
    return max(1, math.ceil((phase.end - phase.start) / DAY))


def _process_template(process: Process) -> dict[str, Any]:
    return {
        "title": process.title,
        "summary": process.summary,
        "description": process.description,
        "kind": process.kind,
        **_en(process, "title", "summary", "description"),
        "phases": [
            {
                "kind": phase.kind,
                "title": phase.title,
                "description": phase.description,
                "duration_days": _duration_days(phase),
                **_en(phase, "title", "description"),
            }
            for phase in process.phases.all()
        ],
        "categories": [{"name": c.name, **_en(c, "name")} for c in process.categories.all()],
        "surveys": [
            {
                "title": survey.title,
                "description": survey.description,
                "allow_anonymous": survey.allow_anonymous,
                "results_public": survey.results_public,
                **_en(survey, "title", "description"),
                "questions": [
                    {
                        "kind": q.kind,
                        "text": q.text,
                        "help_text": q.help_text,
                        "choices": list(q.choices or [])
                        if q.kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE)
                        else [],
                        "scale_max": q.scale_max if q.kind == QuestionKind.RATING else None,
                        "required": q.required,
                        **_en(q, "text", "help_text"),
                    }
                    for q in survey.questions.all()
                ],
            }
            for survey in process.surveys.all()
        ],
    }


def export(measure: Measure) -> dict[str, Any] | None:
    """The template of the measure's published processes; ``None`` when it has none (drafts are
    the city's internal work and are never published)."""
    processes = (
        Process.objects.filter(measure=measure, is_published=True)
        .order_by("id")
        .prefetch_related(
            Prefetch("phases", queryset=Phase.objects.order_by("start", "id")),
            Prefetch("categories", queryset=Category.objects.order_by("name", "id")),
            Prefetch(
                "surveys",
                queryset=Survey.objects.filter(is_published=True)
                .order_by("id")
                .prefetch_related(
                    Prefetch("questions", queryset=Question.objects.order_by("position", "id"))
                ),
            ),
        )
    )
    templates = [_process_template(p) for p in processes]
    if not templates:
        return None
    return {"format": FORMAT, "processes": templates}


# --- validation of a partner's template -------------------------------------------------------------
class _Refused(Exception):
    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where}: {problem}")
        self.where, self.problem = where, problem


def _obj(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _Refused(where, _("must be an object"))
    return value


def _list(value: Any, where: str, most: int, *, optional: bool = True) -> list[Any]:
    if value is None and optional:
        return []
    if not isinstance(value, list):
        raise _Refused(where, _("must be a list"))
    if len(value) > most:
        raise _Refused(where, _("must have at most %(n)s entries") % {"n": most})
    return value


def _text(item: dict[str, Any], key: str, where: str, most: int, *, required: bool = False) -> str:
    value = item.get(key)
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise _Refused(f"{where}.{key}", _("must be a text"))
    value = value.strip()
    if "\x00" in value:
        raise _Refused(f"{where}.{key}", _("must not contain NUL characters"))
    if len(value) > most:
        raise _Refused(f"{where}.{key}", _("must have at most %(n)s characters") % {"n": most})
    if required and not value:
        raise _Refused(f"{where}.{key}", _("must not be empty"))
    return value


def _flag(item: dict[str, Any], key: str, where: str, default: bool) -> bool:
    value = item.get(key, default)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise _Refused(f"{where}.{key}", _("must be true or false"))
    return value


def _number(item: dict[str, Any], key: str, where: str, low: int, high: int) -> int:
    value = item.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _Refused(
            f"{where}.{key}",
            _("must be a whole number from %(low)s to %(high)s") % {"low": low, "high": high},
        )
    return value


def _translations(item: dict[str, Any], where: str, limits: dict[str, int]) -> dict[str, Any]:
    """The template's translations, limited to the languages and keys this installation uses."""
    raw = item.get("en")
    if raw is None:
        return {}
    english = _obj(raw, f"{where}.en")
    found = {}
    for key, most in limits.items():
        value = _text(english, key, f"{where}.en", most)
        if value:
            found[key] = value
    return {"en": found} if found else {}


def _check_question(item: Any, where: str) -> dict[str, Any]:
    item = _obj(item, where)
    kind = item.get("kind")
    if kind not in QuestionKind.values:
        raise _Refused(f"{where}.kind", _("is not a known kind of question"))
    choices: list[str] = []
    if kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
        raw = _list(item.get("choices"), f"{where}.choices", MAX_CHOICES, optional=False)
        for index, choice in enumerate(raw):
            choices.append(_text({"choice": choice}, "choice", f"{where}.choices[{index}]", 200))
    return {
        "kind": kind,
        "text": _text(item, "text", where, 300, required=True),
        "help_text": _text(item, "help_text", where, 300),
        "choices": choices,
        "scale_max": _number(item, "scale_max", where, 2, 10) if kind == QuestionKind.RATING else 5,
        "required": _flag(item, "required", where, True),
        "i18n": _translations(item, where, {"text": 300, "help_text": 300}),
    }


def _check_process(item: Any, where: str, notes: list[str]) -> dict[str, Any]:
    item = _obj(item, where)
    kind = item.get("kind") or phases.DEFAULT_PROCESS_KIND
    if not isinstance(kind, str) or phases.process_kind(kind) is None:
        notes.append(
            _("unknown kind of process “%(kind)s”: taken as “%(default)s”")
            % {"kind": str(kind)[:40], "default": phases.DEFAULT_PROCESS_KIND}
        )
        kind = phases.DEFAULT_PROCESS_KIND
    allowed = {key for key, _label in phases.phase_kind_choices(kind)}
    phase_list = []
    for index, raw in enumerate(_list(item.get("phases"), f"{where}.phases", MAX_PHASES)):
        at = f"{where}.phases[{index}]"
        raw = _obj(raw, at)
        phase = {
            "kind": raw.get("kind"),
            "title": _text(raw, "title", at, 120, required=True),
            "description": _text(raw, "description", at, MAX_LONG_TEXT),
            "days": _number(raw, "duration_days", at, 1, MAX_DURATION_DAYS),
            "i18n": _translations(raw, at, {"title": 120, "description": MAX_LONG_TEXT}),
        }
        if not isinstance(phase["kind"], str) or phase["kind"] not in allowed:
            notes.append(
                _("phase “%(title)s” skipped: unknown kind of phase “%(kind)s”")
                % {"title": phase["title"], "kind": str(phase["kind"])[:40]}
            )
            continue
        phase_list.append(phase)
    categories = []
    seen: set[str] = set()
    for index, raw in enumerate(
        _list(item.get("categories"), f"{where}.categories", MAX_CATEGORIES)
    ):
        at = f"{where}.categories[{index}]"
        raw = _obj(raw, at)
        name = _text(raw, "name", at, 80, required=True)
        if name.casefold() in seen:
            continue
        seen.add(name.casefold())
        categories.append({"name": name, "i18n": _translations(raw, at, {"name": 80})})
    surveys = []
    for index, raw in enumerate(_list(item.get("surveys"), f"{where}.surveys", MAX_SURVEYS)):
        at = f"{where}.surveys[{index}]"
        raw = _obj(raw, at)
        surveys.append(
            {
                "title": _text(raw, "title", at, 200, required=True),
                "description": _text(raw, "description", at, MAX_LONG_TEXT),
                "allow_anonymous": _flag(raw, "allow_anonymous", at, False),
                "results_public": _flag(raw, "results_public", at, True),
                "i18n": _translations(raw, at, {"title": 200, "description": MAX_LONG_TEXT}),
                "questions": [
                    _check_question(q, f"{at}.questions[{n}]")
                    for n, q in enumerate(
                        _list(raw.get("questions"), f"{at}.questions", MAX_QUESTIONS)
                    )
                ],
            }
        )
    title = _text(item, "title", where, 200, required=True)
    return {
        "title": title,
        "summary": _text(item, "summary", where, 600) or title,
        "description": _text(item, "description", where, MAX_LONG_TEXT),
        "kind": kind,
        "i18n": _translations(
            item, where, {"title": 200, "summary": 600, "description": MAX_LONG_TEXT}
        ),
        "phases": phase_list,
        "categories": categories,
        "surveys": surveys,
    }


def check(data: Any) -> tuple[list[dict[str, Any]], list[str]]:
    """The partner's template, checked and normalised, and the notes on what is skipped; raises
    ``ValidationError`` when it is refused."""
    notes: list[str] = []
    try:
        template = _obj(data, "participation-process")
        fmt = template.get("format", FORMAT)
        if isinstance(fmt, bool) or not isinstance(fmt, int) or fmt < 1 or fmt > FORMAT:
            raise _Refused("format", _("is not a format this installation reads"))
        raw = _list(template.get("processes"), "processes", MAX_PROCESSES, optional=False)
        if not raw:
            raise _Refused("processes", _("must not be empty"))
        processes = [_check_process(p, f"processes[{i}]", notes) for i, p in enumerate(raw)]
    except _Refused as refused:
        raise ValidationError(
            _("The participation template was refused: %(where)s %(problem)s.")
            % {"where": refused.where, "problem": refused.problem},
            code="invalid",
        ) from None
    return processes, notes


# --- adopt ----------------------------------------------------------------------------------------
def _free_slug(measure: Measure, title: str) -> str:
    base = (slugify(title) or "beteiligung")[:70].strip("-") or "beteiligung"
    slug, n = base, 1
    while Process.objects.filter(city_id=measure.city_id, slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


def _today_start() -> dt.datetime:
    today = timezone.localdate()
    return timezone.make_aware(dt.datetime.combine(today, dt.time()))


def _create(measure: Measure, spec: dict[str, Any], user: Any) -> tuple[Process, int, int]:
    city = measure.city
    process = commands.save_process(
        user,
        city,
        Process(
            city=city,
            slug=_free_slug(measure, spec["title"]),
            title=spec["title"],
            summary=spec["summary"],
            description=spec["description"],
            kind=spec["kind"],
            district=measure.district,
            measure=measure,
            is_published=False,
            i18n=spec["i18n"],
        ),
    )
    start = _today_start()
    for phase in spec["phases"]:
        end = start + phase["days"] * DAY
        commands.save_phase(
            user,
            Phase(
                city=city,
                process=process,
                kind=phase["kind"],
                title=phase["title"],
                description=phase["description"],
                start=start,
                end=end,
                i18n=phase["i18n"],
            ),
        )
        start = end
    for category in spec["categories"]:
        commands.save_category(
            user, Category(city=city, process=process, name=category["name"], i18n=category["i18n"])
        )
    for survey_spec in spec["surveys"]:
        survey = commands.save_survey(
            user,
            Survey(
                city=city,
                process=process,
                title=survey_spec["title"],
                description=survey_spec["description"],
                allow_anonymous=survey_spec["allow_anonymous"],
                results_public=survey_spec["results_public"],
                is_published=False,
                i18n=survey_spec["i18n"],
            ),
        )
        for position, q in enumerate(survey_spec["questions"]):
            commands.save_question(
                user,
                Question(
                    city=city,
                    survey=survey,
                    kind=q["kind"],
                    text=q["text"],
                    help_text=q["help_text"],
                    choices=q["choices"],
                    scale_max=q["scale_max"],
                    required=q["required"],
                    position=position,
                    i18n=q["i18n"],
                ),
            )
    return process, len(spec["phases"]), len(spec["surveys"])


def adopt(measure: Measure, data: Any, user: Any) -> str:
    """Create the template's processes as drafts for ``measure``; returns what was created."""
    processes, notes = check(data)
    created = []
    try:
        with transaction.atomic():
            for spec in processes:
                process, n_phases, n_surveys = _create(measure, spec, user)
                created.append(
                    _(
                        "Participation process “%(title)s” as a draft with %(phases)s and %(surveys)s"
                    )
                    % {
                        "title": process.title,
                        "phases": ngettext("%(n)s phase", "%(n)s phases", n_phases)
                        % {"n": n_phases},
                        "surveys": ngettext("%(n)s survey", "%(n)s surveys", n_surveys)
                        % {"n": n_surveys},
                    }
                )
    except ValidationError as error:
        raise ValidationError(
            _("The participation template was refused: %(problem)s")
            % {"problem": "; ".join(error.messages)},
            code="invalid",
        ) from None
    text = "; ".join(created)
    if notes:
        text += " (" + "; ".join(notes) + ")"
    return text


LABEL = gettext_lazy("Participation process (template with phases and surveys)")

PART = registry.TransferPart(key=KEY, label=LABEL, export=export, adopt=adopt, order=20)
