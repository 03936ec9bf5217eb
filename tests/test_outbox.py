"""The outbox against a real SMTP server (aiosmtpd, tests/smtp_server.py), on SQLite and
PostgreSQL: sent once; server down, then up again: nothing lost, nothing sent twice;
two senders at once; a killed sender's lease; backoff then "echec"; .eml files; TLS, AUTH.
"""

import datetime as dt
import email
import email.policy
import os
import signal
import smtplib
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import settings as settings_hypothesis
from hypothesis import strategies as st
from smtp_server import HOST, free_port

import models
from jobs import scheduler
from mail import outbox

# aiosmtpd's warning when the tests ask it for AUTH without TLS on purpose.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")

ROOT = Path(__file__).resolve().parent.parent
T0 = dt.datetime(2026, 3, 2, 9, 0)  # a fixed clock for the tests that move it
TIMEOUT = 30


def settings(app, url=""):
    app.config["SMTP_URL"] = url
    app.config["SMTP_TIMEOUT"] = 5
    return outbox.settings_from(app.config, app.instance_path)


def queue(count=1, to="staff{n}@example.org", at=None, **fields):
    """`count` messages queued at `at` (default now), each in its own write."""
    messages = []
    for n in range(count):
        with models.write_transaction(durable=True):
            message = outbox.queue(
                to.format(n=n),
                fields.get("subject", f"Nouvelle demande J-2345{n} — à traiter"),
                fields.get("body", f"Bonjour,\n\nMessage numéro {n} : délai dépassé.\n"),
                kind="test",
            )
            if at is not None:
                message.created_at = message.next_attempt_at = at
                message.save()
        messages.append(message)
    return messages


def reload(message):
    return models.Message.get_by_id(message.id)


def subjects(server):
    return sorted(str(r.email["Subject"]) for r in server.received)


def test_each_message_is_sent_once_as_plain_utf8_text(app, db, smtp_server):
    smtp_server.start()
    config = settings(app, smtp_server.url())
    messages = queue(3)

    report = outbox.send_due(config)

    assert (report.sent, report.retry, report.failed) == (3, 0, 0)
    assert str(report) == "E-mails : 3 envoyé(s), 0 à réessayer, 0 en échec définitif."
    received = sorted(smtp_server.received, key=lambda r: r.rcpt_tos)
    assert [r.rcpt_tos for r in received] == [[f"staff{n}@example.org"] for n in range(3)]
    mail = received[0].email
    assert received[0].mail_from == "ne-pas-repondre@localhost"
    assert mail["From"].addresses[0].display_name == "1 jeune, 1 mentor"
    assert str(mail["Subject"]) == "Nouvelle demande J-23450 — à traiter"
    assert mail.get_content_type() == "text/plain"
    assert mail.get_content_charset() == "utf-8"
    # CRLF on the wire, as SMTP wants.
    assert mail.get_content() == "Bonjour,\r\n\r\nMessage numéro 0 : délai dépassé.\r\n"
    assert mail["Message-ID"] == outbox.message_id(messages[0], config.mail_from)
    assert email.utils.parsedate_to_datetime(mail["Date"]).tzinfo is not None
    for message in messages:
        row = reload(message)
        assert (row.status, row.attempts, row.claimed_by) == ("envoye", 0, "")
        assert row.sent_at is not None

    assert outbox.send_due(config).sent == 0  # nothing left: nothing sent twice
    assert len(smtp_server.received) == 3


def test_server_down_then_up_loses_nothing_and_doubles_nothing(app, db, smtp_server):
    config = settings(app, smtp_server.url())  # the port is closed: server down
    messages = queue(2, at=T0)

    report = outbox.send_due(config, now=T0)

    assert (report.sent, report.retry, report.failed) == (0, 2, 0)
    for message in messages:
        row = reload(message)
        assert (row.status, row.attempts, row.claimed_by) == ("a_envoyer", 1, "")
        assert row.next_attempt_at == T0 + dt.timedelta(minutes=1)
        assert row.last_error.startswith("ConnectionRefusedError")
    # Not due yet: not tried again.
    assert outbox.send_due(config, now=T0 + dt.timedelta(seconds=30)).retry == 0
    assert reload(messages[0]).attempts == 1

    smtp_server.start()  # up again, same port
    report = outbox.send_due(config, now=T0 + dt.timedelta(minutes=2))

    assert report.sent == 2
    assert subjects(smtp_server) == [m.subject for m in messages]
    assert outbox.send_due(config, now=T0 + dt.timedelta(hours=1)).sent == 0
    assert len(smtp_server.received) == 2
    assert {reload(m).status for m in messages} == {"envoye"}


