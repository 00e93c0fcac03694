"""Back-office use cases that have no function in ``participation/services.py``: one function per use
case, each checks that the acting person is staff *of the object's city* (``participation.manage``),
validates the object and writes in one transaction. City roles and blocks are the shell's
(``accounts/commands.py``).

Forms validate what a person typed; these functions are the last word and are safe to call from
anywhere (a view, the shell, a management command). They raise ``PermissionDenied`` or
``ValidationError`` like the services do.
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from herzstadt.core.models import City
from herzstadt.participation import phases
from herzstadt.participation.models import Category, Phase, Process, Question, QuestionKind, Survey
from herzstadt.participation.services import require_staff


def _same_city(obj, city: City) -> None:
    if obj.city_id != city.pk:
        raise PermissionDenied(_("This belongs to another city."))


# --- processes ------------------------------------------------------------------------------------
def save_process(user: User, city: City, process: Process) -> Process:
    """Create or update a process of ``city`` (its district and measure must be of the same city)."""
    require_staff(user, city)
    if process.city_id is None:
        process.city = city
    _same_city(process, city)
    for name in ("district", "measure"):
        related = getattr(process, name) if getattr(process, f"{name}_id") else None
        if related is not None and related.city_id != city.pk:
            raise ValidationError({name: _("This belongs to another city.")})
    if phases.process_kind(process.kind) is None:
        raise ValidationError({"kind": _("Unknown kind of process.")})
    if Process.objects.filter(city=city, slug=process.slug).exclude(pk=process.pk).exists():
        raise ValidationError(
            {"slug": _("Another process of this city already has this short name.")}
        )
    with transaction.atomic():
        process.full_clean()
        process.save()
    return process


def publish_process(user: User, process: Process, publish: bool = True) -> Process:
    """Publish a draft process (or take it back to a draft): an explicit action, never a side
    effect of saving. Drafts are seen only by the city's staff."""
    require_staff(user, process.city)
    with transaction.atomic():
        process.is_published = publish
        process.save(update_fields=["is_published"])
    return process


# --- phases ---------------------------------------------------------------------------------------
def overlapping_phase(phase: Phase) -> Phase | None:
    """Another phase of the same process whose time span overlaps this one's (spans are half-open,
    [start, end), so one phase may end exactly when the next begins)."""
    others = Phase.objects.filter(process_id=phase.process_id).exclude(pk=phase.pk)
    return others.filter(start__lt=phase.end, end__gt=phase.start).order_by("start").first()


def check_phase(phase: Phase) -> None:
    allowed = {key for key, _label in phases.phase_kind_choices(phase.process.kind)}
    if phase.kind not in allowed:
        raise ValidationError({"kind": _("This kind of phase is not available for this process.")})
    if phase.start and phase.end and phase.end <= phase.start:
        raise ValidationError({"end": _("The end must lie after the start.")})
    other = overlapping_phase(phase)
    if other is not None:
        raise ValidationError(
            {"start": _("This overlaps the phase “%(title)s”.") % {"title": other.title}}
        )


def save_phase(user: User, phase: Phase) -> Phase:
    """Create or update a phase; its span must not overlap another phase of the process."""
    process = phase.process
    require_staff(user, process.city)
    phase.city_id = process.city_id
    with transaction.atomic():
        # Lock the process so two simultaneous edits cannot both pass the overlap check.
        Process.objects.select_for_update().filter(pk=process.pk).values_list("pk").get()
        check_phase(phase)
        phase.full_clean()
        phase.save()
    return phase


def delete_phase(user: User, phase: Phase) -> None:
    require_staff(user, phase.city)
    with transaction.atomic():
        phase.delete()


# --- categories -----------------------------------------------------------------------------------
def save_category(user: User, category: Category) -> Category:
    process = category.process
    require_staff(user, process.city)
    category.city_id = process.city_id
    with transaction.atomic():
        category.full_clean()
        category.save()
    return category


def delete_category(user: User, category: Category) -> None:
    """Delete a category; its ideas keep their place without a category."""
    require_staff(user, category.city)
    with transaction.atomic():
        category.delete()


# --- surveys and questions ------------------------------------------------------------------------
def save_survey(user: User, survey: Survey) -> Survey:
    process = survey.process
    require_staff(user, process.city)
    survey.city_id = process.city_id
    with transaction.atomic():
        survey.full_clean()
        survey.save()
    return survey


def publish_survey(user: User, survey: Survey, publish: bool = True) -> Survey:
    """Publish a draft survey (or take it back to a draft). A survey without questions cannot be
    published. People see it once its process is published too."""
    require_staff(user, survey.city)
    with transaction.atomic():
        # Lock the survey so a question cannot be deleted while it is being published.
        Survey.objects.select_for_update().filter(pk=survey.pk).values_list("pk").get()
        if publish and not survey.questions.exists():
            raise ValidationError(
                _("A survey without questions cannot be published. Add a question first.")
            )
        survey.is_published = publish
        survey.save(update_fields=["is_published"])
    return survey


def check_question(question: Question) -> None:
    """Choice questions need at least two distinct choices; rating scales run from 1 to 2…10."""
    choices = question.choices
    if question.kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
        if not isinstance(choices, list) or not all(
            isinstance(c, str) and c.strip() for c in choices
        ):
            raise ValidationError({"choices": _("Choices must be a list of texts.")})
        if len(choices) < 2:
            raise ValidationError({"choices": _("Give at least two choices, one per line.")})
        if len({c.strip().casefold() for c in choices}) != len(choices):
            raise ValidationError({"choices": _("Each choice may appear only once.")})
    elif choices:
        raise ValidationError(
            {"choices": _("Only single and multiple choice questions have choices.")}
        )
    if question.kind == QuestionKind.RATING and not 2 <= (question.scale_max or 0) <= 10:
        raise ValidationError(
            {"scale_max": _("The scale runs from 1 to a number between 2 and 10.")}
        )


def save_question(user: User, question: Question) -> Question:
    survey = question.survey
    require_staff(user, survey.city)
    question.city_id = survey.city_id
    if question.kind not in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
        question.choices = []
    check_question(question)
    with transaction.atomic():
        question.full_clean()
        question.save()
    return question


def delete_question(user: User, question: Question) -> None:
    """Delete a question; answers already given to it stay in the responses but are no longer shown."""
    require_staff(user, question.city)
    with transaction.atomic():
        survey = Survey.objects.select_for_update().get(pk=question.survey_id)
        if survey.is_published and survey.questions.count() == 1:
            raise ValidationError(
                _(
                    "This is the only question of a published survey. Take the survey back to a "
                    "draft first, or add another question."
                )
            )
        question.delete()
