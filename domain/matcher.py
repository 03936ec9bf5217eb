"""Pick the mentoring programme that fits a jeune or a mentor best, and say why.

Pure and deterministic: no Flask, no database. catalogue.py builds the `Catalogue` (each
programme flattened with its association) and the statistics; drafts.py stores the result
with MATCHER_VERSION. Learned from betagouv/api-engagement's matcher and from ORA:

1. gates: a programme that fails one is never proposed, whatever its score;
2. score: a weighted sum, every weight in WEIGHTS below;
3. tie-break: the programme proposed least recently, then the smallest id, so equally
   good associations take turns.

If no programme passes the gates, the person's "près de chez moi" preference is relaxed:
programmes that work remotely are admitted wherever they are based, and the person is told
the meetings will be remote. If still none, the person goes on the waiting list.
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

from domain import vocabulary as V
from domain.geo_names import DEPARTEMENTS, REGIONS

# Stored on every orientation: change it whenever a gate, a weight or a reason changes.
MATCHER_VERSION = "2026.12-1"

# --- Weights: the whole score, in one table -----------------------------------------------
# A youth's maximum is 40 + 30 + 12 + 10 + 10 + 45 = 147; a mentor's 40 + 12 + 10 + 10 + 20
# + 15 + 10 + 45 = 162. Only the order matters: scores are compared, never shown.
WEIGHTS = {
    # Closeness of the association: meeting near home is what most people ask for.
    "territoire": {"commune": 40, "departement": 30, "region": 20, "national": 10, "distance": 5},
    # Per priority (or reserved) public of the programme the jeune belongs to, at most 2.
    "public_prioritaire": 15,
    # × share of the programme's besoins that are the person's: specialists first.
    "specialisation": 12,
    # × share of this month's capacity still free (capacity not given: half).
    "capacite": 10,
    # × share of leads the association recontacted within its promised delay over the last
    # 90 days (statistiques.py); fewer than REACTIVITE_MIN_LEADS measured: half.
    "reactivite": 10,
    # The person wants remote meetings only, and the programme works remotely: worth
    # more than being in the same commune, which is then of no use to them.
    "rencontre": 45,
    # Mentor: × youths waiting / (youths waiting + mentors available), smoothed.
    "besoin_mentors": 20,
    # Mentor: the programme looks for mentors of his situation or age group.
    "profil_mentor": 15,
    # Mentor: the programme looks for mentors of his sector.
    "secteur_mentor": 10,
    # Mentor: the programme serves the youths he would like to help.
    "publics_mentor": 5,
}

# Historical INSEE definition: a commune is rural under 2,000 inhabitants. INSEE now uses
# a density grid, but the population is what the communes file gives us.
RURAL_MAX_POPULATION = 2000

# Capacity share at or above which "elle a encore des places" is said, and so on.
CAPACITE_MENTIONNEE = 0.5
REACTIVITE_MENTIONNEE = 0.8
# Under this many leads measured, an association counts as average: two late call-backs
# out of three say little, and a new association must get its chance.
REACTIVITE_MIN_LEADS = 10
BESOIN_MENTORS_MENTIONNE = 0.6
MAX_PROPOSALS = 3
MAX_PUBLICS_SCORED = 2

# --- Codes (the questionnaires' and the catalogue file's allow-lists: vocabulary.py) --------
KINDS = V.PARCOURS.codes
PUBLICS_PROGRAMME = {"jeune": "jeunes", "mentor": "mentors"}
BESOINS = V.BESOIN.codes
SITUATIONS_JEUNE = V.SITUATION_JEUNE.codes
SITUATIONS_MENTOR = V.SITUATION_MENTOR.codes
TRANCHES_AGE = V.TRANCHE_AGE.codes
SECTEURS = V.SECTEUR.codes
# Priority or reserved publics. "rural" is derived from the commune, the others declared.
PUBLICS = V.PUBLIC.codes
PUBLICS_DECLARES = V.PUBLICS_DECLARES
PUBLICS_MENTOR = V.PUBLIC_MENTOR.codes
RENCONTRES_JEUNE = V.RENCONTRE.codes
MODALITES_MENTOR = V.MODALITE.codes
FORMATS = V.FORMAT.codes
# Territorial levels, closest first.
NIVEAUX = ("commune", "departement", "region", "national", "distance")
NIVEAUX_LOCAUX = ("commune", "departement", "region")

# Which youths a mentor's wish ("publics") means: situations and usual ages.
PUBLICS_MENTOR_JEUNES = {
    "collegiens": (frozenset({"college"}), 11, 15),
    "lyceens": (frozenset({"lycee_general", "lycee_pro"}), 15, 18),
    "etudiants": (frozenset({"superieur"}), 18, 29),
    "demandeurs_emploi": (frozenset({"recherche"}), 16, 29),
}

# --- French wording (vocabulary.py) ----------------------------------------------------------
BESOIN_LABELS = V.BESOIN.labels("phrase")
# "aider les jeunes à …"
BESOIN_AIDE = V.BESOIN.labels("aide")
SITUATION_LABELS = V.SITUATION_JEUNE.labels("phrase")
# "des mentors …"
SITUATION_MENTOR_PLURIEL = V.SITUATION_MENTOR.labels("pluriel")
TRANCHE_LABELS = V.TRANCHE_AGE.labels("phrase")
TRANCHE_PLURIEL = V.TRANCHE_AGE.labels("pluriel")
# "des mentors qui connaissent votre secteur : …" ("autre" has none)
SECTEUR_LABELS = V.SECTEUR.labels("phrase", strict=True)
# "les jeunes …" / "aux jeunes …"
PUBLIC_LABELS = V.PUBLIC.labels("pluriel")
PUBLIC_MENTOR_LABELS = V.PUBLIC_MENTOR.labels("pluriel")


# --- Inputs and outputs -------------------------------------------------------------------------
@dataclass(frozen=True)
class ProgrammeInfo:
    """A programme as the matcher sees it, its association's public details flattened in."""

    id: int
    slug: str
    nom: str
    association_id: int
    association_slug: str
    association_nom: str
    description: str = ""
    association_description: str = ""
    association_site: str = ""
    association_email: str = ""
    association_telephone: str = ""
    delai_recontact: int = 5  # jours ouvrés
    association_active: bool = True
    actif: bool = True
    en_pause: bool = False
    publics: frozenset = frozenset({"jeunes"})  # "jeunes", "mentors"
    besoins: frozenset = frozenset()
    age_min: int | None = None
    age_max: int | None = None
    situations: frozenset = frozenset()  # youths' situations; empty: every situation
    zone_nationale: bool = False
    regions: frozenset = frozenset()
    departements: frozenset = frozenset()
    communes: frozenset = frozenset()  # INSEE codes
    a_distance: bool = False
    publics_reserves: frozenset = frozenset()  # youths outside these publics are refused
    publics_prioritaires: frozenset = frozenset()
    mentor_situations: frozenset = frozenset()  # required; empty: every situation
    mentor_tranches_age: frozenset = frozenset()  # required; empty: every age group
    mentor_secteurs: frozenset = frozenset()  # wanted, never required
    format: str = "individuel"
    capacite_mensuelle: int = 0  # 0: not given


