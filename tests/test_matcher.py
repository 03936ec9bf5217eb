"""The matcher, pure: gates, score, tie-break, fallback, waiting list, reasons."""

import dataclasses
import datetime as dt
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain import matcher
from domain.matcher import ProgrammeInfo, build_catalogue, explain, match, person_from_answers


@dataclasses.dataclass(frozen=True)
class Lieu:
    """What territory.Place gives; the matcher takes any object with these attributes."""

    insee: str
    nom: str
    code_postal: str
    departement: str
    region: str
    population: int


LYON = Lieu("69123", "Lyon", "69003", "69", "84", 519127)
VILLEURBANNE = Lieu("69266", "Villeurbanne", "69100", "69", "84", 163684)
GRENOBLE = Lieu("38185", "Grenoble", "38000", "38", "84", 156389)
PARIS = Lieu("75056", "Paris", "75015", "75", "11", 2103778)
GUERET = Lieu("23096", "Guéret", "23000", "23", "75", 12955)
VILLAGE = Lieu("15002", "Allanche", "15160", "15", "84", 700)
PLACES = (LYON, VILLEURBANNE, GRENOBLE, PARIS, GUERET, VILLAGE)


def programme(id=1, **fields):
    """A programme that takes everyone, everywhere, unless told otherwise."""
    defaults = dict(
        slug=f"programme-{id}",
        nom=f"Programme {id}",
        association_id=id,
        association_slug=f"association-{id}",
        association_nom=f"Association {id}",
        publics=frozenset({"jeunes", "mentors"}),
        besoins=frozenset(matcher.BESOINS),
        zone_nationale=True,
    )
    defaults.update(fields)
    return ProgrammeInfo(id=id, **defaults)


def jeune(place=LYON, **answers):
    defaults = dict(
        age=16,
        situation="lycee_general",
        besoin="orientation",
        situations_particulieres=[],
        rencontre="proximite",
    )
    return person_from_answers("jeune", {**defaults, **answers}, place)


def mentor(place=LYON, **answers):
    defaults = dict(
        situation="salarie",
        tranche_age="25_49",
        secteur="numerique",
        besoins=["orientation"],
        publics=[],
        modalite="presentiel",
    )
    return person_from_answers("mentor", {**defaults, **answers}, place)


def run(person, *programmes, **stats):
    return match(person, build_catalogue(programmes), matcher.Stats(**stats))


def proposed_ids(result):
    return [p.programme_id for p in result.proposals]


# --- Person -------------------------------------------------------------------------------------
def test_rural_is_a_commune_under_2000_inhabitants():
    assert jeune(place=dataclasses.replace(LYON, population=1999)).rural
    assert not jeune(place=dataclasses.replace(LYON, population=2000)).rural
    assert "rural" in jeune(place=VILLAGE).publics
    assert "rural" not in jeune(place=LYON).publics


def test_youth_keeps_declared_publics_and_ignores_unknown_codes():
    person = jeune(situations_particulieres=["qpv", "handicap", "aucune", "rural"])
    assert person.publics == {"qpv", "handicap"}  # "rural" comes from the commune only


def test_remote_preference_from_rencontre_and_modalite():
    assert not jeune(rencontre="proximite").accepte_distance
    assert jeune(rencontre="les_deux").accepte_distance
    assert not jeune(rencontre="les_deux").distance_seulement
    assert jeune(rencontre="distance").distance_seulement
    assert not mentor(modalite="presentiel").accepte_distance
    assert mentor(modalite="distance").distance_seulement


def test_mentor_person():
    person = mentor(besoins=["scolarite", "emploi"], publics=["lyceens"], secteur="btp")
    assert person.kind == "mentor"
    assert person.besoins == {"scolarite", "emploi"}
    assert person.publics_souhaites == {"lyceens"}
    assert person.tranche_age == "25_49"
    assert person.age is None


def test_unknown_kind_is_refused():
    with pytest.raises(ValueError):
        person_from_answers("parent", {"situation": "autre"}, LYON)


