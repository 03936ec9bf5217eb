"""The follow-up link in a phone browser, JavaScript on and off, axe on every page: a
youth submits through the questionnaire, the confirmation e-mail (its outbox row) holds
the link, the youth opens it, staff mark the demande contacted, the page says so, and
the youth deletes the data."""

import datetime as dt
import re

from helpers import YOUTH_ANSWERS, arrived, submitted_lead
from playwright.sync_api import expect

import models
from browser.test_journeys import (
    JEUNE,
    Walker,
    answer_youth_until_coordonnees,
    expect_result_page,
    fill_youth_coordonnees,
    submit_check_page,
)
from services import demandes

LINK_RE = re.compile(r"https?://[^/\s]+(/suivi/[A-Za-z0-9_-]{43})")


def test_youth_follows_then_deletes(phone_page, js, console_errors, assert_accessible):
    page = phone_page
    walker = Walker(page, js, JEUNE, assert_accessible)
    walker.start_from_home(JEUNE, "/jeune/age", "Quel âge avez-vous ?")
    answer_youth_until_coordonnees(walker)
    fill_youth_coordonnees(walker)
    walker.press()
    submit_check_page(walker, "Envoyer ma demande")
    reference = expect_result_page(walker, "J", "demande")
    expect(page.get_by_text("Un e-mail de confirmation vous a été envoyé à")).to_be_visible()

    with models.db.connection_context():
        lead = models.Lead.get(models.Lead.reference == reference)
        mail = models.Message.get(
            (models.Message.lead == lead.id) & (models.Message.kind == "confirmation")
        )
    assert mail.to == "ines@example.org"
    assert mail.subject == f"Votre demande {reference} est enregistrée"
    path = LINK_RE.search(mail.body).group(1)

    # The youth opens the link of the e-mail.
    page.goto(path)
    heading = page.locator("main h1")
    expect(heading).to_have_text(f"Votre demande {reference}")
    expect(page.get_by_text("Statut : Nouvelle")).to_be_visible()
    expect(page.get_by_text(re.compile("Elle doit vous recontacter avant le"))).to_be_visible()
    # Not offered before the promised delay.
    expect(page.get_by_role("link", name="Je n'ai pas été recontacté·e")).to_have_count(0)
    assert_accessible(page)

    # Staff mark it contacted; the page says so.
    with models.db.connection_context():
        demandes.change_status(lead, "contactee", "conseillere@example.org")
    page.reload()
    expect(page.get_by_text("Statut : Contactée")).to_be_visible()
    expect(page.get_by_text(re.compile(r"vous a contacté·e le"))).to_be_visible()
    assert_accessible(page)

    # Deletion: its own confirmation page, then the POST.
    page.get_by_role("link", name="Supprimer mes données").click()
    expect(heading).to_have_text("Supprimer mes données")
    expect(
        page.get_by_text("Vos réponses et vos coordonnées seront effacées définitivement.")
    ).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Supprimer définitivement mes données").click()
    expect(page).to_have_url(re.compile(r"/suivi/donnees-supprimees$"))
    expect(heading).to_have_text("Vos données sont supprimées")
    assert_accessible(page)
    with models.db.connection_context():
        row = models.Lead.get_by_id(lead.id)
    assert (row.prenom, row.nom, row.email, row.telephone, row.answers) == ("", "", "", "", {})

    # The old link: the kind 404, with the way to get a link again.
    console_errors.allow_http_error(404, path)
    page.goto(path)
    expect(heading).to_have_text("Lien de suivi introuvable")
    expect(page.get_by_role("link", name="J'ai perdu mon lien")).to_be_visible()
    assert_accessible(page)
    assert console_errors.unexpected() == []


def follow_up_path(days_ago=0):
    """A youth's lead routed `days_ago` days ago; the path of its follow-up link."""
    with models.db.connection_context():
        lead = submitted_lead("jeune", YOUTH_ANSWERS)
        past = models.now() - dt.timedelta(days=days_ago)
        arrived(lead, past, created_at=past)
    return lead, f"/suivi/{lead.suivi_token}"


def test_the_three_forms_work_over_https(phone_page, live_server, assert_accessible):
    """Over HTTPS Flask-WTF refuses a POST without a Referer: the follow-up pages send
    theirs to our own origin only (same-origin), so each form works in a real browser."""
    assert live_server.startswith("https://")
    page = phone_page
    heading = page.locator("main h1")
    late, path = follow_up_path(days_ago=30)
    response = page.goto(f"{path}/pas-recontacte")
    assert response.headers["referrer-policy"] == "same-origin"
    page.get_by_role("button", name="Confier ma demande à une autre association").click()
    expect(page).to_have_url(re.compile(re.escape(path) + r"\?fait="))
    expect(heading).not_to_have_text("Cette page a expiré")
    with models.db.connection_context():
        assert models.Lead.get_by_id(late.id).association_id != late.association_id

    lead, path = follow_up_path()
    page.goto(f"{path}/arreter")
    page.get_by_role("button", name="Clore ma demande").click()
    expect(page).to_have_url(re.compile(re.escape(path) + r"\?fait="))
    expect(page.get_by_text("C'est noté : votre demande est close.")).to_be_visible()
    assert_accessible(page)
    with models.db.connection_context():
        assert models.Lead.get_by_id(lead.id).status == "sans_suite"

    page.goto(f"{path}/supprimer")
    page.get_by_role("button", name="Supprimer définitivement mes données").click()
    expect(page).to_have_url(re.compile(r"/suivi/donnees-supprimees$"))
    with models.db.connection_context():
        assert models.Lead.get_by_id(lead.id).prenom == ""
