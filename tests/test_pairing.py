"""pairing.py without a database: candidates for a binôme ranked by fit, with reasons."""

import datetime as dt
from types import SimpleNamespace

import pytest

from domain import pairing
from domain.pairing import WEIGHTS, Side

DAY = dt.datetime(2026, 11, 1)


def jeune(**changes):
    values = dict(
        lead_id=1,
        reference="J-1",
        kind="jeune",
        besoins=frozenset({"orientation"}),
        insee="69123",
        commune="Lyon",
        departement="69",
        format="les_deux",
        situation="lycee_general",
        age=17,
    )
    return Side(**{**values, **changes})


def mentor(lead_id, **changes):
    values = dict(
        lead_id=lead_id,
        reference=f"M-{lead_id}",
        kind="mentor",
        besoins=frozenset({"orientation", "emploi"}),
        insee="69123",
        commune="Lyon",
        departement="69",
        format="les_deux",
        disponibilite="2_4h",
        publics_souhaites=frozenset({"lyceens"}),
        waiting_since=DAY,
    )
    return Side(**{**values, **changes})


def order(subject, candidates):
    return [fit.candidate.reference for fit in pairing.rank(subject, candidates)]


def test_the_shared_besoin_comes_first():
    ranked = pairing.rank(jeune(), [mentor(2, besoins=frozenset({"emploi"})), mentor(3)])
    assert [f.candidate.reference for f in ranked] == ["M-3", "M-2"]
    assert "Même besoin : Orientation" in ranked[0].reasons
    assert (
        ranked[1].cautions[0]
        == "Besoin différent : le mentor propose Stage, alternance ou premier emploi"
    )


def test_closer_is_better_commune_then_departement_then_region():
    candidates = [
        mentor(2, insee="75056", commune="Paris", departement="75"),  # another région
        mentor(3, insee="38185", commune="Grenoble", departement="38"),  # same région
        mentor(4, insee="69266", commune="Villeurbanne"),  # same département
        mentor(5),  # same commune
    ]
    ranked = pairing.rank(jeune(format="proximite"), candidates)
    assert [f.candidate.reference for f in ranked] == ["M-5", "M-4", "M-3", "M-2"]
    reasons = [" ".join(f.reasons + f.cautions) for f in ranked]
    assert "Même commune : Lyon" in reasons[0]
    assert "Même département : Rhône (69)" in reasons[1]
    assert "Même région : Auvergne-Rhône-Alpes" in reasons[2]
    assert "Ni la même commune" in reasons[3]
    scores = [f.score for f in ranked]
    assert scores[0] - scores[3] == WEIGHTS["commune"]


def test_remote_only_ignores_distance_and_incompatible_formats_go_last():
    far = mentor(2, insee="75056", commune="Paris", departement="75", format="distance")
    in_person_only = mentor(3, format="presentiel")
    ranked = pairing.rank(jeune(format="distance"), [in_person_only, far])
    assert [f.candidate.reference for f in ranked] == ["M-2", "M-3"]
    assert "Rencontres à distance : cela convient aux deux" in ranked[0].reasons
    assert ranked[1].cautions[0].startswith("Façons de se rencontrer incompatibles")
    assert ranked[1].score < ranked[0].score


def test_the_mentors_wished_publics_and_availability():
    ranked = pairing.rank(
        jeune(),
        [
            mentor(2, publics_souhaites=frozenset({"collegiens"})),
            mentor(3, disponibilite="1_2h"),
            mentor(4, disponibilite="plus_4h"),
        ],
    )
    assert [f.candidate.reference for f in ranked] == ["M-4", "M-3", "M-2"]
    assert "Le mentor souhaite accompagner des lycéen·nes" in ranked[0].reasons
    assert "Disponibilité du mentor : plus de 4 heures par mois" in ranked[0].reasons
    assert "Le mentor préfère accompagner des collégien·nes" in ranked[2].cautions


def test_equal_fit_the_oldest_waiting_first_then_the_smallest_id():
    late = mentor(2, waiting_since=DAY + dt.timedelta(days=3))
    early = mentor(5, waiting_since=DAY)
    same = mentor(4, waiting_since=DAY)
    assert order(jeune(), [late, early, same]) == ["M-4", "M-5", "M-2"]


def test_from_a_mentor_youths_are_ranked_and_same_kind_left_out():
    subject = mentor(1, publics_souhaites=frozenset({"etudiants"}))
    student = jeune(lead_id=7, reference="J-7", situation="superieur")
    pupil = jeune(lead_id=8, reference="J-8", situation="college")
    assert order(subject, [pupil, student, mentor(9)]) == ["J-7", "J-8"]


def test_side_of_reads_a_lead_row():
    row = SimpleNamespace(
        id=3,
        reference="M-3",
        kind="mentor",
        prenom="Paul",
        nom="Durand",
        besoin="orientation,emploi",
        commune_id="69123",
        departement="69",
        situation="salarie",
        age=None,
        status="contactee",
        version=2,
        created_at=DAY,
        answers={"modalite": "presentiel", "disponibilite": "1_2h", "publics": ["lyceens"]},
    )
    side = pairing.side_of(row, "Lyon")
    assert side.besoins == {"orientation", "emploi"}
    assert (side.in_person, side.remote, side.region) == (True, False, "84")
    assert (side.disponibilite, side.publics_souhaites, side.version) == ("1_2h", {"lyceens"}, 2)


@pytest.mark.parametrize("meeting", ["", "inconnu"])
def test_unknown_formats_fall_back_to_distance(meeting):
    score, reasons, cautions = pairing.fit(jeune(format=meeting), mentor(2, format=meeting))
    assert cautions == ()
    assert "Même commune : Lyon" in reasons
    assert score == WEIGHTS["besoin"] + WEIGHTS["commune"] + WEIGHTS["publics"] + 4
