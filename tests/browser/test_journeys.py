"""Both questionnaires end to end in a phone browser, JavaScript on and off, as a person
would answer them: labels, radio buttons by their text, « Continuer ». axe-core on every
page, error states included.

With JavaScript on, every step is an htmx swap of <main>: the URL is pushed by htmx (the
document is never reloaded, see `Walker.mark_document`), the title follows the new question
and the focus lands on the new h1, or on the error summary.
"""

import re

import pytest
from playwright.sync_api import expect

import models

SITE = "1 jeune, 1 mentor"
VIEWPORT_WIDTH = 375
JEUNE = "Je trouve un mentor"
MENTOR = "Je deviens mentor"

AGE = "Quel âge avez-vous ?"
SITUATION = "Quelle est votre situation aujourd'hui ?"
BESOIN = "Sur quoi aimeriez-vous être accompagné·e ?"
COMMUNE = "Où habitez-vous ?"
SITUATION_PARTICULIERE = "Êtes-vous dans l'une de ces situations ?"
RENCONTRE = "Comment préférez-vous rencontrer votre mentor ?"
COORDONNEES = "Comment l'association peut-elle vous contacter ?"
PARENT = "Votre parent ou représentant légal"
VERIFIER_JEUNE = "Vérifiez vos réponses avant d'envoyer votre demande"

MENTOR_SITUATION = "Quelle est votre situation ?"
MENTOR_AGE = "Quelle est votre tranche d'âge ?"
EXPERIENCE = "Dans quel secteur travaillez-vous ou avez-vous travaillé ?"
ACCOMPAGNEMENT = "Sur quoi aimeriez-vous accompagner un jeune ?"
DISPONIBILITE = "Combien de temps pouvez-vous y consacrer ?"
VERIFIER_MENTOR = "Vérifiez vos réponses avant d'envoyer votre candidature"

PLUS_DE_30 = "Le mentorat 1 jeune, 1 mentor s'adresse aux jeunes de moins de 30 ans"
MOINS_DE_11 = "Un parent peut contacter directement une association"

ORIENTATION = "Je ne sais pas quelle orientation choisir"
EMPLOI = "Je cherche un stage, une alternance, un premier emploi"
EMAIL = re.compile(r"^Adresse e-mail")
PHONE = re.compile(r"^Téléphone")
CONSENT = "J'accepte que mes réponses soient transmises à l'association de mentorat"


def exact(text):
    """A regex matching `text` alone, whatever the surrounding white space."""
    return re.compile(r"^\s*" + re.escape(text) + r"\s*$")