@dataclass(frozen=True)
class Person:
    """What the matcher knows of a jeune or a mentor."""

    kind: str  # "jeune" | "mentor"
    situation: str
    besoins: frozenset
    insee: str
    commune: str
    departement: str
    region: str
    rural: bool
    accepte_distance: bool
    distance_seulement: bool
    age: int | None = None  # jeune
    publics: frozenset = frozenset()  # jeune: the priority publics he belongs to
    tranche_age: str = ""  # mentor
    secteur: str = ""  # mentor
    publics_souhaites: frozenset = frozenset()  # mentor: the youths he would like to help


class Reactivite(NamedTuple):
    """An association's responsiveness over the last 90 days (statistiques.py)."""

    decided: int  # leads contacted, or late without contact
    in_time: int  # contacted within the promised delay
    median_days: float | None  # working days to first contact of those contacted

    @property
    def measured(self):
        return self.decided >= REACTIVITE_MIN_LEADS

    @property
    def share(self):
        return self.in_time / self.decided if self.decided else None


@dataclass(frozen=True)
class Stats:
    """What the database knows besides the catalogue (catalogue.stats() builds it)."""

    # programme id -> time of its last proposal in first rank
    last_proposed: Mapping = field(default_factory=dict)
    # programme id -> proposals in first rank since the start of the month
    proposed_this_month: Mapping = field(default_factory=dict)
    # programme id -> open leads currently oriented there
    jeunes_en_attente: Mapping = field(default_factory=dict)
    mentors_disponibles: Mapping = field(default_factory=dict)
    # association id -> Reactivite
    reactivite: Mapping = field(default_factory=dict)


