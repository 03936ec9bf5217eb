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

import log_redaction
import models
from models import Lead

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
