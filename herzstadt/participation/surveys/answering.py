"""Answering a survey of a process: who may answer, what counts as a valid answer, and how anonymous
answers are protected against repeat submissions and bots without third-party services.

Signed-in people (verified e-mail, not blocked in the city) answer once each; the database enforces
it (``response_once_per_person``). When a survey allows answers without an account, four layers keep
it honest, none of which stores personal data:

1. a one-time form token, signed with :class:`~django.core.signing.TimestampSigner` (a salt per
   survey) around a random nonce. It must be at least :data:`MIN_FORM_SECONDS` old (people need a
   moment, bots do not) and at most :data:`MAX_FORM_SECONDS`. A keyed hash (HMAC-SHA256 with the
   ``SECRET_KEY``) of the nonce is stored with the answers; it is unique per survey
   (``response_token_once``), so the same form cannot be sent twice;
2. a honeypot field that people never see; when it is filled the answers are quietly refused;
3. a signed cookie per survey, set after answering, so the page can say "you have already answered
   from this browser" (a soft check: clearing cookies gets round it, the other layers still hold);
4. a rate limit per keyed hash of the client's IP address (the address itself is never stored):
   at most :data:`RATE_LIMIT` anonymous answers per survey and hour. It counts in Django's cache;
   with the default per-process memory cache each worker process counts on its own, so behind
   several workers configure a shared cache (database or Redis) to make the limit exact.

Answers are stored as ``{str(question_id): value}``; value is ``str`` (single choice: the choice's
text; free text), ``list[str]`` (multiple choice: the texts, in the question's order) or ``int``
(rating).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from herzstadt.core import permissions
from herzstadt.core.client_ip import client_ip as _client_ip
from herzstadt.participation.models import Question, QuestionKind, Survey, SurveyResponse
from herzstadt.participation.permissions import SURVEY_OPEN, SURVEY_SIGN_IN
from herzstadt.participation.surveys.results import survey_results

#: A form sent back sooner than this after it was issued is refused (a time trap for bots).
MIN_FORM_SECONDS = 3
#: A form token is valid this long after it was issued.
MAX_FORM_SECONDS = 6 * 60 * 60
#: At most this many anonymous answers per survey from one (hashed) IP address per window.
RATE_LIMIT = 30
RATE_WINDOW_SECONDS = 60 * 60
#: Free-text answers are cut off at this length (the form says so and refuses longer ones).
TEXT_MAX_LENGTH = 2000
#: Name of the honeypot field, and of the field carrying the form token.
HONEYPOT_FIELD = "website"
TOKEN_FIELD = "form_token"  # noqa: S105 - a field name, not a secret
#: The soft "answered from this browser" cookie: one per survey, signed, valid for a year.
COOKIE_MAX_AGE = 365 * 24 * 60 * 60
_COOKIE_SALT = "herzstadt.participation.survey.answered"


# --- outcomes the views turn into pages ----------------------------------------------------------
class AlreadyAnswered(Exception):
    """This person (or this form) has already answered the survey."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class Rejected(Exception):
    """An anonymous submission was refused. ``reason`` is one of :data:`REJECTIONS`; ``status`` the
    HTTP status the page should carry."""

    def __init__(self, reason: str):
        self.reason = reason
        self.message, self.status = REJECTIONS[reason]
        super().__init__(str(self.message))


REJECTIONS: dict[str, tuple[Any, int]] = {
    # A filled honeypot: neutral on purpose, so a bot learns nothing.
    "honeypot": (gettext_lazy("Your answers could not be accepted."), 400),
    "invalid": (
        gettext_lazy(
            "The form could not be verified. Please check your answers and send them again."
        ),
        400,
    ),
    "expired": (
        gettext_lazy(
            "The form was open for too long. Please check your answers and send them again."
        ),
        400,
    ),
    "too_fast": (
        gettext_lazy("That was very quick. Please check your answers and send them again."),
        400,
    ),
    "rate_limited": (
        gettext_lazy(
            "Too many answers have come from your network in the last hour. Please try again later."
        ),
        429,
    ),
}


# --- who may answer -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Access:
    """What the visitor may do with a survey, and why not."""

    can_answer: bool
    #: Why not, in one sentence for the page ("" when they may answer).
    reason: str = ""
    #: The phase is open (so signing in, or confirming the e-mail address, would help).
    open: bool = True
    #: Signing in would let them answer.
    needs_sign_in: bool = False


def access(survey: Survey, user) -> Access:
    """May ``user`` (anonymous or not) answer ``survey`` now? Does not look at earlier answers. The
    rule is ``participation.answer_survey`` (``participation/permissions.py``)."""
    reason = permissions.explain(user, "participation.answer_survey", survey)
    if reason is None:
        return Access(True)
    if not SURVEY_OPEN.predicate.test(user, survey):
        return Access(False, reason, open=False)
    needs_sign_in = not SURVEY_SIGN_IN.predicate.test(user, survey)
    return Access(False, reason, needs_sign_in=needs_sign_in)


