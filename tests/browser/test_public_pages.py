"""Home page, mandatory pages and 404 in a phone browser, JavaScript on and off."""

import re

import pytest
from playwright.sync_api import expect

VIEWPORT_WIDTH, VIEWPORT_HEIGHT = 375, 740
ENTRIES = {"Je trouve un mentor": "/jeune/", "Je deviens mentor": "/mentor/"}
MANDATORY_PAGES = {
    "/mentions-legales": "Mentions légales",
    "/donnees-personnelles": "Données personnelles",
    "/accessibilite": "Déclaration d'accessibilité",
    "/plan-du-site": "Plan du site",
}
MISSING = "/cette-page-n-existe-pas"


def entry_button(page, label):
    """The first "button" with this exact name: a link styled as a button, or a real one."""
    by_link = page.get_by_role("link", name=label, exact=True)
    return by_link.or_(page.get_by_role("button", name=label, exact=True)).first


def assert_in_first_viewport(locator):
    box = locator.bounding_box()
    assert box is not None, "élément sans boîte (non affiché)"
    assert box["x"] >= 0 and box["y"] >= 0, box
    assert box["x"] + box["width"] <= VIEWPORT_WIDTH, box
    assert box["y"] + box["height"] <= VIEWPORT_HEIGHT, box


def test_home_has_both_entries_in_the_first_viewport(phone_page):
    response = phone_page.goto("/")
    assert response.status == 200
    expect(phone_page.get_by_role("heading", level=1)).to_have_text(
        re.compile(r"^\s*1\s+jeune,\s+1\s+mentor\s*$")
    )
    for label in ENTRIES:
        button = entry_button(phone_page, label)
        expect(button).to_be_visible()
        assert_in_first_viewport(button)


@pytest.mark.parametrize("label", ENTRIES)
def test_home_entry_starts_its_journey(phone_page, label):
    phone_page.goto("/")
    entry_button(phone_page, label).click()
    expect(phone_page).to_have_url(re.compile(re.escape(ENTRIES[label])))
    expect(phone_page.get_by_role("heading", level=1)).to_be_visible()


def test_first_tab_focuses_a_visible_skip_link(phone_page):
    phone_page.goto("/")
    phone_page.keyboard.press("Tab")
    skip = phone_page.get_by_role("link", name="Aller au contenu", exact=True)
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()
    assert_in_first_viewport(skip)
    box = skip.bounding_box()
    # Not a 1px visually-hidden box any more: something one can see and press.
    assert box["width"] >= 44 and box["height"] >= 24, box
    phone_page.keyboard.press("Enter")
    expect(phone_page.locator("#main")).to_be_focused()


def test_home_is_accessible_without_console_errors(phone_page, console_errors, assert_accessible):
    phone_page.goto("/")
    assert console_errors.messages == []
    assert_accessible(phone_page)


def test_htmx_4_is_loaded(page):
    page.goto("/")
    version = page.evaluate("() => window.htmx && window.htmx.version")
    assert isinstance(version, str) and version.startswith("4."), version


@pytest.mark.parametrize("path", MANDATORY_PAGES)
def test_mandatory_page(phone_page, console_errors, assert_accessible, path):
    response = phone_page.goto(path)
    assert response.status == 200
    heading = MANDATORY_PAGES[path]
    expect(phone_page.get_by_role("heading", level=1)).to_have_text(heading)
    expect(phone_page).to_have_title(re.compile("^" + re.escape(heading)))
    assert console_errors.messages == []
    assert_accessible(phone_page)


def test_footer_links_to_every_mandatory_page(phone_page):
    phone_page.goto("/")
    footer = phone_page.get_by_role("contentinfo")
    for path in MANDATORY_PAGES:
        expect(footer.locator(f'a[href="{path}"]')).to_have_count(1)
    footer.locator('a[href="/plan-du-site"]').click()
    expect(phone_page).to_have_url(re.compile("/plan-du-site$"))


def test_404_page(phone_page, console_errors, assert_accessible):
    # Chromium logs the document's own 404 as a console error: that one is expected.
    console_errors.allow_http_error(404, MISSING)
    response = phone_page.goto(MISSING)
    assert response.status == 404
    expect(phone_page.get_by_role("heading", level=1)).to_have_text("Page introuvable")
    expect(phone_page).to_have_title(re.compile("^Page introuvable"))
    expect(phone_page.get_by_role("link", name="Retour à l'accueil")).to_have_attribute("href", "/")
    assert console_errors.unexpected() == []
    assert_accessible(phone_page)
