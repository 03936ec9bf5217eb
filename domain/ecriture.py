"""Small rules of French writing used by templates and e-mails (docs/ecriture.md)."""

import unicodedata

VOWELS = frozenset("aeiouyh")  # h: most names (Hélène, Hugo) take the elision


def de(name: str | None) -> str:
    """« de Paul », « d'Inès », « d'Hélène »: the preposition before a name."""
    name = (name or "").strip()
    first = unicodedata.normalize("NFD", name[:1].lower())[:1]
    return f"d'{name}" if first in VOWELS else f"de {name}"


def offer_title(association: str, programme: str) -> str:
    """An association and its programme without saying a name twice: « Savoirs Partagés à
    distance », not « Savoirs Partagés — programme Savoirs Partagés à distance »."""
    if association.casefold() in programme.casefold():
        return programme
    return f"{association} — programme {programme}"
