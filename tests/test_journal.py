"""The security journal: written in the transaction of each action, no personal data but
account ids and the client address, read at /admin/journal (filters, pages, a fixed
number of queries), kept JOURNAL_RETENTION_DAYS by `tick`."""

import datetime as dt

import pytest
from helpers import counted_queries, log_in
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_admin import DEMO, data, failed_message, make_admin, post, upload
from test_comptes import PASSWORD, login, make_user, reset_token

import models
from jobs import scheduler
from models import SecurityEvent
from services import accounts, journal


def kinds():
    with data():
        return [e.kind for e in SecurityEvent.select().order_by(SecurityEvent.id)]


def no_personal_data():
    """Nothing in any entry looks like an e-mail address."""
    with data():
        for entry in SecurityEvent.select():
            assert "@" not in repr(entry.__data__), entry.__data__


def test_login_failure_lockout_and_success_are_journaled_with_the_address(app, client):
    user = make_user()
    login(client, user.email, "faux", ip="10.7.0.1")
    login(client, "inconnu@example.org", "faux", ip="10.7.0.1")
    login(client, user.email, PASSWORD, ip="10.7.0.2")
    entries = list(SecurityEvent.select().order_by(SecurityEvent.id))
    assert [(e.kind, e.utilisateur_id, e.ip) for e in entries] == [
        ("echec_connexion", user.id, "10.7.0.1"),
        ("echec_connexion", None, "10.7.0.1"),
        ("connexion", user.id, "10.7.0.2"),
    ]
    for _ in range(accounts.PAIR_LIMIT):
        login(client, user.email, "faux", ip="10.7.0.3")
    assert kinds().count("verrouillage") == 1
    assert SecurityEvent.get(SecurityEvent.kind == "verrouillage").details == {"portee": "adresse"}
    no_personal_data()


def test_reset_invitation_deactivation_and_role_change_are_journaled(app, client):
    responsable = make_user("resp@example.org", role="responsable")
    member = make_user("membre@example.org")
    now = models.now()
    with app.test_request_context():
        accounts.request_reset(member.email, now, lambda token: f"/r/{token}")
        accounts.use_token(reset_token(member, now), accounts.RESET, "un secret tout neuf", now)
        invited = accounts.create_account(
            "nouveau@example.org",
            "membre",
            responsable.association,
            now,
            link=lambda t: f"/i/{t}",
            actor=responsable.id,
        )
        accounts.create_account(
            "nouveau@example.org",
            "responsable",
            responsable.association,
            now,
            link=lambda t: f"/i/{t}",
            actor=responsable.id,
        )
        accounts.deactivate(member, now, actor=responsable.id)
        # A refused deactivation (the last responsable) writes nothing: same transaction.
        with pytest.raises(accounts.AccountError):
            accounts.deactivate(responsable, now, actor=responsable.id)
    assert kinds() == [
        "reinitialisation_demandee",
        "reinitialisation",
        "invitation",
        "changement_role",
        "invitation",
        "desactivation",
    ]
    role = SecurityEvent.get(SecurityEvent.kind == "changement_role")
    assert (role.utilisateur_id, role.target_id, role.details) == (
        responsable.id,
        invited.id,
        {"avant": "membre", "apres": "responsable"},
    )
    no_personal_data()


def test_reinviting_spends_the_previous_link(app):
    responsable = make_user("resp@example.org", role="responsable")
    now = models.now()
    with app.test_request_context():
        accounts.create_account(
            "nouveau@example.org", "membre", responsable.association, now, link=lambda t: t
        )
        first = models.AccountToken.get()
        accounts.create_account(
            "nouveau@example.org", "membre", responsable.association, now, link=lambda t: t
        )
    tokens = list(models.AccountToken.select().order_by(models.AccountToken.id))
    assert len(tokens) == 2
    assert tokens[0].id == first.id and tokens[0].used_at is not None
    assert tokens[1].used_at is None


def test_import_retry_and_admin_deactivation_are_journaled(app, client):
    with data():
        admin = make_admin()
        staff = make_user()
        message = failed_message()
    log_in(client, admin)
    assert upload(client, DEMO.read_bytes()).status_code == 303
    assert post(client, f"/admin/messages/{message.id}/reessai", {}).status_code == 303
    assert post(client, f"/admin/messages/{message.id}/reessai", {}).status_code == 303
    assert post(client, f"/admin/comptes/{staff.id}/desactivation", {}).status_code == 303
    assert kinds() == ["import_catalogue", "renvoi_email", "desactivation"]
    with data():
        retry = SecurityEvent.get(SecurityEvent.kind == "renvoi_email")
    assert (retry.utilisateur_id, retry.details) == (admin.id, {"message": message.id})
    no_personal_data()


