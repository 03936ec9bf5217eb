"""A staff member sets up the second factor in a phone browser (JS on and off): reads the
key beside the QR code, confirms with a code pyotp computes as an authenticator app
would, keeps the recovery codes, logs out, and logs in again with a new code. axe-core
clean on every page."""

import re
import time

import pyotp
from playwright.sync_api import expect

import models
from services import accounts

PASSWORD = "une phrase de passe solide"


def test_enrol_then_log_in_with_a_code(phone_page, console_errors, assert_accessible):
    page = phone_page
    models.Utilisateur.create(
        email="membre@example.org",
        role="membre",
        association=models.Association.select().first(),
        password_hash=accounts.hash_password(PASSWORD),
    )
    page.goto("/espace/connexion")
    page.get_by_label("Adresse e-mail").fill("membre@example.org")
    page.get_by_label("Mot de passe", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()

    page.goto("/espace/compte")
    page.get_by_role("link", name="Gérer la double authentification").click()
    assert_accessible(page)
    page.get_by_role("button", name="Configurer la double authentification").click()
    expect(page.get_by_role("img", name=re.compile("Code QR"))).to_be_visible()
    assert_accessible(page)
    secret = page.locator(".totp-secret").inner_text()
    page.get_by_label("Code affiché par l'application").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Activer la double authentification").click()
    expect(page.get_by_role("heading", name="Vos codes de secours")).to_be_visible()
    assert page.locator(".recovery-codes li").count() == 10
    assert_accessible(page)

    page.get_by_role("button", name="Se déconnecter").click()
    page.get_by_label("Adresse e-mail").fill("membre@example.org")
    page.get_by_label("Mot de passe", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page).to_have_url(re.compile(r"/espace/connexion/code$"))
    assert_accessible(page)
    # The enrolment spent this time step's code: the next step's, as the app shows it
    # 30 seconds later (the server accepts one step of drift).
    totp = pyotp.TOTP(secret)
    page.get_by_label("Code de vérification").fill(totp.at(time.time() + 30))
    page.get_by_role("button", name="Valider").click()
    expect(page.get_by_role("heading", level=1)).not_to_have_text("Code de vérification")
    page.goto("/espace/compte")
    expect(page.get_by_role("heading", level=1)).to_have_text("Mon compte")
    expect(page.get_by_text("Activée : un code de votre application")).to_be_visible()
