"""The result page says what was really sent (issue 15 §1): the e-mail and the SMS of the
confirmation as the outbox holds them, « M'envoyer ce lien par SMS » (a POST form, CSRF,
the daily caps), the waiting list's promise from the channels that will tell the person;
the follow-up link always shown, wrapping, with its copy button's holder."""

import html
import re

from helpers import CSRF_RE, YOUTH_STEPS, submit, walk

import models
from mail import outbox
from models import Lead, Message, Programme

PHONE_ONLY = [
    *YOUTH_STEPS[:-1],
    ("coordonnees", dict(YOUTH_STEPS[-1][1], email="", contact_pref="sms")),
]
EMAIL_ONLY = [
    *YOUTH_STEPS[:-1],
    ("coordonnees", dict(YOUTH_STEPS[-1][1], telephone="", contact_pref="email")),
]


def send(client, steps):
    walk(client, "jeune", steps)
    response = submit(client, "jeune")
    assert response.status_code == 303
    with models.db.connection_context():
        lead = Lead.select().order_by(Lead.id.desc()).get()
    return lead, response.headers["Location"]


def read(client, url):
    response = client.get(url)
    assert response.status_code == 200
    return html.unescape(response.get_data(as_text=True))


def words(page):
    """The page's text as read, tags left out."""
    return " ".join(re.sub(r"<[^>]+>", "", page).split())


# Sentences that say we send an SMS (the association's « vous recontacte par SMS » is the
# person's choice of how it calls them, not a message of ours).
OUR_SMS = ("Un SMS avec ce lien", "M'envoyer ce lien par SMS", "nous vous prévenons par SMS")


def sms_count(**where):
    with models.db.connection_context():
        query = Message.select().where(Message.channel == outbox.SMS)
        for name, value in where.items():
            query = query.where(getattr(Message, name) == value)
        return query.count()


def test_a_phone_only_youth_is_told_of_the_sms_not_of_an_e_mail(client):
    lead, url = send(client, PHONE_ONLY)
    page = read(client, url)
    assert "Un SMS avec ce lien vous a été envoyé au 06 12 34 56 78." in words(page)
    assert "e-mail de confirmation" not in page
    assert (
        f'<a class="suivi-link" id="lien-suivi" href="http://127.0.0.1:5000/suivi/{lead.suivi_token}"'
        in page
    )
    assert 'data-copy="lien-suivi"' in page  # the button itself comes with JS only
    assert "Copier le lien" not in page
    assert "M'envoyer ce lien par SMS" in page


def test_an_e_mail_only_youth_is_told_of_the_e_mail_and_offered_no_sms(client):
    _, url = send(client, EMAIL_ONLY)
    page = read(client, url)
    assert "Un e-mail de confirmation vous a été envoyé à ines.martin@example.org" in words(page)
    assert not any(sentence in page for sentence in OUR_SMS)


def test_sms_off_no_sentence_says_sms(app, client):
    app.config["SMS_URL"] = "off"
    _, url = send(client, PHONE_ONLY)
    page = read(client, url)
    assert not any(sentence in page for sentence in OUR_SMS)
    assert (
        "Vous n'avez pas reçu de message de notre part : notez votre référence et ce lien." in page
    )


def test_send_me_this_link_by_sms_then_the_caps(app, client):
    lead, url = send(client, PHONE_ONLY)
    token = CSRF_RE.search(read(client, url)).group(1)
    response = client.post(f"{url}/sms", data={"csrf_token": token})
    assert response.status_code == 303 and response.headers["Location"].endswith("?sms=1")
    assert "C'est envoyé" not in read(client, url + "?sms=0")
    page = read(client, response.headers["Location"])
    assert "C'est envoyé : le lien arrive par SMS au 06 12 34 56 78." in page
    assert sms_count(kind="lien_suivi", lead=lead.id) == 1
    # The confirmation and two links: the number's daily cap (3) is reached.
    client.post(f"{url}/sms", data={"csrf_token": token})
    response = client.post(f"{url}/sms", data={"csrf_token": token})
    assert sms_count(to="+33612345678") == 3
    page = read(client, response.headers["Location"])
    assert "Nous n'avons pas pu envoyer de SMS à ce numéro pour le moment" in page
    # Without CSRF: refused; another browser (not the sender's): 404.
    assert client.post(f"{url}/sms").status_code == 400
    other = app.test_client()
    assert other.post(f"{url}/sms", data={"csrf_token": token}).status_code in (400, 404)


def test_the_waiting_list_promises_only_the_channels_that_will_be_used(app, client):
    with models.db.connection_context():
        Programme.update(actif=False).execute()
    _, url = send(client, PHONE_ONLY)
    page = read(client, url)
    assert "Votre demande est sur notre liste d'attente" in page
    assert "nous vous prévenons par SMS, et elle vous recontacte" in page
    _, url = send(client, EMAIL_ONLY)
    page = read(client, url)
    assert "nous vous prévenons par e-mail, et elle vous recontacte" in page
    assert not any(sentence in page for sentence in OUR_SMS)
    app.config["SMS_URL"] = "off"
    _, url = send(client, PHONE_ONLY)
    page = read(client, url)
    assert not any(sentence in page for sentence in OUR_SMS)
    assert "elle vous recontacte ; votre lien de suivi le dit aussi" in page
