"""Coverage: who the catalogue leaves on the waiting list (scripts/coverage.py, the
operator's coverage page). Moved out of catalogue.py as is.

Every function needs an open connection on `models.db`.
"""

from collections import Counter
from dataclasses import dataclass

from peewee import fn

import models
from domain import matcher
from domain.geo_names import DEPARTEMENTS
from models import Commune
from services import territory
from services.catalogue import _version, snapshot

# --- Coverage: who the catalogue leaves on the waiting list ------------------------------
# The grid the demo catalogue is judged on (scripts/coverage.py prints it): the most
# populous communes × the situations plausible at each age (the questionnaire lets anyone
# answer anything; this is only where we measure) × every besoin × the rencontre choices.
COVERAGE_COMMUNES = 300
SITUATION_AGES = {
    "college": (11, 15),
    "lycee_general": (15, 18),
    "lycee_pro": (15, 18),
    "apprentissage": (16, 29),
    "recherche": (16, 29),
    "superieur": (18, 29),
    "emploi": (18, 29),
}
MENTOR_TRANCHES = {
    "etudiant": ("moins_25", "25_49"),
    "retraite": ("50_plus",),
}


def besoin_departement(person):
    return (min(person.besoins), person.departement)


@dataclass
class Coverage:
    """Persons of the grid by `key(person)` ((besoin, département) by default, extra parts
    allowed after these two): all of them, those left on the waiting list, and those
    offered only national or remote programmes (`fallback`)."""

    persons: Counter
    waiting: Counter
    fallback: Counter
    by: object = besoin_departement

    def add(self, person, result, count):
        key = self.by(person)
        self.persons[key] += count
        self.waiting[key] += count * result.waiting_list
        self.fallback[key] += count * result.fallback

    def share(self, besoin=None, departement=None, of="waiting"):
        """Share of the grid on the waiting list (or `of="fallback"`), overall or for one
        besoin or département."""
        counts = getattr(self, of)
        keys = [
            key
            for key in self.persons
            if besoin in (None, key[0]) and departement in (None, key[1])
        ]
        persons = sum(self.persons[key] for key in keys)
        return sum(counts[key] for key in keys) / persons if persons else 0.0

    @property
    def total(self):
        return sum(self.persons.values())

    def worst_departements(self, count=10):
        """(département, waiting share, fallback share), the least served first."""
        departements = sorted({departement for _, departement in self.persons})
        shares = [
            (code, self.share(departement=code), self.share(departement=code, of="fallback"))
            for code in departements
        ]
        return sorted(shares, key=lambda item: (-item[1], -item[2], item[0]))[:count]


def most_populous_places(count=COVERAGE_COMMUNES):
    query = Commune.select(Commune.insee).order_by(Commune.population.desc(), Commune.insee)
    return [territory.place(insee) for (insee,) in query.limit(count).tuples()]


def youths_of(place, rencontres=matcher.RENCONTRES_JEUNE):
    """The youths of the grid who live in `place`."""
    for situation, (low, high) in SITUATION_AGES.items():
        for age in range(low, high + 1):
            for besoin in matcher.BESOINS:
                for rencontre in rencontres:
                    answers = dict(age=age, situation=situation, besoin=besoin, rencontre=rencontre)
                    yield matcher.person_from_answers("jeune", answers, place)


def mentors_of(place, modalites=matcher.MODALITES_MENTOR):
    """The mentors of the grid who live in `place`: one besoin each, the hardest case."""
    for situation in matcher.SITUATIONS_MENTOR:
        for tranche in MENTOR_TRANCHES.get(situation, matcher.TRANCHES_AGE):
            for besoin in matcher.BESOINS:
                for modalite in modalites:
                    answers = dict(
                        situation=situation,
                        tranche_age=tranche,
                        besoins=[besoin],
                        modalite=modalite,
                    )
                    yield matcher.person_from_answers("mentor", answers, place)


def coverage(places, snapshot, persons_of, by=besoin_departement):
    """How the catalogue serves the persons `persons_of(place)` of every place, before any
    lead is counted (no statistics); counted by `by(person)` (see Coverage)."""
    # The matcher sees a commune through its INSEE code only where a programme lists it,
    # else through its département, région and size: match one commune of each kind.
    listed = set().union(*(p.communes for p in snapshot))
    kinds = Counter()
    example = {}
    for place in places:
        key = (
            place.insee if place.insee in listed else "",
            place.departement,
            place.region,
            matcher.is_rural(place.population),
        )
        kinds[key] += 1
        example.setdefault(key, place)
    result = Coverage(Counter(), Counter(), Counter(), by)
    for key, count in kinds.items():
        for person in persons_of(example[key]):
            result.add(person, matcher.match(person, snapshot), count)
    return result