NO_STATS = Stats()


@dataclass(frozen=True)
class Proposal:
    programme: ProgrammeInfo
    rank: int  # 1: the proposed programme, 2 and 3: alternatives
    score: int
    niveau: str  # one of NIVEAUX
    reasons: tuple  # 2 to 4 sentences in plain French

    @property
    def programme_id(self):
        return self.programme.id

    @property
    def association_id(self):
        return self.programme.association_id


@dataclass(frozen=True)
class Match:
    proposals: tuple  # of Proposal, rank order
    waiting_list: bool  # nothing fits
    fallback: bool  # nothing fits near the person: only national or remote programmes
    distance_forcee: bool  # the person's "près de chez moi" had to be relaxed
    version: str = MATCHER_VERSION


@dataclass(frozen=True)
class Catalogue:
    """The programmes, by id, and an index of the open ones by
    (kind, besoin, niveau, code) so a person is compared with few programmes."""

    programmes: tuple
    index: Mapping

    def __iter__(self):
        return iter(self.programmes)

    def __len__(self):
        return len(self.programmes)


class Options(NamedTuple):
    exclues: frozenset = frozenset()  # association ids (re-orientation)
    distance_forcee: bool = False


# --- Building the inputs ------------------------------------------------------------------------
def is_rural(population):
    return (population or 0) < RURAL_MAX_POPULATION


def person_from_answers(kind, answers, place):
    """A Person from the questionnaire's cleaned answers and the commune's Place (any
    object with insee, nom, departement, region, population)."""
    rural = is_rural(place.population)
    common = dict(
        kind=kind,
        situation=answers["situation"],
        insee=place.insee,
        commune=place.nom,
        departement=place.departement,
        region=place.region,
        rural=rural,
    )
    if kind == "jeune":
        rencontre = answers["rencontre"]
        declared = set(answers.get("situations_particulieres") or ()) & set(PUBLICS_DECLARES)
        if rural:
            declared.add("rural")
        return Person(
            **common,
            besoins=frozenset({answers["besoin"]}),
            age=int(answers["age"]),
            publics=frozenset(declared),
            accepte_distance=rencontre in ("distance", "les_deux"),
            distance_seulement=rencontre == "distance",
        )
    if kind == "mentor":
        modalite = answers["modalite"]
        return Person(
            **common,
            besoins=frozenset(answers["besoins"]),
            tranche_age=answers["tranche_age"],
            secteur=answers.get("secteur") or "",
            publics_souhaites=frozenset(answers.get("publics") or ()),
            accepte_distance=modalite in ("distance", "les_deux"),
            distance_seulement=modalite == "distance",
        )
    raise ValueError(f"unknown kind: {kind!r}")


def is_open(programme):
    return programme.association_active and programme.actif and not programme.en_pause


