"""Two app servers on one PostgreSQL behind the real Caddy (deploy/Caddyfile, round-robin),
as an operator scales out (issue 14 §4): a youth's draft continues from one server to the
other, staff log in on one and act on the other, one server stopped (SIGTERM) during a
bounded load loses no request and no lead and makes none twice, and two `tick`s at once
send each e-mail once. PostgreSQL only (scripts/test-postgres.sh): several servers need it."""

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from helpers import MENTOR_STEPS, YOUTH_STEPS
from servers import ROOT, TIMEOUT, Browser, Caddy, Gunicorn, app_env
from testdb import ON_POSTGRES

import models
from services import accounts

pytestmark = [
    pytest.mark.deploy,
    pytest.mark.skipif(not ON_POSTGRES, reason="plusieurs serveurs : PostgreSQL"),
]
PASSWORD = "un-mot-de-passe-assez-long"


@pytest.fixture
def cluster(database_url, tmp_path):
    servers = [Gunicorn(app_env(database_url), tmp_path, workers=2) for _ in range(2)]
    caddy = Caddy(tmp_path, [server.port for server in servers])
    models.init_db(database_url)
    yield caddy, servers
    caddy.stop()
    for server in servers:
        server.stop()


def through(caddy):
    return Browser(f"http://127.0.0.1:{caddy.http_port}")


def direct(server):
    return Browser(f"http://127.0.0.1:{server.port}")


def count(server, line):
    return server.text().count(line)


def logged(server, line, times=1):
    """Whether `line` is in the server's log `times` times, once gunicorn has written it:
    its access line comes after the response, so a fast client may read the log first."""
    end = time.monotonic() + TIMEOUT
    while count(server, line) < times and time.monotonic() < end:
        time.sleep(0.05)
    return count(server, line) == times


def youth(number):
    """The youth journey with an address of its own, to find its lead."""
    steps = dict(YOUTH_STEPS)
    steps["coordonnees"] = dict(steps["coordonnees"], email=f"jeune{number}@example.org")
    return list(steps.items())


def test_a_draft_continues_on_the_other_server(cluster):
    caddy, servers = cluster
    browser = through(caddy)
    browser.walk("mentor", MENTOR_STEPS)
    status, headers, _ = browser.submit("mentor")
    assert status == 303 and "/mentor/resultat/" in headers["location"], headers
    # Round-robin: both servers took steps of the one draft.
    for server in servers:
        assert count(server, '"POST /mentor/') >= 3, server.text()[-2000:]
    with models.db.connection_context():
        lead = models.Lead.get(models.Lead.email == "paul.durand@example.org")
    assert lead.kind == "mentor"


def test_staff_log_in_on_one_server_and_act_on_the_other(cluster):
    caddy, (one, other) = cluster
    youth_browser = through(caddy)
    youth_browser.walk("jeune", youth(1))
    assert youth_browser.submit("jeune")[0] == 303
    with models.db.connection_context():
        lead = models.Lead.get(models.Lead.email == "jeune1@example.org")
        accounts.create_account(
            "claire@example.org",
            "membre",
            models.Association.get_by_id(lead.association_id),
            models.now(),
            password=PASSWORD,
        )
    staff = direct(one)
    staff.get("/espace/connexion")
    status, _, _ = staff.post(
        "/espace/connexion", {"email": "claire@example.org", "password": PASSWORD}
    )
    assert status == 303
    staff.origin = f"http://127.0.0.1:{other.port}"
    staff.port = other.port
    page = f"/espace/demandes/{lead.reference}"
    status, _, body = staff.get(page)
    assert status == 200 and lead.reference in body.decode()
    status, _, _ = staff.post(f"{page}/notes", {"text": "Appel prévu jeudi."})
    assert status == 303
    assert logged(other, f'"POST {page}/notes" 303'), other.text()[-2000:]
    with models.db.connection_context():
        assert [note.text for note in models.Note.select()] == ["Appel prévu jeudi."]


JOURNEYS_PER_CLIENT = 6
CLIENTS = 3


def test_sigterm_of_one_server_under_load_loses_nothing(cluster):
    """Clients submit journeys through Caddy; one server gets SIGTERM (systemctl stop) once
    a few leads are in: every request still gets its answer, every lead is there once."""
    caddy, (stopped, kept) = cluster
    failures, done = [], []
    started = threading.Event()

    def client(number):
        for journey in range(JOURNEYS_PER_CLIENT):
            browser = through(caddy)
            email_number = number * 100 + journey
            try:
                browser.walk("jeune", youth(email_number))
                status, headers, _ = browser.submit("jeune")
                assert status == 303, (status, headers)
                assert browser.get(headers["location"])[0] == 200
                done.append(f"jeune{email_number}@example.org")
            except (AssertionError, OSError) as error:
                failures.append(error)
            if len(done) >= CLIENTS:
                started.set()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    assert started.wait(120)
    stopped.stop()  # SIGTERM: graceful, requests under way finish
    for thread in threads:
        thread.join(300)
    assert not failures, (failures, caddy.errors())
    assert len(done) == CLIENTS * JOURNEYS_PER_CLIENT
    # The other server went on serving (how many each served depends on the timing).
    assert count(kept, '"POST /jeune/verifier" 303') > 0
    with models.db.connection_context():
        emails = [lead.email for lead in models.Lead.select().where(models.Lead.kind == "jeune")]
    assert sorted(emails) == sorted(done)  # none lost, none twice


def tick(env):
    flask = str(Path(sys.executable).parent / "flask")
    return subprocess.Popen(
        [flask, "--app", "app", "tick"], env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True
    )


def test_two_ticks_at_once_send_each_email_once(cluster, database_url, smtp_server):
    caddy, _ = cluster
    for number in range(4):
        browser = through(caddy)
        browser.walk("jeune", youth(number))
        assert browser.submit("jeune")[0] == 303
    with models.db.connection_context():
        # E-mails only: the outbox holds the SMS too (their own sender, mail/sms.py).
        queued = models.Message.select().where(models.Message.channel == "email").count()
    assert queued >= 4  # the confirmations, at least
    smtp_server.start()
    env = app_env(database_url, SMTP_URL=smtp_server.url())
    ticks = [tick(env) for _ in range(2)]
    outputs = [process.communicate(timeout=120)[0] for process in ticks]
    assert [process.returncode for process in ticks] == [0, 0], outputs
    received = smtp_server.received
    ids = [message.email["Message-ID"] for message in received]
    assert len(ids) == len(set(ids)) == queued, outputs
    for number in range(4):
        assert sum(f"jeune{number}@example.org" in m.rcpt_tos for m in received) == 1
