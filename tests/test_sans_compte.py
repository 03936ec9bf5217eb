"""Issue 16 §1: an association without an active staff account is still told. Its new-lead
e-mails and reminders go to its catalogue address, without personal data, with a claim link
that invites that address as responsable; the operator sees such associations in /admin/
and in a daily digest. SQLite and PostgreSQL (scripts/test-postgres.sh)."""

import datetime as dt
import re

import pytest
from helpers import PERSONAL, YOUTH_ANSWERS, arrived, fresh, log_in, submitted_lead

import models
from domain import workdays
from jobs import digest, scheduler
from mail import emails
from models import Association, Message, Utilisateur
from services import accounts

OPERATOR = "operateur@example.org"
ADDRESS = "contact@asso-sans-compte.example.org"
CLAIM_RE = re.compile(r"https://mentorat\.example\.fr(/espace/rejoindre/[^\s]+)")
INVITE_RE = re.compile(r"https://mentorat\.example\.fr(/espace/invitation/[^\s]+)")


def paris(year, month, day, hour=0, minute=5):
    local = dt.datetime(year, month, day, hour, minute, tzinfo=workdays.PARIS)
    return local.astimezone(dt.UTC).replace(tzinfo=None)


@pytest.fixture
def config(app):
    app.config.update(OPERATOR_EMAIL=OPERATOR, PUBLIC_URL="https://mentorat.example.fr")
    return app


@pytest.fixture
def conn(app):
    yield models.db
    if not models.db.is_closed():
        models.db.close()


def unread_lead(app):
    """A youth's demande routed to an association whose staff accounts are all gone,
    its catalogue address set; the e-mails it caused kept."""
    lead = submitted_lead("jeune", YOUTH_ANSWERS)
    Utilisateur.delete().where(Utilisateur.association == lead.association_id).execute()
    association = Association.get_by_id(lead.association_id)
    association.email = ADDRESS
    association.save()
    Message.delete().execute()
    with app.app_context(), models.write_transaction(durable=True):
        emails.notify_new_lead(fresh(lead))
    return fresh(lead)


def reader(association_id, email="equipe@example.org", **changes):
    return Utilisateur.create(
        email=email,
        role="membre",
        association=association_id,
        password_hash="argon2-hash-for-the-test",
        **changes,
    )


def test_the_new_lead_e_mail_goes_to_the_catalogue_address_with_a_claim_link(config, conn):
    lead = unread_lead(config)
    (mail,) = Message.select()
    assert mail.to == ADDRESS and lead.reference in mail.subject
    assert mail.lead_id is None  # not the person's mail: out of their export and erasure
    assert not any(word in mail.subject + mail.body for word in PERSONAL)
    assert "n'a pas encore de compte actif" in mail.body
    assert "votre compte fait partie de l'équipe" not in mail.body  # it has none
    assert CLAIM_RE.search(mail.body)


def test_with_staff_the_catalogue_address_gets_nothing(config, conn):
    lead = submitted_lead("jeune", YOUTH_ANSWERS)
    Utilisateur.delete().where(Utilisateur.association == lead.association_id).execute()
    reader(lead.association_id, notifications="resume_quotidien")  # a digest reader
    association = Association.get_by_id(lead.association_id)
    association.email = ADDRESS
    association.save()
    Message.delete().execute()
    with config.app_context(), models.write_transaction(durable=True):
        assert emails.notify_new_lead(fresh(lead)) == 0
    assert Message.select().count() == 0


