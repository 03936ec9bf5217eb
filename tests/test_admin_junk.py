"""Junk at the operator's forms: never a 5xx, and nothing saved that the catalogue's own
rules would refuse."""

import io
import os

import pytest
from helpers import CSRF_RE, log_in
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_admin import ASSOCIATION, data, make_admin, programme_form

from models import Association, Programme
from services import catalogue

EXAMPLES = int(os.environ.get("JUNK_EXAMPLES") or 8)
JUNK = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
junk_text = st.one_of(
    st.text(max_size=60),
    st.sampled_from(["", " ", "0", "-1", "99999999999", "oui", "69|2A", "\x00", "é" * 300]),
)


@pytest.fixture
def admin(client, app):
    with data():
        log_in(client, make_admin())
    token = CSRF_RE.search(client.get("/admin/import").get_data(as_text=True)).group(1)
    return client, token


def assert_valid_association(slug):
    with data():
        association = Association.get(Association.slug == slug)
    cells = {
        "association_nom": association.nom,
        "association_description": association.description,
        "association_site": association.site,
        "association_email": association.email,
        "association_telephone": association.telephone,
        "association_delai_recontact": str(association.delai_recontact),
        "association_active": "oui" if association.actif else "non",
    }
    assert catalogue.check_association(cells)[1] == []


@JUNK
@given(
    changes=st.dictionaries(st.sampled_from(sorted(ASSOCIATION)), junk_text, max_size=4),
    slug=st.text(alphabet="abcdefghij-0123", min_size=1, max_size=12),
)
def test_junk_at_the_association_form(admin, changes, slug):
    client, token = admin
    form = {**ASSOCIATION, "association_slug": slug, **changes, "csrf_token": token}
    response = client.post("/admin/associations/nouvelle", data=form)
    assert response.status_code in (303, 422)
    if response.status_code == 303:
        assert_valid_association(form["association_slug"])
    else:
        assert "Il y a un problème" in response.get_data(as_text=True)


PROGRAMME_FIELDS = [
    "programme_slug",
    "programme_nom",
    "age_min",
    "age_max",
    "regions",
    "departements",
    "communes",
    "capacite_mensuelle",
    "format",
    "association",
]
LIST_FIELDS = ["publics", "besoins", "situations", "publics_reserves", "mentor_secteurs"]


@JUNK
@given(
    changes=st.dictionaries(st.sampled_from(PROGRAMME_FIELDS), junk_text, max_size=4),
    lists=st.dictionaries(
        st.sampled_from(LIST_FIELDS), st.lists(junk_text, max_size=3), max_size=2
    ),
)
def test_junk_at_the_programme_form(admin, changes, lists):
    client, token = admin
    form = {**programme_form(), **changes, **lists, "csrf_token": token}
    with data():
        before = Programme.select().count()
    response = client.post("/admin/programmes/nouveau", data=form)
    assert response.status_code in (303, 422)
    with data():
        after = Programme.select().count()
        assert after == before + (response.status_code == 303)
        if response.status_code == 303:
            programme = Programme.get(Programme.slug == form["programme_slug"])
            assert set(programme.besoins) <= set(catalogue.matcher.BESOINS)
            assert programme.departements or programme.communes or programme.regions


SIMULATOR_FIELDS = [
    "kind",
    "commune",
    "rencontre",
    "age",
    "situation_jeune",
    "besoin",
    "publics",
    "tranche_age",
    "situation_mentor",
    "secteur",
    "besoins",
    "publics_mentor",
]


@JUNK
@given(query=st.dictionaries(st.sampled_from(SIMULATOR_FIELDS), junk_text, max_size=6))
def test_junk_at_the_simulator(admin, query):
    client, _ = admin
    response = client.get("/admin/simulateur", query_string=query)
    assert response.status_code in (200, 422)


@JUNK
@given(content=st.binary(max_size=400) | st.text(max_size=400).map(str.encode))
def test_junk_at_the_import(admin, content):
    client, token = admin
    with data():
        before = Programme.select().count()
    response = client.post(
        "/admin/import",
        data={"csrf_token": token, "fichier": (io.BytesIO(content), "x.csv")},
    )
    assert response.status_code == 422
    with data():
        assert Programme.select().count() == before
