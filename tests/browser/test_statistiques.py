"""/statistiques in a phone browser, JavaScript on and off: axe clean, every chart an
image with its name and description, its table one press away."""

import datetime as dt
import re

from playwright.sync_api import expect
from test_statistiques import association, lead

import models
from services import statistiques


def seed():
    now = models.now()
    with models.db.connection_context():
        a = association("assoc-a", 2)
        for days in (1, 3, 8, 40):
            at = now - dt.timedelta(days=days)
            lead("jeune", "69", at, a, contacted=at + dt.timedelta(hours=5))
        lead("mentor", "13", now - dt.timedelta(days=20), a)
        statistiques.refresh(now)


def test_the_statistics_page(phone_page, js, console_errors, assert_accessible, evaluate):
    seed()
    response = phone_page.goto("/statistiques")
    assert response.status == 200
    expect(phone_page.get_by_role("heading", level=1)).to_have_text("Statistiques")
    charts = phone_page.get_by_role("img")
    assert charts.count() == 8
    chart = phone_page.get_by_role("img", name="Demandes de jeunes reçues par mois", exact=True)
    expect(chart).to_be_visible()
    expect(chart).to_have_accessible_description(re.compile(r"4 au total"))
    table = phone_page.get_by_role("table", name="Demandes de jeunes reçues par mois")
    expect(table).to_be_hidden()
    summary = "Les données du graphique « Demandes de jeunes reçues par mois »"
    phone_page.get_by_text(summary).click()
    expect(table).to_be_visible()
    expect(table.get_by_role("rowheader").first).to_be_visible()
    departements = phone_page.get_by_role("table", name="Tous les chiffres par département")
    expect(departements.get_by_role("rowheader", name="Rhône (69)")).to_be_visible()
    # Its own stylesheet is linked and served (the CSP allows 'self' only).
    collapse = "() => getComputedStyle(document.querySelector('.data-table')).borderCollapse"
    assert evaluate(phone_page, collapse) == "collapse"
    assert_accessible(phone_page)
