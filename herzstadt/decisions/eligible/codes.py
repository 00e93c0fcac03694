"""Voting codes: random, typed by people from a letter, stored only as salted hashes.

A code is 20 characters from a 31-character alphabet without look-alikes (no 0/O, 1/I/L): about 99
bits from :mod:`secrets`, printed in five groups of four ("K7QM-…"). Guessing one online, or from its
hash without the salt, is hopeless; with the salt (a database administrator) still ~2^99 tries.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable

from django.db import transaction

from herzstadt.decisions.eligibility import secret_hash
from herzstadt.decisions.models import Decision, Elector

ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 20
GROUP = 4
#: the most codes one request makes (a letter run of a larger census is split by district)
MAX_CODES = 50_000


def new_code() -> str:
    """A fresh code in its printed form, e.g. ``"K7QM-2XRT-…"``."""
    raw = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    return "-".join(raw[i : i + GROUP] for i in range(0, CODE_LENGTH, GROUP))


def bits() -> float:
    import math

    return CODE_LENGTH * math.log2(len(ALPHABET))


@transaction.atomic
def issue_codes(decision: Decision, count: int) -> list[str]:
    """``count`` new electors who each hold one new code (no census row: letters to households or
    to a list kept elsewhere). Returns the plain codes — print them now; they are not kept."""
    if not 0 < count <= MAX_CODES:
        raise ValueError(f"between 1 and {MAX_CODES} codes")
    codes = [new_code() for _ in range(count)]
    Elector.objects.bulk_create(
        [
            Elector(city_id=decision.city_id, decision=decision, code_hash=secret_hash(decision, c))
            for c in codes
        ]
    )
    return codes


def give_codes(decision: Decision, electors: Iterable[Elector]) -> dict[int, str]:
    """A new code for each elector without one: ``{elector id: plain code}`` (inside the caller's
    transaction). Electors that already hold a code keep it (their letter is out)."""
    issued: dict[int, str] = {}
    changed = []
    for elector in electors:
        if elector.code_hash:
            continue
        code = new_code()
        elector.code_hash = secret_hash(decision, code)
        issued[elector.pk] = code
        changed.append(elector)
    Elector.objects.bulk_update(changed, ["code_hash"], batch_size=1000)
    return issued
