"""Every target is at least 24 × 24 px on a 320 px phone (WCAG 2.2, 2.5.8), measured on each
page of both journeys, error states included, JavaScript off (the pages as they are served)
and on (the commune suggestions); axe-core (wcag22aa, with its target-size rule) on each.

Stricter than WCAG, which excuses a smaller target set apart from the others (spacing) or
inside a sentence (inline): each of ours is big enough by itself, so that the test needs no
judgement of what counts as apart.
"""

import re

import pytest
from playwright.sync_api import expect

MIN_SIZE = 24
SMALL_PHONE = {"viewport": {"width": 320, "height": 640}}

# What a finger presses: links, buttons, fields, and the labels of radios and checkboxes
# (pressing the label ticks the box). Boxes of 1 px are visually hidden until focused (the
# skip link, tested in test_public_pages.py).
MEASURE_TARGETS = """() => {
  const selector = 'a[href], button, input:not([type="hidden"]), select, textarea, summary,'
    + ' [role="option"], .radio > label, .checkbox > label';
  const name = (el) => (el.innerText || el.value || el.getAttribute("aria-label") || "")
    .replace(/\\s+/g, " ").trim().slice(0, 50);
  return Array.from(document.querySelectorAll(selector))
    .filter((el) => el.checkVisibility({ visibilityProperty: true }))
    .map((el) => {
      const box = el.getBoundingClientRect();
      const lines = Array.from(el.getClientRects()).map((r) => r.height);
      return {
        target: `${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""} « ${name(el)} »`,
        x: box.left + window.scrollX, y: box.top + window.scrollY,
        width: box.width, height: box.height,
        // A link wrapped over two lines is two boxes: each must be tall enough.
        lineHeight: Math.min(...lines),
      };
    })
    .filter((t) => t.width > 1 || t.height > 1);
}"""


def undersized(target):
    return target["width"] < MIN_SIZE or min(target["height"], target["lineHeight"]) < MIN_SIZE


class Auditor:
    """Measures the targets of the current page and runs axe; gathers what fails."""

    def __init__(self, page, evaluate, assert_accessible):
        self.page = page
        self.evaluate = evaluate
        self.assert_accessible = assert_accessible
        self.pages = []
        self.failures = []

    def audit(self, label):
        self.page.wait_for_load_state()
        targets = self.evaluate(self.page, MEASURE_TARGETS)
        assert targets, f"{label} : aucune cible trouvée"
        for target in targets:
            if undersized(target):
                self.failures.append(
                    f"{label} ({self.page.url}) : {target['target']} "
                    f"{target['width']:.1f} × {min(target['height'], target['lineHeight']):.1f} px"
                )
        self.pages.append(label)
        self.assert_accessible(self.page)

    def check(self):
        assert not self.failures, (
            f"Cibles de moins de {MIN_SIZE} × {MIN_SIZE} px sur {len(self.pages)} pages :\n"
            + "\n".join(self.failures)
        )


@pytest.fixture
def small_phone(new_page, evaluate, assert_accessible, console_errors):
    """A 320 px page, JS off, and its auditor; every 4xx page it reaches is expected."""
    for status in (404, 422):
        console_errors.allow_http_error(status)
    page = new_page(js=False, **SMALL_PHONE)
    return page, Auditor(page, evaluate, assert_accessible)


def press(page, name="Continuer"):
    page.get_by_role("button", name=name, exact=True).click()


def fill(page, label, value):
    page.get_by_role("textbox", name=label, exact=True).fill(value)


def tick(page, label):
    page.get_by_label(label, exact=True).check()


def step(page, auditor, label, answer=None):
    """A step: audited empty, sent empty and audited with its errors, then answered by
    `answer(page)` and sent (if given)."""
    auditor.audit(label)
    press(page)
    expect(page.locator(".error-summary")).to_be_visible()
    auditor.audit(label + " (erreur)")
    if answer:
        answer(page)
        press(page)


def youth_contact(page):
    fill(page, "Prénom", "Inès")
    fill(page, "Nom", "Martin")
    page.get_by_role("textbox", name=re.compile("^Adresse e-mail")).fill("ines@example.org")
    page.get_by_role("textbox", name=re.compile("^Téléphone")).fill("06 12 34 56 78")
    tick(page, "SMS")


def test_public_pages(small_phone):
    page, auditor = small_phone
    for path in (
        "/",
        "/mentions-legales",
        "/donnees-personnelles",
        "/accessibilite",
        "/plan-du-site",
    ):
        page.goto(path)
        auditor.audit(path)
    page.goto("/nulle-part")
    auditor.audit("404")
    auditor.check()


