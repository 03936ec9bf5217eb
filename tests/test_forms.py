"""The questionnaire's answer codes are the matcher's and the catalogue's: one vocabulary."""

import pytest
from werkzeug.datastructures import MultiDict

from domain import matcher
from forms import questionnaire


def codes(choices):
    return [value for value, _ in choices]


@pytest.mark.parametrize(
    ("form_choices", "matcher_codes"),
    [
        (questionnaire.SITUATIONS_JEUNE, matcher.SITUATIONS_JEUNE),
        (questionnaire.BESOINS, matcher.BESOINS),
        (questionnaire.BESOINS_MENTOR, matcher.BESOINS),
        (questionnaire.SITUATIONS_PARTICULIERES, matcher.PUBLICS_DECLARES),
        (questionnaire.RENCONTRES, matcher.RENCONTRES_JEUNE),
        (questionnaire.SITUATIONS_MENTOR, matcher.SITUATIONS_MENTOR),
        (questionnaire.TRANCHES_AGE, matcher.TRANCHES_AGE),
        (questionnaire.SECTEURS, matcher.SECTEURS),
        (questionnaire.PUBLICS, matcher.PUBLICS_MENTOR),
        (questionnaire.MODALITES, matcher.MODALITES_MENTOR),
    ],
)
def test_form_codes_are_the_matcher_codes(form_choices, matcher_codes):
    assert codes(form_choices) == list(matcher_codes)


@pytest.mark.parametrize("name", ["Inès", "Jean-Pierre", "N'Diaye", "J.-P.", "Zoë Le Gall", "李"])
def test_names_accepted(name):
    assert questionnaire.NAME_RE.match(name)


@pytest.mark.parametrize("name", ["R2D2", "<b>", "-", "a@b", "x_y"])
def test_names_refused(name):
    assert not questionnaire.NAME_RE.match(name)


def bound(app, form_class, pairs):
    """`form_class` filled as a POST of `pairs` would fill it (CSRF aside)."""
    with app.test_request_context():
        form = form_class(formdata=MultiDict(pairs), meta={"csrf": False})
        return form, form.validate()


@pytest.mark.parametrize("sent", [[], ["false"], ["0"], ["on"], ["Y"], ["true"], ["", "y"]])
def test_a_box_sending_anything_but_its_own_value_is_unticked(app, sent):
    form, valid = bound(app, questionnaire.ConsentForm, [("consentement", v) for v in sent])
    assert form.consentement.data is False and not valid
    assert form.consentement.errors == [
        "Cochez la case pour accepter que vos réponses soient transmises à "
        "l'association, sans quoi elle ne pourra pas vous recontacter"
    ]
    assert 'value="y"' in str(form.consentement())  # re-shown with its own value


def test_a_box_ticked_with_its_own_value(app):
    form, valid = bound(app, questionnaire.ConsentForm, [("consentement", "y")])
    assert valid and form.consentement.data is True


@pytest.mark.parametrize(
    ("pairs", "error"),
    [
        ([("besoins", ""), ("besoins", "evil")], "Choisissez parmi les sujets proposés"),
        ([("besoins", "emploi"), ("publics", ""), ("publics", "x")], "Choisissez parmi les jeunes"),
        ([("besoins", "")], "Choisissez au moins un sujet"),
        ([], "Choisissez au moins un sujet"),
    ],
)
def test_every_box_of_a_multi_choice_is_checked(app, pairs, error):
    form, valid = bound(app, questionnaire.AccompagnementForm, pairs)
    assert not valid
    assert any(e.startswith(error) for errors in form.errors.values() for e in errors)


def test_blank_and_repeated_boxes_are_dropped(app):
    pairs = [("besoins", v) for v in ("", "emploi", "emploi", "scolarite")] + [("publics", "")]
    form, valid = bound(app, questionnaire.AccompagnementForm, pairs)
    assert valid
    assert form.answers() == {"besoins": ["emploi", "scolarite"], "publics": []}


@pytest.mark.parametrize("age", ["9" * 5000, "1" * 4301, "0017", "121"])
def test_an_age_too_long_or_too_big_is_refused_before_any_conversion(app, age):
    form, valid = bound(app, questionnaire.AgeForm, [("age", age)])
    assert not valid
    assert form.age.errors == ["Indiquez votre âge en années, entre 1 et 120"]


def test_a_refused_parent_agreement_reads_no(app):
    answers = {
        "parent_prenom": "Samia",
        "parent_nom": "Martin",
        "parent_email": "",
        "parent_telephone": "0698765432",
        "parent_accord": False,
    }
    assert ("Accord du parent", "Non") in questionnaire.ParentForm.summary(answers)
    assert ("Accord du parent", "Oui") in questionnaire.ParentForm.summary(
        dict(answers, parent_accord=True)
    )
    with app.test_request_context():
        assert not questionnaire.ParentForm.from_answers(answers).validate()


def test_one_line_text_loses_its_control_characters():
    one_line = questionnaire.strip  # the filter of every text field
    assert one_line(" Infirmière\x00\n de nuit\t") == "Infirmière   de nuit"
    assert one_line(None) == ""