def test_the_claim_link_invites_that_address_as_responsable_once(config, client, conn):
    lead = unread_lead(config)
    path = CLAIM_RE.search(Message.get().body).group(1)
    page = client.get(path)
    assert page.status_code == 200 and ADDRESS in page.get_data(as_text=True)
    assert Utilisateur.select().where(Utilisateur.email == ADDRESS).count() == 0  # GET acts not
    Message.delete().execute()
    done = client.post(path, data={"csrf_token": csrf(page)})
    assert done.status_code == 200 and "Invitation envoyée" in done.get_data(as_text=True)
    (invitation,) = Message.select()
    assert invitation.to == ADDRESS and invitation.kind == accounts.INVITATION
    row = Utilisateur.get(Utilisateur.email == ADDRESS)
    assert row.role == "responsable" and row.association_id == lead.association_id
    # The invitation activates the account; the claim link is then spent ("pourvue").
    invite_path = INVITE_RE.search(invitation.body).group(1)
    form = client.get(invite_path)
    activated = client.post(
        invite_path,
        data={
            "csrf_token": csrf(form),
            "nouveau": "une phrase de passe assez longue",
            "confirmation": "une phrase de passe assez longue",
        },
    )
    assert activated.status_code == 303, activated.get_data(as_text=True)
    again = client.get(path)
    assert again.status_code == 410 and "déjà un compte actif" in again.get_data(as_text=True)


def test_a_claim_link_dies_with_a_new_address_and_a_forged_one_is_unknown(config, client, conn):
    lead = unread_lead(config)
    path = CLAIM_RE.search(Message.get().body).group(1)
    assert client.get(path[:-3] + "abc").status_code == 404
    assert client.get("/espace/rejoindre/nimportequoi").status_code == 404
    association = Association.get_by_id(lead.association_id)
    association.email = "autre@example.org"
    association.save()
    assert client.get(path).status_code == 410
    assert client.post(path, data={}).status_code in (400, 410)
    assert Utilisateur.select().where(Utilisateur.association == lead.association_id).count() == 0


def test_the_reminders_go_to_the_catalogue_address_too(config, conn):
    lead = unread_lead(config)
    association = Association.get_by_id(lead.association_id)
    association.delai_recontact = 5
    association.save()
    arrived(lead, paris(2026, 5, 4, 10))
    Message.delete().execute()
    scheduler.tick(config, paris(2026, 5, 12, 9))
    (reminder,) = Message.select().where(Message.kind == "relance")
    assert reminder.to == ADDRESS and CLAIM_RE.search(reminder.body)
    assert not any(word in reminder.body for word in PERSONAL)


def test_the_last_reminder_mentions_a_copy_only_when_one_is_sent(config, conn):
    config.config["OPERATOR_EMAIL"] = ""
    lead = unread_lead(config)
    reader(lead.association_id)
    association = Association.get_by_id(lead.association_id)
    association.delai_recontact = 5
    association.save()
    arrived(lead, paris(2026, 5, 4, 10))
    Message.delete().execute()
    scheduler.tick(config, paris(2026, 5, 20, 9))
    (last,) = Message.select().where(Message.kind == "relance")
    assert last.subject.startswith("Dernier rappel") and "copie" not in last.body


def test_the_operator_sees_them_in_admin_and_in_the_daily_digest(config, client, conn):
    lead = unread_lead(config)
    name = Association.get_by_id(lead.association_id).nom
    admin = Utilisateur.create(email="admin@example.org", role="admin", association=None)
    log_in(client, admin)
    page = client.get("/admin/").get_data(as_text=True)
    section = page.split('id="sans-lecteur"', 1)[1]
    assert name in section and ADDRESS in section

    Message.delete().execute()
    before_hour = digest.send_operator_digest(config, paris(2026, 5, 12, 6))
    assert "pas avant" in before_hour and Message.select().count() == 0
    digest.send_operator_digest(config, paris(2026, 5, 12, 8))
    digest.send_operator_digest(config, paris(2026, 5, 12, 18))  # once a day
    (sent,) = Message.select().where(Message.kind == "resume_operateur")
    assert sent.to == OPERATOR and name in sent.body and "1 demande(s) en cours" in sent.body
    assert not any(word in sent.body for word in PERSONAL)

    # Someone can read them now: off the list.
    reader(lead.association_id)
    page = client.get("/admin/").get_data(as_text=True)
    assert name not in page.split('id="sans-lecteur"', 1)[1]


def csrf(response):
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', response.get_data(as_text=True))[1]