class Walker:
    """Answers the pages of one parcours in `page` and checks each page reached."""

    def __init__(self, page, js, parcours_title, assert_accessible):
        self.page = page
        self.js = js
        self.parcours_title = parcours_title
        self.assert_accessible = assert_accessible

    # --- navigation ---------------------------------------------------------------------

    def start_from_home(self, entry, first_path, first_question):
        self.page.goto("/")
        self.page.get_by_role("link", name=entry, exact=True).first.click()
        self.expect_page(first_path, first_question, swapped=False)

    def mark_document(self):
        """Tag the current document: the tag survives htmx swaps, not a page load."""
        if self.js:
            self.page.evaluate("() => { window.__sameDocument = true; }")

    def same_document(self):
        return self.page.evaluate("() => window.__sameDocument === true")

    def press(self, name="Continuer"):
        self.page.get_by_role("button", name=name, exact=True).click()

    def follow_link(self, name):
        """A plain link: a page load, JS on or off."""
        self.page.get_by_role("link", name=name, exact=True).click()

    # --- checks ---------------------------------------------------------------------------

    def title(self, question, error=False):
        prefix = "Erreur : " if error else ""
        return f"{prefix}{question} — {self.parcours_title} — {SITE}"

    def expect_page(self, path, question, heading=None, swapped=True):
        """The page `path` is shown: its URL, title and h1, the focus on that h1 after an
        htmx swap, and no axe violation. `swapped=False` after a plain page load."""
        page = self.page
        expect(page).to_have_url(re.compile(re.escape(path) + "$"))
        if not self.js:
            page.wait_for_load_state()
        h1 = page.locator("main h1")
        expect(h1).to_have_count(1)
        expect(h1).to_have_text(exact(heading or question))
        expect(page).to_have_title(self.title(question))
        if self.js and swapped:
            # Pushed by htmx: the document was swapped, never reloaded.
            assert self.same_document(), f"{path} : page rechargée au lieu d'un échange htmx"
            expect(h1).to_be_focused()
        if self.js:
            self.expect_sound_document()
        self.assert_accessible(page)
        if self.js and not swapped:
            self.mark_document()

    def expect_sound_document(self):
        """One <main>, no <title> left in the body by a swap, no sideways scrolling."""
        state = self.page.evaluate(
            """() => ({
                mains: document.querySelectorAll("main, #main").length,
                strayTitles: document.querySelectorAll("body title").length,
                width: document.documentElement.scrollWidth,
            })"""
        )
        assert state == {"mains": 1, "strayTitles": 0, "width": VIEWPORT_WIDTH}, state

    def expect_error(self, path, question, messages, swapped=True):
        """The same page again, with an error summary listing `messages` (links)."""
        page = self.page
        expect(page).to_have_url(re.compile(re.escape(path) + "$"))
        if not self.js:
            page.wait_for_load_state()
        expect(page).to_have_title(self.title(question, error=True))
        summary = page.locator(".error-summary")
        expect(summary).to_be_visible()
        expect(summary.get_by_role("heading")).to_have_text("Il y a un problème")
        links = summary.get_by_role("link")
        expect(links).to_have_text(messages)
        if self.js and swapped:
            assert self.same_document(), f"{path} : page rechargée au lieu d'un échange htmx"
            expect(summary).to_be_focused()
        self.assert_accessible(page)
        return summary

    # --- answers --------------------------------------------------------------------------

    def choose(self, label):
        """A radio button or a checkbox, by its label text."""
        control = self.page.get_by_label(label, exact=True)
        control.check()
        expect(control).to_be_checked()

    def fill(self, label, value):
        """A text field, by its label (a string: exactly; or a regex)."""
        self.page.get_by_role("textbox", name=label, exact=True).fill(value)

    def pick_commune(self, typed, label):
        """JS on: type, then pick the suggestion; JS off: the server resolves the text."""
        if self.js:
            field = self.page.get_by_role("combobox", name=COMMUNE)
            field.press_sequentially(typed, delay=30)
            option = self.page.get_by_role("option", name=label, exact=True)
            option.click()
            expect(field).to_have_value(label)
            expect(self.page.get_by_role("listbox")).to_be_hidden()
        else:
            self.page.get_by_label(COMMUNE, exact=True).fill(typed)

    def summary_value(self, key):
        row = self.page.locator(".summary-list__row").filter(
            has=self.page.locator("dt", has_text=exact(key))
        )
        return row.locator(".summary-list__value")


def expect_result(page, prefix, noun):
    """The result page: its reference, the proposal and its reasons. Returns the reference."""
    expect(page).to_have_url(re.compile(rf"/resultat/{prefix}-[A-Z0-9]+$"))
    reference = page.url.rsplit("/", 1)[1]
    expect(page.locator("main h1")).to_have_text(exact(f"Votre {noun} est bien enregistrée"))
    expect(page.locator(".reference")).to_have_text(reference)
    proposal = page.locator("section.card--proposal")
    expect(proposal.get_by_role("heading", level=2)).to_have_text(
        re.compile(r"^Association proposée\s:\s\S")
    )
    expect(proposal.get_by_role("heading", name="Pourquoi cette association ?")).to_be_visible()
    reasons = proposal.locator("ul.reasons > li")
    expect(reasons.nth(1)).to_be_visible()  # at least two reasons
    for text in reasons.all_inner_texts():
        assert text.strip(), "raison vide"
    return reference


def expect_result_page(walker, prefix, noun):
    page = walker.page
    reference = expect_result(page, prefix, noun)
    expect(page).to_have_title(walker.title(f"Votre {noun} est bien enregistrée"))
    if walker.js:
        assert walker.same_document(), "résultat : page rechargée au lieu d'un échange htmx"
        expect(page.locator("main h1")).to_be_focused()
        walker.expect_sound_document()
    walker.assert_accessible(page)
    return reference


