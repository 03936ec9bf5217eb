"""The questionnaire engine through the Flask test client, with and without htmx."""

import datetime as dt
import html as html_lib
import re
import time

import pytest
from helpers import (
    CSRF_RE,
    HX,
    MENTOR_STEPS,
    PARENT_STEP,
    YOUTH_STEPS,
    counted_queries,
    csrf_token,
    post,
    submit,
    walk,
)

import models
from services import drafts


def text(response):
    return html_lib.unescape(response.get_data(as_text=True))


def count(model):
    with models.db.connection_context():
        return model.select().count()


@pytest.fixture(params=[False, True], ids=["page", "htmx"])
def headers(request):
    return HX if request.param else {}


# --- pages and fragments ----------------------------------------------------------


def test_first_step_is_a_full_page(client):
    response = client.get("/jeune/age")
    html = text(response)
    assert response.status_code == 200
    assert html.startswith("<!doctype html>")
    assert "<title>Quel âge avez-vous ? — Je trouve un mentor — 1 jeune, 1 mentor</title>" in html
    assert '<label class="label label--page" for="age">Quel âge avez-vous ?</label>' in html
    assert 'inputmode="numeric"' in html
    assert "novalidate" in html
    assert 'hx-post="/jeune/age"' in html
    assert "HX-Request" in response.headers["Vary"]


def test_htmx_gets_only_the_region_and_its_title(client):
    response = client.get("/jeune/age", headers=HX)
    html = text(response)
    assert response.status_code == 200
    assert "<html" not in html
    assert html.lstrip().startswith("<title>Quel âge avez-vous ?")
    assert '<main id="main"' in html
    assert "autofocus" in html  # the new heading takes the focus after the swap


def test_htmx_history_restore_gets_the_full_page(client):
    response = client.get("/jeune/age", headers={"HX-Request": "true", "HX-Request-Type": "full"})
    assert "<html" in text(response)


@pytest.mark.parametrize(("parcours", "steps"), [("jeune", YOUTH_STEPS), ("mentor", MENTOR_STEPS)])
def test_every_step_renders_with_and_without_htmx(client, parcours, steps):
    token = csrf_token(client)
    for name, data in steps:
        page = client.get(f"/{parcours}/{name}")
        fragment = client.get(f"/{parcours}/{name}", headers=HX)
        assert page.status_code == fragment.status_code == 200, name
        assert "<html" in page.get_data(as_text=True)
        assert "<html" not in fragment.get_data(as_text=True)
        assert "<h1" in fragment.get_data(as_text=True)
        assert post(client, f"/{parcours}/{name}", data, token=token).status_code == 303


def test_get_never_creates_a_draft(client):
    client.get("/jeune/age")
    client.get("/mentor/situation")
    assert count(models.Draft) == 0


# --- validation -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "Indiquez votre âge"),
        ("dix-sept", "Indiquez votre âge en chiffres, par exemple 17"),
        ("17.5", "Indiquez votre âge en chiffres, par exemple 17"),
        ("٣", "Indiquez votre âge en chiffres, par exemple 17"),
        ("0", "Indiquez votre âge en années, entre 1 et 120"),
        ("1000", "Indiquez votre âge en années, entre 1 et 120"),
        ("0017", "Indiquez votre âge en années, entre 1 et 120"),
        # More digits than Python's int() accepts: refused by its length, never converted.
        ("9" * 5000, "Indiquez votre âge en années, entre 1 et 120"),
    ],
)
def test_invalid_age_is_422_with_the_french_message(client, headers, value, message):
    response = post(client, "/jeune/age", {"age": value}, headers)
    html = text(response)
    assert response.status_code == 422
    assert "<title>Erreur : Quel âge avez-vous ?" in html
    assert 'class="error-summary"' in html
    assert f'<a href="#age">{message}</a>' in html
    assert 'aria-invalid="true"' in html
    assert 'aria-describedby="age-error"' in html
    assert count(models.Draft) == 0


def test_unanswered_radio_question_names_the_answer_expected(client):
    walk(client, "jeune", YOUTH_STEPS[:1])
    response = post(client, "/jeune/situation", {})
    assert response.status_code == 422
    assert '<a href="#situation-0">Choisissez votre situation</a>' in text(response)


def test_unknown_choice_is_refused(client):
    walk(client, "jeune", YOUTH_STEPS[:2])
    response = post(client, "/jeune/besoin", {"besoin": "<script>"})
    assert response.status_code == 422
    assert "Choisissez ce pour quoi vous aimeriez être accompagné·e" in text(response)


def test_contact_needs_a_phone_or_an_email(client):
    walk(client, "jeune", YOUTH_STEPS[:6])
    data = dict(YOUTH_STEPS[6][1], email="", telephone="")
    response = post(client, "/jeune/coordonnees", data)
    assert response.status_code == 422
    assert "Indiquez un numéro de téléphone ou une adresse e-mail" in text(response)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("telephone", "12345", "Indiquez un numéro de téléphone français"),
        ("email", "pas-une-adresse", "Indiquez une adresse e-mail valide"),
        ("prenom", "", "Indiquez votre prénom"),
        ("nom", "R2D2", "Indiquez un nom avec seulement des lettres"),
    ],
)
def test_contact_fields_are_checked(client, field, value, message):
    walk(client, "jeune", YOUTH_STEPS[:6])
    response = post(client, "/jeune/coordonnees", dict(YOUTH_STEPS[6][1], **{field: value}))
    assert response.status_code == 422
    assert message in text(response)