def test_retries_back_off_then_give_up_after_24_hours(app, db):
    config = settings(app, f"smtp://{HOST}:{free_port()}")  # nobody listens there
    (message,) = queue(1, at=T0)
    now, delays = T0, []
    for _ in range(5):
        assert outbox.send_due(config, now=now).retry == 1
        row = reload(message)
        delays.append(row.next_attempt_at - now)
        now = row.next_attempt_at
    minute = dt.timedelta(minutes=1)
    assert delays == [minute, 2 * minute, 4 * minute, 5 * minute, 5 * minute]
    assert row.attempts == 5 and row.status == "a_envoyer"

    # Near the end of the 24 hours: the last retry falls at 24 h, none after.
    report = outbox.send_due(config, now=T0 + dt.timedelta(hours=23, minutes=55))
    assert (report.retry, report.failed) == (1, 0)
    assert reload(message).next_attempt_at == T0 + dt.timedelta(hours=24)
    report = outbox.send_due(config, now=T0 + dt.timedelta(hours=24))
    assert (report.retry, report.failed) == (0, 1)
    row = reload(message)
    assert (row.status, row.attempts) == ("echec", 7)
    assert row.last_error.startswith("ConnectionRefusedError")
    # Given up: never tried again.
    assert outbox.send_due(config, now=T0 + dt.timedelta(days=3)).retry == 0
    assert reload(message).attempts == 7


def test_retries_come_about_every_5_minutes_for_24_hours():
    elapsed, attempts = dt.timedelta(0), 0
    while elapsed <= outbox.GIVE_UP_AFTER:
        attempts += 1
        elapsed += outbox.retry_delay(attempts)
    assert 280 <= attempts <= 290
    assert outbox.retry_delay(10_000) == dt.timedelta(minutes=5)  # no overflow


def test_a_refused_recipient_fails_at_once_and_the_others_still_leave(app, db, smtp_server):
    smtp_server.handler.refused.add("staff1@example.org")
    smtp_server.start()
    config = settings(app, smtp_server.url())
    messages = queue(3)

    report = outbox.send_due(config)

    assert (report.sent, report.retry, report.failed) == (2, 0, 1)
    refused = reload(messages[1])
    assert (refused.status, refused.attempts) == ("echec", 1)
    assert "550" in refused.last_error and "User unknown" in refused.last_error
    assert "staff1@example.org" not in refused.last_error  # no address in the error
    assert sorted(r.rcpt_tos[0] for r in smtp_server.received) == [
        "staff0@example.org",
        "staff2@example.org",
    ]


@pytest.mark.parametrize(
    "reply, status",
    [("451 4.3.0 Try again later", "a_envoyer"), ("554 5.7.1 Message refused", "echec")],
)
def test_a_refused_message_is_retried_unless_refused_for_good(app, db, smtp_server, reply, status):
    smtp_server.handler.data_reply = reply
    smtp_server.start()
    config = settings(app, smtp_server.url())
    (message,) = queue(1)

    outbox.send_due(config)

    row = reload(message)
    assert (row.status, row.attempts) == (status, 1)
    assert row.last_error == f"SMTPDataError {reply}"


def test_a_message_that_cannot_be_built_fails_without_stopping_the_others(app, db, smtp_server):
    smtp_server.start()
    config = settings(app, smtp_server.url())
    bad = queue(1, to="staff@example.org\nBcc: everyone@example.org")[0]
    good = queue(1)[0]

    report = outbox.send_due(config)

    assert (report.sent, report.failed) == (1, 1)
    assert reload(bad).status == "echec"
    assert reload(good).status == "envoye"
    assert [r.rcpt_tos for r in smtp_server.received] == [["staff0@example.org"]]


