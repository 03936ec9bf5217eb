"""The security headers on every kind of response (web/headers.py): HTML page, htmx
fragment, static file through WhiteNoise, JSON export, CSV export, 404, 429."""

import re

import pytest
from helpers import HX, YOUTH_STEPS, csrf_token, log_in, make_app, submit, walk

import models
from web.headers import CSP

ASSET_RE = re.compile(r'(?:href|src)="(/static/[^"]+)"')
EVERYWHERE = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Cross-Origin-Opener-Policy": "same-origin",
}
DENIED = ("camera=()", "microphone=()", "geolocation=()", "payment=()", "usb=()")


def responses(app):
    """(kind, response) of each kind of answer the app gives."""
    client = app.test_client()
    yield "page", client.get("/")
    fragment = client.get("/jeune/age", headers=HX)
    assert "<html" not in fragment.get_data(as_text=True)
    yield "fragment", fragment
    asset = ASSET_RE.search(client.get("/").get_data(as_text=True)).group(1)
    yield "static", client.get(asset)
    yield "404", client.get("/nulle-part")
    walk(client, "jeune", YOUTH_STEPS)
    assert submit(client, "jeune").status_code == 303
    with models.db.connection_context():
        lead = models.Lead.get()
        staff = models.Utilisateur.create(
            email="membre@example.org", role="membre", association=lead.association_id
        )
    yield "json", client.get(f"/suivi/{lead.suivi_token}/mes-donnees.json")
    log_in(client, staff)
    token = csrf_token(client, "/espace/")
    export = client.post("/espace/export.csv", data={"csrf_token": token, "portee": "filtre"})
    assert export.mimetype == "text/csv"
    yield "csv", export
    walk(client, "jeune", YOUTH_STEPS)
    yield "429", submit(client, "jeune")


@pytest.mark.parametrize("secure", [True, False])
def test_every_kind_of_response_carries_the_headers(database_url, tmp_path, secure):
    app = make_app(
        database_url, tmp_path, SESSION_COOKIE_SECURE=secure, LIMIT_DEMANDES="1 per hour"
    )
    seen = set()
    for kind, response in responses(app):
        seen.add((kind, response.status_code))
        for name, value in EVERYWHERE.items():
            assert response.headers.get(name) == value, (kind, name)
        policy = response.headers.get("Permissions-Policy", "")
        assert all(feature in policy for feature in DENIED), (kind, policy)
        hsts = response.headers.get("Strict-Transport-Security")
        if secure:
            assert hsts == "max-age=31536000; includeSubDomains", kind
        else:
            assert hsts is None, kind  # never promised over plain HTTP
    assert {kind for kind, _ in seen} == {"page", "fragment", "static", "404", "json", "csv", "429"}
    assert ("429", 429) in seen and ("404", 404) in seen and ("static", 200) in seen


def test_hsts_can_leave_subdomains_out(database_url, tmp_path):
    app = make_app(
        database_url, tmp_path, SESSION_COOKIE_SECURE=True, HSTS_INCLUDE_SUBDOMAINS=False
    )
    response = app.test_client().get("/")
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"