def has_answered(survey: Survey, user) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return SurveyResponse.objects.filter(survey=survey, user=user).exists()


# --- validation -----------------------------------------------------------------------------------
def _choice(question: Question, raw: Any) -> str | None:
    """The choice's text for ``raw``: an index (``int``, or a string of digits as the form sends)
    or the exact text of one of the choices; ``None`` when it is neither."""
    choices = [str(c) for c in question.choices or []]
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return choices[raw] if 0 <= raw < len(choices) else None
    if isinstance(raw, str):
        text = raw.strip()
        if text.isascii() and text.isdigit() and int(text) < len(choices):
            return choices[int(text)]
        if raw in choices:
            return raw
    return None


def _is_blank(raw: Any) -> bool:
    if raw is None:
        return True
    if isinstance(raw, str):
        return not raw.strip()
    if isinstance(raw, list | tuple | set):
        return not any(not _is_blank(item) for item in raw)
    return False


def clean_answer(question: Question, raw: Any) -> str | list[str] | int | None:
    """One question's answer, cleaned; ``None`` when not answered. Raises ``ValidationError``."""
    if _is_blank(raw):
        if question.required:
            raise ValidationError(_("Please answer this question."), code="required")
        return None
    kind = question.kind
    if kind == QuestionKind.SINGLE:
        if isinstance(raw, list | tuple):
            if len(raw) != 1:
                raise ValidationError(_("Please choose one answer."), code="invalid_choice")
            raw = raw[0]
        choice = _choice(question, raw)
        if choice is None:
            raise ValidationError(
                _("Please choose one of the answers offered."), code="invalid_choice"
            )
        return choice
    if kind == QuestionKind.MULTIPLE:
        items = list(raw) if isinstance(raw, list | tuple | set) else [raw]
        picked = set()
        for item in items:
            if _is_blank(item):
                continue
            choice = _choice(question, item)
            if choice is None:
                raise ValidationError(
                    _("Please choose only among the answers offered."), code="invalid_choice"
                )
            picked.add(choice)
        # In the question's order, each once.
        return [str(c) for c in question.choices if str(c) in picked]
    if kind == QuestionKind.TEXT:
        if not isinstance(raw, str):
            raise ValidationError(_("Please enter text."), code="invalid")
        text = raw.strip().replace("\r\n", "\n")
        if len(text) > TEXT_MAX_LENGTH:
            raise ValidationError(
                _("Please write at most %(max)d characters (you wrote %(n)d).")
                % {"max": TEXT_MAX_LENGTH, "n": len(text)},
                code="max_length",
            )
        return text
    if kind == QuestionKind.RATING:
        if isinstance(raw, bool):
            value = None
        elif isinstance(raw, int):
            value = raw
        elif isinstance(raw, str) and raw.strip().isascii() and raw.strip().isdigit():
            value = int(raw.strip())
        else:
            value = None
        if value is None or not 1 <= value <= question.scale_max:
            raise ValidationError(
                _("Please choose a value from 1 to %(max)d.") % {"max": question.scale_max},
                code="out_of_range",
            )
        return value
    raise ValidationError(_("This question cannot be answered."), code="invalid")  # unknown kind


def clean_answers(questions: Iterable[Question], raw: Mapping[str, Any]) -> dict[str, Any]:
    """All answers, cleaned, as stored: ``{str(question_id): value}`` without unanswered questions.
    Raises ``ValidationError`` with a dict ``{str(question_id): [messages]}``. Keys of ``raw`` that
    are not questions of the survey are ignored."""
    answers: dict[str, Any] = {}
    errors: dict[str, list] = {}
    for question in questions:
        key = str(question.pk)
        try:
            value = clean_answer(question, raw.get(key))
        except ValidationError as e:
            errors[key] = e.error_list
            continue
        if value is not None:
            answers[key] = value
    if errors:
        raise ValidationError(errors)
    return answers


# --- the anonymous protections --------------------------------------------------------------------
def _signer(survey: Survey) -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=f"herzstadt.participation.survey.{survey.pk}")


def issue_token(survey: Survey) -> str:
    """A fresh one-time form token: a random nonce, signed with the time it was issued."""
    return _signer(survey).sign(secrets.token_urlsafe(18))


def check_token(survey: Survey, token: str) -> str:
    """The nonce of a valid token; raises :class:`Rejected` ("invalid", "expired", "too_fast")."""
    signer = _signer(survey)
    try:
        nonce = signer.unsign(token or "", max_age=MAX_FORM_SECONDS)
    except signing.SignatureExpired:
        raise Rejected("expired") from None
    except signing.BadSignature:
        raise Rejected("invalid") from None
    # Signed, so the timestamp is the one we wrote: value:timestamp:signature.
    issued = signing.b62_decode(token.rsplit(signer.sep, 2)[1])
    if time.time() - issued < MIN_FORM_SECONDS:
        raise Rejected("too_fast")
    return nonce


