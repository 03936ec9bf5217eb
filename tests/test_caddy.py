"""The real Caddy (Debian's package) with deploy/Caddyfile in front of two gunicorn
instances of the app: headers, compression, the client's address, the access log without
secret addresses, the French page when the app is down, and a follow-up deletion over HTTPS
(the CSRF Referer check passes through the proxy)."""

import gzip
import json

import pytest
from helpers import YOUTH_STEPS
from servers import Browser, Caddy, Gunicorn, app_env

import models
from services import suivi

pytestmark = pytest.mark.deploy


@pytest.fixture
def front(database_url, tmp_path):
    servers = [Gunicorn(app_env(database_url), tmp_path) for _ in range(2)]
    caddy = Caddy(tmp_path, [server.port for server in servers])
    yield caddy, servers
    caddy.stop()
    for server in servers:
        server.stop()


def http(caddy, source="127.0.0.1"):
    return Browser(f"http://127.0.0.1:{caddy.http_port}", source=source)


def https(caddy):
    return Browser(f"https://localhost:{caddy.https_port}", context=caddy.https_context())


def test_headers_over_tls_and_compression(front):
    caddy, _ = front
    status, headers, body = https(caddy).get("/", headers={"Accept-Encoding": "gzip"})
    assert status == 200
    assert "script-src 'self'" in headers["content-security-policy"]
    assert headers["strict-transport-security"].startswith("max-age=")
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["content-encoding"] == "gzip"
    assert "1 jeune, 1 mentor" in gzip.decompress(body).decode()
    _, headers, _ = http(caddy).get("/", headers={"Accept-Encoding": "zstd"})
    assert headers["content-encoding"] == "zstd"


def test_both_instances_serve(front):
    caddy, servers = front
    for _ in range(4):
        assert http(caddy).get("/")[0] == 200
    for server in servers:
        assert '"GET /" 200' in server.text()


def failures(database_url):
    """The client addresses of the failed logins: in the security journal, and in the
    throttle's (account, address) counters (services/accounts.py: "p:ACCOUNT:ADDRESS")."""
    models.init_db(database_url)
    with models.db.connection_context():
        SecurityEvent, LoginCounter = models.SecurityEvent, models.LoginCounter
        events = SecurityEvent.select().where(SecurityEvent.kind == "echec_connexion")
        pairs = LoginCounter.select().where(LoginCounter.key.startswith("p:"))
        return [row.ip for row in events], [row.key.split(":", 2)[2] for row in pairs]


def test_client_address_seen_by_the_app(front, database_url):
    """From 127.0.0.2 (Caddy itself connects from 127.0.0.1), with a forged X-Forwarded-For:
    the app counts the failed login against the real address."""
    caddy, _ = front
    browser = http(caddy, source="127.0.0.2")
    browser.get("/espace/connexion")
    status, _, _ = browser.post(
        "/espace/connexion",
        {"email": "personne@example.org", "password": "mauvais-mot-de-passe"},
        headers={"X-Forwarded-For": "203.0.113.7"},
    )
    assert status == 422
    assert failures(database_url) == (["127.0.0.2"], ["127.0.0.2"])


def submitted_lead(browser):
    browser.walk("jeune", YOUTH_STEPS)
    status, headers, _ = browser.submit("jeune")
    assert status == 303, headers
    with models.db.connection_context():
        return models.Lead.select().order_by(models.Lead.id.desc()).get()


def test_follow_up_deletion_over_https_not_logged(front, database_url):
    caddy, _ = front
    browser = https(caddy)
    models.init_db(database_url)
    lead = submitted_lead(browser)
    page = f"/suivi/{lead.suivi_token}/supprimer"
    assert browser.get(page)[0] == 200
    # The Referer a browser sends from the page (Referrer-Policy same-origin).
    status, headers, body = browser.post(page, {}, headers={"Referer": browser.origin + page})
    assert status == 303, body[:1000]
    assert headers["location"].endswith("/suivi/donnees-supprimees")
    with models.db.connection_context():
        assert suivi.is_erased(models.Lead.get_by_id(lead.id))
    # Caddy's access log: the questionnaire's steps, never a follow-up address.
    lines = [json.loads(line) for line in caddy.access_log.read_text().splitlines()]
    uris = [line["request"]["uri"] for line in lines]
    assert "/jeune/age" in uris
    assert not [uri for uri in uris if uri.startswith("/suivi/")], uris
    assert lead.suivi_token not in caddy.access_log.read_text()


def test_french_page_when_both_instances_are_down(front):
    caddy, servers = front
    for server in servers:
        server.stop()
    status, headers, body = http(caddy).get("/jeune/age")
    assert status in (502, 503)  # refused, or already out of the rotation (health checks)
    assert headers["content-type"].startswith("text/html")
    assert "Service momentanément indisponible" in body.decode()


def test_body_limits(front):
    """64 KB for every form, 2 MB for the catalogue import only (admin.importer)."""
    caddy, _ = front
    browser = http(caddy)
    browser.get("/jeune/age")
    status, _, body = browser.post("/jeune/age", {"age": "17", "x": "a" * 70_000})
    assert status == 413
    assert "Envoi trop volumineux" in body.decode()
    status, _, _ = browser.post("/admin/import", {"x": "a" * 70_000})
    assert status != 413  # through Caddy to the app (which asks for a login)
    status, _, _ = browser.post("/admin/import", {"x": "a" * 2_200_000})
    assert status == 413
