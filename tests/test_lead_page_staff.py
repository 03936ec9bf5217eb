"""Issue 16 §3, the lead page for staff: the contact links at the top in the order of the
preferred channel, the parent's first for a youth under 15; buttons that are verbs."""

import re

import pytest
from helpers import log_in

import models
from services import demandes as actions


@pytest.fixture
def staff(app):
    association = models.Association.select().order_by(models.Association.id).first()
    user = models.Utilisateur.create(
        email="membre@example.org",
        role="membre",
        association=association,
        password_hash="argon2-hash-for-the-test",
    )
    return association, user


def lead(association, number, **fields):
    values = dict(
        reference=f"J-P{number:04d}",
        kind="jeune",
        suivi_token=f"token-p{number}",
        answers={},
        association=association,
        prenom="Léa",
        nom="Roux",
        email=f"p{number}@example.org",
        telephone="+33612345678",
        besoin="orientation",
        age=17,
        contact_pref="telephone",
    )
    values.update(fields)
    return models.Lead.create(**values)


def links(client, reference):
    html = client.get(f"/espace/demandes/{reference}").get_data(as_text=True)
    contact = html.split('id="contact"', 1)[1].split("</section>", 1)[0]
    # The contact block comes before the status block.
    assert html.index('id="contact"') < html.index('id="statut"')
    return re.findall(r'href="((?:tel|sms|mailto):[^"]+)"', contact)


PARENT = {"parent_prenom": "Karim", "parent_telephone": "+33698765432", "parent_email": ""}


def test_the_first_link_is_the_preferred_channel(client, staff):
    association, user = staff
    log_in(client, user)
    by_phone = lead(association, 1, contact_pref="telephone")
    assert links(client, by_phone.reference)[0] == "tel:+33612345678"
    by_sms = lead(association, 2, contact_pref="sms")
    assert links(client, by_sms.reference)[0] == "sms:+33612345678"
    by_email = lead(association, 3, contact_pref="email")
    assert links(client, by_email.reference)[0] == "mailto:p3@example.org"


def test_under_15_the_parent_comes_first(client, staff):
    association, user = staff
    log_in(client, user)
    young = lead(association, 4, age=12, answers={"parent": PARENT})
    assert links(client, young.reference)[0] == "tel:+33698765432"
    older = lead(association, 5, age=16, answers={"parent": PARENT})
    assert links(client, older.reference)[0] == "tel:+33612345678"


def test_the_status_buttons_are_verbs(client, staff):
    association, user = staff
    log_in(client, user)
    contacted = lead(association, 6)
    actions.change_status(contacted, "contactee", by=user)
    html = client.get(f"/espace/demandes/{contacted.reference}").get_data(as_text=True)
    assert "Mettre en attente d&#39;un binôme</button>" in html