def test_youth_journey(small_phone):
    page, auditor = small_phone
    page.goto("/jeune/age")
    step(page, auditor, "âge", lambda p: fill(p, "Quel âge avez-vous ?", "17"))
    step(page, auditor, "situation", lambda p: tick(p, "Au lycée général ou technologique"))
    step(page, auditor, "besoin", lambda p: tick(p, "Je ne sais pas quelle orientation choisir"))

    # Commune: several matches as radio buttons, none picked, then another commune typed.
    auditor.audit("commune")
    press(page)
    auditor.audit("commune (erreur)")
    fill(page, "Où habitez-vous ?", "Saint-Denis")
    press(page)
    expect(page.get_by_label(re.compile(r"^Saint-Denis \(93\)"))).to_be_visible()
    auditor.audit("commune (choix)")
    press(page)
    expect(page.locator(".error-summary")).to_be_visible()
    auditor.audit("commune (choix, erreur)")
    page.get_by_role("link", name="Saisir une autre commune").click()
    fill(page, "Où habitez-vous ?", "69003")
    press(page)

    auditor.audit("situation particulière")
    tick(page, "Je suis en situation de handicap")
    press(page)
    expect(page.locator(".error-summary")).to_be_visible()
    auditor.audit("situation particulière (erreur)")
    page.get_by_label("Je suis en situation de handicap", exact=True).uncheck()
    tick(page, "Je suis boursier ou boursière")
    press(page)

    step(page, auditor, "rencontre", lambda p: tick(p, "Les deux me conviennent"))

    step(page, auditor, "coordonnées", youth_contact)

    auditor.audit("vérifier")
    press(page, "Envoyer ma demande")
    auditor.audit("vérifier (erreur)")
    page.get_by_label(re.compile("^J'accepte que mes réponses")).check()
    press(page, "Envoyer ma demande")
    expect(page).to_have_url(re.compile(r"/jeune/resultat/J-"))
    expect(page.locator("form[action$='/choisir']").first).to_be_attached()  # alternatives
    auditor.audit("résultat")

    # The exits, from a fresh start (the demande is sent).
    for age, exit_path in (("35", "/jeune/plus-de-30-ans"), ("9", "/jeune/moins-de-11-ans")):
        page.goto("/jeune/age")
        fill(page, "Quel âge avez-vous ?", age)
        press(page)
        expect(page).to_have_url(re.compile(re.escape(exit_path) + "$"))
        auditor.audit(f"sortie {age} ans")
    auditor.check()


def test_parent_step(small_phone):
    page, auditor = small_phone
    page.goto("/jeune/age")
    for answer in (
        lambda p: fill(p, "Quel âge avez-vous ?", "13"),
        lambda p: tick(p, "Au collège"),
        lambda p: tick(p, "Je ne sais pas quelle orientation choisir"),
        lambda p: fill(p, "Où habitez-vous ?", "69003"),
        lambda p: None,
        lambda p: tick(p, "Les deux me conviennent"),
        youth_contact,
    ):
        answer(page)
        press(page)
    expect(page).to_have_url(re.compile("/jeune/parent$"))
    step(page, auditor, "parent")
    auditor.check()


def test_mentor_journey(small_phone):
    page, auditor = small_phone
    page.goto("/mentor/situation")
    step(page, auditor, "situation", lambda p: tick(p, "Salarié·e"))
    step(page, auditor, "âge", lambda p: tick(p, "25 à 49 ans"))
    step(page, auditor, "expérience", lambda p: tick(p, "Numérique, informatique, télécoms"))
    step(page, auditor, "accompagnement", lambda p: tick(p, "L'orientation"))

    def availability(p):
        tick(p, "2 à 4 heures par mois")
        tick(p, "Les deux")

    step(page, auditor, "disponibilité", availability)
    step(page, auditor, "commune", lambda p: fill(p, "Où habitez-vous ?", "69003"))

    def contact(p):
        fill(p, "Prénom", "Paul")
        fill(p, "Nom", "Durand")
        p.get_by_role("textbox", name=re.compile("^Adresse e-mail")).fill("paul@example.org")

    step(page, auditor, "coordonnées", contact)
    auditor.audit("vérifier")
    page.get_by_label(re.compile("^J'accepte que mes réponses")).check()
    press(page, "Envoyer ma candidature")
    expect(page).to_have_url(re.compile(r"/mentor/resultat/M-"))
    auditor.audit("résultat")
    auditor.check()


def test_commune_suggestions_with_js(new_page, evaluate, assert_accessible, console_errors):
    page = new_page(js=True, **SMALL_PHONE)
    auditor = Auditor(page, evaluate, assert_accessible)
    page.goto("/jeune/age")
    for answer in (
        lambda p: fill(p, "Quel âge avez-vous ?", "17"),
        lambda p: tick(p, "Au lycée général ou technologique"),
        lambda p: tick(p, "Je ne sais pas quelle orientation choisir"),
    ):
        answer(page)
        press(page)
    page.get_by_role("combobox", name="Où habitez-vous ?").press_sequentially("saint-d", delay=30)
    expect(page.get_by_role("option").nth(2)).to_be_visible()
    auditor.audit("commune (suggestions)")
    auditor.check()


def test_axe_runs_the_target_size_rule(page, run_axe):
    page.goto("/")
    response = run_axe(page).response
    ran = {rule["id"] for key in ("passes", "violations", "incomplete") for rule in response[key]}
    assert "target-size" in ran
