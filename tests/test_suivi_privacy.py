"""A follow-up link reaches the messages of its own lead, never others' (issue 11).

The addresses of a demande are typed by whoever sends it and never verified: a lead's
export and erasure must not find messages by address. Each attack of the issue is
reproduced here as a stranger would run it: a staff password reset, an invitation and
another youth's confirmation sent to an address the attacker then types into a demande.
"""

import json
import re

import pytest
from helpers import YOUTH_STEPS, answer_link_requests, csrf_token, submit, walk
from test_suivi import page_url, text, under_15_steps

import models
from mail import outbox
from models import Lead, Message, Utilisateur
from services import accounts, suivi

STAFF_EMAIL = "responsable@example.org"
VICTIM_EMAIL = "victime@example.org"
LINK_RE = re.compile(r"/(?:suivi|espace/reinitialisation|espace/invitation)/[A-Za-z0-9_-]{43}")


def youth_steps(email="", **changes):
    """The youth questionnaire (17) with this e-mail address (none: by phone)."""
    contact = dict(YOUTH_STEPS[-1][1], email=email, **changes)
    return [*YOUTH_STEPS[:-1], ("coordonnees", contact)]


def send(app, steps):
    """A demande sent by a new visitor (its own cookies); returns the lead."""
    client = app.test_client()
    walk(client, "jeune", steps)
    assert submit(client, "jeune").status_code == 303
    with models.db.connection_context():
        return Lead.select().order_by(Lead.id.desc()).get()


def export_of(client, lead):
    response = client.get(page_url(lead) + "/mes-donnees.json")
    assert response.status_code == 200
    return response


def erase(client, lead):
    url = page_url(lead) + "/supprimer"
    response = client.post(url, data={"csrf_token": csrf_token(client, url)})
    assert response.status_code == 303


def send_due(app):
    settings = outbox.settings_from(app.config, app.instance_path)
    with app.app_context(), models.db.connection_context():
        outbox.send_due(settings)
    return settings.mail_dir


def mail_files(mail_dir, needle):
    return [p for p in mail_dir.glob("*.eml") if needle.encode() in p.read_bytes()]


def staff_member(app, email=STAFF_EMAIL):
    with models.db.connection_context():
        association = models.Association.select().order_by(models.Association.id).first()
        return Utilisateur.create(
            email=email,
            role="responsable",
            association=association,
            password_hash=accounts.hash_password("une phrase de passe solide"),
        )


def test_a_reset_link_sent_to_staff_never_reaches_a_youth_s_export(app, client):
    staff_member(app)
    # 1. The attacker asks a reset for the staff member's address.
    url = "/espace/mot-de-passe-oublie"
    response = client.post(url, data={"email": STAFF_EMAIL, "csrf_token": csrf_token(client, url)})
    assert response.status_code == 303
    answer_link_requests(app)
    (reset,) = Message.select().where(Message.kind == accounts.RESET)
    assert "/espace/reinitialisation/" in reset.body  # the check below can fail
    # 2. A youth of 13, no e-mail of their own, the staff address as the parent's.
    steps = under_15_steps(parent_email=STAFF_EMAIL)
    coordonnees = dict(steps[-2][1], email="")
    lead = send(app, [*steps[:-2], ("coordonnees", coordonnees), steps[-1]])
    assert lead.email == "" and suivi.parent_email(lead) == STAFF_EMAIL
    # 3. Its export: the lead's own e-mails (the parent's confirmation), no reset link.
    raw = text(export_of(client, lead))
    data = json.loads(raw)
    assert [m["objet"] for m in data["emails"]] == [
        f"Votre enfant Inès a fait une demande de mentorat ({lead.reference})"
    ]
    assert "Réinitialisation" not in raw and "/espace/reinitialisation/" not in raw
    # Erasing the lead leaves the reset message (and its file once sent) to its owner.
    mail_dir = send_due(app)
    assert len(mail_files(mail_dir, "/espace/reinitialisation/")) == 1
    erase(client, lead)
    assert Message.get_by_id(reset.id).status == outbox.SENT
    assert len(mail_files(mail_dir, "/espace/reinitialisation/")) == 1


