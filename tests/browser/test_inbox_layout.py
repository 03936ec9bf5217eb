"""Issue 16 §2 in a browser: the inbox's first screen on a phone (375 px) shows the search
and the first leads, the filters behind « Filtrer (n) », the status tabs on one line; a
search from the default tab finds a contacted lead; on a desktop (1366 px) a table whose
headers sort. JavaScript on and off, axe-core on every page."""

import datetime as dt
import re

from playwright.sync_api import expect

import models
from services import accounts
from services import demandes as actions

PASSWORD = "une phrase de passe assez longue"
DESKTOP = {"viewport": {"width": 1366, "height": 768}, "is_mobile": False, "has_touch": False}


def staff_with_leads():
    association = models.Association.select().order_by(models.Association.id).first()
    user = models.Utilisateur.create(
        email="staff@example.org",
        role="membre",
        association=association,
        password_hash=accounts.hash_password(PASSWORD),
    )
    start = models.now() - dt.timedelta(days=20)
    for number in range(12):
        models.Lead.create(
            reference=f"J-L{number:04d}",
            kind="jeune",
            suivi_token=f"token-l{number}",
            answers={},
            association=association,
            prenom=f"Prénom{number}",
            nom="Garnier",
            telephone="+33612345678",
            email=f"l{number}@example.org",
            besoin="orientation",
            departement="01",
            age=12 + number,
            contact_pref="sms",
            created_at=start + dt.timedelta(hours=number),
        )
    contacted = models.Lead.get(models.Lead.reference == "J-L0011")
    actions.change_status(contacted, "contactee", by=user)
    return user


def log_in(page, user):
    page.goto("/espace/connexion")
    page.get_by_label("Adresse e-mail").fill(user.email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page).to_have_url(re.compile(r"/espace/(\?.*)?$"))


def test_the_phone_first_screen_shows_the_list(phone_page, js, assert_accessible):
    page = phone_page
    log_in(page, staff_with_leads())
    first = page.locator(".inbox-item").first
    expect(first).to_be_visible()
    box = first.bounding_box()
    assert box["y"] + 40 < 740, box  # the first lead's name on the first screen
    # The filters wait behind « Filtrer »; the tabs hold one line.
    expect(page.get_by_label("Type")).to_be_hidden()
    tabs = page.locator(".inbox-tabs").bounding_box()
    assert tabs["height"] < 60, tabs
    expect(first).to_contain_text("12 ans")
    expect(first).to_contain_text("mineur")
    assert_accessible(page)

    page.locator("summary", has_text="Filtrer").click()
    page.get_by_label("Type").select_option("jeune")
    page.get_by_role("button", name="Filtrer", exact=True).click()
    expect(page.locator("summary")).to_have_text("Filtrer (1)")
    assert_accessible(page)

    # A contacted lead found from the default tab, in one search.
    page.goto("/espace/")
    page.get_by_label("Rechercher").fill("J-L0011")
    page.get_by_role("button", name="Rechercher").click()
    expect(page.locator(".inbox-item")).to_have_count(1)
    expect(page.locator(".inbox-item")).to_contain_text("Prénom11 Garnier")
    assert_accessible(page)


def test_the_desktop_table_sorts_by_its_headers(new_page, js, assert_accessible):
    page = new_page(js=js, **DESKTOP)
    log_in(page, staff_with_leads())
    page.goto("/espace/?statut=toutes")
    header = page.get_by_role("columnheader", name=re.compile("^Arrivée"))
    expect(header).to_be_visible()
    expect(page.locator(".inbox-item").first).to_contain_text("Prénom0 Garnier")
    assert_accessible(page)
    header.get_by_role("link").click()
    expect(page).to_have_url(re.compile(r"tri=-arrivee"))
    expect(page.locator(".inbox-item").first).to_contain_text("Prénom11 Garnier")
    expect(page.get_by_role("columnheader", name=re.compile("^Arrivée"))).to_have_attribute(
        "aria-sort", "descending"
    )
    assert_accessible(page)
