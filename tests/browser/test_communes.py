"""The commune field forgives typing errors, JavaScript on: the live region says nothing
starts with the text and the nearest names are offered as options."""

from playwright.sync_api import expect

import models
from browser.test_journeys import (
    COMMUNE,
    JEUNE,
    SITUATION_PARTICULIERE,
    Walker,
    reach_youth_commune,
)


def test_a_typing_error_announces_the_nearest_names(page, console_errors, assert_accessible):
    walker = Walker(page, True, JEUNE, assert_accessible)
    reach_youth_commune(walker)
    field = page.get_by_role("combobox", name=COMMUNE)
    listbox = page.get_by_role("listbox", name="Communes suggérées")
    status = page.locator("#commune-status")
    expect(status).to_have_attribute("role", "status")

    field.press_sequentially("strasbuorg", delay=40)
    expect(status).to_have_text(
        "Aucune commune ne commence par « strasbuorg ». Vouliez-vous dire :"
    )
    expect(listbox).to_be_visible()
    expect(listbox.get_by_role("option")).to_have_text(["Strasbourg (67)"])
    assert_accessible(page)

    field.press("ArrowDown")
    field.press("Enter")
    expect(field).to_have_value("Strasbourg (67)")
    field.press("Enter")
    walker.expect_page("/jeune/situation-particuliere", SITUATION_PARTICULIERE)
    with models.db.connection_context():
        assert models.Draft.get().answers["commune"]["commune"] == "67482"
    assert console_errors.unexpected() == []


def test_a_former_commune_says_what_it_is_today(page, console_errors):
    walker = Walker(page, True, JEUNE, None)
    reach_youth_commune(walker)
    field = page.get_by_role("combobox", name=COMMUNE)
    listbox = page.get_by_role("listbox", name="Communes suggérées")
    field.press_sequentially("andard", delay=40)
    option = listbox.get_by_role("option")
    expect(option).to_have_text(["Andard, aujourd'hui Loire-Authion (49)"])
    option.click()
    expect(field).to_have_value("Loire-Authion (49)")
    assert console_errors.unexpected() == []