def build_catalogue(programmes):
    """Index the open programmes; the result does not depend on the input's order."""
    ordered = tuple(sorted(programmes, key=lambda p: p.id))
    index = defaultdict(list)
    for p in ordered:
        if not is_open(p):
            continue
        for kind in KINDS:
            if PUBLICS_PROGRAMME[kind] in p.publics:
                for besoin in p.besoins:
                    for key in _territory_keys(p):
                        index[(kind, besoin, *key)].append(p)
    return Catalogue(ordered, {key: tuple(found) for key, found in index.items()})


def _territory_keys(p):
    keys = [("commune", code) for code in p.communes]
    keys += [("departement", code) for code in p.departements]
    keys += [("region", code) for code in p.regions]
    if p.zone_nationale:
        keys.append(("national", ""))
    if p.a_distance:
        keys.append(("distance", ""))
    return keys


# --- Gates --------------------------------------------------------------------------------------
def territory_level(person, p, distance_forcee=False):
    """The closest level at which the programme reaches the person; None when it does not."""
    if person.insee in p.communes:
        return "commune"
    if person.departement in p.departements:
        return "departement"
    if person.region in p.regions:
        return "region"
    if p.zone_nationale:
        return "national"
    if p.a_distance and (person.accepte_distance or distance_forcee):
        return "distance"
    return None


def _age_ok(person, p):
    if person.kind == "mentor":
        return not p.mentor_tranches_age or person.tranche_age in p.mentor_tranches_age
    too_young = p.age_min is not None and person.age < p.age_min
    too_old = p.age_max is not None and person.age > p.age_max
    return not (too_young or too_old)


def _situation_ok(person, p):
    accepted = p.mentor_situations if person.kind == "mentor" else p.situations
    return not accepted or person.situation in accepted


def _reserve_ok(person, p):
    # Reserved publics describe the youths served: they never turn a mentor away.
    if person.kind == "mentor" or not p.publics_reserves:
        return True
    return bool(person.publics & p.publics_reserves)


def _jeune_passes(person, p, exclues):
    """The gates the index does not check, inlined for speed (the index keeps open
    programmes only, by kind, besoin and territory). Same rules as `explain`."""
    return (
        p.association_id not in exclues
        and (p.age_min is None or person.age >= p.age_min)
        and (p.age_max is None or person.age <= p.age_max)
        and (not p.situations or person.situation in p.situations)
        and (not p.publics_reserves or not person.publics.isdisjoint(p.publics_reserves))
    )


def _mentor_passes(person, p, exclues):
    """As `_jeune_passes`, for a mentor."""
    return (
        p.association_id not in exclues
        and (not p.mentor_tranches_age or person.tranche_age in p.mentor_tranches_age)
        and (not p.mentor_situations or person.situation in p.mentor_situations)
    )


def explain(person, p, exclude_associations=(), distance_forcee=False):
    """For the operator: the gates this programme fails for this person, in French.

    An empty list means the programme can be proposed. Same rules as the index plus
    `_jeune_passes` / `_mentor_passes`, written out one by one.
    """
    failures = []
    if not p.association_active:
        failures.append("L'association est désactivée.")
    if not p.actif:
        failures.append("Le programme est désactivé.")
    if p.en_pause:
        failures.append("Le programme est en pause.")
    if p.association_id in frozenset(exclude_associations):
        failures.append("L'association a déjà été écartée pour cette personne.")
    if PUBLICS_PROGRAMME[person.kind] not in p.publics:
        failures.append(f"Le programme n'accueille pas de {PUBLICS_PROGRAMME[person.kind]}.")
    if not person.besoins & p.besoins:
        failures.append(_besoin_message(person, p))
    if not _age_ok(person, p):
        failures.append(_age_message(person, p))
    if not _situation_ok(person, p):
        failures.append(_situation_message(person, p))
    if not _reserve_ok(person, p):
        reserved = _join(PUBLIC_LABELS[c] for c in _in_order(p.publics_reserves, PUBLICS))
        failures.append(f"Réservé aux {reserved} : la personne n'en fait pas partie.")
    if territory_level(person, p, distance_forcee) is None:
        failures.append(_territory_message(person, p))
    return failures


