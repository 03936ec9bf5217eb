"""Secret links never reach a log: a real gunicorn (gunicorn.conf.py, loopback port)
serving real follow-up, password-reset and invitation pages writes its access and error
logs without their tokens, the Flask and Werkzeug loggers redact them too, and every
route of the URL map that takes a secret takes it through the `secret` converter."""

import contextlib
import http.cookiejar
import logging
import re
import runpy
import socket
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import helpers
import pytest
from helpers import answer_link_requests

import models
from models import Lead, Message
from services import accounts
from web import log_redaction

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_abcde"  # the shape of a real one


def get(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (f"GET /suivi/{TOKEN} HTTP/1.1", "GET /suivi/[jeton] HTTP/1.1"),
        (f"/suivi/{TOKEN}/supprimer?x=1", "/suivi/[jeton]/supprimer?x=1"),
        (f"/SUIVI%2F{TOKEN}", "/SUIVI%2F[jeton]"),
        (f'"https://site/suivi/{TOKEN}"', '"https://site/suivi/[jeton]"'),
        (f"GET /s/{TOKEN} HTTP/1.1", "GET /s/[jeton] HTTP/1.1"),  # the SMS's short link
        ("/suivi/lien-perdu", "/suivi/lien-perdu"),
        ("/suivi/lien-perdu/envoye", "/suivi/lien-perdu/envoye"),
        ("/jeune/age", "/jeune/age"),
    ],
)
def test_redact(app, line, expected):
    assert log_redaction.redact(line) == expected


# Route arguments that are no secret: what they name is public or checked by access rules.
PUBLIC_ARGUMENTS = {
    *("parcours", "etape", "reference", "slug", "action", "code", "filename"),
    *("message_id", "programme_id", "user_id"),
}


def rule_values(rule, secret):
    """A value for each of the rule's arguments: `secret` for the secret ones."""
    values = {}
    for name, converter in rule._converters.items():
        if isinstance(converter, log_redaction.SecretConverter):
            values[name] = secret
        elif getattr(converter, "regex", "") == r"\d+":
            values[name] = 7
        elif hasattr(converter, "items"):  # any(): one of its words
            values[name] = next(iter(converter.items))
        else:
            values[name] = "x"
    return values


def test_every_route_takes_its_secret_through_the_secret_converter(app):
    secret_rules = []
    for rule in app.url_map.iter_rules():
        for name, converter in rule._converters.items():
            if isinstance(converter, log_redaction.SecretConverter):
                secret_rules.append(rule)
            else:
                # Any other argument is a known, public one: a new route taking a token
                # (or any value not listed here) must say it is secret, or be listed.
                assert name in PUBLIC_ARGUMENTS, f"{rule.rule} : <{name}> secret ou public ?"
    endpoints = {rule.endpoint for rule in secret_rules}
    assert {"suivi.page", "espace.reinitialisation", "espace.invitation"} <= endpoints
    assert endpoints == log_redaction.SecretRoutes.endpoints
    with app.test_request_context():
        from flask import url_for

        for rule in secret_rules:
            # A real token, one cut short by a mail program, one with junk appended.
            for secret in (TOKEN, TOKEN[:20], TOKEN + "x.", "court"):
                url = url_for(rule.endpoint, **rule_values(rule, secret))
                line = f'GET {url}?utm=1 HTTP/1.1" 200 "https://site{url}"'
                redacted = log_redaction.redact(line)
                assert secret not in redacted, (rule.rule, redacted)
                # Each secret segment, in the request line and in the Referer.
                secrets = rule.rule.count("<secret:")
                assert redacted.count("[jeton]") == 2 * secrets, (rule.rule, redacted)


def test_secret_pages_are_private(app, client):
    """Never cached, never indexed, their address never sent to another site."""
    for url in (
        f"/suivi/{TOKEN}",
        f"/espace/reinitialisation/{TOKEN}",
        f"/espace/invitation/{TOKEN}",
    ):
        response = client.get(url)
        assert response.headers["Referrer-Policy"] == "same-origin", url
        assert response.headers["Cache-Control"] == "no-store", url
        assert "noindex" in response.headers["X-Robots-Tag"], url
    assert client.get("/espace/connexion").headers["Referrer-Policy"] == (
        "strict-origin-when-cross-origin"
    )


def test_gunicorn_access_log_carries_no_token(app, database_url, tmp_path):
    with models.db.connection_context():
        # A real lead, so the page answers 200 as it would for its owner.
        from test_demandes import new_lead

        lead = new_lead()
        token = Lead.get_by_id(lead.id).suivi_token
    access, errors = tmp_path / "access.log", tmp_path / "error.log"
    # Every atom a format could name, the referrer and raw request line included.
    log_format = '%(h)s "%(r)s" %(U)s %(q)s %(s)s "%(f)s" %({raw_uri}e)s %({path_info}e)s'
    with gunicorn(database_url, access, errors, log_format) as base:
        request = urllib.request.Request(
            f"{base}/suivi/{token}?source=mail", headers={"Referer": f"{base}/suivi/{token}"}
        )
        assert urllib.request.urlopen(request, timeout=10).status == 200
        assert get(f"{base}/suivi/{token}/supprimer") == 200
        assert get(f"{base}/suivi/{TOKEN}") == 404
        assert get(f"{base}/suivi/lien-perdu") == 200
    log = access.read_text()
    assert log.count("\n") >= 4, log
    assert token not in log and TOKEN not in log
    assert "/suivi/[jeton]?source=mail" in log and "/suivi/[jeton]/supprimer" in log
    assert "/suivi/lien-perdu" in log
    assert token not in errors.read_text()


