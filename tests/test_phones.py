"""Phone numbers: one rule (phones.py) for the youth, the parent, the mentor and the
catalogue; stored in E.164; shown one way on every page."""

import csv
import html as html_lib
from pathlib import Path

import pytest
from helpers import MENTOR_STEPS, PARENT_STEP, YOUTH_STEPS, csrf_token, post, submit, walk
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import models
from domain import phones
from forms import questionnaire
from services import catalogue
from services.catalogue import CatalogueError, Problem

# (as typed, E.164, as shown, takes SMS)
VALID = [
    # Metropolitan France, written every usual way.
    ("06 12 34 56 78", "+33612345678", "06 12 34 56 78", True),
    ("0612345678", "+33612345678", "06 12 34 56 78", True),
    ("06.12.34.56.78", "+33612345678", "06 12 34 56 78", True),
    ("06-12-34-56-78", "+33612345678", "06 12 34 56 78", True),
    ("+33 6 12 34 56 78", "+33612345678", "06 12 34 56 78", True),
    ("+33612345678", "+33612345678", "06 12 34 56 78", True),
    ("0033 6 12 34 56 78", "+33612345678", "06 12 34 56 78", True),
    ("+33 (0)6 12 34 56 78", "+33612345678", "06 12 34 56 78", True),
    ("07 81 23 45 67", "+33781234567", "07 81 23 45 67", True),
    ("01 23 45 67 89", "+33123456789", "01 23 45 67 89", False),
    ("09 69 39 00 00", "+33969390000", "09 69 39 00 00", False),  # a box line (VoIP)
    ("0 800 12 34 56", "+33800123456", "0 800 12 34 56", False),  # toll-free
    # Overseas départements in the national format: their own E.164 code.
    ("0262 16 12 34", "+262262161234", "+262 262 16 12 34", False),  # La Réunion
    ("0692 12 34 56", "+262692123456", "+262 692 12 34 56", True),
    ("0269 60 12 34", "+262269601234", "+262 269 60 12 34", False),  # Mayotte
    ("0639 01 23 45", "+262639012345", "+262 639 01 23 45", True),
    ("0590 20 12 34", "+590590201234", "+590 590 20 12 34", False),  # Guadeloupe
    ("0690 00 12 34", "+590690001234", "+590 690 00 12 34", True),
    ("0691 28 12 34", "+590691281234", "+590 691 28 12 34", True),
    ("0594 10 12 34", "+594594101234", "+594 594 10 12 34", False),  # Guyane
    ("0694 20 12 34", "+594694201234", "+594 694 20 12 34", True),
    ("0596 30 12 34", "+596596301234", "+596 596 30 12 34", False),  # Martinique
    ("0696 20 12 34", "+596696201234", "+596 696 20 12 34", True),
    ("0709 21 23 45", "+262709212345", "+262 709 21 23 45", True),  # new overseas mobiles
    ("0709 02 12 34", "+590709021234", "+590 709 02 12 34", True),
    # ... and in the international format, +33 included.
    ("+262 692 12 34 56", "+262692123456", "+262 692 12 34 56", True),
    ("00262 692 12 34 56", "+262692123456", "+262 692 12 34 56", True),
    ("+33 6 92 12 34 56", "+262692123456", "+262 692 12 34 56", True),
    ("+590 690 00 12 34", "+590690001234", "+590 690 00 12 34", True),
    ("+594 694 20 12 34", "+594694201234", "+594 694 20 12 34", True),
    ("+596 696 20 12 34", "+596696201234", "+596 696 20 12 34", True),
    ("+269 639 01 23 45", "+262639012345", "+262 639 01 23 45", True),  # Mayotte before 2007
    # Overseas collectivities with a plan of their own.
    ("+508 55 12 34", "+508551234", "+508 55 12 34", True),  # Saint-Pierre-et-Miquelon
    ("+681 82 12 34", "+681821234", "+681 82 12 34", True),  # Wallis-et-Futuna
    ("+687 75 12 34", "+687751234", "+687 75.12.34", True),  # Nouvelle-Calédonie
    ("+689 87 12 34 56", "+68987123456", "+689 87 12 34 56", True),  # Polynésie française
]
INVALID = [
    "12345",
    "06 12 34 56",  # too short
    "06123456789",  # too long
    "0012345678",
    "00 00 00 00 00",
    "+44 20 7946 0958",  # United Kingdom
    "+1 202 555 0143",
    "+269 321 23 45",  # Comoros, not Mayotte
    "0700 00 00 00",  # not allocated
    "08 99 12 34 56",  # premium rate: the association would pay to call back
    "06 CALL ME 78",
    "0800 FLOWERS",
    "06 12 34 56 78 poste 12",
    "٠٦١٢٣٤٥٦٧٨",  # digits, but not the ones a French keyboard types
    "06" + " " * 30 + "12 34 56 78",  # longer than any way of writing a number
    "",
]