def _keyed_hash(*parts: object) -> str:
    message = "\x1f".join(str(p) for p in parts).encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()


def token_hash(survey: Survey, nonce: str) -> str:
    return _keyed_hash("survey-token", survey.pk, nonce)


def client_ip(request) -> str:
    """The client's address (``HERZSTADT_TRUSTED_PROXY_HOPS`` decides which; see core/client_ip.py)."""
    return _client_ip(request)


def _rate_key(survey: Survey, ip: str) -> str:
    return f"herzstadt:survey-rate:{survey.pk}:{_keyed_hash('survey-ip', ip)}"


def rate_limited(survey: Survey, ip: str | None) -> bool:
    if not ip or RATE_LIMIT <= 0:
        return False
    return int(cache.get(_rate_key(survey, ip), 0)) >= RATE_LIMIT


def _count_answer(survey: Survey, ip: str | None) -> None:
    if not ip:
        return
    key = _rate_key(survey, ip)
    cache.add(key, 0, timeout=RATE_WINDOW_SECONDS)
    try:
        cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=RATE_WINDOW_SECONDS)


def cookie_name(survey: Survey) -> str:
    return f"hz_survey_{survey.pk}"


def answered_in_browser(request, survey: Survey) -> bool:
    value = request.get_signed_cookie(
        cookie_name(survey), default=None, salt=_COOKIE_SALT, max_age=COOKIE_MAX_AGE
    )
    return value == str(survey.pk)


def remember_in_browser(request, response, survey: Survey) -> None:
    response.set_signed_cookie(
        cookie_name(survey),
        str(survey.pk),
        salt=_COOKIE_SALT,
        max_age=COOKIE_MAX_AGE,
        secure=request.is_secure(),
        httponly=True,
        samesite="Lax",
    )


def _already_stored(survey: Survey, user, digest: str) -> bool:
    """A quick look before writing (the unique constraints have the last word)."""
    if user is not None:
        return SurveyResponse.objects.filter(survey=survey, user=user).exists()
    return bool(digest) and SurveyResponse.objects.filter(survey=survey, token_hash=digest).exists()


def _already_answered(signed_in: bool) -> AlreadyAnswered:
    if signed_in:
        return AlreadyAnswered(_("You have already answered this survey."))
    return AlreadyAnswered(_("This form has already been sent. Each form can be sent only once."))


# --- the use case ---------------------------------------------------------------------------------
def answer_survey(
    survey: Survey,
    raw_answers: Mapping[str, Any],
    *,
    user=None,
    token: str = "",
    honeypot: str = "",
    ip: str | None = None,
) -> SurveyResponse:
    """Store one response to ``survey``.

    ``raw_answers`` maps ``str(question_id)`` to the submitted value: for choices an index (``int``
    or a string of digits) or the exact text of a choice, a list of those for multiple choice; text
    for free text; an ``int`` (or digits) for a rating. Signed-in people pass ``user``; anonymous
    answers (only when the survey allows them) pass the form ``token``, the ``honeypot`` field's
    value and the client's ``ip`` (only its keyed hash is used, in the cache, never stored).

    Raises ``PermissionDenied`` (not allowed now), :class:`Rejected` (anonymous protections),
    ``ValidationError`` (``{question_id: [messages]}``) or :class:`AlreadyAnswered`.
    """
    allowed = access(survey, user)
    if not allowed.can_answer:
        raise PermissionDenied(allowed.reason)
    signed_in = getattr(user, "is_authenticated", False)
    digest = ""
    if not signed_in:
        if honeypot:
            raise Rejected("honeypot")
        nonce = check_token(survey, token)
        digest = token_hash(survey, nonce)
        if rate_limited(survey, ip):
            raise Rejected("rate_limited")
    questions = list(survey.questions.all())
    answers = clean_answers(questions, raw_answers)
    if _already_stored(survey, user if signed_in else None, digest):
        raise _already_answered(signed_in)
    try:
        with transaction.atomic():
            response = SurveyResponse.objects.create(
                city=survey.city,
                survey=survey,
                user=user if signed_in else None,
                token_hash=digest,
                answers=answers,
            )
    except IntegrityError:
        # Two submissions raced past the check above; the unique constraints let only one through.
        raise _already_answered(signed_in) from None
    if not signed_in:
        _count_answer(survey, ip)
    return response


# --- results --------------------------------------------------------------------------------------
def _percent(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 1) if whole else 0.0


def aggregate(survey: Survey) -> dict[str, Any]:
    """The survey's results for the public results page: ``responses`` (their number) and
    ``questions``, the rows of :func:`survey_results.survey_results` with each choice question's
    counts also under ``options`` and the free texts left out (they are for staff only)."""
    rows = survey_results(survey)
    questions = [{**row, "options": row["choices"], "texts": []} for row in rows]
    return {"responses": survey.responses.count(), "questions": questions}