def test_flask_and_werkzeug_logs_are_redacted(app, caplog):
    caplog.set_level(logging.INFO)
    app.logger.error("Exception on /suivi/%s [GET]", TOKEN)
    logging.getLogger("werkzeug").info('"%s" %s -', f"GET /suivi/{TOKEN} HTTP/1.1", 200)
    assert TOKEN not in caplog.text
    assert caplog.text.count("/suivi/[jeton]") == 2


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "GET /espace/?q=jeune%40exemple.fr&statut=nouvelle HTTP/1.1",
            "GET /espace/?q=[recherche]&statut=nouvelle HTTP/1.1",
        ),
        ("/espace/?statut=nouvelle&q=06+12+34+56+78", "/espace/?statut=nouvelle&q=[recherche]"),
        ("/espace/export.csv?Q=Dupont#x", "/espace/export.csv?Q=[recherche]#x"),
        (
            "/espace/connexion?next=%2Fespace%2F%3Fq%3Djeune%40exemple.fr%26statut%3Dnouvelle",
            "/espace/connexion?next=%2Fespace%2F%3Fq%3D[recherche]%26statut%3Dnouvelle",
        ),
        ("/espace/?statut=nouvelle&besoin=q", "/espace/?statut=nouvelle&besoin=q"),
        ("/espace/?faq=1", "/espace/?faq=1"),
        ("q=Dupont&statut=nouvelle", "q=[recherche]&statut=nouvelle"),
    ],
)
def test_redact_inbox_search(line, expected):
    assert log_redaction.redact(line) == expected


def test_gunicorn_access_log_carries_no_search(app, database_url, tmp_path):
    """The inbox search (a name, an e-mail, a phone) is in the request line, the query, the
    referrer and the login redirect's `next`: none reaches the access log."""
    access, errors = tmp_path / "access.log", tmp_path / "error.log"
    log_format = '"%(r)s" %(U)s %(q)s %(s)s "%(f)s" %({raw_uri}e)s'
    with gunicorn(database_url, access, errors, log_format) as base:
        search = "/espace/?q=jeune%40exemple.fr&statut=nouvelle"
        request = urllib.request.Request(f"{base}{search}", headers={"Referer": f"{base}{search}"})
        # Anonymous: redirected to the login page, whose `next` carries the search too.
        assert urllib.request.urlopen(request, timeout=10).status == 200
    log = access.read_text()
    assert log.count("\n") >= 2, log
    assert "exemple" not in log, log
    assert "q=[recherche]" in log and "q%3D[recherche]" in log, log


def test_exception_messages_quoting_an_address_are_redacted(app, caplog):
    """A database error quoting a row, logged by Flask with its traceback."""
    caplog.set_level(logging.INFO)
    try:
        raise ValueError("Key (email)=(jeune.martin+x@exemple.fr) already exists")
    except ValueError:
        app.logger.exception("Exception on /espace/reglages/equipe/inviter [POST]")
    logging.getLogger("werkzeug").info("mail to %s", "parent@exemple.org")
    assert "exemple" not in caplog.text, caplog.text
    assert "Key (email)=([adresse]) already exists" in caplog.text
    assert "mail to [adresse]" in caplog.text
    assert "Traceback" in caplog.text  # the traceback itself is kept


@contextlib.contextmanager
def gunicorn(database_url, access, errors, log_format):
    """helpers.gunicorn with these log files and access format; yields its URL."""
    options = ["--access-logfile", access, "--error-logfile", errors]
    with helpers.gunicorn(database_url, *options, "--access-logformat", log_format) as address:
        yield "http://{}:{}".format(*address)


class Browser:
    """urllib with cookies, reading forms' CSRF tokens as a person's browser would."""

    CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')

    def __init__(self, base):
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def get(self, path):
        try:
            with self.opener.open(self.base + path, timeout=10) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def post_form(self, path, fields):
        status, page = self.get(path)
        token = self.CSRF.search(page).group(1)
        body = urllib.parse.urlencode(dict(fields, csrf_token=token)).encode()
        try:
            with self.opener.open(self.base + path, data=body, timeout=10) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code


def link_path(message):
    return re.search(r"https?://[^/\s]+(/\S+)", message.body).group(1)


