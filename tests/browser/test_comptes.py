"""Staff log in, open their account and settings, save the profile and log out, in a
phone browser with JavaScript on and off; axe-core clean on every page."""

import re

from playwright.sync_api import expect

import models
from services import accounts

PASSWORD = "une phrase de passe solide"


def make_responsable():
    association = models.Association.select().first()
    models.Utilisateur.create(
        email="resp@example.org",
        role="responsable",
        association=association,
        password_hash=accounts.hash_password(PASSWORD),
    )
    return association


def test_staff_log_in_change_settings_and_log_out(
    phone_page, live_server, console_errors, assert_accessible
):
    page = phone_page
    association = make_responsable()
    console_errors.allow_http_error(422, "/espace/connexion")

    page.goto("/espace/reglages")  # anonymous: sent to the login page
    expect(page).to_have_url(re.compile(r"/espace/connexion\?next="))
    expect(page.get_by_role("heading", level=1)).to_have_text("Connexion à l'espace association")
    assert_accessible(page)

    page.get_by_label("Adresse e-mail").fill("resp@example.org")
    page.get_by_label("Mot de passe", exact=True).fill("pas le bon mot de passe")
    page.get_by_role("button", name="Se connecter").click()
    summary = page.locator(".error-summary")
    expect(summary).to_contain_text("Adresse e-mail ou mot de passe incorrect")
    assert_accessible(page)

    page.get_by_label("Mot de passe", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page).to_have_url(re.compile(r"/espace/reglages$"))  # `next` kept
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Réglages de {association.nom}")
    assert_accessible(page)

    page.get_by_label("Délai de recontact promis, en jours ouvrés").fill("3")
    page.get_by_role("button", name="Enregistrer le profil").click()
    expect(page.get_by_role("status")).to_contain_text("Le profil de l'association est enregistré.")
    assert models.Association.get_by_id(association.id).delai_recontact == 3

    page.get_by_role("link", name="Mon compte").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mon compte")
    assert_accessible(page)

    # Each for themselves: one digest a day instead of an e-mail per new lead.
    page.get_by_label("Un résumé quotidien").check()
    page.get_by_role("button", name="Enregistrer ce choix").click()
    expect(page.get_by_role("status")).to_contain_text("C'est noté : un résumé quotidien.")
    expect(page.get_by_label("Un résumé quotidien")).to_be_checked()
    user = models.Utilisateur.get(models.Utilisateur.email == "resp@example.org")
    assert user.notifications == "resume_quotidien"
    assert_accessible(page)

    page.get_by_role("button", name="Se déconnecter").click()
    # Clear-Site-Data took the cookies: the message comes with the address, not a flash.
    expect(page).to_have_url(re.compile(r"/espace/connexion\?deconnexion=1$"))
    expect(page.get_by_role("status")).to_contain_text("Vous êtes déconnecté·e.")
    page.goto("/espace/compte")
    expect(page).to_have_url(re.compile(r"/espace/connexion\?next="))
