"""Passwords and links: French common passwords refused under digits, symbols, accents
and leetspeak; reset e-mails limited per account; « mot de passe oublié » and « j'ai perdu
mon lien » do the same work whether the address is known or not (the same SQL, one
request recorded), `tick` answering them."""

import pytest
from helpers import answer_link_requests, counted_queries, csrf_token
from test_comptes import make_user
from test_suivi import send_youth

import models
from services import accounts, suivi


@pytest.mark.parametrize(
    "password",
    [
        "motdepasse123",
        "M0t de p@sse 2024!",
        "Soleil2024!!!!",
        "azertyuiop123",
        "Marseille13013",
        "2024jetaime2024",
        "Chocolat_1234",
    ],
)
def test_french_common_passwords_are_refused(password):
    assert accounts.password_problem(password) == (
        "Ce mot de passe est trop courant : choisissez-en un autre, plus difficile à deviner"
    )


@pytest.mark.parametrize(
    "password", ["une phrase de passe solide", "xK9#mQ2$vL7!zz", "Lune rousse sur Brest 29"]
)
def test_uncommon_passwords_pass(password):
    assert accounts.password_problem(password) is None


def test_reset_e_mails_are_limited_per_account(app):
    user = make_user()
    now = models.now()
    with app.test_request_context():
        sent = [accounts.request_reset(user.email, now, lambda t: f"/r/{t}") for _ in range(5)]
    assert sent == [True] * accounts.RESET_LIMIT_PER_HOUR + [False] * 2
    assert models.Message.select().count() == accounts.RESET_LIMIT_PER_HOUR


def post_form(client, url, address):
    token = csrf_token(client, url)
    with counted_queries() as queries:
        response = client.post(url, data={"email": address, "csrf_token": token})
    assert response.status_code == 303
    return [q for q in queries if "csrf" not in q.lower()]


@pytest.mark.parametrize(
    ("url", "known"),
    [
        ("/espace/mot-de-passe-oublie", "staff@example.org"),
        ("/suivi/lien-perdu", "ines.martin@example.org"),
    ],
)
def test_known_and_unknown_addresses_cost_the_same_work(app, client, url, known):
    make_user()
    send_youth(client)
    before = models.Message.select().count()
    known_sql = post_form(client, url, known)
    unknown_sql = post_form(client, url, "personne@example.org")
    shape = [q.split("(")[0].split(" WHERE")[0] for q in known_sql]
    assert shape == [q.split("(")[0].split(" WHERE")[0] for q in unknown_sql]
    assert len(known_sql) == len(unknown_sql) >= 1
    # Nothing sent yet: one request recorded each, answered by tick.
    assert models.Message.select().count() == before
    assert models.LinkRequest.select().count() == 2
    assert answer_link_requests(app) == "Demandes de lien : 2 traitée(s)."
    assert models.LinkRequest.select().count() == 0
    kinds = {m.kind for m in models.Message.select().offset(before)}
    assert kinds == {accounts.RESET if "oublie" in url else suivi.LINK_KIND}
    assert models.Message.select().count() == before + 1
