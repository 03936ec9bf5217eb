"""Junk at the account and settings forms: never a 5xx, and nothing stored that the
honest forms could not have produced."""

import functools
import os

from helpers import csrf_token, log_in
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import models
from domain import phones
from forms.espace import CAPACITE_MAX, DELAI_MAX, DELAI_MIN
from services import accounts

EXAMPLES = int(os.environ.get("JUNK_EXAMPLES") or 8)
JUNK = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
SPECIAL = [
    "",
    " ",
    "0",
    "-1",
    "1e9",
    "١٧",
    "\x00",
    "\r\n",
    "' OR 1=1 --",
    "<script>",
    "😀",
    "\u202e",
    "06 12 34 56 78",
    "https://x.fr",
    "a@b.fr",
    "y",
    "9" * 5000,
]
junk_text = st.one_of(
    st.text(max_size=40),
    st.text(st.characters(max_codepoint=0x1F), max_size=8),
    st.sampled_from(SPECIAL),
    st.sampled_from([129, 2001, 10_000]).map(lambda n: "é" * n),
)


def junk_form(names):
    return st.dictionaries(st.sampled_from(names), junk_text, max_size=len(names) + 1)


@functools.cache
def password_hash():
    return accounts.hash_password("une phrase de passe solide")


def make_responsable():
    association = models.Association.select().first()
    user = models.Utilisateur.create(
        email="resp@example.org",
        role="responsable",
        association=association,
        password_hash=password_hash(),
    )
    return user, association


@given(data=junk_form(["email", "password", "next"]), ip=st.sampled_from(["10.0.0.1", "::1"]))
@JUNK
def test_login_junk(client, data, ip):
    data["csrf_token"] = csrf_token(client, "/espace/connexion")
    response = client.post("/espace/connexion", data=data, environ_base={"REMOTE_ADDR": ip})
    assert response.status_code in (303, 413, 422, 429), response.status_code
    assert response.status_code != 303  # no account exists: never logged in


@given(data=junk_form(["email"]))
@JUNK
def test_forgotten_password_junk(client, data):
    data["csrf_token"] = csrf_token(client, "/espace/mot-de-passe-oublie")
    response = client.post("/espace/mot-de-passe-oublie", data=data)
    assert response.status_code in (303, 413, 422)
    assert models.Message.select().count() == 0  # no account: no e-mail


@given(data=junk_form(["nouveau", "confirmation"]), token=junk_text)
@JUNK
def test_link_junk(client, data, token):
    data["csrf_token"] = csrf_token(client, "/espace/connexion")
    response = client.post(f"/espace/reinitialisation/{token}", data=data)
    assert response.status_code in (404, 413), response.status_code


@given(data=junk_form(["actuel", "nouveau", "confirmation"]))
@JUNK
def test_account_page_junk(app, data):
    client = app.test_client()
    user, _ = make_responsable()
    try:
        log_in(client, user)
        data["csrf_token"] = csrf_token(client, "/espace/compte")
        response = client.post("/espace/compte", data=data)
        assert response.status_code in (413, 422)  # the current password is never right
    finally:
        models.Utilisateur.delete().execute()


PROFILE = [
    "profil-description",
    "profil-site",
    "profil-email",
    "profil-telephone",
    "profil-delai_recontact",
]


@given(
    profile=junk_form(PROFILE),
    programme=junk_form(["capacite_mensuelle", "en_pause"]),
    invite=junk_form(["invitation-email", "invitation-role"]),
)
@JUNK
def test_settings_junk(app, profile, programme, invite):
    client = app.test_client()
    user, association = make_responsable()
    try:
        log_in(client, user)
        token = csrf_token(client, "/espace/reglages")
        item = (
            models.Programme.select().where(models.Programme.association == association.id).first()
        )
        prefixed = {f"programme-{item.id}-{k}": v for k, v in programme.items()}
        for url, data in (
            ("/espace/reglages/profil", profile),
            (f"/espace/reglages/programmes/{item.id}", prefixed),
            ("/espace/reglages/equipe/inviter", invite),
        ):
            response = client.post(url, data=dict(data, csrf_token=token))
            assert response.status_code in (303, 413, 422), (url, response.status_code)
        saved = models.Association.get_by_id(association.id)
        assert DELAI_MIN <= saved.delai_recontact <= DELAI_MAX
        assert saved.telephone == "" or phones.canonical(saved.telephone) == saved.telephone
        assert saved.site == "" or saved.site.startswith(("http://", "https://"))
        assert len(saved.description) <= 2000
        saved_programme = models.Programme.get_by_id(item.id)
        assert 0 <= saved_programme.capacite_mensuelle <= CAPACITE_MAX
        for row in models.Utilisateur.select():
            assert row.role in ("responsable", "membre") and accounts.normalize_email(row.email)
    finally:
        models.Message.delete().execute()
        models.AccountToken.delete().execute()
        models.Utilisateur.delete().execute()