def _in_order(codes, order):
    """Known codes in the allow-list's order, then unknown ones sorted."""
    return [c for c in order if c in codes] + sorted(set(codes) - set(order))


def _join(parts, last=" et "):
    parts = list(parts)
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + last + parts[-1]


def _quoted(codes, labels, order):
    return _join((f"« {labels.get(c, c)} »" for c in _in_order(codes, order)), " ou ")


def _besoin_message(person, p):
    wanted = _quoted(person.besoins, BESOIN_LABELS, BESOINS)
    offered = _quoted(p.besoins, BESOIN_LABELS, BESOINS) or "aucun"
    return f"Besoin {wanted} non couvert (le programme : {offered})."


def _age_message(person, p):
    if person.kind == "mentor":
        wanted = _quoted(p.mentor_tranches_age, TRANCHE_LABELS, TRANCHES_AGE)
        mine = TRANCHE_LABELS.get(person.tranche_age, person.tranche_age)
        return f"Tranche d'âge « {mine} » non recherchée (le programme : {wanted})."
    low = "?" if p.age_min is None else p.age_min
    high = "?" if p.age_max is None else p.age_max
    return f"Âge : {person.age} ans, le programme accueille les jeunes de {low} à {high} ans."


def _situation_message(person, p):
    if person.kind == "mentor":
        wanted = _join(
            (
                SITUATION_MENTOR_PLURIEL.get(s, s)
                for s in _in_order(p.mentor_situations, SITUATIONS_MENTOR)
            ),
            " ou ",
        )
        return f"Le programme recherche seulement des mentors {wanted}."
    mine = SITUATION_LABELS.get(person.situation, person.situation)
    wanted = _quoted(p.situations, SITUATION_LABELS, SITUATIONS_JEUNE)
    return f"Situation « {mine} » non acceptée (le programme : {wanted})."


def _territory_message(person, p):
    departement = DEPARTEMENTS.get(person.departement)
    where = f"{person.commune} ({departement.nom if departement else person.departement})"
    if p.a_distance:
        return (
            f"Territoire : {where} est hors de la zone du programme, "
            "et la personne ne souhaite pas de rencontre à distance."
        )
    return (
        f"Territoire : {where} est hors de la zone du programme, qui n'accompagne pas à distance."
    )


# --- Score --------------------------------------------------------------------------------------
def score_parts(person, p, niveau, stats):
    """(component, points) for each component of WEIGHTS that applies to this person."""
    overlap = len(person.besoins & p.besoins) / max(1, len(p.besoins))
    parts = [
        ("territoire", WEIGHTS["territoire"][niveau]),
        ("specialisation", WEIGHTS["specialisation"] * overlap),
        ("capacite", WEIGHTS["capacite"] * _free_capacity(p, stats)),
        ("reactivite", WEIGHTS["reactivite"] * _reactivite(p, stats)),
        ("rencontre", WEIGHTS["rencontre"] if person.distance_seulement and p.a_distance else 0),
    ]
    if person.kind == "jeune":
        publics = len(_priority_publics(person, p)[:MAX_PUBLICS_SCORED])
        parts.append(("public_prioritaire", WEIGHTS["public_prioritaire"] * publics))
    else:
        wants_profile = bool(p.mentor_situations or p.mentor_tranches_age)
        same_sector = person.secteur in p.mentor_secteurs
        parts += [
            ("besoin_mentors", WEIGHTS["besoin_mentors"] * _need_for_mentors(p, stats)),
            ("profil_mentor", WEIGHTS["profil_mentor"] if wants_profile else 0),
            ("secteur_mentor", WEIGHTS["secteur_mentor"] if same_sector else 0),
            ("publics_mentor", WEIGHTS["publics_mentor"] if _wished_public(person, p) else 0),
        ]
    return parts


def total(parts):
    return round(sum(points for _, points in parts))