# --- Gates --------------------------------------------------------------------------------------
# Each gate: the failing programme is never proposed, even when it is the only one, and
# `explain` names the gate in French.
@pytest.mark.parametrize(
    ("person", "fields", "message"),
    [
        (jeune(), dict(association_active=False), "L'association est désactivée."),
        (jeune(), dict(actif=False), "Le programme est désactivé."),
        (jeune(), dict(en_pause=True), "Le programme est en pause."),
        (jeune(), dict(publics=frozenset({"mentors"})), "n'accueille pas de jeunes"),
        (mentor(), dict(publics=frozenset({"jeunes"})), "n'accueille pas de mentors"),
        (jeune(age=14), dict(age_min=15), "Âge : 14 ans, le programme accueille les jeunes de 15"),
        (jeune(age=26), dict(age_max=25), "Âge : 26 ans"),
        (jeune(besoin="emploi"), dict(besoins=frozenset({"scolarite"})), "Besoin « stage"),
        (
            mentor(besoins=["emploi", "entrepreneuriat"]),
            dict(besoins=frozenset({"scolarite", "orientation"})),
            "non couvert",
        ),
        (jeune(situation="college"), dict(situations=frozenset({"lycee_pro"})), "« au collège »"),
        (
            mentor(situation="salarie"),
            dict(mentor_situations=frozenset({"etudiant"})),
            "étudiant·es",
        ),
        (
            mentor(tranche_age="25_49"),
            dict(mentor_tranches_age=frozenset({"50_plus"})),
            "Tranche d'âge « 25 à 49 ans » non recherchée",
        ),
        (
            jeune(situations_particulieres=["qpv"]),
            dict(publics_reserves=frozenset({"handicap"})),
            "Réservé aux jeunes en situation de handicap",
        ),
        (
            jeune(place=GUERET),
            dict(zone_nationale=False, departements=frozenset({"69"})),
            "Guéret (Creuse) est hors de la zone du programme, qui n'accompagne pas à distance",
        ),
    ],
)
def test_a_failed_gate_is_never_scored_away(person, fields, message):
    failing = programme(1, **fields)
    assert any(message in failure for failure in explain(person, failing))
    # Even the best score elsewhere cannot carry it: the other one is proposed alone.
    other = programme(2, zone_nationale=False, a_distance=True, communes=frozenset({"99999"}))
    result = run(dataclasses.replace(person, accepte_distance=True), failing, other)
    assert proposed_ids(result) == [2]


def test_a_programme_passing_every_gate_has_no_explanation():
    assert explain(jeune(), programme()) == []
    assert explain(mentor(), programme()) == []


def test_age_bounds_are_inclusive():
    p = programme(age_min=15, age_max=25)
    assert explain(jeune(age=15), p) == []
    assert explain(jeune(age=25), p) == []
    assert explain(jeune(age=14), p) != []


def test_a_mentor_needs_only_one_of_his_besoins():
    p = programme(besoins=frozenset({"emploi"}))
    assert explain(mentor(besoins=["scolarite", "emploi"]), p) == []


def test_empty_situations_accept_every_situation():
    for situation in matcher.SITUATIONS_JEUNE:
        assert explain(jeune(situation=situation), programme(situations=frozenset())) == []


def test_reserved_public_passes_when_declared_or_derived():
    handicap = programme(publics_reserves=frozenset({"handicap"}))
    assert explain(jeune(situations_particulieres=["handicap"]), handicap) == []
    rural = programme(publics_reserves=frozenset({"rural"}))
    assert explain(jeune(place=VILLAGE), rural) == []
    assert explain(jeune(place=LYON), rural) != []
    # Reserved publics describe the youths: mentors are not turned away.
    assert explain(mentor(), handicap) == []


@pytest.mark.parametrize(
    ("zone", "niveau"),
    [
        (dict(communes=frozenset({"69123"})), "commune"),
        (dict(departements=frozenset({"69"})), "departement"),
        (dict(regions=frozenset({"84"})), "region"),
        (dict(zone_nationale=True), "national"),
    ],
)
def test_territory_levels(zone, niveau):
    p = programme(**{"zone_nationale": False, **zone})
    assert matcher.territory_level(jeune(place=LYON), p) == niveau
    assert run(jeune(place=LYON), p).proposals[0].niveau == niveau
    if niveau != "national":
        assert matcher.territory_level(jeune(place=GUERET), p) is None