# --- Coverage by département, for the operator ------------------------------------------
AGE_BANDS = ((11, 15), (16, 18), (19, 25), (26, 30))
# The state of a (département, besoin, age band) cell, from best to worst.
SERVED, PARTLY, REMOTE_ONLY, UNSERVED = "servi", "en_partie", "a_distance", "aucun"


def age_band(age):
    return next(band for band in AGE_BANDS if band[0] <= age <= band[1])


def _besoin_departement_band(person):
    return (min(person.besoins), person.departement, age_band(person.age))


def _youths_any_meeting(place):
    # "Les deux" takes a programme near home first, else a remote one: one youth tells
    # whether the cell is served near, only at a distance, or not at all.
    return youths_of(place, rencontres=("les_deux",))


def _age_cuts(snapshot):
    """Ages where some programme's age gate changes, and each band's first age."""
    cuts = {low for low, _ in AGE_BANDS}
    for p in snapshot:
        cuts.update(age for age in (p.age_min, p.age_max and p.age_max + 1) if age)
    return cuts


def _youths_by_age_class(snapshot):
    """_youths_any_meeting with one youth per stretch of ages the gates treat alike (a
    youth's age only meets age_min and age_max): the same cell states for a tenth of the
    matches, since a state says all, some or none, never how many."""
    cuts = _age_cuts(snapshot)

    def persons_of(place):
        for situation, (low, high) in SITUATION_AGES.items():
            for age in sorted({low} | {cut for cut in cuts if low < cut <= high}):
                for besoin in matcher.BESOINS:
                    answers = dict(
                        age=age, situation=situation, besoin=besoin, rencontre="les_deux"
                    )
                    yield matcher.person_from_answers("jeune", answers, place)

    return persons_of


def coverage_places():
    """The grid's communes and, so that every département is measured, the most
    populous commune of each département."""
    places = {place.insee: place for place in most_populous_places()}
    biggest = (
        Commune.select(Commune.departement, fn.MAX(Commune.population).alias("population"))
        .group_by(Commune.departement)
        .alias("biggest")
    )
    query = (
        Commune.select(Commune.insee)
        .join(
            biggest,
            on=(
                (Commune.departement == biggest.c.departement)
                & (Commune.population == biggest.c.population)
            ),
        )
        .order_by(Commune.insee)
    )
    for (insee,) in query.tuples():
        places.setdefault(insee, territory.place(insee))
    return [place for place in places.values() if place is not None]


@dataclass(frozen=True)
class DepartementCoverage:
    code: str
    nom: str
    # besoin -> tuple of (band, state) in AGE_BANDS order
    cells: dict
    holes: int  # cells not SERVED


def cell_state(result, key):
    persons = result.persons[key]
    if not persons:
        return None
    waiting, fallback = result.waiting[key], result.fallback[key]
    if waiting == persons:
        return UNSERVED
    if waiting + fallback == persons:
        return REMOTE_ONLY
    if waiting or fallback:
        return PARTLY
    return SERVED


def coverage_by_departement(result):
    """[DepartementCoverage] of a coverage() counted by (besoin, département, band)."""
    departements = sorted({key[1] for key in result.persons})
    report = []
    for code in departements:
        cells = {}
        for besoin in matcher.BESOINS:
            cells[besoin] = tuple(
                (band, cell_state(result, (besoin, code, band))) for band in AGE_BANDS
            )
        holes = sum(1 for row in cells.values() for _, state in row if state not in (None, SERVED))
        nom = DEPARTEMENTS[code].nom if code in DEPARTEMENTS else code
        report.append(DepartementCoverage(code, nom, cells, holes))
    return report


# (database, catalogue version, report): computed once per catalogue version.
_coverage_cache = None


def departement_coverage():
    """coverage_by_departement of the current catalogue, cached until it changes."""
    global _coverage_cache
    database, version = id(models.db.obj), _version()
    cached = _coverage_cache
    if cached is not None and cached[:2] == (database, version):
        return cached[2]
    current = snapshot()
    result = coverage(
        coverage_places(), current, _youths_by_age_class(current), by=_besoin_departement_band
    )
    report = coverage_by_departement(result)
    _coverage_cache = (database, version, report)
    return report