def test_an_invitation_never_reaches_a_youth_s_export(app, client):
    with app.test_request_context(), models.db.connection_context():
        association = models.Association.select().first()
        accounts.create_account(
            "invitee@example.org",
            "membre",
            association,
            models.now(),
            link=lambda token: f"/espace/invitation/{token}",
        )
    (invitation,) = Message.select().where(Message.kind == accounts.INVITATION)
    lead = send(app, youth_steps("Invitee@Example.org"))
    raw = text(export_of(client, lead))
    assert "/espace/invitation/" not in raw and "Invitation" not in raw
    own = Message.select().where((Message.lead == lead.id) & (Message.channel == "email")).count()
    assert len(json.loads(raw)["emails"]) == own  # its confirmation, the staff's notice
    erase(client, lead)
    assert Message.get_by_id(invitation.id).status == outbox.TO_SEND


@pytest.mark.parametrize("field", ["email", "parent_email"])
def test_another_youth_s_messages_are_out_of_reach(app, client, field):
    victim = send(app, youth_steps(VICTIM_EMAIL))
    (confirmation,) = Message.select().where(
        (Message.lead == victim.id) & (Message.channel == "email")
    )
    if field == "email":
        attacker = send(app, youth_steps(VICTIM_EMAIL, prenom="Malo"))
    else:
        steps = under_15_steps(parent_email=VICTIM_EMAIL)
        attacker = send(
            app, [*steps[:-2], ("coordonnees", dict(steps[-2][1], email="")), steps[-1]]
        )
    raw = text(export_of(client, attacker))
    assert victim.suivi_token not in raw and victim.reference not in raw
    assert LINK_RE.findall(raw) == [page_url(attacker)] * len(LINK_RE.findall(raw))
    # Erasing the attacker's lead: the victim's queued confirmation is still sent.
    erase(client, attacker)
    assert Message.get_by_id(confirmation.id).status == outbox.TO_SEND
    mail_dir = send_due(app)
    assert Message.get_by_id(confirmation.id).status == outbox.SENT
    (victim_file,) = mail_files(mail_dir, victim.suivi_token)
    assert attacker.suivi_token not in victim_file.read_text()
    assert export_of(client, victim)  # the victim's link still works


def test_lost_links_are_one_message_per_lead(app, client):
    victim = send(app, youth_steps(VICTIM_EMAIL))
    attacker = send(app, youth_steps(VICTIM_EMAIL, prenom="Malo"))
    url = "/suivi/lien-perdu"
    response = client.post(url, data={"email": VICTIM_EMAIL, "csrf_token": csrf_token(client, url)})
    assert response.status_code == 303
    answer_link_requests(app)
    links = list(Message.select().where(Message.kind == suivi.LINK_KIND).order_by(Message.lead))
    assert [m.lead_id for m in links] == [victim.id, attacker.id]
    assert victim.suivi_token in links[0].body and attacker.suivi_token not in links[0].body
    raw = text(export_of(client, attacker))
    assert victim.suivi_token not in raw and attacker.suivi_token in raw
    mail_dir = send_due(app)
    erase(client, attacker)
    assert Message.get_or_none(Message.id == links[0].id) is not None
    assert Message.get_or_none(Message.id == links[1].id) is None
    assert len(mail_files(mail_dir, victim.suivi_token)) == 2  # confirmation and link
    assert mail_files(mail_dir, attacker.suivi_token) == []


def test_a_file_written_while_its_message_is_erased_is_removed(app, client):
    """A sender that was writing a message's .eml as the lead was erased removes it."""
    lead = send(app, youth_steps(VICTIM_EMAIL))
    settings = outbox.settings_from(app.config, app.instance_path)
    with app.app_context(), models.db.connection_context():
        # (The association's catalogue address, with no staff account, is told too:
        # that mail is not the lead's, issue 16 §1.)
        claimed = [m for m in outbox.claim("sender-1", models.now()) if m.lead_id is not None]
        assert [m.lead_id for m in claimed] == [lead.id]
        # The erasure commits between the claim and the file's writing.
        assert suivi.erase(lead, settings.mail_dir)
        report = outbox.Report()
        outbox.send_batch(settings, claimed, "sender-1", outbox.Clock(), report)
    assert list(settings.mail_dir.glob("*.eml")) == []
