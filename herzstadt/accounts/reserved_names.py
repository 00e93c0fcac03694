"""Display names that imitate a city, its offices or its team are refused.

Display names are platform-wide (one account for every hosted city), so a name is checked against
every hosted city: its reserved-name list (``ReservedNames``, edited by the city's administrators;
:data:`DEFAULTS` while it has none), the same names combined with the city's name ("Stadt
Kaiserslautern", "Rathaus KL" does not count, "Kaiserslautern Stadtverwaltung" does), the city's
name alone and the names of its offices. Comparison ignores case, spaces, punctuation, accents and
umlaut spellings (ü = ue), and characters that look alike (Cyrillic "а", "0" for "o", "1" for "l"…).
"""

from __future__ import annotations

import re
import unicodedata

from herzstadt.core.models import City, CityRole, Office

#: The defaults of every city's list; a trailing ``*`` reserves every name beginning like this.
DEFAULTS = (
    "Stadt",
    "Stadtverwaltung*",
    "Verwaltung",
    "Oberbürgermeister*",
    "Bürgermeister*",
    "Rathaus*",
    "Moderat*",
    "Admin*",
    "Offiziell*",
    "herzstadt*",
)

#: Words that do not change who a name claims to be ("Team Stadtverwaltung", "Die Stadt").
FILLERS = frozenset(
    {"der", "die", "das", "des", "von", "vom", "team", "official", "the", "city", "of"}
)

_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})
#: Look-alikes, mapped to the Latin letter they imitate (after lower-casing).
_LOOKALIKES = str.maketrans(
    {
        "0": "o", "1": "l", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "|": "l",
        "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "у": "y", "х": "x", "і": "i", "ј": "j",
        "ѕ": "s", "к": "k", "м": "m", "н": "h", "т": "t", "в": "b", "ԁ": "d", "ɡ": "g", "ı": "i",
        "ο": "o", "α": "a", "ε": "e", "ι": "i", "κ": "k", "ν": "v", "ρ": "p", "τ": "t", "υ": "u",
    }
)  # fmt: skip


def _words(text: str) -> list[str]:
    text = unicodedata.normalize("NFKC", text).casefold().translate(_UMLAUTS)
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    text = text.translate(_LOOKALIKES).replace("ue", "u").replace("ae", "a").replace("oe", "o")
    return [w for w in re.split(r"[^a-z0-9]+", text) if w]


def normalise(text: str) -> str:
    """``text`` reduced to what it looks like: lower-case Latin letters and digits, no spaces."""
    return "".join(_words(text))


def entries_of(city: City) -> list[str]:
    from herzstadt.accounts.models import ReservedNames

    row = ReservedNames.objects.filter(city=city).first()
    lines = row.names.splitlines() if row is not None else DEFAULTS
    return [line.strip() for line in lines if line.strip()]


def _matches(name: str, entry: str) -> bool:
    prefix = entry.endswith("*")
    pattern = normalise(entry.rstrip("*"))
    if not pattern:
        return False
    return name.startswith(pattern) if prefix else name == pattern


def is_reserved(display_name: str) -> bool:
    words = [w for w in _words(display_name) if w not in FILLERS]
    whole = "".join(_words(display_name))
    if not whole:
        return False
    for city in City.objects.filter(role=CityRole.HOSTED):
        city_names = {normalise(n) for n in (city.name, city.official_name, city.slug) if n}
        city_names.discard("")
        stripped = "".join(words)
        for city_name in sorted(city_names, key=len, reverse=True):
            stripped = stripped.replace(city_name, "")
        if whole in city_names or (not stripped and words):
            return True  # the city's name alone ("Kaiserslautern", "Die Stadt Kaiserslautern")
        entries = entries_of(city)
        for candidate in {whole, "".join(words), stripped}:
            if any(_matches(candidate, entry) for entry in entries):
                return True
        offices = {
            normalise(n) for n in Office.objects.filter(city=city).values_list("name", flat=True)
        }
        if whole in offices or stripped in offices:
            return True
    return False
