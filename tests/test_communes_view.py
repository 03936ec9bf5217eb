"""The suggestions endpoint and the commune combobox macro."""

import re

import pytest
from flask import render_template_string
from helpers import YOUTH_STEPS, post, walk
from werkzeug.datastructures import MultiDict
from wtforms import Form, StringField

import models

URL = "/communes/suggestions"


def options(response):
    return re.findall(r'<li role="option" id="([^"]+)"[^>]*data-value="([^"]*)"', response.text)


def option_texts(response):
    return re.findall(r'<li role="option"[^>]*>([^<]*)</li>', response.text)


def status(response):
    match = re.search(r'<hx-partial data-hx-target="#([^"]+)">([^<]*)</hx-partial>', response.text)
    return match.groups() if match else None


def test_suggestions_fragment(client):
    response = client.get(URL, query_string={"commune": "lyon"})
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert response.headers["Cache-Control"] == "private, max-age=3600"
    found = options(response)
    assert found[0] == ("commune-option-0", "Lyon (69001)")
    assert [option_id for option_id, _ in found] == [f"commune-option-{i}" for i in range(10)]
    assert 'aria-selected="false"' in response.text
    assert status(response) == ("commune-status", "10 communes trouvées")
    assert "<html" not in response.text and "style=" not in response.text


def test_suggestions_by_postal_code(client):
    response = client.get(URL, query_string={"commune": "69003"})
    assert options(response) == [("commune-option-0", "Lyon (69003)")]
    assert status(response) == ("commune-status", "1 commune trouvée")


def test_suggestions_escape_names(client):
    response = client.get(URL, query_string={"commune": "l'hay"})
    assert options(response) == [("commune-option-0", "L&#39;Haÿ-les-Roses (94240)")]


def test_no_commune_found(client):
    response = client.get(URL, query_string={"commune": "Nulle-Part-sur-Rien"})
    assert response.status_code == 200
    assert options(response) == []
    assert status(response) == ("commune-status", "Aucune commune trouvée")


@pytest.mark.parametrize("typed", ["marseile", "Marseile", "MARSEILE"])
def test_a_typing_error_says_so_and_offers_the_nearest_names(client, typed):
    response = client.get(URL, query_string={"commune": typed})
    assert response.status_code == 200
    assert status(response) == (
        "commune-status",
        f"Aucune commune ne commence par « {typed} ». Vouliez-vous dire :",
    )
    assert options(response) == [("commune-option-0", "Marseille (13)")]


def test_nearest_names_follow_the_prefix_matches(client):
    response = client.get(URL, query_string={"commune": "toulouze"})
    found = [value for _, value in options(response)]
    assert found[:2] == ["Toulouzette (40250)", "Toulouse (31)"]
    # Something starts with what was typed: the usual count, not "did you mean".
    assert status(response) == ("commune-status", f"{len(found)} communes trouvées")


def test_a_former_commune_is_shown_with_todays_commune(client):
    response = client.get(URL, query_string={"commune": "Andard"})
    # The option tells what Andard is today; picking it fills in today's label.
    assert option_texts(response) == ["Andard, aujourd&#39;hui Loire-Authion (49)"]
    assert options(response) == [("commune-option-0", "Loire-Authion (49)")]
    assert status(response) == ("commune-status", "1 commune trouvée")


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("69100 Villeurbanne", "Villeurbanne (69100)"),
        ("Saint-Denis 93", "Saint-Denis (93)"),
        ("Mureaux", "Les Mureaux (78130)"),
        ("paris15", "Paris (75015)"),
        ("75000", "Paris (75)"),
    ],
)
def test_suggestions_for_what_people_type(client, typed, expected):
    response = client.get(URL, query_string={"commune": typed})
    assert options(response)[0] == ("commune-option-0", expected)


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"commune": ""},
        {"commune": "l"},
        {"commune": "%"},
        {"commune": "_"},
        {"commune": "%%"},
        {"commune": "x" * 2000},
        {"commune": "lyon" * 500},
        {"commune": "\x00"},
    ],
)
def test_short_or_junk_text_gives_an_empty_list_and_says_nothing(client, query):
    response = client.get(URL, query_string=query)
    assert response.status_code == 200
    assert options(response) == []
    assert status(response) == ("commune-status", "")


def test_markup_in_the_query_is_neither_reflected_nor_an_error(client):
    response = client.get(URL, query_string={"commune": "<script>alert(1)</script>"})
    assert response.status_code == 200
    assert options(response) == []
    assert "<script" not in response.text and "alert" not in response.text


def test_suggestions_only_answer_get(client):
    assert client.post(URL, data={"commune": "lyon"}).status_code == 405


class CommuneForm(Form):
    commune = StringField("Où habitez-vous ?", render_kw={"maxlength": 100})


MACRO = (
    '{% from "macros/commune.html" import commune_input %}'
    "{{ commune_input(form.commune, 'commune-hint', error_id) }}"
)


