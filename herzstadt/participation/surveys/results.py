"""Aggregated survey answers, one function for the public results page and the back office."""

from __future__ import annotations

from collections import Counter

from herzstadt.participation.models import QuestionKind, Survey


def _choice_label(value, choices: list[str]) -> str | None:
    """A stored single/multiple choice answer as its text: the text itself, or an index into choices."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return choices[value] if 0 <= value < len(choices) else None
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _rating(value, scale_max: int) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    if isinstance(value, float) and value != number:
        return None
    return number if 1 <= number <= scale_max else None


def _percent(count: int, of: int) -> float:
    return round(100 * count / of, 1) if of else 0.0


def survey_results(survey: Survey) -> list[dict]:
    """The aggregated answers to each question of ``survey``, in question order.

    Answers are read from ``SurveyResponse.answers`` (``{str(question_id): value}``): a single choice is
    the choice's text (or its 0-based index), a multiple choice a list of those, a rating an integer
    from 1 to ``scale_max``, a free text a string. Missing, empty and invalid values count as not
    answered.

    Every dict has the same keys:

    - ``question``: the ``Question``; ``id``, ``kind`` (a ``QuestionKind`` value), ``text`` (in the active
      language), ``scale_max``
    - ``total``: number of responses to the survey; ``answered``: how many of them answered this question
    - ``choices`` (single/multiple): ``[{"label", "count", "percent"}]``, one per choice in the question's
      order, then answers naming a choice that no longer exists; ``percent`` is of ``answered`` (for
      multiple choice the percentages can add up to more than 100)
    - ``mean`` (rating): the mean rating rounded to two places, or ``None`` without answers
    - ``distribution`` (rating): ``[{"label", "value", "count", "percent"}]`` for 1…``scale_max``
    - ``texts`` (free text): the answers in the order they were given (may contain personal data:
      check before publishing them)

    Keys that do not apply to a question's kind hold ``[]`` or ``None``.
    """
    questions = list(survey.questions.order_by("position", "id"))
    answers = list(survey.responses.order_by("created_at", "id").values_list("answers", flat=True))
    results = []
    for question in questions:
        key = str(question.pk)
        values = [a.get(key) for a in answers if isinstance(a, dict)]
        item = {
            "question": question,
            "id": question.pk,
            "kind": question.kind,
            "text": question.tr.text,
            "scale_max": question.scale_max,
            "total": len(answers),
            "answered": 0,
            "choices": [],
            "mean": None,
            "distribution": [],
            "texts": [],
        }
        if question.kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
            choices = list(question.choices or [])
            counts: Counter[str] = Counter()
            for value in values:
                picked = value if isinstance(value, list) else [value]
                labels = {label for v in picked if (label := _choice_label(v, choices)) is not None}
                if question.kind == QuestionKind.SINGLE and len(labels) > 1:
                    continue
                if labels:
                    item["answered"] += 1
                    counts.update(labels)
            extra = sorted(label for label in counts if label not in choices)
            item["choices"] = [
                {
                    "label": label,
                    "count": counts[label],
                    "percent": _percent(counts[label], item["answered"]),
                }
                for label in [*choices, *extra]
            ]
        elif question.kind == QuestionKind.RATING:
            ratings = [r for v in values if (r := _rating(v, question.scale_max)) is not None]
            item["answered"] = len(ratings)
            per_rating = Counter(ratings)
            item["distribution"] = [
                {
                    "label": str(n),
                    "value": n,
                    "count": per_rating[n],
                    "percent": _percent(per_rating[n], len(ratings)),
                }
                for n in range(1, question.scale_max + 1)
            ]
            item["mean"] = round(sum(ratings) / len(ratings), 2) if ratings else None
        else:
            texts = [v.strip() for v in values if isinstance(v, str) and v.strip()]
            item["answered"] = len(texts)
            item["texts"] = texts
        results.append(item)
    return results