def test_remote_programme_reaches_a_person_who_accepts_remote():
    remote = programme(zone_nationale=False, regions=frozenset({"11"}), a_distance=True)
    assert matcher.territory_level(jeune(place=LYON, rencontre="les_deux"), remote) == "distance"
    assert matcher.territory_level(jeune(place=LYON, rencontre="distance"), remote) == "distance"
    assert matcher.territory_level(jeune(place=LYON, rencontre="proximite"), remote) is None
    assert "ne souhaite pas de rencontre à distance" in explain(jeune(), remote)[0]
    assert matcher.territory_level(mentor(modalite="les_deux"), remote) == "distance"
    assert matcher.territory_level(mentor(modalite="presentiel"), remote) is None


def test_excluded_association_is_not_proposed_again():
    first, second = programme(1), programme(2)
    result = run(jeune(), first, second)
    assert proposed_ids(result)[0] == 1
    again = match(jeune(), build_catalogue([first, second]), exclude_associations={1})
    assert proposed_ids(again) == [2]
    assert explain(jeune(), first, exclude_associations={1}) == [
        "L'association a déjà été écartée pour cette personne."
    ]


# --- Score --------------------------------------------------------------------------------------
def test_weights_are_one_table_covering_every_component():
    names = {
        name for name, _ in matcher.score_parts(jeune(), programme(), "national", matcher.Stats())
    }
    names |= {
        name for name, _ in matcher.score_parts(mentor(), programme(), "national", matcher.Stats())
    }
    assert names == set(matcher.WEIGHTS)


def test_closer_programmes_score_higher():
    zones = [
        dict(communes=frozenset({"69123"})),
        dict(departements=frozenset({"69"})),
        dict(regions=frozenset({"84"})),
        dict(zone_nationale=True),
        dict(a_distance=True),
    ]
    # Ids in reverse so the order cannot come from the tie-break.
    programmes = [programme(10 - n, **{"zone_nationale": False, **z}) for n, z in enumerate(zones)]
    result = run(jeune(rencontre="les_deux"), *programmes)
    assert [p.niveau for p in result.proposals] == ["commune", "departement", "region"]
    scores = [
        matcher.total(matcher.score_parts(jeune(), p, n, matcher.Stats()))
        for p, n in zip(programmes, matcher.NIVEAUX, strict=True)
    ]
    assert scores == sorted(scores, reverse=True)
    assert len(set(scores)) == len(scores)


def test_priority_public_matched_scores_higher():
    plain = programme(1)
    priority = programme(2, publics_prioritaires=frozenset({"qpv"}))
    assert proposed_ids(run(jeune(situations_particulieres=["qpv"]), plain, priority))[0] == 2
    # For a youth outside that public, both are equal: the tie-break (id) decides.
    assert proposed_ids(run(jeune(), plain, priority))[0] == 1


def test_rural_commune_counts_as_a_priority_public():
    plain = programme(1)
    rural = programme(2, publics_prioritaires=frozenset({"rural"}))
    assert proposed_ids(run(jeune(place=VILLAGE), plain, rural))[0] == 2


def test_specialised_programme_scores_higher():
    general = programme(1)
    specialised = programme(2, besoins=frozenset({"orientation"}))
    assert proposed_ids(run(jeune(besoin="orientation"), general, specialised))[0] == 2


def test_remaining_capacity_scores_higher():
    full = programme(1, capacite_mensuelle=10)
    free = programme(2, capacite_mensuelle=10)
    result = run(jeune(), full, free, proposed_this_month={1: 10, 2: 1})
    assert proposed_ids(result)[0] == 2
    assert "Elle a encore des places ce mois-ci." in result.proposals[0].reasons
    assert "Elle a encore des places ce mois-ci." not in result.proposals[1].reasons