def answer_youth_until_coordonnees(walker, age="17"):
    """Age (valid) to rencontre, each page checked; ends on the coordonnées page."""
    walker.fill(AGE, age)
    walker.press()
    walker.expect_page("/jeune/situation", SITUATION)
    walker.choose("Au lycée général ou technologique")
    walker.press()
    walker.expect_page("/jeune/besoin", BESOIN)
    walker.choose(ORIENTATION)
    walker.press()
    walker.expect_page("/jeune/commune", COMMUNE)
    walker.pick_commune("69003" if not walker.js else "lyon 3", "Lyon (69003)")
    walker.press()
    walker.expect_page("/jeune/situation-particuliere", SITUATION_PARTICULIERE)
    walker.choose("Je suis boursier ou boursière")
    walker.press()
    walker.expect_page("/jeune/rencontre", RENCONTRE)
    walker.choose("Les deux me conviennent")
    walker.press()
    walker.expect_page("/jeune/coordonnees", COORDONNEES)


def fill_youth_coordonnees(walker):
    walker.fill("Prénom", "Inès")
    walker.fill("Nom", "Martin")
    walker.fill(EMAIL, "ines@example.org")
    walker.fill(PHONE, "06 12 34 56 78")
    walker.choose("SMS")


def submit_check_page(walker, button):
    walker.page.get_by_label(re.compile("^" + re.escape(CONSENT))).check()
    walker.press(button)


# --- 1. Youth journey -------------------------------------------------------------------


def test_youth_journey_end_to_end(phone_page, js, console_errors, assert_accessible):
    page = phone_page
    console_errors.allow_http_error(422, "/jeune/age")
    console_errors.allow_http_error(422, "/jeune/coordonnees")
    walker = Walker(page, js, JEUNE, assert_accessible)
    walker.start_from_home(JEUNE, "/jeune/age", AGE)

    # Age left empty: the error summary, linked to the field.
    walker.press()
    summary = walker.expect_error("/jeune/age", AGE, ["Indiquez votre âge"])
    age = page.get_by_label(AGE, exact=True)
    expect(age).to_have_attribute("aria-invalid", "true")
    summary.get_by_role("link", name="Indiquez votre âge").click()
    expect(age).to_be_focused()

    answer_youth_until_coordonnees(walker)

    # Coordonnées: a phone number that is not one.
    walker.fill("Prénom", "Inès")
    walker.fill("Nom", "Martin")
    walker.fill(PHONE, "12345")
    walker.choose("SMS")
    walker.press()
    message = "Indiquez un numéro de téléphone français, par exemple 06 12 34 56 78"
    summary = walker.expect_error("/jeune/coordonnees", COORDONNEES, [message])
    phone = page.get_by_role("textbox", name=PHONE)
    expect(phone).to_have_value("12345")
    expect(page.get_by_label("Prénom", exact=True)).to_have_value("Inès")
    summary.get_by_role("link", name=message).click()
    expect(phone).to_be_focused()
    fill_youth_coordonnees(walker)
    walker.press()

    # Check page, then one « Modifier » round trip.
    walker.expect_page("/jeune/verifier", VERIFIER_JEUNE)
    expect(walker.summary_value("Âge")).to_have_text(exact("17 ans"))
    expect(walker.summary_value("Commune")).to_have_text(exact("Lyon (69003)"))
    expect(walker.summary_value("Besoin")).to_have_text(exact(ORIENTATION))
    expect(walker.summary_value("Contact préféré")).to_have_text(exact("SMS"))
    walker.follow_link("Modifier : besoin")
    walker.expect_page("/jeune/besoin?retour=verifier", BESOIN, swapped=False)
    expect(page.get_by_label(ORIENTATION, exact=True)).to_be_checked()
    expect(page.get_by_role("link", name="Retour", exact=True)).to_have_attribute(
        "href", "/jeune/verifier"
    )
    walker.choose(EMPLOI)
    walker.press()
    walker.expect_page("/jeune/verifier", VERIFIER_JEUNE)
    expect(walker.summary_value("Besoin")).to_have_text(exact(EMPLOI))
    expect(walker.summary_value("Commune")).to_have_text(exact("Lyon (69003)"))

    submit_check_page(walker, "Envoyer ma demande")
    reference = expect_result_page(walker, "J", "demande")

    with models.db.connection_context():
        leads = list(models.Lead.select())
        assert [lead.reference for lead in leads] == [reference]
        lead = leads[0]
        assert (lead.kind, lead.age, lead.besoin) == ("jeune", 17, "emploi")
        assert (lead.departement, lead.telephone, lead.contact_pref) == (
            "69",
            "+33612345678",
            "sms",
        )
        assert lead.orientations.count() >= 1
        assert lead.association_id is not None
    assert console_errors.unexpected() == []


