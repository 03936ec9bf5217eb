"""The SMS channel (mail/sms.py) on a real database, SQLite and PostgreSQL: Brevo's and
Twilio's APIs each against a local HTTP server (http.server on loopback) that checks the
request as the provider documents it; retries, « échec » for the operator, the files by
default, the daily caps; and the person's side: the confirmation of a phone-only youth,
the short link /s/<token>, « J'ai perdu mon lien » by number, the hand-over notice."""

import base64
import datetime as dt
import html
import http.server
import json
import threading
import urllib.parse

import pytest
from helpers import CSRF_RE, YOUTH_STEPS, answer_link_requests, log_in, submit, walk

import models
from domain import sms as gsm
from mail import emails, outbox, sms
from models import Lead, Message
from services import suivi

NUMBER = "+33612345678"
T0 = dt.datetime(2026, 3, 2, 9, 0)
BREVO_KEY = "xkeysib-0123456789abcdef"
TWILIO_SID, TWILIO_TOKEN = "AC0123456789abcdef0123456789abcdef", "token-secret"
TOKEN = "A" * 43


class Provider:
    """A local HTTP server that records each request and answers `status` with `body`."""

    def __init__(self, status=201, body=b'{"messageId": 1}'):
        self.status, self.body, self.requests = status, body, []
        provider = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                provider.requests.append(
                    (self.command, self.path, self.headers, self.rfile.read(length))
                )
                self.send_response(provider.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(provider.body)))
                self.end_headers()
                self.wfile.write(provider.body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def provider():
    server = Provider()
    yield server
    server.close()


def settings_for(app, url=""):
    app.config["SMS_URL"] = url
    app.config["SMS_TIMEOUT"] = 5
    return sms.settings_from(app.config, app.instance_path)


def queue_one(settings, to=NUMBER, now=T0, name="lien_suivi"):
    with models.write_transaction(durable=True):
        return sms.queue(
            to, name, "test", settings=settings, now=now, noun="demande", reference="J-7K3Q9",
            link=f"https://1jeune1mentor.fr/s/{TOKEN}",
        )  # fmt: skip


def reload(message):
    return Message.get_by_id(message.id)


# --- Providers ----------------------------------------------------------------------------------
def test_brevo_transactional_sms_as_documented(app, db, provider):
    settings = settings_for(
        app, f"brevo+http://{BREVO_KEY}@127.0.0.1:{provider.port}?sender=1j1mentor"
    )
    message = queue_one(settings)

    report = sms.send_due(settings, T0)

    assert (report.sent, report.retry, report.failed) == (1, 0, 0)
    assert str(report) == "SMS : 1 envoyé(s), 0 à réessayer, 0 en échec définitif."
    ((method, path, headers, body),) = provider.requests
    assert (method, path) == ("POST", "/v3/transactionalSMS/sms")
    assert headers["api-key"] == BREVO_KEY
    assert headers["Content-Type"] == "application/json"
    assert headers["Accept"] == "application/json"
    assert json.loads(body) == {
        "sender": "1j1mentor",
        "recipient": "33612345678",  # international, without the +
        "content": message.body,
        "type": "transactional",
    }
    assert reload(message).status == outbox.SENT
    assert sms.send_due(settings, T0).sent == 0  # never twice


def test_twilio_messages_api_as_documented(app, db, provider):
    url = f"twilio+http://{TWILIO_SID}:{TWILIO_TOKEN}@127.0.0.1:{provider.port}?from=%2B33700000000"
    settings = settings_for(app, url)
    message = queue_one(settings)

    assert sms.send_due(settings, T0).sent == 1

    ((method, path, headers, body),) = provider.requests
    assert (method, path) == ("POST", f"/2010-04-01/Accounts/{TWILIO_SID}/Messages.json")
    expected = base64.b64encode(f"{TWILIO_SID}:{TWILIO_TOKEN}".encode()).decode()
    assert headers["Authorization"] == f"Basic {expected}"
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"
    fields = urllib.parse.parse_qs(body.decode(), strict_parsing=True)
    assert fields == {"To": [NUMBER], "From": ["+33700000000"], "Body": [message.body]}
    assert reload(message).status == outbox.SENT


def test_twilio_compatible_with_a_path_prefix_and_a_messaging_service(app, db, provider):
    url = (
        f"twilio+http://{TWILIO_SID}:{TWILIO_TOKEN}@127.0.0.1:{provider.port}/api/laml"
        "?messaging_service=MG0123"
    )
    settings = settings_for(app, url)
    queue_one(settings)
    assert sms.send_due(settings, T0).sent == 1
    ((_, path, _, body),) = provider.requests
    assert path == f"/api/laml/2010-04-01/Accounts/{TWILIO_SID}/Messages.json"
    assert urllib.parse.parse_qs(body.decode())["MessagingServiceSid"] == ["MG0123"]


def test_a_provider_down_is_retried_then_a_refusal_is_final(app, db, provider):
    settings = settings_for(app, f"brevo+http://{BREVO_KEY}@127.0.0.1:{provider.port}?sender=X")
    message = queue_one(settings)
    provider.status, provider.body = 500, b'{"code":"internal_error"}'

    report = sms.send_due(settings, T0)

    assert (report.sent, report.retry, report.failed) == (0, 1, 0)
    row = reload(message)
    assert (row.status, row.attempts) == (outbox.TO_SEND, 1)
    assert row.next_attempt_at == T0 + dt.timedelta(minutes=1)
    assert sms.send_due(settings, T0).sent == 0  # not due before its retry
    # The provider refuses the number: final, at once, and no number in the error.
    provider.status = 400
    provider.body = b'{"code":"invalid_parameter","message":"Invalid phone number 33612345678"}'
    report = sms.send_due(settings, T0 + dt.timedelta(minutes=2))
    assert (report.sent, report.retry, report.failed) == (0, 0, 1)
    row = reload(message)
    assert row.status == outbox.FAILED
    assert "HTTP 400" in row.last_error and "33612345678" not in row.last_error


def test_a_failed_sms_is_listed_for_the_operator_with_the_failed_e_mails(app, client):
    with models.db.connection_context():
        message = queue_one(settings_for(app, ""))
        Message.update(status=outbox.FAILED, last_error="ProviderError HTTP 400").where(
            Message.id == message.id
        ).execute()
        admin = models.Utilisateur.create(email="admin@example.org", role="admin")
    log_in(client, admin)
    page = html.unescape(client.get("/admin/messages").get_data(as_text=True))
    assert "<td>SMS</td>" in page and "06 12 34 56 78" in page and "HTTP 400" in page
    assert TOKEN not in page  # the text (its link) is not shown


def test_no_answer_at_all_is_retried(app, db):
    settings = settings_for(app, "brevo+http://k@127.0.0.1:9?sender=X")  # nothing listens
    message = queue_one(settings)
    assert sms.send_due(settings, T0).retry == 1
    assert reload(message).status == outbox.TO_SEND


def test_a_message_is_given_up_after_24_hours(app, db, provider):
    settings = settings_for(app, f"brevo+http://{BREVO_KEY}@127.0.0.1:{provider.port}?sender=X")
    message = queue_one(settings)
    provider.status = 503
    assert sms.send_due(settings, T0 + dt.timedelta(hours=24)).failed == 1
    assert reload(message).status == outbox.FAILED


def test_e_mail_and_sms_senders_claim_their_own_rows(app, db, provider):
    settings = settings_for(app, f"brevo+http://{BREVO_KEY}@127.0.0.1:{provider.port}?sender=X")
    queue_one(settings)
    with models.write_transaction():
        outbox.queue("staff@example.org", "Objet", "Texte\n", kind="test")
    mail = outbox.settings_from(app.config, app.instance_path)
    assert outbox.send_due(mail).sent == 1
    assert provider.requests == []
    assert sms.send_due(settings).sent == 1


def test_tick_sends_the_sms_after_the_e_mails(app, db):
    from jobs import scheduler

    queue_one(settings_for(app, ""))
    results = dict((name, line) for name, line, _ in scheduler.tick(app, T0))
    assert results["send_sms"] == "SMS : 1 envoyé(s), 0 à réessayer, 0 en échec définitif."


def test_files_by_default(app, db):
    settings = settings_for(app, "")
    message = queue_one(settings)
    assert sms.send_due(settings, T0).sent == 1
    (path,) = settings.sms_dir.glob("sms-*.txt")
    assert path.read_text(encoding="utf-8") == f"À : {NUMBER}\n\n{message.body}\n"


@pytest.mark.parametrize(
    "url",
    [
        "brevo://@api.brevo.com?sender=X",
        "brevo://key@api.brevo.com",
        "twilio://sid@api.twilio.com?from=1",
        "twilio://sid:token@api.twilio.com",
        "smtp://x@y",
        "brevo+ftp://k@h?sender=X",
        "brevo://k@[?sender=X",
    ],
)
def test_a_wrong_sms_url_says_what_to_fix(app, url):
    with pytest.raises(sms.ConfigError, match="SMS_URL"):
        settings_for(app, url)


# --- Costs --------------------------------------------------------------------------------------
def test_caps_per_number_and_per_instance_per_french_day(app, db):
    app.config.update(SMS_CAP_PER_NUMBER=2, SMS_CAP_PER_DAY=3)
    settings = settings_for(app, "")
    assert queue_one(settings) and queue_one(settings)
    assert queue_one(settings) is None  # third to the same number today
    assert queue_one(settings, to="+33698765432")
    assert queue_one(settings, to="+33611111111") is None  # the instance's cap
    assert sms.sent_today(T0) == 3
    # The next French day (23:30 UTC on 2 March is 00:30 on 3 March in Paris).
    assert queue_one(settings, now=dt.datetime(2026, 3, 2, 23, 30))


def test_sms_off_queues_nothing(app, db):
    assert queue_one(settings_for(app, "off")) is None
    assert Message.select().count() == 0


def test_admin_home_counts_the_sms_of_the_day(app, client):
    with models.db.connection_context():
        queue_one(settings_for(app, ""), now=models.now())
        admin = models.Utilisateur.create(email="admin@example.org", role="admin")
    log_in(client, admin)
    page = html.unescape(client.get("/admin/").get_data(as_text=True))
    assert "1 SMS aujourd'hui, sur 200 au plus par jour" in page


# --- Texts --------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["confirmation", "demande_confiee", "lien_suivi", "liste_attente"])
def test_each_text_is_one_gsm7_sms(app, name):
    with app.app_context():
        app.config["PUBLIC_URL"] = "https://1jeune1mentor.beta.gouv.fr"
        text = sms.render(
            name,
            prenom="Maëlle-Françoise",
            noun="candidature",
            reference="J-7K3Q9",
            association="Association Mentorat Jeunesse",
            link=sms.short_link(TOKEN),
        )
    assert gsm.is_gsm7(text), text
    assert gsm.segments(text) == 1, (len(text), text)
    assert "/s/" + TOKEN in text


def test_a_long_first_name_or_association_is_left_out_rather_than_a_second_sms(app):
    with app.app_context():
        app.config["PUBLIC_URL"] = "https://1jeune1mentor.beta.gouv.fr"
        short = sms.render("confirmation", prenom="Inès", noun="demande", reference="J-7K3Q9",
                           link=sms.short_link(TOKEN))  # fmt: skip
        long = sms.render("confirmation", prenom="Marie-Bernadette-Anne", noun="demande",
                          reference="J-7K3Q9", link=sms.short_link(TOKEN))  # fmt: skip
        notice = sms.render("demande_confiee", noun="demande", reference="J-7K3Q9",
                            association="Association départementale pour le mentorat des jeunes",
                            link=sms.short_link(TOKEN))  # fmt: skip
    assert short.startswith("1 jeune 1 mentor : Inès, votre demande J-7K3Q9 est enregistrée.")
    assert long.startswith("1 jeune 1 mentor : votre demande J-7K3Q9 est enregistrée.")
    assert "votre demande J-7K3Q9 change d'association. Suivi : " in notice
    assert {gsm.segments(text) for text in (short, long, notice)} == {1}


def test_gsm7_and_segments():
    assert (
        gsm.to_gsm7("Maëlle, l’été à Forêt « ici » — ça") == 'Maelle, l\'été à Foret " ici " - ca'
    )
    assert gsm.is_gsm7("é è à ù Ç É") and not gsm.is_gsm7("ê")
    assert [gsm.segments("a" * n) for n in (160, 161, 306, 307)] == [1, 2, 2, 3]
    assert gsm.segments("€" * 80) == 1 and gsm.segments("€" * 81) == 2  # two septets each
    assert [gsm.segments("ê" * n) for n in (70, 71)] == [1, 2]


# --- The person's side --------------------------------------------------------------------------
PHONE_ONLY = [
    *YOUTH_STEPS[:-1],
    ("coordonnees", dict(YOUTH_STEPS[-1][1], email="", contact_pref="sms")),
]


def send_phone_only(client):
    walk(client, "jeune", PHONE_ONLY)
    assert submit(client, "jeune").status_code == 303
    with models.db.connection_context():
        return Lead.select().order_by(Lead.id.desc()).get()


def sms_messages(**where):
    with models.db.connection_context():
        query = Message.select().where(Message.channel == outbox.SMS).order_by(Message.id)
        for name, value in where.items():
            query = query.where(getattr(Message, name) == value)
        return list(query)


def test_a_phone_only_youth_gets_the_confirmation_by_sms_with_the_short_link(client):
    lead = send_phone_only(client)
    (message,) = sms_messages()
    assert (message.to, message.kind, message.lead_id) == (NUMBER, "confirmation", lead.id)
    assert message.body == (
        f"1 jeune 1 mentor : Inès, votre demande {lead.reference} est enregistrée. "
        f"Suivi : http://127.0.0.1:5000/s/{lead.suivi_token}"
    )
    assert gsm.segments(message.body) == 1 and "Martin" not in message.body
    # The short link leads to the follow-up page, and says nothing to another site.
    response = client.get(f"/s/{lead.suivi_token}")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/suivi/{lead.suivi_token}")
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cache-Control"] == "no-store"
    assert client.get(response.headers["Location"]).status_code == 200


def test_a_youth_with_an_e_mail_who_chose_sms_gets_both_and_one_who_did_not_gets_no_sms(client):
    send_phone_only(client)  # the first one, phone only
    walk(client, "jeune", YOUTH_STEPS)  # e-mail and SMS chosen
    assert submit(client, "jeune").status_code == 303
    assert [m.kind for m in sms_messages()] == ["confirmation", "confirmation"]
    steps = [*YOUTH_STEPS[:-1], ("coordonnees", dict(YOUTH_STEPS[-1][1], contact_pref="email"))]
    walk(client, "jeune", steps)
    assert submit(client, "jeune").status_code == 303
    assert len(sms_messages()) == 2


def test_lost_link_by_phone_number_same_answer_and_a_limit(client):
    lead = send_phone_only(client)
    url = "/suivi/lien-perdu"
    token = CSRF_RE.search(client.get(url).get_data(as_text=True)).group(1)
    answers = []
    for number in ("06 12 34 56 78", "06 99 99 99 99"):
        response = client.post(url, data={"csrf_token": token, "telephone": number})
        assert response.status_code == 303
        answers.append(
            html.unescape(client.get(response.headers["Location"]).get_data(as_text=True))
        )
    assert answers[0] == answers[1]
    assert "Si ce numéro correspond à une demande, vous recevrez le lien par SMS" in answers[0]
    answer_link_requests(client.application)  # the next tick answers the requests
    (sent,) = sms_messages(kind=suivi.LINK_KIND)
    assert (sent.to, sent.lead_id) == (NUMBER, lead.id)
    assert f"/s/{lead.suivi_token}" in sent.body
    for _ in range(suivi.LINK_LIMIT_PER_HOUR + 1):
        client.post(url, data={"csrf_token": token, "telephone": "+33 6 12 34 56 78"})
    answer_link_requests(client.application)
    assert len(sms_messages(kind=suivi.LINK_KIND)) == 2
    # The daily cap per number (3) counts the confirmation too: no more than 3 SMS today.
    assert len(sms_messages(to=NUMBER)) == 3
    # Neither an address nor a number: a clear message, 422.
    response = client.post(url, data={"csrf_token": token})
    assert response.status_code == 422
    assert "Indiquez votre adresse e-mail ou votre numéro de téléphone portable" in html.unescape(
        response.get_data(as_text=True)
    )


def test_lost_link_page_offers_no_sms_when_sms_are_off(app, client):
    app.config["SMS_URL"] = "off"
    page = html.unescape(client.get("/suivi/lien-perdu").get_data(as_text=True))
    assert "SMS" not in page and 'name="telephone"' not in page


def test_the_hand_over_notice_by_sms(client):
    lead = send_phone_only(client)
    with models.db.connection_context(), models.write_transaction():
        association = (
            models.Association.select()
            .where(models.Association.id != (lead.association_id or 0))
            .first()
        )
        emails.notify_person_of_hand_over(Lead.get_by_id(lead.id), association)
    (notice,) = sms_messages(kind="transfert")
    assert notice.body.startswith(
        f"1 jeune 1 mentor : votre demande {lead.reference} est confiée à "
    )
    assert notice.to == NUMBER and notice.lead_id == lead.id


def test_erasure_removes_the_sms_and_their_files(app, client):
    lead = send_phone_only(client)
    with app.app_context(), models.db.connection_context():
        settings = sms.current_settings()
        assert sms.send_due(settings).sent == 1
        assert list(settings.sms_dir.glob("sms-*.txt"))
        suivi.erase(Lead.get_by_id(lead.id), None)
        assert not list(settings.sms_dir.glob("sms-*.txt"))
    assert sms_messages() == []


def test_a_wrong_sms_url_stops_the_start(tmp_path):
    from app import create_app

    with pytest.raises(sms.ConfigError, match="Brevo"):
        create_app(
            {
                "SECRET_KEY": "x",
                "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}",
                "SMS_URL": "brevo://key@api.brevo.com",
            }
        )
