"""The survey form, built from the survey's questions, and what its template needs to render it
accessibly: groups of radio buttons or checkboxes in a fieldset with a legend, a textarea for free
text, hints and errors tied to the controls with ``aria-describedby``, and an error summary.

Validation itself lives in :mod:`herzstadt.participation.surveys.answering` (the use case checks every answer);
this module only turns the posted data into raw answers and the errors back into the page.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError

from herzstadt.participation.models import Question, QuestionKind, Survey
from herzstadt.participation.surveys import answering as surveys


def display_choices(question: Question) -> list[str]:
    """The choices in the active language (a translation is used only when it has as many)."""
    choices = [str(c) for c in question.choices or []]
    translated = question.tr.choices
    if isinstance(translated, list) and len(translated) == len(choices):
        return [str(c) for c in translated]
    return choices


@dataclass
class Option:
    id: str
    value: str
    label: str
    checked: bool = False
    #: For rating scales: "low" on the first value, "high" on the last.
    end: str = ""


@dataclass
class QuestionField:
    question: Question
    name: str
    kind: str
    options: list[Option] = field(default_factory=list)
    value: str = ""
    errors: list[str] = field(default_factory=list)

    @property
    def id(self) -> str:
        """The id to link to: the textarea, or the first control of a group."""
        return self.options[0].id if self.options else self.name

    @property
    def group_id(self) -> str:
        return f"{self.name}-group"

    @property
    def help_id(self) -> str:
        return f"{self.name}-help"

    @property
    def error_id(self) -> str:
        return f"{self.name}-error"

    @property
    def has_help(self) -> bool:
        return bool(self.question.help_text) or self.kind in (
            QuestionKind.TEXT,
            QuestionKind.RATING,
        )

    @property
    def describedby(self) -> str:
        ids = []
        if self.errors:
            ids.append(self.error_id)
        if self.has_help:
            ids.append(self.help_id)
        return " ".join(ids)

    @property
    def is_group(self) -> bool:
        return self.kind != QuestionKind.TEXT

    @property
    def is_radio(self) -> bool:
        return self.kind in (QuestionKind.SINGLE, QuestionKind.RATING)

    @property
    def max_length(self) -> int:
        return surveys.TEXT_MAX_LENGTH

    @property
    def scale_max(self) -> int:
        return self.question.scale_max


class SurveyForm:
    """The posted data of one survey as raw answers for :func:`surveys.answer_survey`, and the state
    the template renders (controls, chosen values, errors)."""

    def __init__(self, survey: Survey, questions: list[Question], data: Mapping | None = None):
        self.survey = survey
        self.questions = questions
        self.data = data
        self.non_field_errors: list[str] = []
        self.fields = [self._field(q) for q in questions]
        self._by_key = {str(f.question.pk): f for f in self.fields}

    @staticmethod
    def name_for(question: Question) -> str:
        return f"q{question.pk}"

    def _posted(self, name: str) -> list[str]:
        if self.data is None:
            return []
        if hasattr(self.data, "getlist"):
            return list(self.data.getlist(name))
        value = self.data.get(name)
        if value is None:
            return []
        return list(value) if isinstance(value, list | tuple) else [value]

    def _field(self, q: Question) -> QuestionField:
        name = self.name_for(q)
        posted = self._posted(name)
        f = QuestionField(question=q, name=name, kind=q.kind)
        if q.kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
            f.options = [
                Option(id=f"{name}-{i}", value=str(i), label=label, checked=str(i) in posted)
                for i, label in enumerate(display_choices(q))
            ]
        elif q.kind == QuestionKind.RATING:
            f.options = [
                Option(
                    id=f"{name}-{v}",
                    value=str(v),
                    label=str(v),
                    checked=str(v) in posted,
                    end="low" if v == 1 else ("high" if v == q.scale_max else ""),
                )
                for v in range(1, q.scale_max + 1)
            ]
        else:
            f.value = posted[0] if posted else ""
        return f

    @property
    def is_bound(self) -> bool:
        return self.data is not None

    def raw_answers(self) -> dict[str, Any]:
        """``{str(question_id): posted value}``: a list for multiple choice, else one string."""
        raw: dict[str, Any] = {}
        for f in self.fields:
            posted = self._posted(f.name)
            if f.kind == QuestionKind.MULTIPLE:
                raw[str(f.question.pk)] = posted
            elif posted:
                raw[str(f.question.pk)] = posted[0] if len(posted) == 1 else posted
        return raw

    def add_errors(self, error: ValidationError) -> None:
        if hasattr(error, "error_dict"):
            for key, errors in error.message_dict.items():
                target = self._by_key.get(key)
                if target is None:
                    self.non_field_errors.extend(errors)
                else:
                    target.errors.extend(errors)
        else:
            self.non_field_errors.extend(error.messages)

    @property
    def has_errors(self) -> bool:
        return bool(self.non_field_errors) or any(f.errors for f in self.fields)

    @property
    def error_summary(self) -> list[dict[str, str]]:
        return [
            {"id": f.id, "question": f.question.tr.text, "message": message}
            for f in self.fields
            for message in f.errors
        ]