# --- 2. Mentor journey ------------------------------------------------------------------


def test_mentor_journey_end_to_end(phone_page, js, console_errors, assert_accessible):
    page = phone_page
    console_errors.allow_http_error(422, "/mentor/accompagnement")
    walker = Walker(page, js, MENTOR, assert_accessible)
    walker.start_from_home(MENTOR, "/mentor/situation", MENTOR_SITUATION)
    walker.choose("Salarié·e")
    walker.press()
    walker.expect_page("/mentor/age", MENTOR_AGE)
    walker.choose("25 à 49 ans")
    walker.press()
    walker.expect_page("/mentor/experience", EXPERIENCE)
    walker.choose("Numérique, informatique, télécoms")
    walker.fill("Votre métier (facultatif)", "Développeuse")
    walker.press()
    walker.expect_page("/mentor/accompagnement", ACCOMPAGNEMENT)

    # No subject ticked: an error.
    walker.choose("Des lycéens")
    walker.press()
    summary = walker.expect_error(
        "/mentor/accompagnement", ACCOMPAGNEMENT, ["Choisissez au moins un sujet"]
    )
    expect(page.get_by_label("Des lycéens", exact=True)).to_be_checked()
    summary.get_by_role("link").click()
    expect(page.get_by_label("La scolarité", exact=True)).to_be_focused()
    walker.choose("L'orientation")
    walker.choose("La recherche de stage, d'alternance ou de premier emploi")
    walker.press()

    walker.expect_page("/mentor/disponibilite", DISPONIBILITE)
    walker.choose("2 à 4 heures par mois")
    walker.choose("Les deux")
    walker.press()
    walker.expect_page("/mentor/commune", COMMUNE)
    walker.pick_commune("69003" if not js else "lyon", "Lyon (69003)")
    walker.press()
    walker.expect_page("/mentor/coordonnees", COORDONNEES)
    walker.fill("Prénom", "Paul")
    walker.fill("Nom", "Durand")
    walker.fill(EMAIL, "paul.durand@example.org")
    walker.press()

    walker.expect_page("/mentor/verifier", VERIFIER_MENTOR)
    expect(walker.summary_value("Secteur")).to_have_text(exact("Numérique, informatique, télécoms"))
    expect(walker.summary_value("Sujets")).to_contain_text("L'orientation")
    expect(walker.summary_value("Commune")).to_have_text(exact("Lyon (69003)"))
    submit_check_page(walker, "Envoyer ma candidature")
    reference = expect_result_page(walker, "M", "candidature")

    with models.db.connection_context():
        lead = models.Lead.get()
        assert (lead.reference, lead.kind, lead.email) == (
            reference,
            "mentor",
            "paul.durand@example.org",
        )
        assert lead.orientations.count() >= 1
    assert console_errors.unexpected() == []


# --- 3. Under 15 ------------------------------------------------------------------------


def test_under_15_are_asked_for_a_parent(page, console_errors, assert_accessible):
    walker = Walker(page, True, JEUNE, assert_accessible)
    page.goto("/jeune/age")
    walker.expect_page("/jeune/age", AGE, swapped=False)
    answer_youth_until_coordonnees(walker, age="13")
    fill_youth_coordonnees(walker)
    walker.press()
    walker.expect_page("/jeune/parent", PARENT)
    walker.fill("Prénom", "Samia")
    walker.fill("Nom", "Martin")
    walker.fill(PHONE, "+33 6 98 76 54 32")
    walker.choose("Mon parent ou représentant légal est d'accord pour cette demande")
    walker.press()
    walker.expect_page("/jeune/verifier", VERIFIER_JEUNE)
    expect(walker.summary_value("Parent ou représentant légal")).to_contain_text("Samia Martin")
    submit_check_page(walker, "Envoyer ma demande")
    expect_result_page(walker, "J", "demande")
    with models.db.connection_context():
        lead = models.Lead.get()
        assert lead.age == 13
        assert lead.answers["parent_prenom"] == "Samia"
    assert console_errors.unexpected() == []