def _score(person, p, niveau, stats):
    """total(score_parts(...)), without building the parts: ranking scores every eligible
    programme, so this runs a thousand times per person. Same terms in the same order
    (the tests check both agree)."""
    w = WEIGHTS
    points = (
        w["territoire"][niveau]
        + w["specialisation"] * len(person.besoins & p.besoins) / max(1, len(p.besoins))
        + w["capacite"] * _free_capacity(p, stats)
        + w["reactivite"] * _reactivite(p, stats)
        + (w["rencontre"] if person.distance_seulement and p.a_distance else 0)
    )
    if person.kind == "jeune":
        priority = person.publics & (p.publics_prioritaires | p.publics_reserves)
        return round(points + w["public_prioritaire"] * min(len(priority), MAX_PUBLICS_SCORED))
    return round(
        points
        + w["besoin_mentors"] * _need_for_mentors(p, stats)
        + (w["profil_mentor"] if p.mentor_situations or p.mentor_tranches_age else 0)
        + (w["secteur_mentor"] if person.secteur in p.mentor_secteurs else 0)
        + (w["publics_mentor"] if _wished_public(person, p) else 0)
    )


def _priority_publics(person, p):
    # A reserved public is a priority too: the programme exists for these youths.
    return _in_order(person.publics & (p.publics_prioritaires | p.publics_reserves), PUBLICS)


def _free_capacity(p, stats):
    if p.capacite_mensuelle <= 0:
        return 0.5
    used = stats.proposed_this_month.get(p.id, 0)
    return max(0, p.capacite_mensuelle - used) / p.capacite_mensuelle


def _reactivite(p, stats):
    measured = stats.reactivite.get(p.association_id)
    if measured is None or not measured.measured:
        return 0.5
    return min(1.0, max(0.0, measured.share))


def _need_for_mentors(p, stats):
    # +1/+2 (Laplace) so that no data gives one half and one waiting youth is not "all".
    waiting = stats.jeunes_en_attente.get(p.id, 0)
    available = stats.mentors_disponibles.get(p.id, 0)
    return (waiting + 1) / (waiting + available + 2)


def _wished_public(person, p):
    """The first of the youths the mentor wishes to help that the programme serves."""
    for public in PUBLICS_MENTOR:
        if public in person.publics_souhaites and _serves(p, *PUBLICS_MENTOR_JEUNES[public]):
            return public
    return None


def _serves(p, situations, age_low, age_high):
    situation_ok = not p.situations or bool(p.situations & situations)
    ages_overlap = (p.age_min is None or p.age_min <= age_high) and (
        p.age_max is None or p.age_max >= age_low
    )
    return situation_ok and ages_overlap


# --- Reasons ------------------------------------------------------------------------------------
def reasons(person, p, niveau, parts, stats, distance_forcee=False):
    """2 to 4 sentences: where, what for, then the two strongest other reasons."""
    points = dict(parts)
    extras = [
        (points.get(name, 0), text)
        for name, text in _extra_reasons(person, p, points, stats)
        if text
    ]
    # Stable sort: equal points keep WEIGHTS order.
    extras.sort(key=lambda extra: -extra[0])
    first = [_territory_reason(person, niveau, distance_forcee), _besoin_reason(person, p)]
    return tuple(first + [text for _, text in extras[:2]])


def _extra_reasons(person, p, points, stats):
    """(component, sentence or None) for each component worth saying."""
    free = _free_capacity(p, stats)
    reactivite = stats.reactivite.get(p.association_id)
    yield "public_prioritaire", points.get("public_prioritaire") and _publics_reason(person, p)
    yield (
        "capacite",
        p.capacite_mensuelle > 0
        and free >= CAPACITE_MENTIONNEE
        and "Elle a encore des places ce mois-ci.",
    )
    yield "reactivite", _reactivite_reason(p, reactivite)
    yield (
        "rencontre",
        points["rencontre"] and "Elle propose des rencontres à distance, comme vous le souhaitez.",
    )
    if person.kind == "mentor":
        yield (
            "besoin_mentors",
            _need_for_mentors(p, stats) >= BESOIN_MENTORS_MENTIONNE
            and "Des jeunes y attendent un mentor.",
        )
        yield "profil_mentor", points["profil_mentor"] and _profil_reason(person, p)
        yield "secteur_mentor", points["secteur_mentor"] and _secteur_reason(person)
        yield "publics_mentor", points["publics_mentor"] and _publics_mentor_reason(person, p)


