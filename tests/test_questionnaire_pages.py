"""What a new user noticed on a phone (issue 5 §4), at the request level: the progress bar,
the result page, the consent box for sensitive answers, the 30-and-over exit page, the demo
notice, the draft lifetime and deep links. The visual side:
tests/browser/test_phone_layout.py."""

import datetime as dt
import html as html_lib
import re

import pytest
from helpers import HX, MENTOR_STEPS, PARENT_STEP, YOUTH_STEPS, post, submit, walk

import models
from domain.journeys import JEUNE, MENTOR
from forms.questionnaire import SituationParticuliereForm
from services import drafts


def text(response):
    return html_lib.unescape(response.get_data(as_text=True))


def main_of(page):
    return page[page.index("<main") : page.index("</main>")]


# --- Progress -----------------------------------------------------------------------------


def test_the_first_page_already_shows_progress(client):
    page = text(client.get("/jeune/age"))
    bar = re.search(r"<progress [^>]*>", page).group(0)
    assert 'value="1"' in bar and 'max="8"' in bar
    assert '<label class="visually-hidden" for="progression">' in page
    assert "Étape" not in main_of(page)  # the number of pages moves with the age


def test_only_a_parcours_of_fixed_length_numbers_its_steps(client):
    assert MENTOR.fixed_length and not JEUNE.fixed_length
    walk(client, "mentor", MENTOR_STEPS[:2])
    page = text(client.get("/mentor/experience"))
    assert '<label class="progress__label" for="progression">Étape 3 sur 7</label>' in page
    assert 'value="3"' in page


# --- Result page --------------------------------------------------------------------------


def result_page(client, parcours, steps):
    walk(client, parcours, steps)
    return text(client.get(submit(client, parcours).headers["Location"]))


def test_proposed_association_caption_keeps_its_colon(client):
    page = result_page(client, "jeune", YOUTH_STEPS)
    assert '<span class="card__caption">Association proposée\xa0:</span> ' in page


def test_alternatives_show_only_what_differs_from_the_proposal(client):
    page = result_page(client, "mentor", MENTOR_STEPS)
    proposal = page[page.index('id="proposition"') : page.index('id="alternatives"')]
    alternatives = page[page.index('id="alternatives"') :].split('<li class="alternative">')[1:]
    assert len(alternatives) >= 2
    shown = re.findall(r"<li>(Elle [^<]+)</li>", proposal)
    for card in alternatives:
        reasons = re.findall(r"<li>(Elle [^<]+)</li>", card)
        assert len(reasons) <= 2
        assert not set(reasons) & set(shown), reasons
        assert re.search(r"Recontact sous \d+ jours ouvrés\.", card)
        assert "Choisir " in card


# --- Consent for sensitive answers --------------------------------------------------------


def consent_zone(page):
    return re.search(r'<div class="conditional" id="accord_sensible-conditional"[^>]*>', page)


def test_sensitive_consent_is_hidden_until_it_applies(client):
    walk(client, "jeune", YOUTH_STEPS[:4])
    page = text(client.get("/jeune/situation-particuliere"))
    zone = consent_zone(page).group(0)
    assert " hidden" in zone
    assert 'data-shown-by="situations" data-shown-values="ase handicap"' in zone


def test_sensitive_box_without_consent_comes_back_with_the_box_shown(client, headers):
    walk(client, "jeune", YOUTH_STEPS[:4])
    response = post(client, "/jeune/situation-particuliere", {"situations": ["ase"]}, headers)
    assert response.status_code == 422
    page = text(response)
    assert " hidden" not in consent_zone(page).group(0)
    assert "cochez la case d'accord" in page
    assert 'href="#accord_sensible"' in page  # the error summary links to the box
    with models.db.connection_context():
        assert "situation-particuliere" not in models.Draft.get().answers


@pytest.fixture(params=[{}, HX], ids=["page", "htmx"])
def headers(request):
    return request.param


