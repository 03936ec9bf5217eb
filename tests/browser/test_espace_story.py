"""The "Done when" of issue 6 in a phone browser, JavaScript on and off, axe-core on every
page: a youth sends a demande through the questionnaire; staff of the proposed
association, created with the CLI, log in at /espace/connexion, find the lead by its
reference, mark it contacted, form a binôme with a mentor of the association and export
it as CSV; staff of another association and an anonymous visitor cannot read it."""

import csv
import io
import re
from pathlib import Path

from playwright.sync_api import expect

import models
from browser.test_journeys import JEUNE, Walker, send_youth_demande
from services import demandes, drafts, territory

PASSWORD = "une phrase de passe assez longue"
MENTOR = {
    "commune": "69123",
    "code_postal": "69003",
    "commune_label": "Lyon (69003)",
    "situation": "salarie",
    "tranche_age": "25_49",
    "secteur": "numerique",
    "metier": "Développeuse",
    "besoins": ["orientation", "emploi"],
    "publics": ["lyceens"],
    "disponibilite": "2_4h",
    "modalite": "les_deux",
    "prenom": "Paul",
    "nom": "Durand",
    "email": "paul.durand@example.org",
    "telephone": "",
}
YOUTH = {
    "commune": "69123",
    "code_postal": "69003",
    "commune_label": "Lyon (69003)",
    "age": 17,
    "situation": "lycee_general",
    "besoin": "orientation",
    "situations_particulieres": [],
    "rencontre": "les_deux",
    "prenom": "Inès",
    "nom": "Martin",
    "email": "ines@example.org",
    "telephone": "+33612345678",
    "contact_pref": "sms",
}


def create_user(live, email, slug):
    """`flask --app app create-user EMAIL --association SLUG --role membre`, the password
    on standard input."""
    result = live.app.test_cli_runner().invoke(
        args=["create-user", email, "--association", slug, "--role", "membre"],
        input=PASSWORD + "\n",
    )
    assert result.exit_code == 0, result.output
    assert f"Compte créé : {email} (membre)" in result.output


def mentor_of(association_id):
    """A mentor's candidature at the association, already contacted by its staff."""
    place = territory.place(MENTOR["commune"], MENTOR["code_postal"])
    with models.write_transaction(durable=True):
        lead = drafts.create_lead("mentor", MENTOR, place)
        demandes.orient(lead, place=place)
    models.Lead.update(association=association_id).where(models.Lead.id == lead.id).execute()
    demandes.change_status(lead, "contactee", "collegue@example.org")
    return models.Lead.get_by_id(lead.id)


def log_in(page, email):
    page.goto("/espace/")
    expect(page).to_have_url(re.compile(r"/espace/connexion"))
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page).to_have_url(re.compile(r"/espace/(\?.*)?$"))


def test_a_demande_from_the_questionnaire_to_a_binome_and_the_csv(
    new_page, js, _live_server, assert_accessible, console_errors
):
    # 1. The youth sends a demande.
    youth = new_page(js=js)
    reference = send_youth_demande(Walker(youth, js, JEUNE, assert_accessible))
    with models.db.connection_context():
        lead = models.Lead.get(models.Lead.reference == reference)
        association = lead.association
        other = models.Association.select().where(models.Association.id != association.id).first()
        mentor = mentor_of(association.id)
    # 2. Staff accounts from the CLI.
    create_user(_live_server, "claire@example.org", association.slug)
    create_user(_live_server, "autre@example.org", other.slug)

    # 3. Staff log in and find the lead by its reference.
    page = new_page(js=js)
    log_in(page, "claire@example.org")
    assert_accessible(page)
    page.get_by_label("Rechercher").fill(reference)
    page.get_by_role("button", name="Rechercher").click()
    expect(page.locator(".inbox-item")).to_have_count(1)
    assert_accessible(page)
    page.get_by_role("link", name="Inès Martin").click()
    expect(page).to_have_url(re.compile(rf"/espace/demandes/{reference}$"))
    status = page.locator("#statut-titre")
    expect(status).to_have_text("Statut : Nouvelle")
    assert_accessible(page)

    # 4. Marked contacted: the status block and the timeline change, focus on the status.
    page.get_by_role("button", name="J'ai contacté cette personne").click()
    expect(status).to_have_text("Statut : Contactée")
    expect(page.get_by_role("status")).to_contain_text("vous avez contacté cette personne")
    expect(page.locator("#historique")).to_contain_text("Personne contactée")
    if js:
        expect(status).to_be_focused()
    assert_accessible(page)

    # 5. A binôme with the association's mentor, picked from the ranked list.
    page.get_by_role("link", name="Former un binôme").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Former un binôme avec Inès Martin")
    candidate = page.get_by_label(re.compile(rf"^Paul Durand \({mentor.reference}\)"))
    expect(page.locator(".radio__hint").first).to_contain_text("Même besoin : Orientation")
    assert_accessible(page)
    console_errors.allow_http_error(422)
    page.get_by_role("button", name="Former le binôme").click()  # nobody picked
    expect(page.locator(".error-summary")).to_contain_text("Choisissez la personne")
    assert_accessible(page)
    candidate.check()
    page.get_by_role("button", name="Former le binôme").click()
    expect(page).to_have_url(re.compile(rf"/espace/demandes/{reference}\?action=faite"))
    expect(status).to_have_text("Statut : Binôme formé")
    expect(page.locator("#statut")).to_contain_text(
        f"En binôme avec Paul Durand ({mentor.reference})"
    )
    assert_accessible(page)
    with models.db.connection_context():
        binome = models.Binome.get()
        assert (binome.jeune_id, binome.mentor_id, binome.ended_at) == (lead.id, mentor.id, None)

    # 6. Exported as CSV from the inbox, filtered on the reference.
    page.goto(f"/espace/?statut=toutes&q={reference}")
    assert_accessible(page)
    with page.expect_download() as download:
        # A small form's button (a POST with its CSRF token): works without JavaScript.
        page.get_by_role("button", name=re.compile(r"^Exporter \(CSV\)")).click()
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text), delimiter=";"))
    assert [(r["Référence"], r["Statut"], r["Prénom"]) for r in rows] == [
        (reference, "Binôme formé", "Inès")
    ]

    # 7. Another association's staff: 404; an anonymous visitor: the login page.
    console_errors.allow_http_error(404)
    elsewhere = new_page(js=js)
    log_in(elsewhere, "autre@example.org")
    response = elsewhere.goto(f"/espace/demandes/{reference}")
    assert response.status == 404
    expect(elsewhere.locator("body")).not_to_contain_text("Inès")
    assert_accessible(elsewhere)
    anonymous = new_page(js=js)
    anonymous.goto(f"/espace/demandes/{reference}")
    expect(anonymous).to_have_url(re.compile(r"/espace/connexion"))
    expect(anonymous.locator("body")).not_to_contain_text("Inès")
    assert_accessible(anonymous)