def test_gunicorn_logs_carry_no_reset_nor_invitation_token(app, database_url, tmp_path):
    password = "une phrase de passe solide"
    with app.test_request_context(), models.db.connection_context():
        association = models.Association.select().first()
        models.Utilisateur.create(
            email="staff@example.org",
            role="membre",
            association=association,
            password_hash=accounts.hash_password(password),
        )
        accounts.create_account(
            "invitee@example.org",
            "membre",
            association,
            models.now(),
            link=lambda token: f"/espace/invitation/{token}",
        )
    access, errors = tmp_path / "access.log", tmp_path / "error.log"
    log_format = '%(h)s "%(r)s" %(U)s %(q)s %(s)s "%(f)s" %({raw_uri}e)s %({path_info}e)s'
    with gunicorn(database_url, access, errors, log_format) as base:
        browser = Browser(base)
        forgot = {"email": "staff@example.org"}
        assert browser.post_form("/espace/mot-de-passe-oublie", forgot) == 200  # via 303
        answer_link_requests(app)  # what tick does
        with models.db.connection_context():
            reset = link_path(Message.get(Message.kind == accounts.RESET))
            invitation = link_path(Message.get(Message.kind == accounts.INVITATION))
        new = {
            "nouveau": "un tout nouveau mot de passe",
            "confirmation": "un tout nouveau mot de passe",
        }
        for path in (reset, invitation):
            assert browser.get(path)[0] == 200
            assert browser.post_form(path, new) == 200  # the login page, via 303
            assert browser.get(path)[0] == 410  # spent
        assert browser.get(f"/espace/reinitialisation/{TOKEN}")[0] in (404, 410)
    tokens = [path.rsplit("/", 1)[1] for path in (reset, invitation)]
    log = access.read_text()
    assert log.count("\n") >= 10, log
    assert "/espace/reinitialisation/[jeton]" in log and "/espace/invitation/[jeton]" in log
    for token in (*tokens, TOKEN):
        assert token not in log and token not in errors.read_text()


FORGED = '127.0.0.1 - - "GET /admin/ HTTP/1.1" 200'


def raw_request(base, request_line):
    """Send these bytes as the request line over a raw socket (no client library would
    send them); returns the status line."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(request_line + b"\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        return sock.makefile("rb").readline()


def test_control_characters_in_a_path_never_forge_a_log_line(app, database_url, tmp_path):
    access, errors = tmp_path / "access.log", tmp_path / "error.log"
    log_format = '%(h)s "%(r)s" %(U)s %(q)s %(s)s %({path_info}e)s'
    forged = urllib.parse.quote(FORGED, safe="")
    with gunicorn(database_url, access, errors, log_format) as base:
        for path in (f"/x%0D%0A{forged}", f"/x%0A{forged}", f"/x%00{forged}", "/x%1B[2K"):
            status = raw_request(base, f"GET {path} HTTP/1.1".encode())
            assert status.split()[1] in (b"400", b"404"), status
            status = raw_request(base, f"GET /?q=a%0A{forged} HTTP/1.1".encode())
            assert status.startswith(b"HTTP/1.1 "), status
    log = access.read_text()
    lines = log.splitlines()
    assert len(lines) == 8, log  # one line per request, whatever its path held
    assert not any(line.startswith("127.0.0.1 - - ") for line in lines), log
    assert "\\r\\n127.0.0.1 - - " in log and "\\x1b[2K" in log and "\\0" in log
    assert "\x00" not in log and "\x1b" not in log
    for line in errors.read_text().splitlines():
        assert not line.startswith(FORGED[:20]), line


@pytest.mark.parametrize(
    ("text", "expected"),
    [("a\r\nb", "a\\r\\nb"), ("a\x00b", "a\\0b"), ("a\x1bb\x7f", "a\\x1bb\\x7f"), ("a\tb", "a\tb")],
)
def test_redact_escapes_control_characters(text, expected):
    assert log_redaction.redact(text) == expected


def test_gunicorn_access_log_has_time_client_and_account_id(app, database_url, tmp_path):
    """The project's own format (gunicorn.conf.py): time, client address, the user's id
    once logged in, and no e-mail address."""
    with models.db.connection_context():
        user = models.Utilisateur.create(
            email="staff@example.org",
            role="membre",
            association=models.Association.select().first(),
            password_hash=accounts.hash_password("une phrase de passe solide"),
        )
    log_format = runpy.run_path(str(ROOT / "gunicorn.conf.py"))["access_log_format"]
    access, errors = tmp_path / "access.log", tmp_path / "error.log"
    with gunicorn(database_url, access, errors, log_format) as base:
        browser = Browser(base)
        assert browser.get("/espace/connexion")[0] == 200
        fields = {"email": user.email, "password": "une phrase de passe solide"}
        assert browser.post_form("/espace/connexion", fields) == 200  # redirect followed
        assert browser.get("/espace/compte")[0] == 200
    lines = access.read_text().splitlines()
    anonymous = next(line for line in lines if '"GET /espace/connexion"' in line)
    assert re.match(r"\[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\] 127\.0\.0\.1 ", anonymous)
    assert anonymous.endswith(" compte=-")
    account = next(line for line in lines if '"GET /espace/compte"' in line)
    assert account.endswith(f" compte={user.id}")
    assert "staff@example.org" not in access.read_text()
