"""Hostile client, swept over the URL map: every rule under /espace/, /admin/, /suivi/ and
/statistiques, logged in as the association's own responsable and as the operator, with
junk in the query string and the form (NUL bytes, huge values, repeated fields, negative
and huge numbers, non-UTF-8): never a 500."""

import pytest
from helpers import csrf_token, log_in
from test_access_sweep import url_of, world  # noqa: F401 (fixture)
from werkzeug.datastructures import MultiDict

import models

PREFIXES = ("/espace/", "/admin/", "/suivi/", "/statistiques")
JUNK = ["\x00", "x" * 5000, "-1", "99999999999999999999", "%ff", "1e9", " ", "é"]
KEYS = [
    "q", "page", "par_page", "statut", "type", "besoin", "departement", "retard", "version",
    "text", "motif", "note", "programme", "partenaire", "demande", "retour", "email",
    "capacite", "nom", "delai_recontact", "next", "tri", "mois", "code", "raison",
]  # fmt: skip


def junk_pairs(value):
    pairs = [(key, value) for key in KEYS]
    return pairs + [(key, "1") for key in KEYS]  # every field repeated


def rules(app):
    return [
        (rule.endpoint, rule, sorted(rule.methods & {"GET", "POST"}))
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith(PREFIXES)
    ]


def sweep(app, client, world):  # noqa: F811
    token = csrf_token(client)
    failures = []
    for endpoint, rule, methods in rules(app):
        if endpoint in ("espace.deconnexion",):
            continue
        url = url_of(app, rule, world)
        for method in methods:  # non-UTF-8 bytes in every field
            raw = "&".join(f"{key}=%FF%FE%00" for key in KEYS)
            if method == "GET":
                response = client.get(url, query_string=raw)
            else:
                response = client.post(
                    url,
                    data=f"csrf_token={token}&{raw}",
                    content_type="application/x-www-form-urlencoded",
                )
            if response.status_code >= 500:
                failures.append((method, url, "non-UTF-8", response.status_code))
        for value in JUNK:
            for method in methods:
                pairs = junk_pairs(value)
                if method == "GET":
                    response = client.get(url, query_string=MultiDict(pairs))
                else:
                    response = client.post(url, data=MultiDict([("csrf_token", token), *pairs]))
                if response.status_code >= 500:
                    failures.append((method, url, repr(value[:10]), response.status_code))
    return failures


@pytest.mark.parametrize("who", ["staff_a", "admin"])
def test_junk_never_gives_a_500(app, client, world, who):  # noqa: F811
    if who == "admin":
        with models.db.connection_context():
            user = models.Utilisateur.create(email="op@example.org", role="admin")
    else:
        user = world["staff_a"]
    log_in(client, user)
    assert sweep(app, client, world) == []
