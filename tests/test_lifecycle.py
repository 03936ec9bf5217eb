"""The statuses of a lead and their transitions, without a database."""

import pytest

from domain import lifecycle
from domain.lifecycle import TransitionError, actions_for, check

CHAIN = ["nouvelle", "contactee", "en_attente", "binome_forme", "terminee"]


def test_the_main_chain_is_allowed_step_by_step():
    for before, after in zip(CHAIN, CHAIN[1:], strict=False):
        assert check(before, after).to == after


def test_no_step_may_be_skipped_nor_undone():
    with pytest.raises(TransitionError, match="« Nouvelle » ne peut pas passer à « Terminée »"):
        check("nouvelle", "terminee")
    for before, after in [
        ("nouvelle", "en_attente"),
        ("nouvelle", "binome_forme"),
        ("en_attente", "contactee"),
        ("terminee", "binome_forme"),
        ("sans_suite", "terminee"),
    ]:
        with pytest.raises(TransitionError):
            check(before, after)


def test_pair_formed_from_a_contacted_person_too():
    assert check("contactee", "binome_forme").code == "former_binome"


def test_same_status_and_unknown_statuses():
    with pytest.raises(TransitionError, match="déjà « Contactée »"):
        check("contactee", "contactee")
    with pytest.raises(TransitionError, match="n'existe pas"):
        check("nouvelle", "perdue")


@pytest.mark.parametrize("status", lifecycle.WAITING_FOR_PAIR)
def test_sans_suite_from_every_status_before_a_pair_with_a_reason(status):
    action = check(status, "sans_suite", reason="injoignable")
    assert action.code == "classer_sans_suite"
    with pytest.raises(TransitionError, match="Choisissez un motif") as error:
        check(status, "sans_suite")
    assert error.value.field == "reason"
    with pytest.raises(TransitionError, match="dans la liste"):
        check(status, "sans_suite", reason="pas_de_mentor")  # a hand-over reason


def test_autre_needs_a_note():
    with pytest.raises(TransitionError, match="Précisez") as error:
        check("contactee", "sans_suite", reason="autre", note="   ")
    assert error.value.field == "note"
    assert check("contactee", "sans_suite", reason="autre", note="Déménage").to == "sans_suite"


def test_a_reason_where_none_is_asked_and_a_long_note_are_refused():
    with pytest.raises(TransitionError, match="ne demande pas de motif"):
        check("nouvelle", "contactee", reason="injoignable")
    with pytest.raises(TransitionError, match="2000 caractères"):
        check("nouvelle", "contactee", note="x" * (lifecycle.NOTE_MAX + 1))
    assert check("nouvelle", "contactee", note="x" * lifecycle.NOTE_MAX)


@pytest.mark.parametrize("status", ["sans_suite", "terminee"])
def test_reopen_goes_back_to_contactee(status):
    assert check(status, "contactee").code == "rouvrir"
    assert [a.code for a in actions_for(status)] == ["rouvrir"]


def test_buttons_per_status_carry_content_md_labels():
    labels = {s: [a.label for a in actions_for(s)] for s in lifecycle.STATUSES}
    assert labels["nouvelle"] == [
        "J'ai contacté cette personne",
        "Classer sans suite",
        "Confier à une autre association",
    ]
    assert labels["contactee"] == [
        "Mettre en attente d'un binôme",  # a verb: what the button does (issue 16 §3)
        "Former un binôme",
        "Classer sans suite",
        "Confier à une autre association",
    ]
    # A pair ends with "terminer", which closes the Binome: never "sans suite".
    assert labels["binome_forme"] == ["Terminer l'accompagnement"]
    with pytest.raises(TransitionError):
        check("binome_forme", "sans_suite", reason="injoignable")
    assert "Confier à une autre association" not in [
        a.label for a in actions_for("contactee", hand_over=False)
    ]


def test_every_action_is_reachable_and_leads_to_a_known_status():
    for action in lifecycle.ACTIONS:
        assert action.to in lifecycle.STATUSES
        assert set(action.from_statuses) <= set(lifecycle.STATUSES)
        assert action.code in lifecycle.V.EVENEMENT  # its timeline entry has a label
    assert lifecycle.HAND_OVER.code in lifecycle.V.EVENEMENT
    # Every status can be reached from "nouvelle".
    reached, frontier = {"nouvelle"}, ["nouvelle"]
    while frontier:
        status = frontier.pop()
        for action in actions_for(status, hand_over=False):
            if action.to not in reached:
                reached.add(action.to)
                frontier.append(action.to)
    assert reached == set(lifecycle.STATUSES)


def test_hand_over_rules():
    assert lifecycle.check_hand_over("contactee", "hors_territoire").code == "transfert"
    with pytest.raises(TransitionError, match="ne peut pas être confiée"):
        lifecycle.check_hand_over("binome_forme", "hors_territoire")
    with pytest.raises(TransitionError, match="Précisez"):
        lifecycle.check_hand_over("nouvelle", "autre")
    with pytest.raises(TransitionError, match="dans la liste"):
        lifecycle.check_hand_over("nouvelle", "doublon")