def render_macro(app, data="", error_id=None):
    form = CommuneForm(MultiDict({"commune": data}))
    with app.test_request_context("/"):
        return render_template_string(MACRO, form=form, error_id=error_id)


def test_combobox_markup(app):
    html = render_macro(app, data="L'Haÿ-les-Roses (94240)")
    (input_tag,) = re.findall(r"<input [^>]+>", html)
    for attribute in [
        'type="text"',
        'id="commune"',
        'name="commune"',
        'value="L&#39;Haÿ-les-Roses (94240)"',
        'data-listbox="commune-listbox"',
        'aria-describedby="commune-hint"',
        'autocomplete="off"',
        'maxlength="100"',
        f'data-hx-get="{URL}"',
        'data-hx-target="#commune-listbox"',
        'data-hx-swap="innerHTML swapEmpty:true"',
    ]:
        assert attribute in input_tag, attribute
    assert "aria-invalid" not in input_tag
    # Without JS it is a plain text field: app.js adds the combobox role and states.
    assert "role=" not in input_tag and "aria-expanded" not in input_tag
    assert re.search(r'<ul [^>]*id="commune-listbox"[^>]*role="listbox"[^>]*hidden', html)
    assert re.search(r'id="commune-status"[^>]*aria-live="polite"', html)
    # The CSP allows no inline code: no hx-on, no js: values, no style attribute.
    assert "hx-on" not in html and "js:" not in html and "style=" not in html


def test_combobox_markup_with_an_error(app):
    html = render_macro(app, data="Nulle-Part", error_id="commune-error")
    (input_tag,) = re.findall(r"<input [^>]+>", html)
    assert 'aria-describedby="commune-hint commune-error"' in input_tag
    assert 'aria-invalid="true"' in input_tag
    assert "input--error" in input_tag


# --- Without JavaScript: the commune step of the questionnaire -----------------------


def commune_step(client, typed, **data):
    walk(client, "jeune", YOUTH_STEPS[:3])
    return post(client, "/jeune/commune", {"commune": typed, **data})


def stored_commune():
    with models.db.connection_context():
        return models.Draft.get().answers.get("commune")


def hint(response):
    return re.search(r'<p class="hint" id="choix-hint">([^<]*)</p>', response.text).group(1)


def test_a_typing_error_offers_the_nearest_names_as_radio_buttons(client):
    response = commune_step(client, "toulouze ")  # nothing starts with it but Toulouzette
    assert response.status_code == 200
    assert stored_commune() is None
    assert 'value="Toulouse (31)"' in response.text
    response = commune_step(client, "strasbuorg")
    assert response.status_code == 200
    assert hint(response) == (
        "Aucune commune ne s'appelle « strasbuorg ». "
        "Vouliez-vous dire celle-ci ? Cochez-la pour confirmer."
    )
    assert re.findall(r'type="radio"[^>]*value="([^"]+)"', response.text) == ["Strasbourg (67)"]
    assert "Strasbourg (67) — Bas-Rhin" in response.text
    response = commune_step(client, "strasbuorg", choix="Strasbourg (67)")
    assert response.status_code == 303
    assert stored_commune() == {
        "commune": "67482",
        "code_postal": None,
        "commune_label": "Strasbourg (67)",
    }


def test_several_nearest_names_are_asked_among(client):
    response = commune_step(client, "creteiil")
    assert response.status_code == 200
    assert hint(response).startswith("Aucune commune ne s'appelle « creteiil ». ")
    assert hint(response).endswith("Vouliez-vous dire l'une de celles-ci ? Cochez la vôtre.")
    values = re.findall(r'type="radio"[^>]*value="([^"]+)"', response.text)
    assert values[0] == "Créteil (94000)" and len(values) > 1


def test_a_former_commune_is_confirmed_as_todays(client):
    response = commune_step(client, "Andard")
    assert response.status_code == 200
    assert hint(response) == "Est-ce bien votre commune ? Cochez-la pour confirmer."
    assert "Andard, aujourd&#39;hui Loire-Authion (49) — Maine-et-Loire" in response.text
    response = commune_step(client, "Andard", choix="Loire-Authion (49)")
    assert response.status_code == 303
    assert stored_commune()["commune"] == "49307"


@pytest.mark.parametrize(
    ("typed", "insee"),
    [
        ("69100 Villeurbanne", "69266"),
        ("Saint-Denis 93", "93066"),
        ("75000", "75056"),
        ("paris15", "75056"),
    ],
)
def test_what_people_type_designates_the_commune_at_once(client, typed, insee):
    assert commune_step(client, typed).status_code == 303
    assert stored_commune()["commune"] == insee


def test_nothing_near_is_still_an_error(client):
    response = commune_step(client, "Xqzwvk")
    assert response.status_code == 422
    assert "Indiquez une commune de France, par exemple Lyon ou 69003" in response.text
    assert 'type="radio"' not in response.text