# --- /admin/journal -------------------------------------------------------------------


def entries(count, kind="connexion", user_id=None, at=None):
    at = at or models.now()
    with data(), models.write_transaction():
        for number in range(count):
            SecurityEvent.create(
                kind=kind, at=at - dt.timedelta(minutes=number), utilisateur_id=user_id
            )


def page(client, **args):
    response = client.get("/admin/journal", query_string=args)
    return response.status_code, response.get_data(as_text=True)


def test_the_operator_reads_and_filters_the_journal(app, client):
    with data():
        admin = make_admin()
        staff = make_user()
    log_in(client, admin)
    entries(3, "echec_connexion", staff.id)
    entries(2, "export", admin.id, at=models.now() - dt.timedelta(days=40))
    status, html = page(client)
    assert status == 200 and html.count("<tr>") == 6  # header + 5
    assert "staff@example.org" in html and "Échec de connexion" in html
    assert page(client, kind="export")[1].count("<tr>") == 3
    assert page(client, compte="STAFF@example.org")[1].count("<tr>") == 4
    old = (models.now() - dt.timedelta(days=41)).strftime("%d/%m/%Y")
    until = (models.now() - dt.timedelta(days=39)).strftime("%d/%m/%Y")
    assert page(client, du=old, au=until)[1].count("<tr>") == 3
    status, html = page(client, compte="personne@example.org")
    assert status == 422 and "Aucun compte n&#39;a cette adresse" in html
    status, html = page(client, du="31/02/2026")
    assert status == 422 and "Indiquez une date au format JJ/MM/AAAA" in html
    status, html = page(client, kind="inconnu")
    assert status == 422


def test_the_journal_is_paginated_with_a_fixed_number_of_queries(app, client):
    with data():
        admin = make_admin()
    log_in(client, admin)
    entries(2, user_id=admin.id)
    client.get("/admin/journal")
    with counted_queries() as few:
        client.get("/admin/journal")
    entries(journal.PAGE_SIZE + 10, user_id=admin.id)
    with counted_queries() as many:
        status, html = page(client)
    assert len(many) == len(few)
    assert html.count("<tr>") == journal.PAGE_SIZE + 1 and 'rel="next"' in html
    status, html = page(client, page="2")
    assert html.count("<tr>") == 13 and 'rel="prev"' in html  # 62 entries: 50, then 12


def test_only_the_operator_opens_the_journal(app, client):
    with data():
        staff = make_user(role="responsable")
    assert client.get("/admin/journal").status_code == 302
    log_in(client, staff)
    assert client.get("/admin/journal").status_code == 404


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    args=st.dictionaries(
        st.sampled_from(["kind", "compte", "du", "au", "page", "x"]),
        st.text(st.characters(codec="utf-8"), max_size=40),
        max_size=5,
    )
)
def test_junk_at_the_journal_filters_never_500(app, client, args):
    with data():
        admin = models.Utilisateur.get_or_none(models.Utilisateur.role == "admin") or make_admin()
    log_in(client, admin)
    assert client.get("/admin/journal", query_string=args).status_code in (200, 422)


# --- Retention ------------------------------------------------------------------------


def test_tick_deletes_entries_older_than_the_retention(app):
    now = models.now()
    entries(1, at=now - dt.timedelta(days=366))
    entries(1, kind="export", at=now - dt.timedelta(days=364))
    results = dict((name, report) for name, report, _ in scheduler.tick(app, now))
    assert "1 entrée(s) supprimée(s)" in results["purge_journal"]
    assert kinds() == ["export"]
    app.config["JOURNAL_RETENTION_DAYS"] = 30
    scheduler.tick(app, now)
    assert kinds() == []


def test_tick_deletes_login_counters_past_their_window(app):
    user = make_user()
    now = models.now()
    accounts.authenticate(user.email, "faux", "10.8.0.1", now - dt.timedelta(hours=2))
    accounts.authenticate(user.email, "faux", "10.8.0.1", now)
    assert models.LoginCounter.select().count() == 2
    models.LoginCounter.update(window_start=now - dt.timedelta(hours=2)).where(
        models.LoginCounter.key.startswith("p:")
    ).execute()
    scheduler.tick(app, now)
    assert [c.key[:2] for c in models.LoginCounter.select()] == ["a:"]