def _reactivite_reason(p, reactivite):
    """Said only when measured and good: « Ces trois derniers mois, X a recontacté 9
    personnes sur 10 dans le délai promis. »"""
    if reactivite is None or not reactivite.measured:
        return None
    if reactivite.share < REACTIVITE_MENTIONNEE:
        return None
    return (
        f"Ces trois derniers mois, {p.association_nom} a recontacté {reactivite.in_time} "
        f"personnes sur {reactivite.decided} dans le délai promis."
    )


def _territory_reason(person, niveau, distance_forcee):
    if niveau == "commune":
        return f"Elle intervient dans votre commune, {person.commune}."
    if niveau == "departement":
        departement = DEPARTEMENTS.get(person.departement)
        name = departement.avec_article if departement else person.departement
        return f"Elle intervient dans votre département, {name}."
    if niveau == "region":
        region = REGIONS.get(person.region)
        name = region.avec_article if region else person.region
        return f"Elle intervient dans votre région, {name}."
    if niveau == "national":
        return "Elle intervient partout en France."
    meetings = (
        "les rencontres avec votre mentor se feront"
        if person.kind == "jeune"
        else "vous accompagnerez un ou une jeune"
    )
    if distance_forcee:
        return (
            "Aucune association n'intervient encore près de chez vous : "
            f"{meetings} à distance (visio, téléphone)."
        )
    return (
        f"Elle accompagne à distance : {meetings} en visio ou par téléphone, où que vous habitiez."
    )


def _besoin_reason(person, p):
    matched = _in_order(person.besoins & p.besoins, BESOINS)
    aides = _join(f"à {BESOIN_AIDE.get(b, BESOIN_LABELS.get(b, b))}" for b in matched)
    if person.kind == "mentor":
        return f"Elle cherche des mentors pour aider les jeunes {aides}."
    if len(p.besoins) == 1:
        return f"Elle se consacre à aider les jeunes {aides}."
    return f"Elle aide les jeunes {aides}, comme vous le demandez."


def _publics_reason(person, p):
    matched = _priority_publics(person, p)[:MAX_PUBLICS_SCORED]
    reserved = [PUBLIC_LABELS.get(c, c) for c in matched if c in p.publics_reserves]
    priority = [PUBLIC_LABELS.get(c, c) for c in matched if c not in p.publics_reserves]
    # A public is either reserved or a priority: one sentence each, never mixed.
    if reserved:
        return f"Elle s'adresse spécialement {_join('aux ' + label for label in reserved)}."
    return f"Elle accompagne en priorité {_join('les ' + label for label in priority)}."


def _profil_reason(person, p):
    if p.mentor_situations and person.situation != "autre":
        wanted = SITUATION_MENTOR_PLURIEL.get(person.situation, person.situation)
        return f"Elle recherche en particulier des mentors {wanted}, comme vous."
    if p.mentor_tranches_age:
        wanted = TRANCHE_PLURIEL.get(person.tranche_age, person.tranche_age)
        return f"Elle recherche en particulier des mentors {wanted}, comme vous."
    return "Votre profil correspond aux mentors qu'elle recherche."


def _secteur_reason(person):
    label = SECTEUR_LABELS.get(person.secteur)
    if label is None:
        return "Elle recherche des mentors de votre secteur."
    return f"Elle recherche des mentors qui connaissent votre secteur : {label}."


def _publics_mentor_reason(person, p):
    public = _wished_public(person, p)
    return f"Elle accompagne des {PUBLIC_MENTOR_LABELS[public]}, comme vous le souhaitez."


