"""The suggestions endpoint and the commune combobox macro."""

import re

import pytest
from flask import render_template_string
from werkzeug.datastructures import MultiDict
from wtforms import Form, StringField

URL = "/communes/suggestions"


def options(response):
    return re.findall(r'<li role="option" id="([^"]+)"[^>]*data-value="([^"]*)"', response.text)


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