def test_phone_is_stored_normalised(client):
    walk(client, "jeune", YOUTH_STEPS)
    with models.db.connection_context():
        draft = models.Draft.get()
    assert draft.answers["coordonnees"]["telephone"] == "+33612345678"


def test_sensitive_situation_needs_explicit_agreement(client):
    walk(client, "jeune", YOUTH_STEPS[:4])
    response = post(client, "/jeune/situation-particuliere", {"situations": ["handicap"]})
    assert response.status_code == 422
    assert "cochez la case d'accord" in text(response)
    response = post(
        client,
        "/jeune/situation-particuliere",
        {"situations": ["handicap"], "accord_sensible": "y"},
    )
    assert response.status_code == 303


def test_none_of_these_cannot_be_combined(client):
    walk(client, "jeune", YOUTH_STEPS[:4])
    response = post(client, "/jeune/situation-particuliere", {"situations": ["aucune", "qpv"]})
    assert response.status_code == 422


def test_optional_situations_may_stay_empty(client):
    walk(client, "jeune", YOUTH_STEPS[:4])
    assert post(client, "/jeune/situation-particuliere", {}).status_code == 303


# --- commune ----------------------------------------------------------------------


def test_unknown_commune_is_422(client, headers):
    walk(client, "jeune", YOUTH_STEPS[:3])
    response = post(client, "/jeune/commune", {"commune": "Atlantide"}, headers)
    assert response.status_code == 422
    assert "Indiquez une commune de France, par exemple Lyon ou 69003" in text(response)


def test_several_communes_are_offered_as_radio_buttons(client):
    walk(client, "jeune", YOUTH_STEPS[:3])
    response = post(client, "/jeune/commune", {"commune": "Saint-Denis"})
    html = text(response)
    assert response.status_code == 200
    assert 'type="radio"' in html and 'name="choix"' in html
    assert "Saint-Denis (93) — Seine-Saint-Denis" in html
    assert "Saint-Denis (974) — La Réunion" in html
    # Sending the list back without a choice is an error, with the list kept.
    response = post(client, "/jeune/commune", {"commune": "Saint-Denis", "choix_affiche": "1"})
    assert response.status_code == 422
    assert "Choisissez votre commune dans la liste" in text(response)
    response = post(
        client, "/jeune/commune", {"commune": "Saint-Denis", "choix": "Saint-Denis (93)"}
    )
    assert response.status_code == 303
    with models.db.connection_context():
        answers = models.Draft.get().answers["commune"]
    assert answers["commune"] == "93066"


def test_partial_name_without_js_offers_the_matching_communes(client):
    walk(client, "jeune", YOUTH_STEPS[:3])
    response = post(client, "/jeune/commune", {"commune": "villeurb"})
    assert response.status_code == 200
    assert 'value="Villeurbanne (69100)"' in text(response)
    response = post(
        client, "/jeune/commune", {"commune": "villeurb", "choix": "Villeurbanne (69100)"}
    )
    assert response.status_code == 303
    with models.db.connection_context():
        assert models.Draft.get().answers["commune"]["commune"] == "69266"


def test_postal_code_alone_is_resolved(client):
    walk(client, "jeune", YOUTH_STEPS[:3])
    assert post(client, "/jeune/commune", {"commune": "13008"}).status_code == 303
    with models.db.connection_context():
        assert models.Draft.get().answers["commune"]["commune"] == "13055"


# --- navigation -------------------------------------------------------------------


def test_deep_link_is_redirected_to_the_first_unanswered_step(client):
    response = client.get("/jeune/coordonnees")
    assert response.status_code == 303
    assert response.headers["Location"] == "/jeune/age?depuis=coordonnees"
    walk(client, "jeune", YOUTH_STEPS[:2])
    response = client.get("/jeune/rencontre")
    assert response.headers["Location"] == "/jeune/besoin?depuis=rencontre"
    assert client.get("/jeune/verifier").headers["Location"] == "/jeune/besoin?depuis=verifier"


