"""A phone-first youth on a small phone (issue 15 §1), JavaScript on and off, axe on every
page: with real data (a long first name and name, France's longest commune name, a
follow-up link of 70-80 characters), no page scrolls sideways at 320 or 375 px — the
result page, the follow-up page, « J'ai perdu mon lien » and the home page; « Copier le
lien » exists with JavaScript only, and copies the link."""

import re

import pytest
from helpers import YOUTH_STEPS
from playwright.sync_api import expect

import models
from browser.test_phone_layout import send

LONG = [
    *YOUTH_STEPS[:3],
    ("commune", {"commune": "Saint-Remy-en-Bouzemont-Saint-Genest-et-Isson (51290)"}),
    *YOUTH_STEPS[4:-1],
    (
        "coordonnees",
        {
            "prenom": "Marie-Bernadette-Clémentine",
            "nom": "de La Tour-d'Auvergne-Lauraguais-Montmorency",
            "email": "",
            "telephone": "06 12 34 56 78",
            "contact_pref": "sms",
        },
    ),
]


def assert_no_sideways_scroll(page, width):
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"{page.url} : {scroll} px de large pour un écran de {width} px"


@pytest.mark.parametrize("width", [320, 375])
def test_no_page_scrolls_sideways_with_real_data(new_page, js, width, assert_accessible):
    page = new_page(js=js, viewport={"width": width, "height": 640})
    result = send(page, "jeune", LONG)
    expect(page.locator(".suivi-link")).to_be_visible()
    assert len(page.locator(".suivi-link").inner_text()) >= 70
    assert_no_sideways_scroll(page, width)
    expect(
        page.get_by_role("button", name=re.compile("^M'envoyer ce lien par SMS"))
    ).to_be_visible()
    expect(page.get_by_role("button", name="Copier le lien")).to_have_count(1 if js else 0)
    assert_accessible(page)

    # « M'envoyer ce lien par SMS »: the notice says what happened.
    page.get_by_role("button", name=re.compile("^M'envoyer ce lien par SMS")).click()
    expect(
        page.get_by_text("C'est envoyé : le lien arrive par SMS au 06 12 34 56 78.")
    ).to_be_visible()
    assert_no_sideways_scroll(page, width)
    assert_accessible(page)

    with models.db.connection_context():
        lead = models.Lead.select().order_by(models.Lead.id.desc()).get()
    assert result.endswith(lead.reference)
    paths = (
        f"/s/{lead.suivi_token}",
        f"/suivi/{lead.suivi_token}/coordonnees",
        "/suivi/lien-perdu",
        "/",
    )
    for path in paths:
        page.goto(path)
        assert_no_sideways_scroll(page, width)
        assert_accessible(page)
    page.goto(f"/s/{lead.suivi_token}")
    expect(page).to_have_url(re.compile(rf"/suivi/{lead.suivi_token}$"))


def test_copy_the_link(new_page, assert_accessible):
    page = new_page(viewport={"width": 320, "height": 640})
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    send(page, "jeune", LONG)
    link = page.locator(".suivi-link").get_attribute("href")
    page.get_by_role("button", name="Copier le lien").click()
    expect(page.get_by_role("status").filter(has_text="Lien copié")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == link
    assert_accessible(page)