def reactivite(in_time, decided, median_days=1):
    return matcher.Reactivite(decided, in_time, median_days)


def test_measured_responsiveness_ranks_higher():
    slow, fast = programme(1), programme(2)
    measured = {1: reactivite(2, 10, 9), 2: reactivite(9, 10)}
    result = run(jeune(), slow, fast, reactivite=measured)
    assert proposed_ids(result) == [2, 1]
    assert result.proposals[0].score > result.proposals[1].score
    said = (
        "Ces trois derniers mois, Association 2 a recontacté 9 personnes sur 10 "
        "dans le délai promis."
    )
    assert said in result.proposals[0].reasons
    assert not any("recontacté" in reason for reason in result.proposals[1].reasons)


def test_responsiveness_under_the_minimum_or_absent_is_neutral():
    slow, fast = programme(1), programme(2)
    few = matcher.REACTIVITE_MIN_LEADS - 1
    # The slow one, with too few leads measured, is not behind the unmeasured one.
    result = run(jeune(), slow, fast, reactivite={1: reactivite(0, few), 2: reactivite(few, few)})
    assert result.proposals[0].score == result.proposals[1].score
    assert not any("recontacté" in r for p in result.proposals for r in p.reasons)
    neutral = matcher.score_parts(jeune(), slow, "national", matcher.Stats())
    half = matcher.score_parts(
        jeune(), slow, "national", matcher.Stats(reactivite={1: reactivite(0, few)})
    )
    assert neutral == half
    assert dict(neutral)["reactivite"] == matcher.WEIGHTS["reactivite"] / 2
    enough = matcher.Stats(reactivite={1: reactivite(0, matcher.REACTIVITE_MIN_LEADS)})
    assert dict(matcher.score_parts(jeune(), slow, "national", enough))["reactivite"] == 0


def test_responsiveness_is_said_only_when_good():
    p = programme(1)
    fair = run(jeune(), p, reactivite={1: reactivite(7, 10)})
    assert not any("recontacté" in reason for reason in fair.proposals[0].reasons)


def test_remote_only_person_prefers_remote_programme():
    in_person = programme(1)
    remote = programme(2, a_distance=True)
    assert proposed_ids(run(jeune(rencontre="distance"), in_person, remote))[0] == 2
    assert proposed_ids(run(jeune(rencontre="les_deux"), in_person, remote))[0] == 1


def test_mentor_goes_where_youths_wait():
    crowded = programme(1)
    waiting = programme(2)
    stats = dict(jeunes_en_attente={1: 0, 2: 12}, mentors_disponibles={1: 9, 2: 1})
    result = run(mentor(), crowded, waiting, **stats)
    assert proposed_ids(result)[0] == 2
    assert "Des jeunes y attendent un mentor." in result.proposals[0].reasons


def test_mentor_profile_fit_scores_higher():
    plain = programme(1)
    students = programme(2, mentor_situations=frozenset({"etudiant"}))
    result = run(mentor(situation="etudiant", tranche_age="moins_25"), plain, students)
    assert proposed_ids(result)[0] == 2
    assert "Elle recherche en particulier des mentors étudiant·es, comme vous." in (
        result.proposals[0].reasons
    )
    seniors = programme(3, mentor_tranches_age=frozenset({"50_plus"}))
    result = run(mentor(situation="retraite", tranche_age="50_plus"), plain, seniors)
    assert proposed_ids(result)[0] == 3


def test_mentor_sector_scores_higher():
    plain = programme(1)
    industry = programme(2, mentor_secteurs=frozenset({"industrie", "btp"}))
    result = run(mentor(secteur="industrie"), plain, industry)
    assert proposed_ids(result)[0] == 2
    assert "Elle recherche des mentors qui connaissent votre secteur : l'industrie." in (
        result.proposals[0].reasons
    )
    # A wanted sector is never required.
    assert explain(mentor(secteur="commerce"), industry) == []


