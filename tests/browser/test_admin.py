"""The operator logs in and runs the catalogue from /admin/, in a phone browser with
JavaScript on and off; axe-core clean on the main pages."""

import re

import pyotp
from playwright.sync_api import expect

import models
from services import accounts

PASSWORD = "une phrase de passe solide"


def test_operator_runs_the_catalogue(phone_page, live_server, console_errors, assert_accessible):
    page = phone_page
    secret = pyotp.random_base32()  # an operator's second factor is required: enrolled
    models.Utilisateur.create(
        email="admin@example.org",
        role="admin",
        association=None,
        password_hash=accounts.hash_password(PASSWORD),
        totp_secret=secret,
    )
    programme = models.Programme.select().order_by(models.Programme.id).first()
    console_errors.allow_http_error(422, f"/admin/programmes/{programme.slug}")

    page.goto("/admin/")
    expect(page).to_have_url(re.compile(r"/espace/connexion\?next="))
    page.get_by_label("Adresse e-mail").fill("admin@example.org")
    page.get_by_label("Mot de passe", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.get_by_label("Code de vérification").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Valider").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Administration")
    assert_accessible(page)

    nav = page.get_by_role("navigation", name="Administration")
    nav.get_by_role("link", name="Programmes").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Programmes")
    assert_accessible(page)
    row = page.get_by_role("row").filter(has_text=programme.nom).first
    row.get_by_role("button", name="Mettre en pause").click()
    expect(page.get_by_role("status")).to_contain_text(
        f"Programme « {programme.nom} » mis en pause."
    )
    assert models.Programme.get_by_id(programme.id).en_pause

    page.get_by_role("link", name=programme.nom).first.click()
    page.get_by_label("Capacité mensuelle (nouvelles personnes par mois)").fill("-4")
    page.get_by_role("button", name="Enregistrer").click()
    summary = page.locator(".error-summary")
    expect(summary).to_contain_text("« -4 » doit être compris entre 0 et 100000")
    assert_accessible(page)

    nav.get_by_role("link", name="Simulateur").click()
    page.get_by_label("Jeune", exact=True).check()
    page.get_by_label("Commune", exact=True).fill("Lyon (69003)")
    page.get_by_label("Les deux me conviennent").check()
    page.get_by_label("Âge du ou de la jeune").fill("17")
    page.get_by_label("Situation du ou de la jeune").select_option("lycee_general")
    page.get_by_label("Besoin du ou de la jeune").select_option("orientation")
    page.get_by_role("button", name="Simuler").click()
    expect(page.get_by_text("Rang 1, score").first).to_be_visible()
    expect(page.get_by_text("Le programme est en pause.").first).to_be_visible()
    assert_accessible(page)

    # The coverage is computed once per version of the catalogue (a few seconds on a busy
    # machine, the pause above changed it), then read from the cache.
    for link, heading in (
        ("Couverture", "Couverture du territoire"),
        ("Liste d'attente", "Liste d'attente"),
        ("Messages", "Messages en échec"),
        ("Comptes", "Comptes"),
        ("Import", "Importer un catalogue"),
        ("Retards", "Demandes en retard"),
    ):
        page.get_by_role("navigation", name="Administration").get_by_role(
            "link", name=link, exact=True
        ).click(timeout=30_000)
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        assert_accessible(page)
