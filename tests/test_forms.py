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


@pytest.mark.parametrize(
    ("raw", "shown"),
    [("0612345678", "06 12 34 56 78"), ("+33612345678", "+33612345678"), ("", "")],
)
def test_phone_display(raw, shown):
    assert forms.display_phone(raw) == shown


@pytest.mark.parametrize(
    "phone",
    ["06 12 34 56 78", "06.12.34.56.78", "+33 6 12 34 56 78", "0033612345678", "01-23-45-67-89"],
)
def test_french_phones_are_accepted(phone):
    assert forms.PHONE_RE.match(forms.normalise_phone(phone))


@pytest.mark.parametrize(
    "phone", ["12345", "0012345678", "06 12 34 56", "+44 20 7946 0958", "06123456789"]
)
def test_other_phones_are_refused(phone):
    assert not forms.PHONE_RE.match(forms.normalise_phone(phone))


@pytest.mark.parametrize("name", ["Inès", "Jean-Pierre", "N'Diaye", "J.-P.", "Zoë Le Gall", "李"])
def test_names_accepted(name):
    assert forms.NAME_RE.match(name)


@pytest.mark.parametrize("name", ["R2D2", "<b>", "-", "a@b", "x_y"])
def test_names_refused(name):
    assert not forms.NAME_RE.match(name)
