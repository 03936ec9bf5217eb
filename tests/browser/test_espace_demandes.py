"""A staff member in a phone browser, JavaScript on and off: finds a lead by its reference
in the inbox, opens it, adds a note. axe-core on every page.

The session is opened without the login page (tests.helpers.log_in, through the live app's
own test client, whose signed cookie is handed to the browser); the login page has its own
tests."""

import re

from helpers import log_in
from playwright.sync_api import expect

import models

ANSWERS = {"age": 17, "situation": "lycee_general", "besoin": "orientation"}


def staff_with_leads():
    association = models.Association.select().order_by(models.Association.id).first()
    user = models.Utilisateur.create(
        email="staff@example.org", role="membre", association=association
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


def open_session(page, app, base_url, user):
    client = app.test_client()
    log_in(client, user)
    cookie = client.get_cookie("session")
    page.context.add_cookies([{"name": "session", "value": cookie.value, "url": base_url}])


def test_staff_find_a_lead_by_reference_and_add_a_note(
    phone_page, js, _live_server, live_server, assert_accessible, console_errors
):
    user = staff_with_leads()
    open_session(phone_page, _live_server.app, live_server, user)
    page = phone_page
    assert page.goto("/espace/").status == 200
    expect(page.get_by_role("heading", level=1)).to_have_text("Demandes et candidatures")
    expect(page.locator(".inbox-item")).to_have_count(25)  # page 1 of 2
    assert_accessible(page)

    page.get_by_label("Rechercher").fill("j-b0027")
    page.get_by_role("button", name="Filtrer").click()
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
