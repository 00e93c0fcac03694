"""The polling station (Abstimmungslokal): a clerk identifies the person by identifier or letter code
(:func:`~herzstadt.decisions.eligibility.authorize_person`), the person fills in the paper ballot in
the booth, and the clerk enters it: :func:`herzstadt.decisions.voting.cast` with channel "booth" —
the same conditional ``has_voted`` update as online, so a person who voted elsewhere is refused."""

from __future__ import annotations

from collections.abc import Mapping

from herzstadt.decisions import voting
from herzstadt.decisions.eligibility import authorize_person
from herzstadt.decisions.models import Decision


def identify(decision: Decision, value: str):
    """The elector the clerk may hand a ballot to (:class:`NotEligible` otherwise)."""
    return authorize_person(decision, value, channel="booth")


def cast_paper(decision: Decision, value: str, choice: Mapping[str, int]) -> str:
    """Identify again (the person may have voted online meanwhile) and cast; returns the receipt."""
    elector = identify(decision, value)
    return voting.cast(decision, elector, choice, "booth")
