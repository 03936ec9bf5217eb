"""Issue 16 §2, the inbox for staff: a search looks in every status (a person who calls
is found in one search), each row says what staff need to act (name, age, « mineur »,
commune, preferred channel, the reference smaller), the filters wait behind « Filtrer (n) »
(a <details>, no JS), and the desktop table sorts through the query string. SQLite and
PostgreSQL (scripts/test-postgres.sh); the layouts at 375 and 1366 px are in
tests/browser/test_inbox_layout.py."""

import datetime as dt
import re

import pytest
from helpers import log_in
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import models
from services import demandes as actions
from services import inbox


@pytest.fixture
def staff(app):
    association = models.Association.select().order_by(models.Association.id).first()
    user = models.Utilisateur.create(
        email="membre@example.org",
        role="membre",
        association=association,
        password_hash="argon2-hash-for-the-test",
    )
    return association, user


def lead(association, number, minutes=0, **fields):
    values = dict(
        reference=f"J-S{number:04d}",
        kind="jeune",
        suivi_token=f"token-s{number}",
        answers={},
        association=association,
        prenom=f"Prénom{number}",
        nom="Moreau",
        email=f"s{number}@example.org",
        telephone=f"+3361299{number:04d}",
        besoin="orientation",
        departement="01",
        age=12,
        contact_pref="sms",
        created_at=models.now() - dt.timedelta(days=10) + dt.timedelta(minutes=minutes),
    )
    values.update(fields)
    return models.Lead.create(**values)


def page(client, query=""):
    response = client.get("/espace/" + query)
    return response.status_code, response.get_data(as_text=True)


def listed(html):
    return re.findall(r'id="choix-([A-Z0-9-]+)"', html)


def test_a_search_from_the_default_tab_finds_a_contacted_lead(client, staff):
    association, user = staff
    contacted = lead(association, 1)
    actions.change_status(contacted, "contactee", by=user)
    log_in(client, user)
    assert contacted.reference not in listed(page(client)[1])  # the default tab: nouvelles
    for query in (contacted.reference, "prénom1 moreau", contacted.email, "06 12 99 00 01"):
        status, html = page(client, "?q=" + query)
        assert status == 200 and listed(html) == [contacted.reference], query
    # The tabs count the matches of every status, « Toutes » current.
    assert re.search(r'aria-current="page">Toutes <span class="inbox-tabs__count">\(1\)', html)


def test_a_name_finds_the_callers_leads_in_every_status_and_a_tab_narrows(client, staff):
    association, user = staff
    new = lead(association, 2, nom="Bernard")
    done = lead(association, 3, nom="Bernard", minutes=1)
    actions.change_status(done, "contactee", by=user)
    lead(association, 4)
    log_in(client, user)
    assert listed(page(client, "?q=bernard")[1]) == [new.reference, done.reference]
    # The « Nouvelles » tab under a search says so in its URL, and narrows.
    status, html = page(client, "?q=bernard")
    href = re.search(r'href="([^"]*statut=nouvelle[^"]*)"', html).group(1).replace("&amp;", "&")
    assert listed(page(client, href.removeprefix("/espace/"))[1]) == [new.reference]


def test_each_row_says_what_staff_need(client, staff):
    association, user = staff
    minor = lead(association, 5, age=12, contact_pref="telephone")
    adult = lead(association, 6, age=19, contact_pref="email", minutes=1)
    log_in(client, user)
    html = page(client)[1]
    rows = dict(zip(listed(html), html.split('<tr class="inbox-item">')[1:], strict=True))
    assert "12 ans" in rows[minor.reference] and "mineur" in rows[minor.reference]
    assert "19 ans" in rows[adult.reference] and "mineur" not in rows[adult.reference]
    assert "Téléphone" in rows[minor.reference] or "téléphone" in rows[minor.reference]
    assert f'<span class="inbox-item__ref">{minor.reference}</span>' in rows[minor.reference]
    assert "Prénom5 Moreau" in rows[minor.reference]


def test_the_filters_wait_behind_filtrer_with_their_count(client, staff):
    association, user = staff
    lead(association, 7)
    log_in(client, user)
    html = page(client)[1]
    assert '<details class="inbox-filters__more">' in html
    assert '>Filtrer<span id="filtre-compte"></span></summary>' in html
    html = page(client, "?type=jeune&departement=01")[1]
    assert '<details class="inbox-filters__more">' in html  # closed: the list first
    assert '>Filtrer<span id="filtre-compte"> (2)</span></summary>' in html
    # A filter's error opens it, to show the field.
    status, html = page(client, "?type=chat")
    assert status == 400 and '<details class="inbox-filters__more" open>' in html


def test_the_table_sorts_by_arrival_and_status_through_the_url(client, staff):
    association, user = staff
    first, second, third = (lead(association, n, minutes=n) for n in (8, 9, 10))
    actions.change_status(second, "contactee", by=user)
    log_in(client, user)
    order = [first.reference, second.reference, third.reference]
    assert listed(page(client, "?statut=toutes")[1]) == order
    status, html = page(client, "?statut=toutes&tri=-arrivee")
    assert listed(html) == order[::-1]
    assert 'aria-sort="descending"' in html
    by_status = listed(page(client, "?statut=toutes&tri=statut")[1])
    assert by_status == [first.reference, third.reference, second.reference]  # nouvelle first
    # The header links keep the other filters and flip the order.
    html = page(client, "?statut=toutes&tri=statut")[1]
    assert 'href="/espace/?statut=toutes&amp;tri=-statut"' in html


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(value=st.text(max_size=30))
def test_junk_sort_is_a_clear_400_never_a_500(client, staff, value):
    log_in(client, staff[1])
    response = client.get("/espace/", query_string={"tri": value, "statut": "toutes"})
    if value == "" or (value.lstrip("-") in inbox.SORTS and value.count("-") <= 1):
        assert response.status_code == 200
    else:
        assert response.status_code == 400
        assert "Choisissez un tri de la liste" in response.get_data(as_text=True)


def test_each_new_row_says_the_day_to_call_back_by_and_sorts_by_it(client, staff):
    association, user = staff
    # The promised day is Lead.due_on, fixed when a lead reaches the association.
    late = lead(association, 11, minutes=2, due_on=dt.date(2026, 12, 15))
    early = lead(association, 12, minutes=3, due_on=dt.date(2026, 12, 10))
    log_in(client, user)
    html = page(client)[1]
    row = html.split(f'id="choix-{late.reference}"', 1)[1].split("</tr>", 1)[0]
    assert "À rappeler au plus tard le" in row and ">15/12</time>" in row
    assert listed(page(client, "?tri=echeance")[1]) == [early.reference, late.reference]
    assert listed(page(client, "?tri=-echeance")[1]) == [late.reference, early.reference]