# --- 4. Exits ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("age", "path", "heading"),
    [("35", "/jeune/plus-de-30-ans", PLUS_DE_30), ("9", "/jeune/moins-de-11-ans", MOINS_DE_11)],
    ids=["35-ans", "9-ans"],
)
def test_age_exit_pages(phone_page, js, console_errors, assert_accessible, age, path, heading):
    page = phone_page
    walker = Walker(page, js, JEUNE, assert_accessible)
    page.goto("/jeune/age")
    walker.expect_page("/jeune/age", AGE, swapped=False)
    walker.fill(AGE, age)
    walker.press()
    walker.expect_page(path, heading)
    expect(page.get_by_role("link", name="Modifier votre âge")).to_have_attribute(
        "href", "/jeune/age"
    )
    # No way round the exit: a later step sends back to it.
    page.goto("/jeune/situation")
    expect(page).to_have_url(re.compile(re.escape(path) + "$"))
    assert console_errors.unexpected() == []


# --- 5. Commune autocomplete ------------------------------------------------------------


def reach_youth_commune(walker):
    """Age, situation and besoin answered: on the commune page, with its document tagged."""
    walker.page.goto("/jeune/age")
    walker.mark_document()
    walker.fill(AGE, "17")
    walker.press()
    expect(walker.page).to_have_url(re.compile("/jeune/situation$"))
    walker.choose("Au lycée général ou technologique")
    walker.press()
    expect(walker.page).to_have_url(re.compile("/jeune/besoin$"))
    walker.choose(ORIENTATION)
    walker.press()
    expect(walker.page).to_have_url(re.compile("/jeune/commune$"))


def test_commune_autocomplete_with_the_keyboard(page, console_errors, assert_accessible):
    walker = Walker(page, True, JEUNE, assert_accessible)
    reach_youth_commune(walker)
    field = page.get_by_role("combobox", name=COMMUNE)
    listbox = page.get_by_role("listbox", name="Communes suggérées")
    status = page.locator("#commune-status")
    expect(listbox).to_be_hidden()
    expect(field).to_have_attribute("aria-expanded", "false")

    field.press_sequentially("saint-et", delay=40)
    expect(listbox).to_be_visible()
    expect(field).to_have_attribute("aria-expanded", "true")
    options = listbox.get_by_role("option")
    expect(options.first).to_have_text(re.compile(r"^Saint-Étienne.* \(\d{5}\)$"))
    count = options.count()
    assert count >= 2
    for text in options.all_inner_texts():
        assert re.fullmatch(r".+ \((\d{5}|\d{2,3}|2[AB])\)", text.strip()), text
    expect(status).to_have_text(f"{count} communes trouvées")
    # Only options in the list: the status text went to the live region.
    expect(listbox.locator(":scope > :not([role=option])")).to_have_count(0)
    expect(field).not_to_have_attribute("aria-activedescendant", re.compile("."))
    assert_accessible(page)  # the list open

    field.press("ArrowDown")
    first_id = options.nth(0).get_attribute("id")
    expect(field).to_have_attribute("aria-activedescendant", first_id)
    expect(options.nth(0)).to_have_attribute("aria-selected", "true")
    field.press("ArrowDown")
    second_id = options.nth(1).get_attribute("id")
    expect(field).to_have_attribute("aria-activedescendant", second_id)
    expect(options.nth(0)).to_have_attribute("aria-selected", "false")
    field.press("ArrowUp")
    expect(field).to_have_attribute("aria-activedescendant", first_id)
    assert_accessible(page)  # an option active
    chosen = options.nth(0).inner_text().strip()

    # Enter picks the option; it does not submit the form.
    field.press("Enter")
    expect(field).to_have_value(chosen)
    expect(listbox).to_be_hidden()
    expect(field).to_have_attribute("aria-expanded", "false")
    expect(field).not_to_have_attribute("aria-activedescendant", re.compile("."))
    expect(field).to_be_focused()
    page.wait_for_timeout(300)  # a submit would have left the page by now
    expect(page).to_have_url(re.compile("/jeune/commune$"))
    with models.db.connection_context():
        assert "commune" not in models.Draft.get().answers

    # Enter again, the list closed: the form is sent.
    field.press("Enter")
    walker.expect_page("/jeune/situation-particuliere", SITUATION_PARTICULIERE)
    with models.db.connection_context():
        stored = models.Draft.get().answers["commune"]
    assert stored["commune_label"] == chosen
    assert console_errors.unexpected() == []