def _stats(stats):
    if stats is None:
        return NO_STATS
    if not isinstance(stats, Stats):
        raise TypeError(f"stats must be a matcher.Stats, not {type(stats).__name__}")
    return stats


# --- Matching -----------------------------------------------------------------------------------
NEVER = dt.datetime.min  # last_proposed holds naive UTC datetimes, as models.now() gives


def _eligible(person, catalogue, options):
    """(programme, niveau) for each programme passing every gate; via the index, so only
    programmes of this kind, besoin and territory are looked at."""
    keys = [
        ("commune", person.insee),
        ("departement", person.departement),
        ("region", person.region),
        ("national", ""),
    ]
    if person.accepte_distance or options.distance_forcee:
        keys.append(("distance", ""))
    passes = _jeune_passes if person.kind == "jeune" else _mentor_passes
    index = catalogue.index
    seen = set()
    found = []
    # Closest level first: a programme takes the level where it is first seen.
    for niveau, code in keys:
        for besoin in person.besoins:
            for p in index.get((person.kind, besoin, niveau, code), ()):
                if p.id not in seen:
                    seen.add(p.id)
                    if passes(person, p, options.exclues):
                        found.append((p, niveau))
    return found


def _one_per_association(ranked):
    """The best programme of each association, up to MAX_PROPOSALS: the alternatives are
    "another association", as the result page says."""
    chosen = []
    associations = set()
    for entry in ranked:
        association = entry[1].association_id
        if association in associations:
            continue
        associations.add(association)
        chosen.append(entry)
        if len(chosen) == MAX_PROPOSALS:
            break
    return chosen


def _proposal(person, rank, score, p, niveau, stats, distance_forcee):
    parts = score_parts(person, p, niveau, stats)
    return Proposal(
        p, rank, score, niveau, reasons(person, p, niveau, parts, stats, distance_forcee)
    )


def match(person, catalogue, stats=None, exclude_associations=()):
    """The proposed programme and up to two alternatives for this person.

    `catalogue` comes from build_catalogue (catalogue.snapshot()), `stats` is a Stats
    (catalogue.stats(); none: nothing known yet), `exclude_associations` the associations
    already tried.
    """
    stats = _stats(stats)
    exclues = frozenset(exclude_associations)
    distance_forcee = False
    eligible = _eligible(person, catalogue, Options(exclues))
    if not eligible:
        distance_forcee = True
        eligible = _eligible(person, catalogue, Options(exclues, distance_forcee=True))
    if not eligible:
        return Match((), waiting_list=True, fallback=False, distance_forcee=False)
    last = stats.last_proposed
    scored = [(_score(person, p, niveau, stats), p, niveau) for p, niveau in eligible]
    scored.sort(key=lambda s: (-s[0], last.get(s[1].id) or NEVER, s[1].id))
    proposals = tuple(
        _proposal(person, rank, score, p, niveau, stats, distance_forcee)
        for rank, (score, p, niveau) in enumerate(_one_per_association(scored), start=1)
    )
    local = any(niveau in NIVEAUX_LOCAUX for _, niveau in eligible)
    return Match(proposals, False, fallback=not local, distance_forcee=distance_forcee)


def explain_all(person, catalogue, result, stats=None, exclude_associations=()):
    """For the operator: (programme, sentences) for each programme not proposed."""
    stats = _stats(stats)
    proposed = {proposal.programme_id for proposal in result.proposals}
    explained = []
    for p in catalogue.programmes:
        if p.id in proposed:
            continue
        failures = explain(person, p, exclude_associations, result.distance_forcee)
        if not failures:
            niveau = territory_level(person, p, result.distance_forcee)
            score = total(score_parts(person, p, niveau, stats))
            failures = [
                f"Toutes les conditions sont remplies, mais son score ({score}) est plus faible "
                "ou son association a déjà un programme mieux classé."
            ]
        explained.append((p, failures))
    return explained