def test_mentor_wished_publics_score_higher():
    adults = programme(1, age_min=18, age_max=29)
    pupils = programme(2, age_min=11, age_max=15, situations=frozenset({"college"}))
    result = run(mentor(publics=["collegiens"]), adults, pupils)
    assert proposed_ids(result)[0] == 2
    assert "Elle accompagne des collégien·nes, comme vous le souhaitez." in (
        result.proposals[0].reasons
    )


def test_scores_are_integers():
    result = run(jeune(), programme(1, capacite_mensuelle=7), proposed_this_month={1: 3})
    assert isinstance(result.proposals[0].score, int)


# --- Tie-break ----------------------------------------------------------------------------------
def test_tie_break_never_proposed_then_least_recently_then_id():
    a, b, c = programme(1), programme(2), programme(3)
    monday = dt.datetime(2026, 11, 2, 9)
    tuesday = dt.datetime(2026, 11, 3, 9)
    result = run(jeune(), a, b, c, last_proposed={1: tuesday, 2: monday})
    assert proposed_ids(result) == [3, 2, 1]
    result = run(jeune(), a, b, c, last_proposed={1: tuesday, 2: monday, 3: tuesday})
    assert proposed_ids(result) == [2, 1, 3]
    assert proposed_ids(run(jeune(), c, b, a)) == [1, 2, 3]


def test_rotation_between_equal_programmes():
    """Proposing the first one makes the other first next time: associations take turns."""
    catalogue = build_catalogue([programme(1), programme(2)])
    last = {}
    firsts = []
    for hour in range(4):
        first = (
            match(jeune(), catalogue, matcher.Stats(last_proposed=last)).proposals[0].programme_id
        )
        firsts.append(first)
        last = {**last, first: dt.datetime(2026, 11, 2, hour)}
    assert firsts == [1, 2, 1, 2]


def test_alternatives_come_from_other_associations():
    same = [programme(n, association_id=1) for n in (1, 2, 3)]
    other = programme(4, association_id=2, besoins=frozenset({"scolarite"}))
    result = run(jeune(besoin="scolarite"), *same, other)
    assert [p.association_id for p in result.proposals] == [2, 1]
    assert [p.rank for p in result.proposals] == [1, 2]


def test_at_most_three_proposals():
    result = run(jeune(), *[programme(n) for n in range(1, 8)])
    assert [p.rank for p in result.proposals] == [1, 2, 3]


# --- Fallback and waiting list ------------------------------------------------------------------
def test_local_programme_is_not_a_fallback():
    result = run(jeune(), programme(1, zone_nationale=False, departements=frozenset({"69"})))
    assert (result.waiting_list, result.fallback, result.distance_forcee) == (False, False, False)


def test_only_national_programmes_is_a_fallback():
    result = run(
        jeune(place=GUERET),
        programme(1),
        programme(2, departements=frozenset({"69"}), zone_nationale=False),
    )
    assert proposed_ids(result) == [1]
    assert result.fallback
    assert not result.distance_forcee
    assert result.proposals[0].reasons[0] == "Elle intervient partout en France."


def test_fallback_to_remote_despite_near_home_preference():
    remote = programme(1, zone_nationale=False, regions=frozenset({"11"}), a_distance=True)
    result = run(jeune(place=GUERET, rencontre="proximite"), remote)
    assert proposed_ids(result) == [1]
    assert result.fallback and result.distance_forcee
    assert result.proposals[0].reasons[0] == (
        "Aucune association n'intervient encore près de chez vous : les rencontres avec "
        "votre mentor se feront à distance (visio, téléphone)."
    )


def test_no_fallback_when_a_near_programme_fits():
    near = programme(1, zone_nationale=False, departements=frozenset({"23"}))
    remote = programme(2, zone_nationale=False, regions=frozenset({"11"}), a_distance=True)
    result = run(jeune(place=GUERET, rencontre="proximite"), near, remote)
    assert proposed_ids(result) == [1]
    assert not result.distance_forcee


