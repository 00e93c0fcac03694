"""Casting a ballot. (Contract; helper "ballot" builds it.)

``cast(decision, elector, choice, channel) -> str``: in one transaction, checks that voting is open
and the channel allowed, validates ``choice`` with the decision's ballot style, marks the elector as
having voted (a conditional update: a second ballot of the same elector raises
:class:`AlreadyVoted`), and puts the ballot into the mixing pool. Returns the voter's receipt (shown
once; only its hash is stored). ``elector`` is ``None`` only for a reconciled postal sheet, whose
voting card was registered (and its elector marked) when the envelope was opened.
"""

from __future__ import annotations

from collections.abc import Mapping

from herzstadt.decisions.models import Decision, Elector


class VotingError(Exception):
    """A ballot that cannot be cast; ``code`` names the reason (the caller translates it)."""

    def __init__(self, code: str, **params: object) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


class AlreadyVoted(VotingError):
    def __init__(self) -> None:
        super().__init__("already_voted")


def cast(
    decision: Decision, elector: Elector | None, choice: Mapping[str, int], channel: str
) -> str:
    raise NotImplementedError