@pytest.mark.parametrize("smtputf8, status", [(True, "envoye"), (False, "echec")])
def test_an_address_beyond_ascii_needs_a_server_that_takes_it(
    app, db, smtp_server, smtputf8, status
):
    smtp_server.start(enable_SMTPUTF8=smtputf8)
    config = settings(app, smtp_server.url())
    accented = queue(1, to="jérôme@exemple.fr")[0]
    plain = queue(1)[0]

    outbox.send_due(config)

    assert reload(accented).status == status
    assert reload(plain).status == "envoye"  # never blocked by the other
    assert len(smtp_server.received) == (2 if smtputf8 else 1)


def test_two_senders_at_once_send_each_message_once(app, db, smtp_server):
    smtp_server.handler.delay = 0.02  # so neither finishes before the other starts
    smtp_server.start()
    config = settings(app, smtp_server.url())
    messages = queue(40)
    start = threading.Barrier(2)
    reports, errors = [], []

    def sender():
        try:
            with models.db.connection_context():
                start.wait(TIMEOUT)
                reports.append(outbox.send_due(config, batch=3))
        except Exception as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=sender) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT * 2)
    assert not errors, errors
    assert sum(r.sent for r in reports) == 40
    assert all(r.sent > 0 for r in reports), "the two senders shared the work"
    assert subjects(smtp_server) == sorted(m.subject for m in messages)  # each exactly once
    assert models.Message.select().where(models.Message.status == "envoye").count() == 40


def test_a_claim_is_held_until_its_lease_expires(db):
    messages = queue(3, at=T0)
    first = outbox.claim("sender-a", T0, limit=2)
    assert [m.id for m in first] == [m.id for m in messages[:2]]
    assert all(m.claimed_until == T0 + outbox.LEASE for m in first)

    second = outbox.claim("sender-b", T0 + dt.timedelta(minutes=1))
    assert [m.id for m in second] == [messages[2].id]  # never one of a's
    assert outbox.claim("sender-c", T0 + outbox.LEASE - dt.timedelta(seconds=1)) == []

    # a died: once its lease has expired, its messages go to the next sender.
    third = outbox.claim("sender-c", T0 + outbox.LEASE + dt.timedelta(seconds=1))
    assert [m.id for m in third] == [m.id for m in messages[:2]]
    assert {reload(m).claimed_by for m in messages[:2]} == {"sender-c"}


def stalled_server():
    """A port that accepts connections (the kernel's backlog) but never says hello."""
    listener = socket.socket()
    listener.bind((HOST, 0))
    listener.listen(8)
    return listener


def wait_for_claim(message):
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        row = reload(message)
        if row.claimed_by:
            return row
        time.sleep(0.05)
    pytest.fail("the sender never claimed the message")


def test_a_killed_sender_leaves_its_message_to_the_next_one(app, db, database_url, smtp_server):
    (message,) = queue(1)
    with stalled_server() as stalled:
        port = stalled.getsockname()[1]
        script = (
            "import app; from jobs import scheduler;"
            f"a = app.create_app({{'SECRET_KEY': 'k', 'DATABASE_URL': {database_url!r},"
            f" 'SMTP_URL': 'smtp://{HOST}:{port}', 'SMTP_TIMEOUT': 120}});"
            "scheduler.tick(a)"
        )
        sender = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT)
        try:
            claimed = wait_for_claim(message)  # it waits for the server's greeting
        finally:
            os.kill(sender.pid, signal.SIGKILL)
            sender.wait(TIMEOUT)
    assert sender.returncode == -signal.SIGKILL
    assert claimed.status == "a_envoyer" and claimed.attempts == 0

    smtp_server.start()
    config = settings(app, smtp_server.url())
    assert outbox.send_due(config).sent == 0  # the dead sender's lease still holds
    assert smtp_server.received == []

    report = outbox.send_due(config, now=claimed.claimed_until + dt.timedelta(seconds=1))
    assert report.sent == 1
    assert [r.rcpt_tos for r in smtp_server.received] == [[message.to]]
    assert reload(message).status == "envoye"


