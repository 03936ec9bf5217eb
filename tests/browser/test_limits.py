"""The 429 page in a real browser, JS on and off: a kind French page that keeps the
person's answers, swapped as a region by htmx, focused, axe clean."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_journeys import (
    AGE,
    JEUNE,
    VERIFIER_JEUNE,
    Walker,
    answer_youth_until_coordonnees,
    fill_youth_coordonnees,
    submit_check_page,
)

TOO_MANY = "Trop de demandes en peu de temps"


@pytest.fixture
def one_demande_an_hour(_live_server):
    app = _live_server.app
    limiter = app.extensions["app_limiter"]
    saved = app.config["LIMIT_DEMANDES"]
    app.config["LIMIT_DEMANDES"] = "1 per hour"
    limiter.reset()
    yield
    app.config["LIMIT_DEMANDES"] = saved
    limiter.reset()


def walk_to_check_page(walker):
    walker.page.goto("/jeune/age")
    walker.expect_page("/jeune/age", AGE, swapped=False)
    answer_youth_until_coordonnees(walker)
    fill_youth_coordonnees(walker)
    walker.press()
    walker.expect_page("/jeune/verifier", VERIFIER_JEUNE)


def test_the_429_page_keeps_the_answers(
    new_page, js, one_demande_an_hour, console_errors, assert_accessible
):
    page = new_page(js=js)
    walker = Walker(page, js, JEUNE, assert_accessible)
    walk_to_check_page(walker)
    submit_check_page(walker, "Envoyer ma demande")
    expect(page).to_have_url(re.compile(r"/jeune/resultat/J-\w+$"))

    walk_to_check_page(walker)
    submit_check_page(walker, "Envoyer ma demande")
    h1 = page.locator("main h1")
    expect(h1).to_have_text(TOO_MANY)
    expect(page).to_have_title(f"{TOO_MANY} — 1 jeune, 1 mentor")
    if js:
        assert walker.same_document(), "429 : page rechargée au lieu d'un échange htmx"
        expect(h1).to_be_focused()
    assert_accessible(page)
    # « Reprendre »: the check page again, every answer still there.
    page.get_by_role("link", name="Reprendre").click()
    walker.expect_page("/jeune/verifier", VERIFIER_JEUNE, swapped=False)
    expect(page.locator(".summary-list")).to_contain_text("Inès")
    console_errors.allow_http_error(429, "/jeune/verifier")
    assert console_errors.unexpected() == []
