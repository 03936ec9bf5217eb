"""The questionnaire's answer codes are the matcher's and the catalogue's: one vocabulary."""

import pytest

import forms
import matcher


def codes(choices):
    return [value for value, _ in choices]


@pytest.mark.parametrize(
    ("form_choices", "matcher_codes"),
    [
        (forms.SITUATIONS_JEUNE, matcher.SITUATIONS_JEUNE),
        (forms.BESOINS, matcher.BESOINS),
        (forms.BESOINS_MENTOR, matcher.BESOINS),
        (forms.SITUATIONS_PARTICULIERES, matcher.PUBLICS_DECLARES),
        (forms.RENCONTRES, matcher.RENCONTRES_JEUNE),
        (forms.SITUATIONS_MENTOR, matcher.SITUATIONS_MENTOR),
        (forms.TRANCHES_AGE, matcher.TRANCHES_AGE),
        (forms.SECTEURS, matcher.SECTEURS),
        (forms.PUBLICS, matcher.PUBLICS_MENTOR),
        (forms.MODALITES, matcher.MODALITES_MENTOR),
    ],
)
def test_form_codes_are_the_matcher_codes(form_choices, matcher_codes):
    assert codes(form_choices) == list(matcher_codes)


@pytest.mark.parametrize("name", ["Inès", "Jean-Pierre", "N'Diaye", "J.-P.", "Zoë Le Gall", "李"])
def test_names_accepted(name):
    assert forms.NAME_RE.match(name)


@pytest.mark.parametrize("name", ["R2D2", "<b>", "-", "a@b", "x_y"])
def test_names_refused(name):
    assert not forms.NAME_RE.match(name)