def test_without_smtp_url_messages_are_eml_files(app, db):
    config = settings(app, "")
    messages = queue(2)

    report = outbox.send_due(config)

    assert report.sent == 2
    directory = Path(app.config["MAIL_DIR"])
    files = sorted(directory.iterdir())
    assert [f.name for f in files] == [f"message-{m.id:06d}.eml" for m in messages]
    raw = files[0].read_bytes()
    assert "Message numéro 0 : délai dépassé.".encode() in raw  # readable as it is
    assert f"Subject: {messages[0].subject}\n".encode() in raw
    mail = email.message_from_bytes(raw, policy=email.policy.default)
    assert str(mail["Subject"]) == messages[0].subject
    assert mail["To"] == messages[0].to
    assert mail.get_content() == messages[0].body
    assert reload(messages[0]).status == "envoye"

    assert outbox.send_due(config).sent == 0
    assert sorted(directory.iterdir()) == files  # no temporary file left, no copy


def test_starttls_and_authentication(app, db, smtp_server, tls_certificate):
    smtp_server.start(starttls=True, credentials=("equipe@example.org", "p@ss:w rd/1%"))
    userinfo = "equipe%40example.org:p%40ss%3Aw%20rd%2F1%25"
    config = settings(app, smtp_server.url(userinfo=userinfo))
    queue(1)

    assert outbox.send_due(config).sent == 1
    (received,) = smtp_server.received
    assert received.tls and received.authenticated


def test_starttls_can_be_turned_off_and_then_a_strict_server_refuses(app, db, smtp_server):
    smtp_server.start(starttls=True)
    config = settings(app, smtp_server.url(query="starttls=never"))
    (message,) = queue(1)

    report = outbox.send_due(config)

    assert (report.sent, report.retry) == (0, 1)
    assert "530" in reload(message).last_error  # "Must issue a STARTTLS command first"
    assert smtp_server.received == []


def test_starttls_always_fails_when_the_server_does_not_offer_it(app, db, smtp_server):
    smtp_server.start()
    config = settings(app, smtp_server.url(query="starttls=always"))
    (message,) = queue(1)

    assert outbox.send_due(config).retry == 1
    assert reload(message).last_error.startswith("SMTPNotSupportedError")
    assert smtp_server.received == []


def test_authentication_without_tls_and_a_wrong_password(app, db, smtp_server):
    smtp_server.start(credentials=("mailer", "correct horse battery"))
    (message,) = queue(1)

    wrong = settings(app, smtp_server.url(userinfo="mailer:wrong-secret"))
    assert outbox.send_due(wrong).retry == 1
    row = reload(message)
    assert row.last_error.startswith("SMTPAuthenticationError 535")
    assert "wrong-secret" not in row.last_error

    right = settings(app, smtp_server.url(userinfo="mailer:correct%20horse%20battery"))
    assert outbox.send_due(right, now=row.next_attempt_at).sent == 1
    (received,) = smtp_server.received
    assert received.authenticated and not received.tls


def test_smtps_speaks_tls_from_the_first_byte(app, db, smtp_server, tls_certificate):
    smtp_server.start(ssl_on_connect=True)
    config = settings(app, smtp_server.url(scheme="smtps"))
    queue(1)

    assert outbox.send_due(config).sent == 1
    assert len(smtp_server.received) == 1


def test_smtps_refuses_an_untrusted_certificate(app, db, smtp_server):
    smtp_server.start(ssl_on_connect=True)  # SSL_CERT_FILE not set: self-signed, untrusted
    config = settings(app, smtp_server.url(scheme="smtps"))
    (message,) = queue(1)

    assert outbox.send_due(config).retry == 1
    assert "CERTIFICATE_VERIFY_FAILED" in reload(message).last_error
    assert smtp_server.received == []


def test_smtp_urls():
    parse = outbox.parse_smtp_url
    assert parse("smtp://u:p%40ss@mail.example.org:587") == outbox.Smtp(
        "mail.example.org", 587, ssl=False, starttls="auto", user="u", password="p@ss"
    )
    assert parse("smtps://mail.example.org") == outbox.Smtp(
        "mail.example.org", 465, ssl=True, starttls="never"
    )
    assert parse("smtp://localhost").port == 25
    assert parse("smtp://localhost?starttls=always").starttls == "always"
    junk_urls = ("http://mail.example.org", "smtp://", "smtp://h:99999", "smtp://h?starttls=x")
    for junk in (*junk_urls, "smtp://%C3%A9quipe:secret@h"):
        with pytest.raises(outbox.ConfigError):
            parse(junk)