def test_commune_autocomplete_escape_closes_the_list(page, console_errors):
    walker = Walker(page, True, JEUNE, None)
    reach_youth_commune(walker)
    field = page.get_by_role("combobox", name=COMMUNE)
    listbox = page.get_by_role("listbox", name="Communes suggérées")
    field.press_sequentially("lyon", delay=40)
    expect(listbox).to_be_visible()
    expect(page.locator("#commune-status")).to_have_text(re.compile(r"^\d+ communes? trouvées?$"))
    field.press("ArrowDown")
    expect(field).to_have_attribute("aria-activedescendant", re.compile("."))
    field.press("Escape")
    expect(listbox).to_be_hidden()
    expect(field).to_have_attribute("aria-expanded", "false")
    expect(field).not_to_have_attribute("aria-activedescendant", re.compile("."))
    expect(field).to_have_value("lyon")  # Escape does not pick
    expect(field).to_be_focused()
    # The list comes back with the arrow key.
    field.press("ArrowDown")
    expect(listbox).to_be_visible()
    expect(field).to_have_attribute("aria-expanded", "true")
    assert console_errors.unexpected() == []


def test_commune_ambiguous_without_js(page_nojs, console_errors, assert_accessible):
    page = page_nojs
    console_errors.allow_http_error(422, "/jeune/commune")
    walker = Walker(page, False, JEUNE, assert_accessible)
    reach_youth_commune(walker)
    page.get_by_label(COMMUNE, exact=True).fill("Saint-Denis")
    walker.press()
    walker.expect_page("/jeune/commune", COMMUNE)
    expect(page.get_by_text("Plusieurs communes correspondent à « Saint-Denis »")).to_be_visible()
    radios = page.get_by_role("radio")
    assert radios.count() >= 2
    expect(page.get_by_label("Saint-Denis (93) — Seine-Saint-Denis")).to_be_visible()
    expect(page.get_by_label("Saint-Denis (974) — La Réunion")).to_be_visible()

    walker.press()
    summary = walker.expect_error(
        "/jeune/commune", COMMUNE, ["Choisissez votre commune dans la liste"]
    )
    expect(page.get_by_role("radio")).to_have_count(radios.count())
    summary.get_by_role("link").click()
    expect(page.get_by_role("radio").first).to_be_focused()

    walker.choose("Saint-Denis (974) — La Réunion")
    walker.press()
    walker.expect_page("/jeune/situation-particuliere", SITUATION_PARTICULIERE)
    with models.db.connection_context():
        stored = models.Draft.get().answers["commune"]
    assert stored["commune"] == "97411"
    assert console_errors.unexpected() == []


def test_commune_field_without_js_is_a_plain_text_field(page_nojs, console_errors):
    """Without JS no list ever opens: the field must not announce itself as a combobox."""
    page = page_nojs
    walker = Walker(page, False, JEUNE, None)
    reach_youth_commune(walker)
    expect(page.get_by_role("textbox", name=COMMUNE, exact=True)).to_be_visible()
    expect(page.get_by_role("combobox")).to_have_count(0)
    assert console_errors.unexpected() == []


# --- 6. Back ------------------------------------------------------------------------------


def test_back_link_keeps_the_previous_answer(phone_page, js, console_errors, assert_accessible):
    page = phone_page
    walker = Walker(page, js, JEUNE, None)
    page.goto("/jeune/age")
    walker.mark_document()
    walker.fill(AGE, "17")
    walker.press()
    expect(page).to_have_url(re.compile("/jeune/situation$"))
    walker.choose("Au lycée professionnel ou en CAP")
    walker.press()
    expect(page).to_have_url(re.compile("/jeune/besoin$"))
    expect(page.get_by_role("link", name="Retour", exact=True)).to_have_attribute(
        "href", "/jeune/situation"
    )
    walker.follow_link("Retour")
    expect(page).to_have_url(re.compile("/jeune/situation$"))
    expect(page.locator("main h1")).to_have_text(SITUATION)
    expect(page.get_by_label("Au lycée professionnel ou en CAP", exact=True)).to_be_checked()
    walker.follow_link("Retour")
    expect(page).to_have_url(re.compile("/jeune/age$"))
    expect(page.get_by_label(AGE, exact=True)).to_have_value("17")
    assert_accessible(page)
    assert console_errors.unexpected() == []