def test_classer_sans_suite_then_rouvrir_then_hand_over(
    new_page, js, _live_server, assert_accessible, console_errors
):
    """The reasons' form (422 without a note for « autre »), re-opening, and the hand-over
    page: the lead leaves the inbox, its page is then 404 for this association."""
    with models.db.connection_context():
        place = territory.place("69123", "69003")
        with models.write_transaction(durable=True):
            lead = drafts.create_lead("jeune", YOUTH, place)
            demandes.orient(lead, place=place)
        lead = models.Lead.get_by_id(lead.id)
        slug = lead.association.slug
    create_user(_live_server, "claire@example.org", slug)
    page = new_page(js=js)
    log_in(page, "claire@example.org")
    page.goto(f"/espace/demandes/{lead.reference}")
    status = page.locator("#statut-titre")

    console_errors.allow_http_error(422)
    page.locator("summary", has_text="Classer sans suite").click()
    page.get_by_label("Autre (préciser)").check()
    page.locator("#statut").get_by_role("button", name="Classer sans suite").click()
    summary = page.locator(".error-summary")
    expect(summary).to_contain_text("Précisez le motif dans la note.")
    if js:
        expect(summary).to_be_focused()
    assert_accessible(page)
    page.get_by_label("Note (obligatoire pour « Autre »)").fill("Déménage à l'étranger")
    page.get_by_label("Autre (préciser)").check()
    page.locator("#statut").get_by_role("button", name="Classer sans suite").click()
    expect(status).to_have_text("Statut : Sans suite")
    expect(page.locator("#historique")).to_contain_text("Classée sans suite, motif : Autre")
    expect(page.locator("#historique")).to_contain_text("Déménage à l'étranger")
    assert_accessible(page)

    page.get_by_role("button", name="Rouvrir").click()
    expect(status).to_have_text("Statut : Contactée")
    if js:
        expect(status).to_be_focused()

    page.get_by_role("link", name="Confier à une autre association").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("à une autre association")
    assert_accessible(page)
    page.get_by_label("Hors de notre territoire").check()
    page.get_by_role("button", name="Confier la demande").click()
    expect(page).to_have_url(re.compile(r"/espace/$"))
    expect(page.get_by_role("status")).to_contain_text(f"La demande {lead.reference} est confiée")
    assert_accessible(page)
    with models.db.connection_context():
        moved = models.Lead.get_by_id(lead.id)
        assert moved.association_id not in (None, lead.association_id)
        transfert = (models.Message.kind == "transfert") & (models.Message.channel == "email")
        assert models.Message.select().where(transfert).count() == 1
    console_errors.allow_http_error(404)
    assert page.goto(f"/espace/demandes/{lead.reference}").status == 404


def test_an_action_from_a_stale_page_gets_a_kind_message(
    new_page, js, _live_server, assert_accessible, console_errors
):
    """Two members of the staff on the same lead: the second click, from a page read
    before the first, changes nothing and says why, focused."""
    with models.db.connection_context():
        place = territory.place("69123", "69003")
        with models.write_transaction(durable=True):
            lead = drafts.create_lead("jeune", YOUTH, place)
            demandes.orient(lead, place=place)
        slug = models.Lead.get_by_id(lead.id).association.slug
    create_user(_live_server, "claire@example.org", slug)
    first, second = new_page(js=js), new_page(js=js)
    for page in (first, second):
        log_in(page, "claire@example.org")
        page.goto(f"/espace/demandes/{lead.reference}")
    first.get_by_role("button", name="J'ai contacté cette personne").click()
    expect(first.locator("#statut-titre")).to_have_text("Statut : Contactée")

    console_errors.allow_http_error(409)
    second.get_by_role("button", name="J'ai contacté cette personne").click()
    message = second.get_by_role("alert")
    expect(message).to_contain_text("Cette demande a changé depuis l'affichage de la page")
    expect(second.locator("#statut-titre")).to_have_text("Statut : Contactée")  # as it is now
    if js:
        expect(message).to_be_focused()
    assert_accessible(second)
    with models.db.connection_context():
        assert models.Evenement.select().where(models.Evenement.kind == "contacter").count() == 1