@pytest.mark.parametrize(("typed", "stored", "shown", "sms"), VALID)
def test_french_numbers_are_accepted_stored_and_shown_one_way(typed, stored, shown, sms):
    assert phones.canonical(typed) == stored
    assert phones.display(stored) == phones.display(typed) == shown
    assert phones.href(typed) == f"tel:{stored}"
    assert phones.takes_sms(typed) is sms


@pytest.mark.parametrize("typed", INVALID)
def test_other_numbers_are_refused(typed):
    assert phones.parse(typed) is None
    assert phones.canonical(typed) == phones.href(typed) == ""
    assert phones.display(typed) == typed  # never hidden, never rewritten
    assert not phones.takes_sms(typed)


@settings(max_examples=500, deadline=None)
@given(
    st.one_of(
        st.text(alphabet="0123456789", max_size=25),
        st.from_regex(r"(\+|00)?(33|262|269|590|687)?[0-9 .()-]{0,20}", fullmatch=True),
        st.text(max_size=40),
    )
)
def test_any_text_gives_a_number_or_none_never_an_error(typed):
    number = phones.canonical(typed)
    assert number == "" or phones.canonical(number) == number  # E.164 reads back as itself
    assert isinstance(phones.display(typed), str)
    assert phones.takes_sms(typed) in (True, False)


# --- The forms ----------------------------------------------------------------------------------
def text(response):
    return html_lib.unescape(response.get_data(as_text=True))


def contact(client, **fields):
    walk(client, "jeune", YOUTH_STEPS[:6])
    return post(client, "/jeune/coordonnees", dict(YOUTH_STEPS[6][1], **fields))


def stored_answers():
    with models.db.connection_context():
        return models.Draft.get().answers


def test_youth_phone_is_stored_in_e164(client):
    response = contact(client, telephone="0692 12 34 56")
    assert response.status_code == 303
    assert stored_answers()["coordonnees"]["telephone"] == "+262692123456"
    # Shown back the one way: in the field when changing it, and on the check page.
    assert 'value="+262 692 12 34 56"' in text(client.get("/jeune/coordonnees"))
    assert "+262 692 12 34 56" in text(client.get("/jeune/verifier"))


@pytest.mark.parametrize("landline", ["01 23 45 67 89", "0262 16 12 34", "09 69 39 00 00"])
def test_sms_to_a_landline_is_refused_with_a_clear_message(client, landline):
    response = contact(client, telephone=landline, contact_pref="sms")
    assert response.status_code == 422
    assert questionnaire.SMS_ERROR in text(response)
    assert "coordonnees" not in stored_answers()


@pytest.mark.parametrize("pref", ["telephone", "email"])
def test_a_landline_is_fine_to_be_called_or_mailed(client, pref):
    assert contact(client, telephone="01 23 45 67 89", contact_pref=pref).status_code == 303


def test_sms_to_an_overseas_mobile_is_accepted(client):
    assert contact(client, telephone="+594 694 20 12 34", contact_pref="sms").status_code == 303


def test_a_foreign_number_is_refused_with_the_french_message(client):
    response = contact(client, telephone="+44 20 7946 0958")
    assert response.status_code == 422
    assert "Indiquez un numéro de téléphone français, par exemple 06 12 34 56 78" in text(response)
    assert 'value="+44 20 7946 0958"' in text(response)  # kept as typed, to correct it


