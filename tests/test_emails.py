"""The product's e-mails: the new-lead e-mail to the association's staff, queued in the
submit's transaction, with the reference and a link and none of the person's details;
sent through `flask tick` to a real SMTP server (aiosmtpd)."""

import pytest
from helpers import MENTOR_STEPS, YOUTH_STEPS, submit, walk

import models
from mail import emails
from services import drafts


@pytest.fixture
def staff(app):
    """In every association: a responsable and a membre, an inactive account, and an
    admin (of none); only the first two get the association's e-mails."""
    with models.db.connection_context():
        return make_staff()


def make_staff():
    accounts = {}
    for association in models.Association.select():
        slug = association.slug
        active = [
            models.Utilisateur.create(
                email=f"{role}.{slug}@example.org", role=role, association=association
            )
            for role in ("responsable", "membre")
        ]
        models.Utilisateur.create(
            email=f"ancien.{slug}@example.org", role="membre", association=association, actif=False
        )
        accounts[association.id] = [user.email for user in active]
    models.Utilisateur.create(email="admin@example.org", role="admin")
    return accounts


def personal_details(steps):
    details = dict(steps)["coordonnees"]
    return [details["prenom"], details["nom"], details["email"], details["telephone"]]


@pytest.mark.parametrize(
    "parcours, steps, subject",
    [("jeune", YOUTH_STEPS, "Nouvelle demande"), ("mentor", MENTOR_STEPS, "Nouvelle candidature")],
)
def test_a_new_lead_is_announced_to_its_association_without_personal_data(
    app, client, staff, parcours, steps, subject
):
    app.config["PUBLIC_URL"] = "https://mentorat.example.fr/"
    walk(client, parcours, steps)
    assert submit(client, parcours).status_code == 303

    lead = models.Lead.get()
    assert lead.association_id is not None
    # The person's own confirmation (suivi.py) is the lead's other message.
    messages = list(
        models.Message.select()
        .where(models.Message.kind == "nouvelle_demande")
        .order_by(models.Message.to)
    )
    assert sorted(m.to for m in messages) == sorted(staff[lead.association_id])
    for message in messages:
        assert message.subject == f"{subject} {lead.reference}"
        assert (message.kind, message.lead_id, message.status) == (
            "nouvelle_demande",
            lead.id,
            "a_envoyer",
        )
        assert f"https://mentorat.example.fr/espace/demandes/{lead.reference}\n" in message.body
        assert lead.association.nom in message.body
        assert "Pour ne plus recevoir ces e-mails" in message.body
        for detail in personal_details(steps) + [lead.telephone]:
            assert detail not in message.body and detail not in message.subject
    # A second submit of the same draft (a double tap) announces nothing more.
    submit(client, parcours)
    # (The confirmation e-mail, its SMS aside: test_sms.py.)
    assert (
        models.Message.select().where(models.Message.channel == "email").count()
        == len(messages) + 1
    )


def test_the_announcement_reaches_a_real_smtp_server_through_tick(
    app, client, runner, staff, smtp_server
):
    smtp_server.start()
    app.config["SMTP_URL"] = smtp_server.url()
    walk(client, "jeune", YOUTH_STEPS)
    submit(client, "jeune")
    lead = models.Lead.get()

    result = runner.invoke(args=["tick"])

    assert result.exit_code == 0, result.output
    # The two staff members, and the youth's confirmation.
    assert "E-mails : 3 envoyé(s)" in result.output
    received = {r.rcpt_tos[0]: r.email for r in smtp_server.received}
    confirmation = received.pop("ines.martin@example.org")
    assert str(confirmation["Subject"]) == f"Votre demande {lead.reference} est enregistrée"
    assert f"/suivi/{lead.suivi_token}" in confirmation.get_content()
    assert sorted(received) == sorted(staff[lead.association_id])
    mail = next(iter(received.values()))
    assert str(mail["Subject"]) == f"Nouvelle demande {lead.reference}"
    body = mail.get_content()
    assert f"http://127.0.0.1:5000/espace/demandes/{lead.reference}" in body
    assert "Inès" not in body and "ines.martin@example.org" not in body


def test_a_lead_on_the_waiting_list_or_without_staff_sends_nothing(db):
    lead = models.Lead.create(
        reference="J-ZZZZZ", kind="jeune", suivi_token="t", answers={}, association=None
    )
    assert emails.notify_new_lead(lead) == 0
    lead.association = models.Association.select().first()
    assert emails.notify_new_lead(lead) == 0  # no staff account in this association
    assert models.Message.select().count() == 0


def test_every_template_has_a_subject_line_then_a_body():
    subject, body = emails.render(
        "nouvelle_demande", jeune=True, reference="J-23456", association="A", delai=5, link="L"
    )
    assert subject == "Nouvelle demande J-23456"
    assert body.startswith("Bonjour,") and body.endswith("\n")
    with pytest.raises(Exception, match="reference"):  # a missing value is never blank
        emails.render("nouvelle_demande", jeune=True, association="A", delai=5, link="L")


def test_choosing_another_association_announces_the_lead_to_it(app, client, staff):
    walk(client, "jeune", YOUTH_STEPS)
    submit(client, "jeune")
    lead = models.Lead.get()
    first = lead.association_id
    alternative = next(
        o for o in drafts.orientations_of(lead) if o.programme.association_id != first
    )
    assert drafts.choose(lead, alternative.id)

    to_new = models.Message.select().where(models.Message.to.in_(staff[lead.association_id]))
    assert lead.association_id == alternative.programme.association_id
    assert sorted(m.to for m in to_new) == sorted(staff[lead.association_id])
    assert all(m.subject == f"Nouvelle demande {lead.reference}" for m in to_new)


def test_send_queues_the_rendered_email_with_the_change_or_not_at_all(db):
    context = dict(jeune=False, reference="M-23456", association="A", delai=5, link="L")
    with models.write_transaction(durable=True):
        emails.send("nouvelle_demande", "staff@example.org", kind="test", **context)
    with pytest.raises(RuntimeError), models.write_transaction(durable=True):
        emails.send("nouvelle_demande", "other@example.org", kind="test", **context)
        raise RuntimeError("the change fails: its e-mail goes with it")
    (message,) = models.Message.select()
    assert (message.to, message.subject) == ("staff@example.org", "Nouvelle candidature M-23456")


def test_the_person_is_told_of_a_hand_over_with_the_new_association_contact(db):
    association = models.Association.select().where(models.Association.email != "").first()
    lead = models.Lead.create(
        reference="J-23456",
        kind="jeune",
        suivi_token="t",
        answers={},
        prenom="Inès",
        email="ines.martin@example.org",
    )
    with models.write_transaction(durable=True):
        message = emails.notify_person_of_hand_over(lead, association)
    assert message.to == "ines.martin@example.org"
    assert message.subject == f"Votre demande J-23456 est confiée à {association.nom}"
    assert message.body.startswith("Bonjour Inès,\n")
    assert f"- e-mail : {association.email}\n" in message.body
    assert f"sous {association.delai_recontact} jours ouvrés" in message.body
    lead.email = ""  # no address: nothing to send
    assert emails.notify_person_of_hand_over(lead, association) is None
