"""Per-recipient caps (drafts.submit, suivi.may_confirm_to): the same person sending again
within 24 h is linked to their first demande (no second lead, call or e-mail); one address
receives at most CONFIRMATIONS_PER_DAY confirmations."""

import datetime as dt
import threading

import pytest
from helpers import MENTOR_STEPS, YOUTH_STEPS, make_app, submit, walk

import models
from services import drafts

COORDONNEES = dict(YOUTH_STEPS)["coordonnees"]


def with_contact(**contact):
    return [*YOUTH_STEPS[:-1], ("coordonnees", dict(COORDONNEES, **contact))]


def send(client, steps=YOUTH_STEPS, parcours="jeune"):
    walk(client, parcours, steps)
    response = submit(client, parcours)
    assert response.status_code == 303
    return response.headers["Location"]


@pytest.fixture
def app(database_url, tmp_path):
    """The default setting: a second sending within 24 h is linked (conftest's app turns
    it off for the other tests)."""
    return make_app(database_url, tmp_path, SENT_AGAIN_HOURS=24)


def counts():
    with models.db.connection_context():
        return (
            models.Lead.select().count(),
            models.Orientation.select().count(),
            models.Message.select().count(),
        )


def test_the_same_person_again_gets_the_first_demande(app):
    first = app.test_client()
    url = send(first)
    before = counts()
    assert before[0] == 1 and before[2] > 0
    # Again from the same browser, then from another with the same phone only.
    assert send(first) == url
    other = app.test_client()
    assert send(other, with_contact(email="autre.adresse@example.org")) == url
    assert counts() == before  # no lead, no orientation, no e-mail (staff nor person)
    page = other.get(url).get_data(as_text=True)
    assert "Vous aviez déjà envoyé cette demande" in page
    with models.db.connection_context():
        lead = models.Lead.get()
    # Whoever typed the phone may not be the person: no secret link, no change of choice.
    assert lead.suivi_token not in page
    assert other.post(f"{url}/choisir", data={"orientation": "1"}).status_code in (400, 404)
    assert "Vous aviez déjà envoyé" not in first.get(url).get_data(as_text=True)


def test_the_same_email_in_another_parcours_or_a_day_later_is_a_new_demande(app):
    client = app.test_client()
    send(client)
    mentor = [*MENTOR_STEPS[:-1], ("coordonnees", dict(MENTOR_STEPS[-1][1], **COORDONNEES))]
    mentor[-1][1].pop("contact_pref")
    send(client, mentor, "mentor")
    assert counts()[0] == 2
    with models.db.connection_context():
        models.Lead.update(created_at=models.now() - dt.timedelta(hours=25)).execute()
    send(client)
    assert counts()[0] == 3


def test_one_address_gets_a_few_confirmations_a_day(database_url, tmp_path):
    app = make_app(database_url, tmp_path, CONFIRMATIONS_PER_DAY=1, SENT_AGAIN_HOURS=24)
    client = app.test_client()
    send(client)
    mentor = [*MENTOR_STEPS[:-1], ("coordonnees", dict(MENTOR_STEPS[-1][1], **COORDONNEES))]
    mentor[-1][1].pop("contact_pref")
    send(client, mentor, "mentor")
    with models.db.connection_context():
        assert models.Lead.select().count() == 2
        Message = models.Message
        to_person = Message.select().where(Message.to == COORDONNEES["email"])
        assert [m.kind for m in to_person] == ["confirmation"]


def draft_token(client):
    with client.session_transaction() as session:
        return session["drafts"]["jeune"]


def test_two_parallel_sendings_of_one_person_make_one_lead(app):
    clients = [app.test_client() for _ in range(2)]
    tokens = []
    for number, client in enumerate(clients):
        walk(client, "jeune", with_contact(email=f"ines{number}@example.org"))  # same phone
        tokens.append(draft_token(client))
    barrier = threading.Barrier(len(tokens))
    leads, errors = [], []

    def run(token):
        try:
            barrier.wait()
            with models.db.connection_context():
                leads.append(drafts.submit(token, lambda journey: None, 24).id)
        except Exception as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=run, args=(token,)) for token in tokens]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors, errors
    assert len(set(leads)) == 1
    assert counts()[0] == 1