def test_parent_and_mentor_phones_follow_the_same_rule(client):
    young = [("age", {"age": "13"})] + YOUTH_STEPS[1:]
    walk(client, "jeune", young)
    parent = dict(PARENT_STEP[1], parent_telephone="0590 20 12 34")
    assert post(client, "/jeune/parent", parent).status_code == 303
    assert stored_answers()["parent"]["parent_telephone"] == "+590590201234"
    refused = dict(parent, parent_telephone="+1 202 555 0143")
    assert post(client, "/jeune/parent", refused).status_code == 422

    other = client.application.test_client()
    walk(other, "mentor", MENTOR_STEPS[:6])
    mentor = dict(MENTOR_STEPS[6][1], telephone="+687 75 12 34")
    assert post(other, "/mentor/coordonnees", mentor).status_code == 303
    with models.db.connection_context():
        draft = models.Draft.get(models.Draft.parcours == "mentor")
    assert draft.answers["coordonnees"]["telephone"] == "+687751234"


def test_a_draft_stored_with_the_old_format_still_submits(client):
    """Drafts saved before E.164 hold "0612345678": re-validated and sent as they are."""
    walk(client, "jeune", YOUTH_STEPS)
    with models.db.connection_context():
        draft = models.Draft.get()
        answers = dict(draft.answers)
        answers["coordonnees"] = dict(answers["coordonnees"], telephone="0612345678")
        models.Draft.update(answers=answers).execute()
    assert "06 12 34 56 78" in text(client.get("/jeune/verifier"))
    response = submit(client, "jeune")
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/jeune/resultat/J-")


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    typed=st.one_of(st.text(alphabet="0123456789", max_size=40), st.text(max_size=40)),
    pref=st.sampled_from(["telephone", "sms", "email"]),
)
def test_random_digits_never_give_a_server_error(client, typed, pref):
    with models.db.connection_context():
        models.Draft.delete().execute()
    client.delete_cookie("session")
    walk(client, "jeune", YOUTH_STEPS[:6])
    data = dict(
        YOUTH_STEPS[6][1], telephone=typed, contact_pref=pref, csrf_token=csrf_token(client)
    )
    response = client.post("/jeune/coordonnees", data=data)
    assert response.status_code in (303, 422)
    if response.status_code == 303:
        stored = stored_answers()["coordonnees"]["telephone"]
        assert stored == "" or phones.canonical(stored) == stored
        assert pref != "sms" or phones.takes_sms(stored)


# --- Pages and the catalogue --------------------------------------------------------------------
def test_result_page_links_the_association_phone_in_e164(client):
    walk(client, "jeune", YOUTH_STEPS)
    html = text(client.get(submit(client, "jeune").headers["Location"]))
    assert '<a href="tel:+33199' in html
    assert "Téléphone : <a" in html and ">01 99 00 " in html


def test_under_11_page_links_phones_in_e164(client):
    post(client, "/jeune/age", {"age": "9"})
    html = text(client.get("/jeune/moins-de-11-ans"))
    assert '<a href="tel:+33199000101">01 99 00 01 01</a>' in html  # Savoirs Partagés


DEMO = Path(__file__).resolve().parent.parent / "data" / "catalogue-demo.csv"


def demo_rows():
    with DEMO.open(encoding="utf-8", newline="") as stream:
        return list(csv.DictReader(stream, delimiter=";"))


def write(tmp_path, rows):
    path = tmp_path / "catalogue.csv"
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=catalogue.COLUMNS, delimiter=";")
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_catalogue_stores_association_phones_in_e164(db, tmp_path):
    rows = demo_rows()
    for row in rows:
        if row["association_slug"] == "savoirs-partages":
            row["association_telephone"] = "0262 16 12 34"
    catalogue.load_file(write(tmp_path, rows))
    association = models.Association.get(models.Association.slug == "savoirs-partages")
    assert association.telephone == "+262262161234"


def test_catalogue_refuses_a_foreign_phone_with_its_line_and_field(db, tmp_path):
    rows = demo_rows()
    (index,) = [i for i, row in enumerate(rows) if row["association_slug"] == "horizons-ruraux"]
    rows[index]["association_telephone"] = "+44 20 7946 0958"
    with pytest.raises(CatalogueError) as caught:
        catalogue.load_file(write(tmp_path, rows))
    message = "« +44 20 7946 0958 » n'est pas un numéro de téléphone français"
    assert caught.value.errors == [Problem(index + 2, "association_telephone", message)]