def test_posting_to_a_later_step_saves_nothing(client):
    walk(client, "jeune", YOUTH_STEPS[:1])
    response = post(client, "/jeune/rencontre", {"rencontre": "distance"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/jeune/situation?depuis=rencontre"
    with models.db.connection_context():
        assert "rencontre" not in models.Draft.get().answers


def test_unknown_step_is_404_in_french(client):
    response = client.get("/jeune/nimporte-quoi")
    assert response.status_code == 404
    assert 'lang="fr"' in text(response)


def test_back_link_is_computed_by_the_server(client):
    walk(client, "jeune", YOUTH_STEPS[:3])
    html = text(client.get("/jeune/commune"))
    assert '<a class="back-link" href="/jeune/besoin">Retour</a>' in html
    assert "history.back" not in html


def test_answers_are_kept_when_coming_back(client):
    walk(client, "jeune", YOUTH_STEPS[:3])
    html = text(client.get("/jeune/age"))
    assert 'value="17"' in html
    html = text(client.get("/jeune/besoin"))
    assert re.search(r'<input [^>]*checked[^>]*value="orientation"', html)


def test_valid_answer_goes_to_the_next_step_on_the_path(client, headers):
    token = csrf_token(client)
    response = post(client, "/jeune/age", {"age": "16"}, headers, token)
    assert response.status_code == 303
    assert response.headers["Location"] == "/jeune/situation"


def test_30_and_over_ends_on_an_honest_page(client, headers):
    response = post(client, "/jeune/age", {"age": "34"}, headers)
    assert response.headers["Location"] == "/jeune/plus-de-30-ans"
    html = text(client.get("/jeune/plus-de-30-ans"))
    assert "s'adresse aux jeunes de moins de 30 ans" in html
    assert "Je deviens mentor" in html
    assert client.get("/jeune/situation").headers["Location"] == "/jeune/plus-de-30-ans"


def test_under_11_ends_on_a_page_for_parents(client):
    response = post(client, "/jeune/age", {"age": "9"})
    assert response.headers["Location"] == "/jeune/moins-de-11-ans"
    html = text(client.get("/jeune/moins-de-11-ans"))
    assert "Un parent peut contacter directement une association" in html


def test_exit_page_is_not_reachable_otherwise(client):
    walk(client, "jeune", YOUTH_STEPS[:1])
    location = client.get("/jeune/plus-de-30-ans").headers["Location"]
    assert location == "/jeune/situation?depuis=plus-de-30-ans"


# --- check page and changes -------------------------------------------------------


def test_check_page_lists_the_answers_with_change_links(client):
    walk(client, "jeune", YOUTH_STEPS)
    html = text(client.get("/jeune/verifier"))
    assert "Vérifiez vos réponses avant d'envoyer votre demande" in html
    assert "Lyon (69003)" in html
    assert "Je ne sais pas quelle orientation choisir" in html
    assert 'href="/jeune/besoin?retour=verifier"' in html
    assert '<span class="visually-hidden"> : besoin</span>' in html
    assert "Envoyer ma demande" in html


def test_change_link_round_trip_comes_back_to_the_check_page(client, headers):
    walk(client, "jeune", YOUTH_STEPS)
    html = text(client.get("/jeune/besoin?retour=verifier"))
    assert '<a class="back-link" href="/jeune/verifier">' in html
    assert 'action="/jeune/besoin?retour=verifier"' in html
    response = post(client, "/jeune/besoin?retour=verifier", {"besoin": "emploi"}, headers)
    assert response.headers["Location"] == "/jeune/verifier"
    html = text(client.get("/jeune/verifier"))
    assert "Je cherche un stage, une alternance, un premier emploi" in html


def test_change_into_a_new_branch_asks_the_new_question_then_returns(client):
    walk(client, "jeune", YOUTH_STEPS)
    response = post(client, "/jeune/age?retour=verifier", {"age": "13"})
    assert response.headers["Location"] == "/jeune/parent?retour=verifier"
    response = post(client, "/jeune/parent?retour=verifier", PARENT_STEP[1])
    assert response.headers["Location"] == "/jeune/verifier"
    assert "Samia Martin" in client.get("/jeune/verifier").get_data(as_text=True)


def test_leaving_a_branch_drops_its_answers(client):
    walk(client, "jeune", [("age", {"age": "13"})] + YOUTH_STEPS[1:] + [PARENT_STEP])
    post(client, "/jeune/age?retour=verifier", {"age": "16"})
    with models.db.connection_context():
        assert "parent" not in models.Draft.get().answers
    assert "Samia" not in client.get("/jeune/verifier").get_data(as_text=True)


def test_parent_agreement_is_required_under_15(client):
    walk(client, "jeune", [("age", {"age": "13"})] + YOUTH_STEPS[1:])
    data = dict(PARENT_STEP[1])
    del data["parent_accord"]
    response = post(client, "/jeune/parent", data)
    assert response.status_code == 422
    assert "Cochez la case si votre parent ou représentant légal est d'accord" in text(response)
    assert client.get("/jeune/verifier").headers["Location"] == "/jeune/parent?depuis=verifier"


# --- submit -----------------------------------------------------------------------


def test_consent_is_required(client, headers):
    walk(client, "jeune", YOUTH_STEPS)
    response = post(client, "/jeune/verifier", {}, headers)
    assert response.status_code == 422
    assert "Cochez la case pour accepter" in text(response)
    assert count(models.Lead) == 0


def test_youth_submit_creates_one_lead_with_its_orientations(client, headers):
    walk(client, "jeune", YOUTH_STEPS, headers)
    response = submit(client, "jeune", headers)
    assert response.status_code == 303
    location = response.headers["Location"]
    assert location.startswith("/jeune/resultat/J-")
    with models.db.connection_context():
        lead = models.Lead.get()
        orientations = list(lead.orientations.order_by(models.Orientation.rank))
        assert lead.kind == "jeune"
        assert lead.age == 17
        assert lead.departement == "69"
        assert lead.telephone == "+33612345678"
        assert orientations and orientations[0].rank == 1
        assert orientations[0].reasons
        assert orientations[0].matcher_version
        assert lead.association_id == orientations[0].programme.association_id
        assert models.Draft.get().submitted_at is not None
    html = text(client.get(location))
    assert "Votre demande est bien enregistrée" in html
    assert lead.reference in html
    assert "Association proposée\xa0:</span> " in html
    assert "Pourquoi cette association ?" in html
    assert "jours ouvrés par SMS" in html


def test_double_submit_creates_one_lead(client):
    walk(client, "jeune", YOUTH_STEPS)
    token = csrf_token(client, "/jeune/verifier")
    first = post(client, "/jeune/verifier", {"consentement": "y"}, token=token)
    second = post(client, "/jeune/verifier", {"consentement": "y"}, token=token)
    assert first.headers["Location"] == second.headers["Location"]
    assert count(models.Lead) == 1


def test_after_submit_a_new_questionnaire_starts_fresh(client):
    walk(client, "jeune", YOUTH_STEPS)
    submit(client, "jeune")
    html = text(client.get("/jeune/age"))
    assert 'value="17"' not in html
    walk(client, "jeune", YOUTH_STEPS)
    submit(client, "jeune")
    assert count(models.Lead) == 2


def test_under_15_submit_keeps_the_parent(client):
    walk(client, "jeune", [("age", {"age": "13"})] + YOUTH_STEPS[1:] + [PARENT_STEP])
    assert submit(client, "jeune").status_code == 303
    with models.db.connection_context():
        assert models.Lead.get().answers["parent_prenom"] == "Samia"


def test_mentor_submit(client, headers):
    walk(client, "mentor", MENTOR_STEPS, headers)
    html = text(client.get("/mentor/verifier"))
    assert "Envoyer ma candidature" in html
    response = submit(client, "mentor", headers)
    assert response.headers["Location"].startswith("/mentor/resultat/M-")
    html = text(client.get(response.headers["Location"]))
    assert "Votre candidature est bien enregistrée" in html
    assert "Association proposée\xa0:</span> " in html
    with models.db.connection_context():
        lead = models.Lead.get()
        assert lead.kind == "mentor"
        assert lead.orientations.count() >= 1


def test_result_page_is_private_to_the_browser_that_sent_it(app, client):
    walk(client, "jeune", YOUTH_STEPS)
    location = submit(client, "jeune").headers["Location"]
    other = app.test_client()
    assert other.get(location).status_code == 404


def test_switching_to_an_alternative_is_recorded(client):
    walk(client, "jeune", YOUTH_STEPS)
    location = submit(client, "jeune").headers["Location"]
    with models.db.connection_context():
        lead = models.Lead.get()
        alternative = lead.orientations.where(models.Orientation.rank == 2).get()
        association = alternative.programme.association
    response = post(client, location + "/choisir", {"orientation": alternative.id})
    assert response.status_code == 303
    with models.db.connection_context():
        lead = models.Lead.get()
        outcomes = {o.rank: o.outcome for o in lead.orientations}
        assert outcomes[1] == "refusee" and outcomes[2] == "acceptee"
        assert lead.association_id == association.id
        assert lead.evenements.where(models.Evenement.kind == "choix_alternative").count() == 1
    html = text(client.get(location))
    assert f"Association proposée\xa0:</span> {association.nom}" in html


def test_switching_to_a_foreign_orientation_is_refused(client):
    walk(client, "jeune", YOUTH_STEPS)
    location = submit(client, "jeune").headers["Location"]
    for junk in ("999999", "abc", ""):
        assert post(client, location + "/choisir", {"orientation": junk}).status_code == 400


# --- CSRF -------------------------------------------------------------------------


def test_missing_or_expired_csrf_gives_a_kind_page_that_keeps_the_place(client, headers):
    walk(client, "jeune", YOUTH_STEPS[:2])
    response = client.post("/jeune/besoin", data={"besoin": "emploi"}, headers=headers)
    html = text(response)
    assert response.status_code == 400
    assert "Cette page a expiré" in html
    assert 'href="/jeune/besoin"' in html
    response = client.post(
        "/jeune/besoin", data={"besoin": "emploi", "csrf_token": "expired.token"}
    )
    assert response.status_code == 400
    with models.db.connection_context():
        assert set(models.Draft.get().answers) == {"age", "situation"}


def test_draft_cookie_outlives_the_browser_session_for_a_day(client):
    response = post(client, "/jeune/age", {"age": "17"})
    cookie = response.headers["Set-Cookie"]
    assert "Expires=" in cookie
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


# --- races, stale answers and htmx history ------------------------------------------


def draft_token(client):
    with client.session_transaction() as session:
        return session["drafts"]["jeune"]


def test_a_late_save_from_another_tab_never_reopens_a_sent_draft(app, client):
    walk(client, "jeune", YOUTH_STEPS)
    token = draft_token(client)
    submit(client, "jeune")
    with app.test_request_context(), models.db.connection_context():
        draft = drafts.save_step(token, "jeune", "besoin", {"besoin": "emploi"}, 30)
        assert draft.token != token  # a fresh draft
        sent = models.Draft.get(models.Draft.token == token)
        assert sent.submitted_at is not None and sent.lead_id is not None
        assert sent.answers["besoin"] == {"besoin": "orientation"}


def test_a_save_from_a_stale_read_keeps_the_answers_saved_meanwhile(app, client):
    walk(client, "jeune", YOUTH_STEPS[:3])
    token = draft_token(client)
    with app.test_request_context(), models.db.connection_context():
        first, second = (drafts.get_draft(token, "jeune", 30) for _ in range(2))
        drafts.save_step(token, "jeune", "besoin", {"besoin": "emploi"}, 30, seen=first)
        commune = {"commune": "Lyon (69003)"}
        saved = drafts.save_step(token, "jeune", "commune", commune, 30, seen=second)
        assert saved.token == token
        answers = models.Draft.get(models.Draft.token == token).answers
        assert answers["besoin"] == {"besoin": "emploi"} and answers["commune"] == commune
    # and a submitted draft read before its submit is never written to
    walk(client, "jeune", YOUTH_STEPS[3:])
    with app.test_request_context(), models.db.connection_context():
        before = drafts.get_draft(token, "jeune", 30)
    submit(client, "jeune")
    with app.test_request_context(), models.db.connection_context():
        later = drafts.save_step(
            token, "jeune", "besoin", {"besoin": "orientation"}, 30, seen=before
        )
        assert later.token != token
        assert models.Draft.get(models.Draft.token == token).answers["besoin"] == {
            "besoin": "emploi"
        }


def test_submit_checks_the_answers_inside_its_transaction(app, client):
    walk(client, "jeune", YOUTH_STEPS)
    token = draft_token(client)
    with models.db.connection_context():
        draft = models.Draft.get(models.Draft.token == token)
        draft.answers = dict(draft.answers, age={"age": 13})  # another tab, meanwhile
        draft.save()
    with app.test_request_context(), models.db.connection_context():
        with pytest.raises(drafts.InvalidDraft) as error:
            drafts.submit(token, lambda journey: None)
        assert error.value.step == "parent"
        assert models.Lead.select().count() == 0
        assert models.Draft.get(models.Draft.token == token).submitted_at is None


def test_a_commune_gone_from_the_file_is_flagged_on_the_check_page(client):
    walk(client, "jeune", YOUTH_STEPS)
    with models.db.connection_context():
        models.Localite.update(code_postal="69999").where(
            models.Localite.code_postal == "69003"
        ).execute()
    response = client.get("/jeune/verifier")
    page = text(response)
    assert "<title>Erreur : " in page
    assert "Votre réponse à la question « Où habitez-vous ? » n'est plus valable" in page
    assert 'href="/jeune/commune?retour=verifier"' in page
    assert post(client, "/jeune/verifier", {"consentement": "y"}).headers["Location"] == (
        "/jeune/verifier"
    )
    assert count(models.Lead) == 0


def test_a_field_missing_from_the_post_is_stored_empty(client):
    walk(client, "jeune", YOUTH_STEPS[:6])
    data = dict(YOUTH_STEPS[6][1])
    del data["email"]
    assert post(client, "/jeune/coordonnees", data).status_code == 303
    assert submit(client, "jeune").status_code == 303
    with models.db.connection_context():
        assert models.Lead.get().email == ""


def test_tapping_the_same_alternative_twice_is_fine(client):
    walk(client, "jeune", YOUTH_STEPS)
    location = submit(client, "jeune").headers["Location"]
    with models.db.connection_context():
        alternative = models.Orientation.get(models.Orientation.rank == 2)
    for _ in range(2):
        response = post(client, location + "/choisir", {"orientation": alternative.id})
        assert response.status_code == 303


def test_expired_token_on_a_choice_leads_back_to_the_result(client):
    walk(client, "jeune", YOUTH_STEPS)
    location = submit(client, "jeune").headers["Location"]
    response = client.post(location + "/choisir", data={"orientation": "1"})
    assert response.status_code == 400
    assert f'href="{location}"' in text(response)


def test_questionnaire_pages_are_never_cached(client):
    walk(client, "jeune", YOUTH_STEPS)
    for url in ("/jeune/age", "/jeune/verifier"):
        assert client.get(url).headers["Cache-Control"] == "no-store"


def test_a_page_answering_a_post_is_not_pushed_to_history(client):
    response = post(client, "/jeune/age", {"age": ""}, HX)
    assert response.status_code == 422
    assert response.headers["HX-Push-Url"] == "false"


def test_history_restore_shows_the_url_of_what_is_displayed(client):
    walk(client, "jeune", YOUTH_STEPS)
    location = submit(client, "jeune").headers["Location"]
    restore = {"HX-Request": "true", "HX-History-Restore-Request": "true"}
    response = client.get(location, headers=restore)
    assert response.headers["HX-Replace-Url"] == location


def test_server_error_in_an_htmx_request_gets_the_region_only(app):
    app.config["PROPAGATE_EXCEPTIONS"] = False
    app.add_url_rule("/boom", "boom", lambda: 1 / 0)
    client = app.test_client()
    page = client.get("/boom")
    fragment = client.get("/boom", headers=HX)
    assert page.status_code == fragment.status_code == 500
    assert "<html" in text(page)
    assert "<html" not in text(fragment) and "autofocus" in text(fragment)
    assert "le service rencontre un problème" in text(fragment)


def test_a_really_expired_token_gets_the_kind_page(app, client):
    walk(client, "jeune", YOUTH_STEPS[:1])
    app.config["WTF_CSRF_TIME_LIMIT"] = 1
    token = csrf_token(client, "/jeune/situation")
    time.sleep(2.1)
    response = post(client, "/jeune/situation", {"situation": "college"}, token=token)
    assert response.status_code == 400
    assert "Cette page a expiré" in text(response)
    assert 'href="/jeune/situation"' in text(response)
    with models.db.connection_context():
        assert models.Draft.get().answers == {"age": {"age": 17}}


@pytest.mark.parametrize(
    ("typed", "offered"),
    [
        ("Évry", "Évry-Courcouronnes (91000)"),  # a tiny Évry (89) exists too
        ("Evry (91000)", "Évry-Courcouronnes (91000)"),  # the code does not fit "Évry"
    ],
)
def test_a_name_shared_with_a_bigger_commune_is_never_taken_silently(client, typed, offered):
    walk(client, "jeune", YOUTH_STEPS[:3])
    response = post(client, "/jeune/commune", {"commune": typed})
    assert response.status_code == 200
    assert f'value="{offered}"' in text(response)
    assert count(models.Draft) == 1  # nothing saved for this step
    with models.db.connection_context():
        assert "commune" not in models.Draft.get().answers


def test_a_big_city_typed_by_name_is_taken_at_once(client):
    walk(client, "jeune", YOUTH_STEPS[:3])
    assert post(client, "/jeune/commune", {"commune": "lyon"}).status_code == 303


def test_result_page_takes_a_fixed_number_of_queries(client):
    walk(client, "jeune", YOUTH_STEPS)
    location = submit(client, "jeune").headers["Location"]
    with counted_queries() as queries:
        assert client.get(location).status_code == 200
    # The lead, its orientations with programmes and associations, the changes made, the
    # confirmations queued (the page says what was sent).
    assert len(queries) == 4


# --- bad input: HEAD, headers from the path, boxes, multi-choices, changes -------------


def test_head_answers_as_get_does_on_every_page(client):
    walk(client, "jeune", YOUTH_STEPS)
    urls = [f"/jeune/{name}" for name, _ in YOUTH_STEPS] + ["/jeune/verifier"]
    urls += ["/jeune/besoin?retour=verifier", "/jeune/parent", "/mentor/situation"]
    with models.db.connection_context():
        before = models.Draft.get().answers
    for url in urls:
        get, head = client.get(url), client.head(url)
        assert head.status_code == get.status_code, url
        assert head.get_data() == b""
        assert head.headers.get("Location") == get.headers.get("Location")
    location = submit(client, "jeune").headers["Location"]
    assert client.head(location).status_code == client.get(location).status_code == 200
    assert client.head(location + "/choisir").status_code == 405  # POST only
    assert client.head("/jeune/plus-de-30-ans").status_code == 303
    assert client.head("/communes/suggestions?commune=lyon").status_code == 200
    with models.db.connection_context():
        assert models.Draft.get().answers == before  # HEAD never saved anything
        assert models.Draft.select().count() == 1


def test_wrong_method_is_405_in_french_with_allow(client):
    response = client.put("/jeune/age")
    assert response.status_code == 405
    assert 'lang="fr"' in text(response)
    assert set(response.headers["Allow"].split(", ")) >= {"GET", "HEAD", "POST"}


ODD_PATHS = [
    "/jeune/%F0%9F%98%80",  # emoji
    "/jeune/a%0Ab",  # newline
    "/jeune/a%0D%0ASet-Cookie:x=1",  # header injection
    "/jeune/a%00b",  # NUL
    "/jeune/age?retour=%0A%00%F0%9F%98%80",
    "/jeune/age?parcours=x&_external=1&_scheme=javascript",  # url_for's own arguments
    "/%F0%9F%98%80/%0A",
    "/jeune/%FF%FE",  # invalid UTF-8
]
RESTORE = {"HX-Request": "true", "HX-Request-Type": "full", "HX-History-Restore-Request": "true"}


def assert_safe_headers(response):
    for name, value in response.headers.items():
        assert value.isascii() and value.isprintable(), (name, value)


@pytest.mark.parametrize("path", ODD_PATHS)
def test_an_odd_path_never_reaches_a_header(client, path):
    for headers in ({}, HX, RESTORE):
        response = client.get(path, headers=headers)
        assert response.status_code in (200, 404), path
        assert_safe_headers(response)


def test_history_restore_rebuilds_the_url_percent_encoded(client):
    response = client.get("/jeune/age?retour=%0A%F0%9F%98%80", headers=RESTORE)
    assert response.status_code == 200
    assert response.headers["HX-Replace-Url"] == "/jeune/age?retour=%0A%F0%9F%98%80"
    response = client.get("/jeune/%F0%9F%98%80", headers=RESTORE)
    assert response.status_code == 404
    assert response.headers["HX-Replace-Url"] == "/jeune/%F0%9F%98%80"


def test_the_expired_page_link_is_rebuilt_from_the_route(client):
    walk(client, "jeune", YOUTH_STEPS[:2])
    response = client.post("/jeune/besoin?retour=%0A%22%3E", data={"besoin": "emploi"})
    assert response.status_code == 400
    assert 'href="/jeune/besoin?retour=%0A%22%3E"' in response.get_data(as_text=True)


@pytest.mark.parametrize("value", ["false", "0", "no", "off", "on", "Y", "true", " y", ""])
def test_consent_counts_only_with_the_box_own_value(client, value):
    walk(client, "jeune", YOUTH_STEPS)
    response = post(client, "/jeune/verifier", {"consentement": value})
    assert response.status_code == 422
    assert "Cochez la case pour accepter" in text(response)
    assert 'value="y"' in text(response)  # the box keeps its own value, not the one sent
    assert count(models.Lead) == 0


@pytest.mark.parametrize("value", ["false", "0", "non", "yes"])
def test_a_refused_parent_agreement_stops_the_parent_step(client, value):
    walk(client, "jeune", [("age", {"age": "13"})] + YOUTH_STEPS[1:])
    response = post(client, "/jeune/parent", dict(PARENT_STEP[1], parent_accord=value))
    assert response.status_code == 422
    assert "Cochez la case si votre parent ou représentant légal est d'accord" in text(response)
    with models.db.connection_context():
        assert "parent" not in models.Draft.get().answers


def test_a_stored_refusal_never_shows_yes_and_is_never_sent(client):
    walk(client, "jeune", [("age", {"age": "13"})] + YOUTH_STEPS[1:] + [PARENT_STEP])
    assert "Accord du parent" in text(client.get("/jeune/verifier"))
    with models.db.connection_context():
        draft = models.Draft.get()
        answers = dict(draft.answers)
        answers["parent"] = dict(answers["parent"], parent_accord=False)
        draft.answers = answers
        draft.save()
    html = text(client.get("/jeune/verifier"))
    assert re.search(r"Accord du parent</dt>\s*<dd[^>]*>\s*Non\s*</dd>", html)
    assert "« Votre parent ou représentant légal » n'est plus valable" in html
    response = post(client, "/jeune/verifier", {"consentement": "y"})
    assert response.headers["Location"] == "/jeune/verifier"
    assert count(models.Lead) == 0


@pytest.mark.parametrize("value", ["false", "0", "junk"])
def test_sensitive_agreement_counts_only_with_the_box_own_value(client, value):
    walk(client, "jeune", YOUTH_STEPS[:4])
    data = {"situations": ["handicap"], "accord_sensible": value}
    response = post(client, "/jeune/situation-particuliere", data)
    assert response.status_code == 422
    assert "cochez la case d'accord" in text(response)


@pytest.mark.parametrize(
    ("step", "data", "message"),
    [
        ("situation-particuliere", {"situations": ["", "evil"]}, "Choisissez parmi les situations"),
        ("situation-particuliere", {"situations": ["qpv", "evil"]}, "Choisissez parmi les"),
        ("accompagnement", {"besoins": ["", "evil"]}, "Choisissez parmi les sujets proposés"),
        ("accompagnement", {"besoins": ["emploi"], "publics": ["", "x"]}, "parmi les jeunes"),
        ("accompagnement", {"besoins": ["", ""]}, "Choisissez au moins un sujet"),
    ],
)
def test_every_value_of_a_multi_choice_is_checked(client, step, data, message):
    parcours, steps = (
        ("jeune", YOUTH_STEPS[:4]) if step.startswith("sit") else ("mentor", MENTOR_STEPS[:3])
    )
    walk(client, parcours, steps)
    response = post(client, f"/{parcours}/{step}", data)
    assert response.status_code == 422
    assert message in text(response)
    with models.db.connection_context():
        assert step not in models.Draft.get().answers


def test_blank_and_repeated_boxes_are_dropped(client):
    walk(client, "mentor", MENTOR_STEPS[:3])
    data = {"besoins": ["", "emploi", "emploi", "orientation"], "publics": ["", "lyceens"]}
    assert post(client, "/mentor/accompagnement", data).status_code == 303
    with models.db.connection_context():
        stored = models.Draft.get().answers["accompagnement"]
    assert stored == {"besoins": ["emploi", "orientation"], "publics": ["lyceens"]}


def test_changes_of_association_are_capped_and_said(client, headers):
    walk(client, "jeune", YOUTH_STEPS)
    location = submit(client, "jeune").headers["Location"]
    assert "Vous pouvez changer d'association jusqu'à 3 fois." in text(client.get(location))
    with models.db.connection_context():
        first, second = models.Orientation.select().order_by(models.Orientation.rank)[:2]
    token = csrf_token(client, location)
    for target in (second, first, second):
        response = post(client, location + "/choisir", {"orientation": target.id}, token=token)
        assert response.status_code == 303
    response = post(client, location + "/choisir", {"orientation": first.id}, headers, token)
    html = text(response)
    assert response.status_code == 409
    assert ("<html" in html) is not bool(headers)
    assert "Vous avez changé d'association 3 fois : ce n'est plus possible ici." in html
    assert "/choisir" not in html
    with models.db.connection_context():
        outcomes = {o.rank: o.outcome for o in models.Orientation.select()}
        lead = models.Lead.get()
        assert outcomes[2] == "acceptee" and outcomes[1] == "refusee"
        assert lead.evenements.where(models.Evenement.kind == "choix_alternative").count() == 3
    # The current one tapped again is still fine; the page says why nothing else is.
    response = post(client, location + "/choisir", {"orientation": second.id}, token=token)
    assert response.status_code == 303
    assert "ce n'est plus possible ici" in text(client.get(location))


def test_a_huge_orientation_number_is_400(client):
    walk(client, "jeune", YOUTH_STEPS)
    location = submit(client, "jeune").headers["Location"]
    for junk in ("9" * 5000, "1e3", "-1", "0x10"):
        assert post(client, location + "/choisir", {"orientation": junk}).status_code == 400


def test_a_raw_query_string_that_is_not_utf8_is_no_error(client):
    response = client.get("/jeune/age", environ_overrides={"QUERY_STRING": "retour=\xff\x80"})
    assert response.status_code == 200
    assert 'action="/jeune/age"' in text(response)  # not the change link of the check page


def test_a_referer_that_is_no_url_gets_the_kind_page_over_https(client):
    token = csrf_token(client)
    response = client.post(
        "/jeune/age",
        data={"age": "17", "csrf_token": token},
        base_url="https://localhost",
        headers={"Referer": "http://["},
    )
    assert response.status_code == 400
    assert "Cette page a expiré" in text(response)
    assert count(models.Draft) == 0


def test_a_multipart_part_with_an_unreadable_name_is_no_field(client):
    token = csrf_token(client)
    for name in ("\r", "a\nb"):
        data = {name: "x", "age": "17"}
        response = client.post("/jeune/age", data=data, content_type="multipart/form-data")
        assert response.status_code == 400  # the token is looked for among the names
        assert "Cette page a expiré" in text(response)
        data["csrf_token"] = token
        response = client.post("/jeune/age", data=data, content_type="multipart/form-data")
        assert response.status_code == 303


# --- the light request path: cached pages, reused CSRF tokens -----------------------


def test_a_cached_question_page_carries_each_session_its_own_token(app):
    first, second = app.test_client(), app.test_client()
    responses = [c.get("/jeune/age") for c in (first, second, first)]
    assert all("Cookie" in r.headers["Vary"] and r.status_code == 200 for r in responses)
    assert "Set-Cookie" in responses[0].headers and "Set-Cookie" not in responses[2].headers
    pages = [r.get_data(as_text=True) for r in responses]
    tokens = [CSRF_RE.search(page).group(1) for page in pages]
    assert tokens[0] != tokens[1]  # one page from the cache, two sessions
    assert tokens[2] == tokens[0]  # signed once, reused within the session
    assert pages[0] == pages[2]
    assert pages[0].replace(tokens[0], "") == pages[1].replace(tokens[1], "")
    assert "csrf-" not in pages[1]  # the placeholder never shows
    stolen = post(second, "/jeune/age", {"age": "17"}, token=tokens[0])
    assert stolen.status_code == 400
    assert post(first, "/jeune/age", {"age": "17"}, token=tokens[0]).status_code == 303


def test_a_cached_page_shows_the_answer_stored_now(client):
    walk(client, "jeune", YOUTH_STEPS[:3])
    checked = re.compile(
        r'checked class="radio__input" id="besoin-\d+" name="besoin"[^>]*value="(\w+)"'
    )
    assert checked.findall(client.get("/jeune/besoin").get_data(as_text=True)) == ["orientation"]
    assert post(client, "/jeune/besoin", {"besoin": "emploi"}).status_code == 303
    assert checked.findall(client.get("/jeune/besoin").get_data(as_text=True)) == ["emploi"]
    fragment = client.get("/jeune/besoin", headers=HX).get_data(as_text=True)
    assert "<html" not in fragment and checked.findall(fragment) == ["emploi"]


def test_typed_answers_are_never_kept_in_the_page_cache(app, client):
    walk(client, "jeune", YOUTH_STEPS)
    assert client.get("/jeune/situation-particuliere").status_code == 200
    page = client.get("/jeune/coordonnees").get_data(as_text=True)
    assert "ines.martin@example.org" in page
    cached = "".join(app.extensions["step_pages"].values())
    assert 'name="situations"' in cached  # choices are kept
    assert "ines.martin@example.org" not in cached and "Martin" not in cached


def test_a_reused_token_still_expires_with_its_time_limit(app, client):
    token = csrf_token(client)
    assert csrf_token(client) == token  # reused: no new signature
    app.config["WTF_CSRF_TIME_LIMIT"] = -1  # any token is now too old
    assert post(client, "/jeune/age", {"age": "17"}, token=token).status_code == 400


def test_a_remembered_session_cookie_still_expires_with_its_lifetime(app, client):
    walk(client, "jeune", YOUTH_STEPS[:1])
    assert client.get("/jeune/situation").status_code == 200  # the cookie just signed
    app.config["PERMANENT_SESSION_LIFETIME"] = dt.timedelta(seconds=-1)
    response = client.get("/jeune/situation")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/jeune/age?depuis=situation")


def test_an_unchanged_session_cookie_is_signed_again_only_once_old(client, monkeypatch):
    from web import session as web_session

    assert "Set-Cookie" in post(client, "/jeune/age", {"age": "17"}).headers  # a new draft
    same = post(client, "/jeune/situation", {"situation": "college"})
    assert same.status_code == 303 and "Set-Cookie" not in same.headers
    monkeypatch.setattr(web_session, "COOKIE_RENEWAL_SECONDS", 0)
    renewed = post(client, "/jeune/situation", {"situation": "college"})
    assert "Expires=" in renewed.headers["Set-Cookie"]