def test_consent_without_a_sensitive_box_is_neither_required_nor_stored(client):
    walk(client, "jeune", YOUTH_STEPS[:4])
    response = post(
        client, "/jeune/situation-particuliere", {"situations": ["qpv"], "accord_sensible": "y"}
    )
    assert response.status_code == 303
    with models.db.connection_context():
        answers = models.Draft.get().answers["situation-particuliere"]
    assert answers == {"situations_particulieres": ["qpv"], "accord_sensible": False}


def test_a_stored_sensitive_answer_shows_its_consent_again(client):
    walk(client, "jeune", YOUTH_STEPS[:4])
    sent = {"situations": ["handicap"], "accord_sensible": "y"}
    assert post(client, "/jeune/situation-particuliere", sent).status_code == 303
    page = text(client.get("/jeune/situation-particuliere"))
    assert " hidden" not in consent_zone(page).group(0)
    assert re.search(r'<input checked class="checkbox__input" id="accord_sensible"', page)


@pytest.mark.parametrize("sent", [{}, {"situations": ["aucune"]}])
def test_none_of_these_is_ticked_again_on_return(client, sent):
    walk(client, "jeune", YOUTH_STEPS[:4])
    assert post(client, "/jeune/situation-particuliere", sent).status_code == 303
    page = text(client.get("/jeune/situation-particuliere"))
    assert re.search(r'<input checked[^>]*value="aucune"', page)
    assert SituationParticuliereForm.form_data(
        {"situations_particulieres": [], "accord_sensible": False}
    )["situations"] == ["aucune"]


# --- Exit page for 30 and over ------------------------------------------------------------


def test_thirty_and_over_get_pistes_for_their_age(client):
    walk(client, "jeune", [("age", {"age": "34"})])
    page = main_of(text(client.get("/jeune/plus-de-30-ans")))
    assert "moins de 30 ans</h1>" in page
    assert "1jeune1solution" not in page and "pour les moins de 30 ans" not in page
    for link in (
        "https://www.francetravail.fr/",
        "https://mon-cep.org/",
        "https://bpifrance-creation.fr/",
        "/mentor/situation",
    ):
        assert f'href="{link}"' in page


# --- Demonstration instance ---------------------------------------------------------------

SHORT_NOTICE = "Instance de démonstration\xa0:</strong> n'y saisissez pas de vraies coordonnées."


def test_contact_steps_of_a_demo_instance_say_so(client):
    walk(client, "jeune", YOUTH_STEPS[:6])
    assert SHORT_NOTICE in text(client.get("/jeune/coordonnees"))
    assert SHORT_NOTICE not in text(client.get("/jeune/rencontre"))


def test_parent_and_mentor_contact_steps_say_so_too(client, app):
    walk(client, "jeune", [("age", {"age": "13"}), *YOUTH_STEPS[1:]])
    assert SHORT_NOTICE in text(client.get(f"/jeune/{PARENT_STEP[0]}"))
    mentor = app.test_client()
    walk(mentor, "mentor", MENTOR_STEPS[:6])
    assert SHORT_NOTICE in text(mentor.get("/mentor/coordonnees"))


def test_a_declared_operator_removes_the_contact_step_notice(client, app):
    app.config["OPERATOR_NAME"] = "Association Exemple"
    walk(client, "jeune", YOUTH_STEPS[:6])
    assert "Instance de démonstration" not in text(client.get("/jeune/coordonnees"))


# --- Draft lifetime -----------------------------------------------------------------------


def age_drafts(hours):
    """Move every draft's last save `hours` into the past."""
    earlier = models.now() - dt.timedelta(hours=hours)
    with models.db.connection_context():
        models.Draft.update(updated_at=earlier).execute()


