"""Follow-up tokens never reach a log: a real gunicorn (gunicorn.conf.py, loopback port)
serving real follow-up pages writes its access log without them, and the Flask and
Werkzeug loggers redact them too."""

import logging
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

import models
from models import Lead
from web import log_redaction

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_abcde"  # the shape of a real one


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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
        ("/suivi/lien-perdu", "/suivi/lien-perdu"),
        ("/suivi/lien-perdu/envoye", "/suivi/lien-perdu/envoye"),
        ("/jeune/age", "/jeune/age"),
    ],
)
def test_redact(line, expected):
    assert log_redaction.redact(line) == expected


def test_gunicorn_access_log_carries_no_token(app, database_url, tmp_path):
    with models.db.connection_context():
        # A real lead, so the page answers 200 as it would for its owner.
        from test_demandes import new_lead

        lead = new_lead()
        token = Lead.get_by_id(lead.id).suivi_token
    models.db.close_all()
    port = free_port()
    access, errors = tmp_path / "access.log", tmp_path / "error.log"
    env = dict(os.environ, SECRET_KEY="test", DATABASE_URL=database_url)
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--config",
            str(ROOT / "gunicorn.conf.py"),
            "--workers",
            "1",
            "--bind",
            f"127.0.0.1:{port}",
            "--access-logfile",
            str(access),
            "--error-logfile",
            str(errors),
            # Every atom a format could name, the referrer and raw request line included.
            "--access-logformat",
            '%(h)s "%(r)s" %(U)s %(q)s %(s)s "%(f)s" %({raw_uri}e)s %({path_info}e)s',
            "app:create_app()",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        request = urllib.request.Request(
            f"{base}/suivi/{token}?source=mail", headers={"Referer": f"{base}/suivi/{token}"}
        )
        assert urllib.request.urlopen(request, timeout=10).status == 200
        assert get(f"{base}/suivi/{token}/supprimer") == 200
        assert get(f"{base}/suivi/{TOKEN}") == 404
        assert get(f"{base}/suivi/lien-perdu") == 200
    finally:
        server.terminate()
        server.wait(timeout=20)
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
    models.db.close_all()
    port = free_port()
    access = tmp_path / "access.log"
    env = dict(os.environ, SECRET_KEY="test", DATABASE_URL=database_url)
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--config",
            str(ROOT / "gunicorn.conf.py"),
            "--workers",
            "1",
            "--bind",
            f"127.0.0.1:{port}",
            "--access-logfile",
            str(access),
            "--access-logformat",
            '"%(r)s" %(U)s %(q)s %(s)s "%(f)s" %({raw_uri}e)s',
            "app:create_app()",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        search = "/espace/?q=jeune%40exemple.fr&statut=nouvelle"
        request = urllib.request.Request(f"{base}{search}", headers={"Referer": f"{base}{search}"})
        # Anonymous: redirected to the login page, whose `next` carries the search too.
        assert urllib.request.urlopen(request, timeout=10).status == 200
    finally:
        server.terminate()
        server.wait(timeout=20)
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
