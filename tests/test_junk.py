"""Junk in every field of every page: a clear 4xx or a normal answer, never a 500."""

import pytest
from helpers import MENTOR_STEPS, YOUTH_STEPS, csrf_token, walk
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import models

FIELDS = {
    "jeune": {
        "age": ["age"],
        "situation": ["situation"],
        "besoin": ["besoin"],
        "commune": ["commune", "choix", "choix_affiche"],
        "situation-particuliere": ["situations", "accord_sensible"],
        "rencontre": ["rencontre"],
        "coordonnees": ["prenom", "nom", "email", "telephone", "contact_pref"],
        "verifier": ["consentement"],
    },
    "mentor": {
        "situation": ["situation"],
        "age": ["tranche_age"],
        "experience": ["secteur", "metier"],
        "accompagnement": ["besoins", "publics"],
        "disponibilite": ["disponibilite", "modalite"],
        "commune": ["commune", "choix", "choix_affiche"],
        "coordonnees": ["prenom", "nom", "email", "telephone"],
        "verifier": ["consentement"],
    },
}
ALL_STEPS = {"jeune": YOUTH_STEPS, "mentor": MENTOR_STEPS}

junk_text = st.one_of(
    st.text(max_size=300),
    st.sampled_from(
        [
            "",
            " ",
            "0",
            "-1",
            "999999999999",
            "\x00",
            "%",
            "_",
            "' OR 1=1 --",
            "<script>alert(1)</script>",
            "é" * 5000,
            "NaN",
            "1e9",
            "٣",
            "Ⅻ",
        ]
    ),
)
junk_value = st.one_of(junk_text, st.lists(junk_text, max_size=4))


def cases():
    for parcours, steps in FIELDS.items():
        for index, step in enumerate(steps):
            yield pytest.param(parcours, step, index, id=f"{parcours}-{step}")


@pytest.mark.parametrize(("parcours", "step", "index"), list(cases()))
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_junk_never_gives_a_server_error(client, parcours, step, index, data):
    with models.db.connection_context():
        models.Draft.delete().execute()
    client.delete_cookie("session")
    walk(client, parcours, ALL_STEPS[parcours][:index])
    names = FIELDS[parcours][step] + data.draw(st.lists(st.text(max_size=20), max_size=2))
    form = {name: data.draw(junk_value) for name in names}
    form["csrf_token"] = csrf_token(client)
    response = client.post(f"/{parcours}/{step}", data=form)
    assert response.status_code in (200, 303, 400, 413, 422), response.status_code
    if response.status_code in (400, 422):
        assert 'lang="fr"' in response.get_data(as_text=True) or "<main" in response.get_data(
            as_text=True
        )