def test_browser_back_button_shows_the_previous_step(page, console_errors, assert_accessible):
    walker = Walker(page, True, JEUNE, assert_accessible)
    page.goto("/jeune/age")
    walker.mark_document()
    walker.fill(AGE, "17")
    walker.press()
    walker.expect_page("/jeune/situation", SITUATION)
    walker.choose("Dans l'enseignement supérieur")
    walker.press()
    walker.expect_page("/jeune/besoin", BESOIN)

    restores = []
    page.on(
        "request",
        lambda request: (
            restores.append(request.url)
            if request.headers.get("hx-history-restore-request") == "true"
            else None
        ),
    )
    page.go_back()
    expect(page).to_have_url(re.compile("/jeune/situation$"))
    h1 = page.locator("main h1")
    expect(h1).to_have_count(1)
    expect(h1).to_have_text(SITUATION)
    expect(page).to_have_title(walker.title(SITUATION))
    # A full page (header and footer once), with the answer given.
    expect(page.locator("header.site-header")).to_have_count(1)
    expect(page.locator("main")).to_have_count(1)
    expect(page.get_by_label("Dans l'enseignement supérieur", exact=True)).to_be_checked()
    # Re-fetched by htmx (same document), as a full page.
    assert walker.same_document()
    assert [url.rsplit("/", 2)[-2:] for url in restores] == [["jeune", "situation"]]
    walker.expect_sound_document()
    assert_accessible(page)

    page.go_back()
    expect(page).to_have_url(re.compile("/jeune/age$"))
    expect(page.get_by_label(AGE, exact=True)).to_have_value("17")
    expect(page).to_have_title(walker.title(AGE))

    # And forward again, then on with the questionnaire from there.
    page.go_forward()
    expect(page).to_have_url(re.compile("/jeune/situation$"))
    expect(page.locator("main h1")).to_have_text(SITUATION)
    walker.mark_document()
    walker.press()
    walker.expect_page("/jeune/besoin", BESOIN)
    assert console_errors.unexpected() == []


# --- 7. Alternative on the result page ----------------------------------------------------


def send_youth_demande(walker):
    """From the first step to the result page, JS on; returns the reference."""
    walker.page.goto("/jeune/age")
    walker.expect_page("/jeune/age", AGE, swapped=False)
    answer_youth_until_coordonnees(walker)
    fill_youth_coordonnees(walker)
    walker.press()
    walker.expect_page("/jeune/verifier", VERIFIER_JEUNE)
    submit_check_page(walker, "Envoyer ma demande")
    return expect_result_page(walker, "J", "demande")


def test_choosing_an_alternative_association(page, console_errors, assert_accessible):
    walker = Walker(page, True, JEUNE, assert_accessible)
    reference = send_youth_demande(walker)

    alternatives = page.get_by_role(
        "region", name="Une autre association vous conviendrait mieux ?"
    )
    expect(alternatives).to_be_visible()
    proposal = page.locator("section.card--proposal h2")
    before = " ".join(proposal.text_content().split())
    button = alternatives.get_by_role("button", name=re.compile(r"^Choisir .+ à la place$")).first
    # Its accessible name: « Choisir <association> à la place ».
    association = re.fullmatch(
        r"Choisir (.+) à la place", " ".join(button.text_content().split())
    ).group(1)
    button.click()

    expect(proposal).to_have_text(
        re.compile(r"^Association proposée\s:\s" + re.escape(association) + "( — |$)")
    )
    assert " ".join(proposal.text_content().split()) != before
    expect(page).to_have_url(re.compile(f"/jeune/resultat/{reference}$"))
    # The former proposal is now offered as an alternative.
    former = before.removeprefix("Association proposée : ").split(" — ")[0]
    expect(
        alternatives.get_by_role("button", name=re.compile("^Choisir " + re.escape(former)))
    ).to_be_visible()
    expect(page.locator("main h1")).to_be_focused()
    assert_accessible(page)
    with models.db.connection_context():
        lead = models.Lead.get(models.Lead.reference == reference)
        assert lead.association.nom == association
    assert console_errors.unexpected() == []


def test_back_button_after_sending_shows_the_url_of_the_page_shown(page, console_errors):
    """Back from the result page: /jeune/verifier now redirects to the result. The page
    shown and the address bar must agree (a reload or a shared link gives that page)."""
    walker = Walker(page, True, JEUNE, lambda page: None)
    send_youth_demande(walker)
    result_url = page.url

    page.go_back()
    expect(page.locator("main h1")).to_have_text(exact("Votre demande est bien enregistrée"))
    expect(page).to_have_url(result_url)
    assert console_errors.unexpected() == []