def test_waiting_list_when_nothing_fits():
    result = run(
        jeune(place=GUERET, age=12, situation="college", besoin="emploi", rencontre="les_deux"),
        programme(1, age_min=16),
        programme(2, besoins=frozenset({"scolarite"}), a_distance=True),
        programme(3, en_pause=True),
    )
    assert result.waiting_list
    assert result.proposals == ()
    assert not result.fallback


def test_explain_all_covers_every_programme_not_proposed():
    person = jeune(age=12)
    catalogue = build_catalogue(
        [programme(1), programme(2, age_min=16), programme(3, association_id=1)]
    )
    result = match(person, catalogue)
    explained = dict((p.id, why) for p, why in matcher.explain_all(person, catalogue, result))
    assert set(explained) == {2, 3}
    assert explained[2] == ["Âge : 12 ans, le programme accueille les jeunes de 16 à ? ans."]
    assert "Toutes les conditions sont remplies" in explained[3][0]


# --- Reasons ------------------------------------------------------------------------------------
def test_reasons_name_the_place_in_plain_french():
    def first_reason(place, **zone):
        p = programme(**{"zone_nationale": False, **zone})
        return run(jeune(place=place), p).proposals[0].reasons[0]

    assert first_reason(LYON, departements=frozenset({"69"})) == (
        "Elle intervient dans votre département, le Rhône."
    )
    assert first_reason(GUERET, departements=frozenset({"23"})) == (
        "Elle intervient dans votre département, la Creuse."
    )
    assert first_reason(LYON, regions=frozenset({"84"})) == (
        "Elle intervient dans votre région, Auvergne-Rhône-Alpes."
    )
    assert first_reason(VILLEURBANNE, communes=frozenset({"69266"})) == (
        "Elle intervient dans votre commune, Villeurbanne."
    )


def test_reasons_say_what_the_programme_does():
    specialised = programme(1, besoins=frozenset({"scolarite"}))
    reasons = run(jeune(besoin="scolarite"), specialised).proposals[0].reasons
    assert reasons[1] == "Elle se consacre à aider les jeunes à progresser à l'école."
    reasons = run(mentor(besoins=["scolarite", "orientation"]), programme(2)).proposals[0].reasons
    assert reasons[1] == (
        "Elle cherche des mentors pour aider les jeunes à progresser à l'école "
        "et à choisir leur orientation."
    )


def test_reasons_for_reserved_and_priority_publics():
    reserved = programme(1, publics_reserves=frozenset({"handicap"}))
    person = jeune(situations_particulieres=["handicap"])
    assert "Elle s'adresse spécialement aux jeunes en situation de handicap." in (
        run(person, reserved).proposals[0].reasons
    )
    priority = programme(2, publics_prioritaires=frozenset({"qpv", "boursier"}))
    person = jeune(situations_particulieres=["qpv", "boursier"])
    assert (
        "Elle accompagne en priorité les jeunes des quartiers prioritaires "
        "et les jeunes boursières et boursiers."
    ) in run(person, priority).proposals[0].reasons


def test_two_to_four_reasons_each_a_french_sentence():
    person = jeune(situations_particulieres=["qpv"], rencontre="distance")
    p = programme(
        1, publics_prioritaires=frozenset({"qpv"}), a_distance=True, capacite_mensuelle=10
    )
    reasons = run(person, p, reactivite={1: reactivite(19, 20)}).proposals[0].reasons
    assert 2 <= len(reasons) <= 4
    for reason in reasons:
        assert reason[0].isupper() and reason.endswith(".")


# --- Determinism and version ---------------------------------------------------------------------
def test_same_input_same_output_and_version():
    catalogue = build_catalogue([programme(n, capacite_mensuelle=n) for n in range(1, 6)])
    first = match(jeune(), catalogue, matcher.Stats(proposed_this_month={2: 1}))
    assert first == match(jeune(), catalogue, matcher.Stats(proposed_this_month={2: 1}))
    assert first.version == matcher.MATCHER_VERSION


def test_catalogue_is_iterable_of_programmes():
    catalogue = build_catalogue([programme(2), programme(1)])
    assert [p.id for p in catalogue] == [1, 2]
    assert len(catalogue) == 2


