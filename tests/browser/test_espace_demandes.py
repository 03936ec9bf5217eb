"""A staff member in a phone browser, JavaScript on and off: logs in at /espace/connexion,
finds a lead by its reference in the inbox, opens it, adds a note, marks it contacted from
the inbox's selection and exports it as CSV. axe-core on every page."""

import csv
import io
import re
from pathlib import Path

from playwright.sync_api import expect

import models
from services import accounts

PASSWORD = "une phrase de passe assez longue"

ANSWERS = {"age": 17, "situation": "lycee_general", "besoin": "orientation"}


def staff_with_leads():
    association = models.Association.select().order_by(models.Association.id).first()
    user = models.Utilisateur.create(
        email="staff@example.org",
        role="membre",
        association=association,
        password_hash=accounts.hash_password(PASSWORD),
    )
    for number in range(30):
        models.Lead.create(
            reference=f"J-B{number:04d}",
            kind="jeune",
            suivi_token=f"token-{number}",
            answers=ANSWERS,
            association=association,
            prenom=f"Prénom{number}",
            nom="Martin",
            telephone="+33612345678",
            email=f"p{number}@example.org",
            besoin="orientation",
            departement="69",
        )
    return user


def log_in_page(page, user):
    page.goto("/espace/")  # anonymous: sent to the login page, then back
    expect(page).to_have_url(re.compile(r"/espace/connexion"))
    page.get_by_label("Adresse e-mail").fill(user.email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page).to_have_url(re.compile(r"/espace/(\?.*)?$"))


def test_staff_find_a_lead_by_reference_and_add_a_note(
    phone_page, js, assert_accessible, console_errors
):
    user = staff_with_leads()
    page = phone_page
    log_in_page(page, user)
    expect(page.get_by_role("heading", level=1)).to_have_text("Demandes et candidatures")
    expect(page.locator(".inbox-item")).to_have_count(25)  # page 1 of 2
    assert_accessible(page)

    page.get_by_label("Rechercher").fill("j-b0027")
    page.get_by_role("button", name="Rechercher").click()
    expect(page).to_have_url(re.compile(r"/espace/\?(.*&)?q=j-b0027"))
    expect(page.locator(".inbox-item")).to_have_count(1)
    results = page.locator("#resultats")
    expect(results).to_contain_text("1 demande")
    if js:
        # Swapped in place: the search field kept, the focus on the number of results.
        expect(results).to_be_focused()
        expect(page.get_by_label("Rechercher")).to_have_value("j-b0027")
    assert_accessible(page)

    page.get_by_role("link", name="Prénom27 Martin").click()
    expect(page).to_have_url(re.compile(r"/espace/demandes/J-B0027$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Prénom27 Martin")
    expect(page.get_by_role("link", name=re.compile("^Appeler Prénom27"))).to_have_attribute(
        "href", "tel:+33612345678"
    )
    assert_accessible(page)

    console_errors.allow_http_error(422)
    page.get_by_role("button", name="Ajouter une note").click()
    expect(page.locator(".error-summary")).to_contain_text("Écrivez la note")
    assert_accessible(page)
    page.get_by_label("Nouvelle note").fill("Rappeler mardi après 17 h")
    page.get_by_role("button", name="Ajouter une note").click()
    expect(page.locator(".notes__text")).to_have_text("Rappeler mardi après 17 h")
    if js:
        expect(page.locator("#notes-titre")).to_be_focused()
    assert_accessible(page)
    assert models.Note.select().count() == 1


def test_staff_mark_a_lead_contacted_and_export_it(phone_page, js, assert_accessible):
    user = staff_with_leads()
    page = phone_page
    log_in_page(page, user)
    page.get_by_label("Rechercher").fill("J-B0003")
    page.get_by_role("button", name="Rechercher").click()
    expect(page.locator(".inbox-item")).to_have_count(1)
    page.get_by_label("Sélectionner J-B0003").check()
    with page.expect_download() as download:
        page.get_by_role("button", name="Exporter la sélection (CSV)").click()
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert [row[0] for row in rows] == ["Référence", "J-B0003"]
    assert models.Export.get().rows == 1

    page.get_by_label("Sélectionner J-B0003").check()
    page.get_by_role("button", name="J'ai contacté ces personnes").click()
    expect(page.get_by_role("status")).to_contain_text("Marquées comme contactées : J-B0003.")
    # Still found by the search (every status), now « Contactée ».
    expect(page.locator(".inbox-item")).to_contain_text("Contactée")
    assert_accessible(page)
    lead = models.Lead.get(models.Lead.reference == "J-B0003")
    assert (lead.status, lead.version) == ("contactee", 1)
    assert lead.first_contact_at is not None