def test_a_draft_past_the_lifetime_is_not_resumed(client):
    walk(client, "jeune", YOUTH_STEPS[:2])
    age_drafts(23)
    assert client.get("/jeune/besoin").status_code == 200
    age_drafts(25)
    response = client.get("/jeune/besoin")
    assert response.headers["Location"] == "/jeune/age?depuis=besoin"


def test_a_new_draft_deletes_the_expired_ones(client, app):
    walk(client, "jeune", YOUTH_STEPS)
    submit(client, "jeune")  # a submitted draft goes too: its lead keeps the answers
    other = app.test_client()
    walk(other, "mentor", MENTOR_STEPS[:1])
    age_drafts(25)
    with models.db.connection_context():
        recent = models.Draft.create(token=drafts.new_token(), parcours="mentor", answers={})
    walk(app.test_client(), "jeune", YOUTH_STEPS[:1])
    with models.db.connection_context():
        tokens = {d.token for d in models.Draft.select()}
        assert recent.token in tokens and len(tokens) == 2
        assert models.Lead.select().count() == 1


def test_the_lifetime_comes_from_one_setting(app):
    hours = app.config["DRAFT_MAX_AGE_HOURS"]
    assert hours == 24
    assert app.config["PERMANENT_SESSION_LIFETIME"] == dt.timedelta(hours=hours)
    assert app.config["WTF_CSRF_TIME_LIMIT"] == hours * 3600


def test_purge_drafts_command(client, runner):
    walk(client, "jeune", YOUTH_STEPS[:2])
    result = runner.invoke(args=["purge-drafts"])
    assert result.exit_code == 0 and "0 brouillon(s) supprimé(s)" in result.output
    age_drafts(25)
    result = runner.invoke(args=["purge-drafts"])
    assert "1 brouillon(s) supprimé(s)" in result.output
    with models.db.connection_context():
        assert models.Draft.select().count() == 0


# --- Deep links ---------------------------------------------------------------------------

EXPIRED = "Votre session a expiré ou vous n'avez pas encore répondu aux questions précédentes"
ORDER = "Répondez d'abord à cette question"


def test_a_deep_link_in_a_fresh_browser_says_why(client, headers):
    response = client.get("/jeune/rencontre", headers=headers)
    assert response.status_code == 303
    landing = client.get(response.headers["Location"], headers=headers)
    page = text(landing)
    assert landing.status_code == 200 and EXPIRED in page
    assert re.search(r'<div class="notice" id="renvoi" tabindex="-1" autofocus>', page)
    # Focus goes to the notice, not to the heading, after an htmx swap.
    assert re.search(r"<h1[^>]*autofocus", page) is None


def test_a_deep_link_past_an_unanswered_question_says_why(client):
    walk(client, "jeune", YOUTH_STEPS[:2])
    landing = client.get("/jeune/verifier", follow_redirects=True)
    assert ORDER in text(landing) and EXPIRED not in text(landing)
    assert landing.request.path == "/jeune/besoin"


@pytest.mark.parametrize("asked", ["", "nimporte-quoi", "besoin", "x" * 5000, "\u2603"])
def test_no_notice_on_a_plain_visit_or_a_junk_argument(client, asked):
    walk(client, "jeune", YOUTH_STEPS[:2])
    response = client.get("/jeune/besoin", query_string={"depuis": asked})
    assert response.status_code == 200
    assert ORDER not in text(response) and EXPIRED not in text(response)


def test_the_notice_does_not_follow_the_person(client):
    response = client.get("/jeune/besoin", follow_redirects=True)
    assert EXPIRED in text(response)
    walk(client, "jeune", YOUTH_STEPS[:1])
    assert EXPIRED not in text(client.get("/jeune/situation"))


def test_a_draft_purged_while_its_check_page_was_open_is_sent_back(db):
    # The check page read it just before the purge: no lead, no 500, the check page again.
    with pytest.raises(drafts.InvalidDraft):
        drafts.submit(drafts.new_token(), lambda journey: None)
    assert models.Lead.select().count() == 0