# --- Properties ---------------------------------------------------------------------------------
def random_subset(rng, codes, max_size):
    return frozenset(rng.sample(codes, rng.randint(0, min(max_size, len(codes)))))


def random_programme(rng, id):
    age_min = rng.choice([None, 11, 15, 16, 18, 25])
    return programme(
        id,
        association_id=rng.randint(1, 6),
        actif=rng.random() < 0.9,
        association_active=rng.random() < 0.9,
        en_pause=rng.random() < 0.1,
        publics=rng.choice([{"jeunes"}, {"mentors"}, {"jeunes", "mentors"}]),
        besoins=frozenset(rng.sample(matcher.BESOINS, rng.randint(1, 4))),
        age_min=age_min,
        age_max=rng.choice([None, max(age_min or 11, rng.randint(11, 30))]),
        situations=random_subset(rng, matcher.SITUATIONS_JEUNE, 3),
        zone_nationale=rng.random() < 0.2,
        regions=random_subset(rng, ("11", "75", "84"), 1),
        departements=random_subset(rng, ("15", "23", "38", "69", "75"), 2),
        communes=random_subset(rng, tuple(place.insee for place in PLACES), 2),
        a_distance=rng.random() < 0.3,
        publics_reserves=random_subset(rng, matcher.PUBLICS, 1)
        if rng.random() < 0.2
        else frozenset(),
        publics_prioritaires=random_subset(rng, matcher.PUBLICS, 3),
        mentor_situations=random_subset(rng, matcher.SITUATIONS_MENTOR, 2),
        mentor_tranches_age=random_subset(rng, matcher.TRANCHES_AGE, 2),
        mentor_secteurs=random_subset(rng, matcher.SECTEURS, 3),
        capacite_mensuelle=rng.randint(0, 50),
    )


def random_catalogue(seed, count):
    """Drawn from a seed: much faster than drawing every field with hypothesis."""
    rng = random.Random(seed)
    return [random_programme(rng, id) for id in range(1, count + 1)]


def random_stats(seed):
    rng = random.Random(seed)
    ids = range(1, 26)
    return dict(
        last_proposed={
            i: dt.datetime(2026, 11, 1) + dt.timedelta(hours=rng.randint(0, 9))
            for i in ids
            if rng.random() < 0.5
        },
        proposed_this_month={i: rng.randint(0, 60) for i in ids if rng.random() < 0.5},
        jeunes_en_attente={i: rng.randint(0, 20) for i in ids if rng.random() < 0.5},
        mentors_disponibles={i: rng.randint(0, 20) for i in ids if rng.random() < 0.5},
        reactivite={
            i: matcher.Reactivite(n, rng.randint(0, n), rng.randint(0, 9))
            for i in range(1, 7)
            if rng.random() < 0.5
            for n in [rng.randint(0, 30)]
        },
    )


seeds = st.integers(0, 2**32 - 1)
catalogues = st.builds(random_catalogue, seeds, st.integers(0, 25))
all_stats = st.builds(lambda seed: matcher.Stats(**random_stats(seed)), seeds)

youths = st.builds(
    lambda place, **answers: person_from_answers("jeune", answers, place),
    place=st.sampled_from(PLACES),
    age=st.integers(11, 29),
    situation=st.sampled_from(matcher.SITUATIONS_JEUNE),
    besoin=st.sampled_from(matcher.BESOINS),
    situations_particulieres=st.lists(st.sampled_from(matcher.PUBLICS_DECLARES), unique=True),
    rencontre=st.sampled_from(matcher.RENCONTRES_JEUNE),
)
mentors = st.builds(
    lambda place, **answers: person_from_answers("mentor", answers, place),
    place=st.sampled_from(PLACES),
    situation=st.sampled_from(matcher.SITUATIONS_MENTOR),
    tranche_age=st.sampled_from(matcher.TRANCHES_AGE),
    secteur=st.sampled_from(matcher.SECTEURS),
    besoins=st.lists(st.sampled_from(matcher.BESOINS), min_size=1, unique=True),
    publics=st.lists(st.sampled_from(matcher.PUBLICS_MENTOR), unique=True),
    modalite=st.sampled_from(matcher.MODALITES_MENTOR),
)
persons = youths | mentors


