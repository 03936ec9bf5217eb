"""« Vouliez-vous dire …@gmail.com ? » (domain/email_typos.py): the list, and the check
page that says it without blocking the demande."""

import html

import pytest
from helpers import YOUTH_STEPS, submit, walk

from domain import email_typos


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("ines@gmial.com", "ines@gmail.com"),
        ("ines@gmail.fr", "ines@gmail.com"),
        ("Ines.Martin@HOTMAL.FR", "Ines.Martin@hotmail.fr"),
        ("a@b@yaho.fr", "a@b@yahoo.fr"),
        ("x@oragne.fr", "x@orange.fr"),
    ],
)
def test_the_usual_misspellings_are_caught(typed, meant):
    assert email_typos.suggestion(typed) == meant


@pytest.mark.parametrize(
    "address", ["ines@gmail.com", "ines@asso-locale.fr", "", "pas-une-adresse", "@gmial.com"]
)
def test_a_right_or_unknown_domain_is_left_alone(address):
    assert email_typos.suggestion(address) is None


def test_no_domain_is_both_meant_and_a_typo():
    assert not set(email_typos.MEANT) & set(email_typos.DOMAINS)


def test_the_check_page_asks_and_never_blocks(client):
    steps = [*YOUTH_STEPS[:-1], ("coordonnees", dict(YOUTH_STEPS[-1][1], email="ines@gmial.com"))]
    walk(client, "jeune", steps)
    page = html.unescape(client.get("/jeune/verifier").get_data(as_text=True))
    assert "Vouliez-vous dire <strong>ines@gmail.com</strong> ?" in page
    assert 'href="/jeune/coordonnees?retour=verifier">Corriger mon adresse e-mail</a>' in page
    assert submit(client, "jeune").status_code == 303  # sent as typed: the person decides
    walk(client, "jeune", YOUTH_STEPS)
    page = html.unescape(client.get("/jeune/verifier").get_data(as_text=True))
    assert "Vouliez-vous dire" not in page


# --- French writing (domain/ecriture.py) --------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "said"),
    [("Paul", "de Paul"), ("Inès", "d'Inès"), ("Émile", "d'Émile"), ("Hélène", "d'Hélène"),
     ("Article 1", "d'Article 1"), ("Savoirs Partagés", "de Savoirs Partagés")],
)  # fmt: skip
def test_de_before_a_vowel_is_d_apostrophe(name, said):
    from domain import ecriture

    assert ecriture.de(name) == said


def test_an_offer_never_says_a_name_twice():
    from domain import ecriture

    assert ecriture.offer_title("Savoirs Partagés", "Savoirs Partagés à distance") == (
        "Savoirs Partagés à distance"
    )
    assert ecriture.offer_title("Savoirs Partagés", "Savoirs Partagés") == "Savoirs Partagés"
    assert ecriture.offer_title("Article 1", "Dema1n") == "Article 1 — programme Dema1n"
