"""The journey walker: completed and next steps derived from stored answers only."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.journeys import CHECK, JEUNE, MENTOR, Journey

YOUTH = {
    "age": {"age": 17},
    "situation": {"situation": "lycee_general"},
    "besoin": {"besoin": "orientation"},
    "commune": {"commune": "69123", "code_postal": "69003", "commune_label": "Lyon (69003)"},
    "situation-particuliere": {"situations_particulieres": [], "accord_sensible": False},
    "rencontre": {"rencontre": "les_deux"},
    "coordonnees": {"prenom": "Inès"},
}
PARENT = {"parent": {"parent_prenom": "Samia"}}


def names(steps):
    return [s.name for s in steps]


def test_empty_answers_start_at_the_first_step():
    journey = Journey(JEUNE, {})
    assert journey.completed == []
    assert journey.next_step.name == "age"
    assert journey.can_visit("age")
    assert not journey.can_visit("situation")
    assert not journey.can_visit(CHECK)
    assert journey.previous("age") is None


def test_next_step_is_the_first_unanswered_one():
    answers = {k: YOUTH[k] for k in ("age", "situation")}
    journey = Journey(JEUNE, answers)
    assert names(journey.completed) == ["age", "situation"]
    assert journey.next_step.name == "besoin"
    assert journey.first_url_step == "besoin"
    assert journey.can_visit("situation")
    assert journey.can_visit("besoin")
    assert not journey.can_visit("commune")


def test_a_gap_stops_the_walk_even_if_later_steps_are_stored():
    answers = dict(YOUTH)
    del answers["besoin"]
    journey = Journey(JEUNE, answers)
    assert journey.next_step.name == "besoin"
    assert "commune" not in names(journey.completed)
    assert not journey.can_visit("rencontre")


def test_complete_journey_leads_to_the_check_page():
    journey = Journey(JEUNE, YOUTH)
    assert journey.is_complete
    assert journey.first_url_step == CHECK
    assert journey.can_visit(CHECK)
    assert journey.previous(CHECK) == "coordonnees"
    assert journey.following("coordonnees") == CHECK


def test_under_15_branch_adds_the_parent_step():
    answers = dict(YOUTH, age={"age": 13})
    journey = Journey(JEUNE, answers)
    assert not journey.is_complete
    assert journey.next_step.name == "parent"
    assert journey.following("coordonnees") == "parent"
    journey = Journey(JEUNE, {**answers, **PARENT})
    assert journey.is_complete
    assert journey.previous(CHECK) == "parent"


def test_branch_change_drops_the_answers_of_the_abandoned_branch():
    answers = {**YOUTH, **PARENT}
    journey = Journey(JEUNE, answers)  # 17: the parent step does not apply
    assert journey.is_complete
    assert "parent" not in names(journey.completed)
    assert "parent_prenom" not in journey.relevant_answers()
    assert journey.inapplicable() == ["parent"]
    assert Journey(JEUNE, dict(answers, age={"age": 14})).inapplicable() == []


@pytest.mark.parametrize(
    ("age", "exit_step"),
    [
        (30, "plus-de-30-ans"),
        (45, "plus-de-30-ans"),
        (10, "moins-de-11-ans"),
        (1, "moins-de-11-ans"),
    ],
)
def test_age_exits_end_the_journey(age, exit_step):
    journey = Journey(JEUNE, dict(YOUTH, age={"age": age}))
    assert journey.next_step.exit
    assert journey.next_step.name == exit_step
    assert names(journey.completed) == ["age"]
    assert journey.can_visit(exit_step)
    assert not journey.can_visit("situation")
    assert not journey.can_visit(CHECK)
    assert journey.previous(exit_step) == "age"


@pytest.mark.parametrize("age", [11, 14, 15, 29])
def test_ages_11_to_29_go_on(age):
    journey = Journey(JEUNE, {"age": {"age": age}})
    assert journey.next_step.name == "situation"
    assert not journey.can_visit("plus-de-30-ans")
    assert not journey.can_visit("moins-de-11-ans")


def test_previous_and_following_walk_the_path():
    journey = Journey(JEUNE, YOUTH)
    assert journey.previous("besoin") == "situation"
    assert journey.previous("situation") == "age"
    assert journey.following("age") == "situation"
    assert journey.following("rencontre") == "coordonnees"


def test_following_an_unreachable_step_goes_to_the_first_unanswered():
    journey = Journey(JEUNE, {"age": {"age": 17}})
    assert journey.following("rencontre") == "situation"


def test_progress_counts_the_applicable_pages():
    journey = Journey(JEUNE, {"age": {"age": 17}})
    assert journey.progress("age") == (1, 8)
    assert journey.progress(CHECK) == (8, 8)
    younger = Journey(JEUNE, {"age": {"age": 13}})
    assert younger.progress(CHECK) == (9, 9)


def test_mentor_journey_has_no_branch():
    journey = Journey(MENTOR, {})
    assert journey.next_step.name == "situation"
    answers = {s.name: {"x": 1} for s in MENTOR.steps}
    journey = Journey(MENTOR, answers)
    assert journey.is_complete
    assert names(journey.completed) == [s.name for s in MENTOR.steps]


def test_walker_does_not_mutate_the_answers():
    answers = {**YOUTH, **PARENT}
    snapshot = repr(answers)
    Journey(JEUNE, answers).relevant_answers()
    assert repr(answers) == snapshot


step_names = st.sampled_from([s.name for s in JEUNE.steps] + ["inconnue", CHECK])
answer_sets = st.dictionaries(
    step_names, st.fixed_dictionaries({}, optional={"age": st.integers(-5, 200)}), max_size=12
)


@given(answers=answer_sets)
def test_walker_never_loops_and_keeps_the_questionnaire_order(answers):
    journey = Journey(JEUNE, answers)
    order = [s.name for s in JEUNE.steps]
    completed = [s.name for s in journey.completed]
    assert len(completed) == len(set(completed))
    assert completed == sorted(completed, key=order.index)
    assert journey.is_complete or journey.can_visit(journey.next_step.name)
    for name in completed:
        assert journey.can_visit(name)
        assert journey.previous(name) in (None, *completed)