@settings(max_examples=200, deadline=None)
@given(persons, catalogues, all_stats)
def test_property_a_proposal_always_passes_every_gate(person, programmes, stats):
    result = match(person, build_catalogue(programmes), stats)
    for proposal in result.proposals:
        assert explain(person, proposal.programme, distance_forcee=result.distance_forcee) == []


@settings(max_examples=200, deadline=None)
@given(persons, catalogues, all_stats, st.randoms(use_true_random=False))
def test_property_result_does_not_depend_on_catalogue_order(person, programmes, stats, rng):
    shuffled = list(programmes)
    rng.shuffle(shuffled)
    assert match(person, build_catalogue(programmes), stats) == match(
        person, build_catalogue(shuffled), stats
    )


@settings(max_examples=200, deadline=None)
@given(persons, catalogues, all_stats)
def test_property_well_formed_result_for_any_valid_person(person, programmes, stats):
    result = match(person, build_catalogue(programmes), stats)
    assert result.waiting_list == (not result.proposals)
    assert [p.rank for p in result.proposals] == list(range(1, len(result.proposals) + 1))
    associations = [p.association_id for p in result.proposals]
    assert len(associations) == len(set(associations)) <= matcher.MAX_PROPOSALS
    scores = [p.score for p in result.proposals]
    assert scores == sorted(scores, reverse=True)
    for proposal in result.proposals:
        assert 2 <= len(proposal.reasons) <= 4
        parts = matcher.score_parts(person, proposal.programme, proposal.niveau, stats)
        assert proposal.score == matcher.total(parts)


@settings(max_examples=200, deadline=None)
@given(persons, catalogues, all_stats)
def test_property_index_finds_what_checking_every_programme_finds(person, programmes, stats):
    """The index is only a shortcut: the best score and the waiting list are those of a
    plain scan of the catalogue with `explain`."""
    result = match(person, build_catalogue(programmes), stats)

    def best_by_scan(distance_forcee):
        scores = [
            matcher.total(
                matcher.score_parts(
                    person,
                    p,
                    matcher.territory_level(person, p, distance_forcee),
                    stats,
                )
            )
            for p in programmes
            if not explain(person, p, distance_forcee=distance_forcee)
        ]
        return max(scores, default=None)

    near, remote = best_by_scan(False), best_by_scan(True)
    if near is not None:
        assert not result.distance_forcee
        assert result.proposals[0].score == near
    elif remote is not None:
        assert result.distance_forcee
        assert result.proposals[0].score == remote
    else:
        assert result.waiting_list


def test_bench_catalogue_generator_runs_the_matcher():
    """scripts/bench_matcher.py's random catalogue is valid matcher input."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "scripts" / "bench_matcher.py"
    spec = importlib.util.spec_from_file_location("bench_matcher", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    rng = random.Random(3)
    communes = bench.make_communes(rng, 50)
    catalogue = build_catalogue([bench.make_programme(rng, n, communes) for n in range(1, 60)])
    results = [match(bench.make_person(rng, communes), catalogue) for _ in range(30)]
    assert any(r.proposals for r in results)


def test_reserved_and_priority_publics_are_never_mixed_in_one_sentence():
    person = jeune(situations_particulieres=["handicap", "qpv"], accord_sensible=True)
    p = programme(publics_reserves=frozenset({"handicap"}), publics_prioritaires=frozenset({"qpv"}))
    reasons = " ".join(run(person, p).proposals[0].reasons)
    assert "Elle s'adresse spécialement aux jeunes en situation de handicap." in reasons
    assert "spécialement aux jeunes des quartiers" not in reasons


def test_statistics_are_a_typed_value():
    catalogue = build_catalogue([programme()])
    assert match(jeune(), catalogue) == match(jeune(), catalogue, matcher.Stats())
    with pytest.raises(TypeError, match="matcher.Stats"):
        match(jeune(), catalogue, {"proposed_this_month": {}})