def test_tick_cli_sends_the_outbox(app, runner, smtp_server):
    smtp_server.start()
    app.config["SMTP_URL"] = smtp_server.url()
    with models.db.connection_context():
        queue(2)

    result = runner.invoke(args=["tick"])

    assert result.exit_code == 0, result.output
    assert "E-mails : 2 envoyé(s), 0 à réessayer, 0 en échec définitif." in result.output
    assert len(smtp_server.received) == 2
    result = runner.invoke(args=["tick"])
    assert "E-mails : 0 envoyé(s)" in result.output
    assert len(smtp_server.received) == 2


def test_tick_cli_says_what_is_wrong_with_the_settings(app, runner):
    app.config["SMTP_URL"] = "http://mail.example.org"
    result = runner.invoke(args=["tick"])
    assert result.exit_code == 1
    assert "SMTP_URL doit ressembler à smtp://" in result.output


def test_tick_cli_names_other_errors_by_class_only(app, runner):
    app.config["SMTP_TIMEOUT"] = "ines.martin@example.org"  # a ValueError quoting it
    result = runner.invoke(args=["tick"])
    assert result.exit_code == 1
    assert "send_outbox : échec (ValueError, détails dans le journal)" in result.output
    assert "ines.martin" not in result.output


def test_a_failing_duty_does_not_stop_the_next(app, monkeypatch):
    ran = []

    def broken(app, now):
        raise RuntimeError("boom")

    def later(app, now):
        ran.append(now)
        return "suivante : faite"

    monkeypatch.setattr(scheduler, "DUTIES", [broken, later])
    results = scheduler.tick(app, now=T0)
    assert [(name, report) for name, report, _ in results] == [
        ("broken", None),
        ("later", "suivante : faite"),
    ]
    assert isinstance(results[0][2], RuntimeError)
    assert ran == [T0]


def tick_process(database_url, smtp_url):
    """`flask tick` in a process of its own, configured here (never by instance/config.py)."""
    script = (
        "import app;"
        f"a = app.create_app({{'SECRET_KEY': 'k', 'DATABASE_URL': {database_url!r},"
        f" 'SMTP_URL': {smtp_url!r}}});"
        "ctx = a.app_context(); ctx.push();"
        "a.cli.main(['tick'], prog_name='flask')"
    )
    return subprocess.Popen(
        [sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )


def test_two_ticks_at_once_in_two_processes_send_each_message_once(
    app, db, database_url, smtp_server
):
    smtp_server.handler.delay = 0.02
    smtp_server.start()
    messages = queue(30)

    ticks = [tick_process(database_url, smtp_server.url()) for _ in range(2)]
    outputs = [tick.communicate(timeout=TIMEOUT * 2)[0] for tick in ticks]

    assert [tick.returncode for tick in ticks] == [0, 0], outputs
    sent = [int(out.split("E-mails : ")[1].split(" ")[0]) for out in outputs]
    assert sum(sent) == 30, outputs
    assert subjects(smtp_server) == sorted(m.subject for m in messages)  # each exactly once


@settings_hypothesis(max_examples=200, deadline=None)
@given(st.text(max_size=60) | st.from_regex(r"smtps?://[^/]{0,30}(\?starttls=.{0,8})?"))
def test_any_smtp_url_is_parsed_or_refused_with_a_french_message(url):
    try:
        smtp = outbox.parse_smtp_url(url)
    except outbox.ConfigError as error:
        assert str(error).startswith("SMTP_URL")
    else:
        assert smtp.host and 0 <= smtp.port <= 65535
        assert smtp.starttls in outbox.STARTTLS_MODES


@settings_hypothesis(max_examples=100, deadline=None)
@given(st.emails(), st.text(max_size=40))
def test_errors_kept_for_the_operator_carry_no_address(address, text):
    errors = [
        smtplib.SMTPRecipientsRefused({address: (550, f"<{address}> {text}".encode())}),
        smtplib.SMTPDataError(451, f"{text} {address} {text}"),
        OSError(f"{text}{address}"),
    ]
    for error in errors:
        described = outbox.describe(error)
        assert address not in described
        assert len(described) <= outbox.ERROR_LENGTH
