"""Issue 16 §1 in a browser: an association without accounts opens the link of its e-mail
on a phone, JavaScript on and off, and asks for its invitation; axe on each page."""

import re

from playwright.sync_api import expect

import models
from services import accounts

ADDRESS = "contact@sans-compte.example.org"


def test_the_claim_link_sends_the_invitation(phone_page, _live_server, assert_accessible):
    association = models.Association.select().order_by(models.Association.id).first()
    association.email = ADDRESS
    association.save()
    with _live_server.app.app_context():
        token = accounts.claim_token(association)
    page = phone_page
    page.goto(f"/espace/rejoindre/{token}")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        re.compile(f"Ouvrir le compte de {re.escape(association.nom)}")
    )
    expect(page.get_by_text(ADDRESS)).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Recevoir l'invitation").click()
    expect(page.get_by_role("status")).to_contain_text(f"Invitation envoyée à {ADDRESS}")
    assert_accessible(page)
    row = models.Utilisateur.get(models.Utilisateur.email == ADDRESS)
    assert (row.role, row.association_id) == ("responsable", association.id)
