"""Who may vote: electors from the census import, voting codes and verified accounts; one person,
one vote across every channel. (Contract; helper "eligible" builds it.)

- ``secret_hash(decision, value) -> str``: HMAC-SHA-256 of a normalised code or identifier with the
  decision's ``salt`` (hex). Only such hashes are stored.
- ``authorize_account(decision, user) -> Elector``, ``authorize_code(decision, code) -> Elector``,
  ``authorize_identifier(decision, identifier) -> Elector``: the elector who may cast a ballot now,
  or :class:`NotEligible` (``code``: "not_verified", "unknown_code", "not_on_census",
  "already_voted", "channel_closed").
"""

from __future__ import annotations

from herzstadt.decisions.models import Decision, Elector


class NotEligible(Exception):
    def __init__(self, code: str, **params: object) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


def secret_hash(decision: Decision, value: str) -> str:
    raise NotImplementedError


def authorize_account(decision: Decision, user: object) -> Elector:
    raise NotImplementedError


def authorize_code(decision: Decision, code: str) -> Elector:
    raise NotImplementedError


def authorize_identifier(decision: Decision, identifier: str) -> Elector:
    raise NotImplementedError
