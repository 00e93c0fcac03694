"""Who may vote: electors from the census import, voting codes and verified accounts; one person,
one vote across every channel (docs/voting.md, "Eligibility").

- ``secret_hash(decision, value) -> str``: HMAC-SHA-256 of a normalised code or identifier with the
  decision's ``salt`` (hex). Only such hashes are stored.
- ``authorize_account(decision, user) -> Elector``, ``authorize_code(decision, code) -> Elector``,
  ``authorize_identifier(decision, identifier) -> Elector``: the elector who may cast a ballot now,
  or :class:`NotEligible` (``code``: "not_verified", "unknown_code", "not_on_census",
  "already_voted", "channel_closed").
- ``verify_account(decision, user, code) -> Elector``: a signed-in person proves that they are on the
  census (or hold a letter) by entering the code of their letter; that links the account to the
  person's one elector row, so the account, the code, the booth and the post all reach the same
  ``has_voted``.

A decision gets its random ``salt`` when it is first saved (:func:`give_salt`, a ``pre_save`` hook).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import unicodedata
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models.signals import pre_save
from django.dispatch import receiver

from herzstadt.decisions.models import Decision, Elector

#: the channel → the decision's switch for it (the ``channel`` argument of the authorize functions)
CHANNEL_FIELDS = {
    "web": "channel_web",
    "code": "channel_code",
    "booth": "channel_booth",
    "postal": "channel_postal",
}


class NotEligible(Exception):
    def __init__(self, code: str, **params: object) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


@receiver(pre_save, sender=Decision, dispatch_uid="decisions.give_salt")
def give_salt(sender: Any, instance: Decision, **kwargs: Any) -> None:
    """Every decision gets its own secret salt (256 bits) before it is first stored."""
    if not instance.salt:
        instance.salt = secrets.token_hex(32)


def normalise(value: str) -> str:
    """A code or identifier as typed → its canonical form: Unicode NFKC, upper case, without
    spaces, hyphens and dots (so "abcd-efgh" and "ABCD EFGH" are the same code)."""
    text = unicodedata.normalize("NFKC", value or "").upper()
    return "".join(ch for ch in text if ch.isalnum())


def secret_hash(decision: Decision, value: str) -> str:
    """HMAC-SHA-256 (hex) of the normalised ``value`` keyed with the decision's secret salt."""
    if not decision.salt:
        raise ValueError("the decision has no salt yet (save it first)")
    return hmac.new(
        decision.salt.encode("ascii"), normalise(value).encode("utf-8"), hashlib.sha256
    ).hexdigest()


def _open_channel(decision: Decision, channel: str) -> None:
    field = CHANNEL_FIELDS.get(channel)
    if field is None or not getattr(decision, field):
        raise NotEligible("channel_closed", channel=channel)


def _not_voted(elector: Elector) -> Elector:
    if elector.has_voted:
        raise NotEligible("already_voted")
    return elector


def authorize_account(decision: Decision, user: Any) -> Elector:
    """The elector row a signed-in, verified account is linked to (see :func:`verify_account`)."""
    _open_channel(decision, "web")
    if not getattr(user, "is_authenticated", False):
        raise NotEligible("not_verified")
    elector = Elector.objects.filter(decision=decision, account=user).first()
    if elector is None:
        raise NotEligible("not_verified")
    return _not_voted(elector)


def authorize_code(decision: Decision, code: str, *, channel: str = "code") -> Elector:
    """The elector holding voting code ``code`` (online: ``channel="code"``; a clerk who identifies
    a person at the booth or registers a returned voting card passes "booth" or "postal")."""
    _open_channel(decision, channel)
    if not normalise(code):
        raise NotEligible("unknown_code")
    elector = Elector.objects.filter(
        decision=decision, code_hash=secret_hash(decision, code)
    ).first()
    if elector is None:
        raise NotEligible("unknown_code")
    return _not_voted(elector)


def authorize_identifier(decision: Decision, identifier: str, *, channel: str = "booth") -> Elector:
    """The census elector with ``identifier`` (for clerks at the booth or registering a voting card,
    who have seen the person's identity document)."""
    _open_channel(decision, channel)
    if not normalise(identifier):
        raise NotEligible("not_on_census")
    elector = Elector.objects.filter(
        decision=decision, identifier_hash=secret_hash(decision, identifier)
    ).first()
    if elector is None:
        raise NotEligible("not_on_census")
    return _not_voted(elector)


def authorize_person(decision: Decision, value: str, *, channel: str) -> Elector:
    """A clerk's lookup: ``value`` is a voting code or a census identifier (codes first: they are
    long and random, so an identifier never matches one by chance)."""
    try:
        return authorize_code(decision, value, channel=channel)
    except NotEligible as error:
        if error.code != "unknown_code":
            raise
    return authorize_identifier(decision, value, channel=channel)


def verify_account(decision: Decision, user: Any, code: str) -> Elector:
    """Link ``user`` to the elector row of the letter code ``code``: from now on the account may vote
    online (if the decision allows it), and it is the same elector as the code and the census row —
    one vote for all of them. Raises :class:`NotEligible`: "unknown_code", "code_taken" (another
    account is already linked to that letter), "already_verified" (this account is linked to another
    letter), "already_voted"."""
    if not getattr(user, "is_authenticated", False):
        raise NotEligible("not_verified")
    if not normalise(code):
        raise NotEligible("unknown_code")
    digest = secret_hash(decision, code)
    try:
        with transaction.atomic():
            elector = (
                Elector.objects.select_for_update()
                .filter(decision=decision, code_hash=digest)
                .first()
            )
            if elector is None:
                raise NotEligible("unknown_code")
            if elector.account_id == user.pk:
                return elector
            if elector.account_id is not None:
                raise NotEligible("code_taken")
            if Elector.objects.filter(decision=decision, account=user).exists():
                raise NotEligible("already_verified")
            if elector.has_voted:
                raise NotEligible("already_voted")
            elector.account = user
            elector.save(update_fields=["account"])
            return elector
    except IntegrityError as error:  # the same account linked in a parallel request
        raise NotEligible("already_verified") from error


def is_verified(decision: Decision, user: Any) -> bool:
    """Whether ``user`` has an elector row in ``decision`` (voted or not)."""
    return bool(getattr(user, "is_authenticated", False)) and (
        Elector.objects.filter(decision=decision, account=user).exists()
    )
