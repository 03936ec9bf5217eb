"""Which mentor for this youth, which youths for this mentor: candidates for a binôme
ranked by fit, each with its reasons in plain words.

Pure: no Flask, no database. The lead page reads the association's candidates in one
query (views.espace.lead) and asks `rank` for their order. The territory has no
coordinates, so distance is the same commune, then département, then région.

What counts, in WEIGHTS: the youth's besoin among the mentor's, how far apart they live
(when they can meet in person), whether their ways of meeting agree (in person, remote),
the mentor's availability, and whether the youth is among the publics he wishes to help.
"""

from dataclasses import dataclass

from domain import vocabulary as V
from domain.geo_names import DEPARTEMENTS, REGIONS
from domain.matcher import PUBLICS_MENTOR_JEUNES

WEIGHTS = {
    "besoin": 40,
    # Meeting in person: the closer the better. Remote only: distance does not matter.
    "commune": 30,
    "departement": 20,
    "region": 10,
    "a_distance": 15,
    # Neither way of meeting suits both: listed last, but staff may still choose it.
    "format_incompatible": -60,
    "publics": 15,
    "disponibilite": {"1_2h": 2, "2_4h": 4, "plus_4h": 6},
}

# The questionnaires' answers, as "can meet in person" / "can meet remotely".
IN_PERSON = {"proximite", "presentiel", "les_deux"}
REMOTE = {"distance", "les_deux"}
KNOWN = IN_PERSON | REMOTE


@dataclass(frozen=True)
class Side:
    """One person of a possible binôme, as the ranking sees them."""

    lead_id: int
    reference: str
    kind: str  # "jeune" | "mentor"
    prenom: str = ""
    nom: str = ""
    besoins: frozenset = frozenset()
    insee: str = ""
    commune: str = ""  # its name
    departement: str = ""
    format: str = ""  # jeune: RENCONTRE code; mentor: MODALITE code
    situation: str = ""
    age: int | None = None
    disponibilite: str = ""  # mentor
    publics_souhaites: frozenset = frozenset()  # mentor
    status: str = ""
    version: int = 0
    waiting_since: object = None  # created_at: the oldest waiting first on equal fit

    @property
    def region(self):
        dep = DEPARTEMENTS.get(self.departement)
        return dep.region if dep else ""

    @property
    def in_person(self):
        return self.format in IN_PERSON

    @property
    def remote(self):
        return self.format in REMOTE


def side_of(lead, commune_nom=""):
    """A Side from a Lead row (or any object with its fields and `answers`)."""
    answers = lead.answers or {}
    if lead.kind == "jeune":
        besoins = {lead.besoin} if lead.besoin else set()
        meeting = answers.get("rencontre", "")
    else:
        besoins = set(answers.get("besoins") or (lead.besoin or "").split(","))
        meeting = answers.get("modalite", "")
    return Side(
        lead_id=lead.id,
        reference=lead.reference,
        kind=lead.kind,
        prenom=lead.prenom,
        nom=lead.nom,
        besoins=frozenset(b for b in besoins if b),
        insee=getattr(lead, "commune_id", None) or answers.get("commune", "") or "",
        commune=commune_nom,
        departement=lead.departement or "",
        format=meeting,
        situation=lead.situation or "",
        age=lead.age,
        disponibilite=answers.get("disponibilite", "") if lead.kind == "mentor" else "",
        publics_souhaites=frozenset(answers.get("publics") or ()),
        status=lead.status,
        version=lead.version,
        waiting_since=lead.created_at,
    )


@dataclass(frozen=True)
class Fit:
    candidate: Side
    score: int
    reasons: tuple  # what speaks for the pair, plain French sentences
    cautions: tuple = ()  # what speaks against it


def fit(jeune, mentor):
    """The score, reasons and cautions of the pair (jeune, mentor)."""
    score, reasons, cautions = 0, [], []
    for part in (_besoin, _meeting, _publics, _disponibilite):
        points, reason = part(jeune, mentor)
        score += points
        if reason:
            (reasons if points > 0 else cautions).append(reason)
    return score, tuple(reasons), tuple(cautions)


def rank(subject, candidates):
    """`candidates` (Sides of the other kind) best first, as Fits: highest score, then
    the one waiting longest, then the smallest id (a stable order)."""
    fits = []
    for candidate in candidates:
        if candidate.kind == subject.kind or candidate.lead_id == subject.lead_id:
            continue
        jeune, mentor = (subject, candidate) if subject.kind == "jeune" else (candidate, subject)
        fits.append(Fit(candidate, *fit(jeune, mentor)))
    return sorted(fits, key=lambda f: (-f.score, _waiting_key(f.candidate), f.candidate.lead_id))


def _waiting_key(side):
    return (side.waiting_since is None, side.waiting_since or 0)


# --- The parts of the score ----------------------------------------------------------------
def _besoin(jeune, mentor):
    shared = jeune.besoins & mentor.besoins
    if shared:
        return WEIGHTS["besoin"], "Même besoin : " + V.label("besoin", sorted(shared))
    if not jeune.besoins:
        return 0, ""
    return 0, "Besoin différent : le mentor propose " + (
        V.label("besoin", sorted(mentor.besoins)) or "un autre accompagnement"
    )


def _meeting(jeune, mentor):
    """Ways of meeting first: distance matters only when they can meet in person."""
    if jeune.in_person and mentor.in_person:
        points, reason = _distance(jeune, mentor)
        return points, "Rencontre en personne possible. " + reason
    if jeune.remote and mentor.remote:
        return WEIGHTS["a_distance"], "Rencontres à distance : cela convient aux deux"
    if not (jeune.format in KNOWN and mentor.format in KNOWN):  # not answered (old data)
        return _distance(jeune, mentor)
    return WEIGHTS["format_incompatible"], (
        "Façons de se rencontrer incompatibles : l'un ou l'une veut se voir en personne, "
        "l'autre seulement à distance"
    )


def _distance(jeune, mentor):
    if jeune.insee and jeune.insee == mentor.insee:
        where = f" : {jeune.commune}" if jeune.commune else ""
        return WEIGHTS["commune"], f"Même commune{where}"
    if jeune.departement and jeune.departement == mentor.departement:
        dep = DEPARTEMENTS.get(jeune.departement)
        name = f" : {dep.nom} ({jeune.departement})" if dep else ""
        return WEIGHTS["departement"], f"Même département{name}"
    if jeune.region and jeune.region == mentor.region:
        region = REGIONS.get(jeune.region)
        return WEIGHTS["region"], "Même région" + (f" : {region.nom}" if region else "")
    return 0, "Ni la même commune, ni le même département, ni la même région"


def _publics(jeune, mentor):
    if not mentor.publics_souhaites:
        return 0, ""
    wished = [code for code in V.PUBLIC_MENTOR.codes if code in mentor.publics_souhaites]
    for code in wished:
        situations, low, high = PUBLICS_MENTOR_JEUNES[code]
        if jeune.situation in situations:
            wording = V.label("public_mentor", code, "pluriel")
            return WEIGHTS["publics"], f"Le mentor souhaite accompagner des {wording}"
    wordings = ", ".join(V.label("public_mentor", code, "pluriel") for code in wished)
    return 0, f"Le mentor préfère accompagner des {wordings}"


def _disponibilite(jeune, mentor):
    points = WEIGHTS["disponibilite"].get(mentor.disponibilite)
    if points is None:
        return 0, ""
    return points, "Disponibilité du mentor : " + V.label(
        "disponibilite", mentor.disponibilite
    ).lower()
