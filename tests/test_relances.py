"""tick's duties about leads (relances.py), with the clock moved by hand, on SQLite and
PostgreSQL (scripts/test-postgres.sh): each reminder on its working day and not the day
before (holidays shift it), the operator's copy, the automatic hand-over at 3x and the
waiting list, the en_attente nudge, per-lead e-mails or the daily digest, retention,
drafts; two ticks at once; the e-mails through a real SMTP server.
"""

import datetime as dt
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from helpers import PERSONAL, YOUTH_ANSWERS, arrived, fresh, log_in, submitted_lead
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

import models
from domain import workdays
from jobs import relances, scheduler
from mail import emails, outbox
from models import Association, Draft, Evenement, Lead, Message, Note, Relance, Utilisateur
from services import demandes, suivi

OPERATOR = "operateur@example.org"
YOUTH = dict(YOUTH_ANSWERS, situations_particulieres=["qpv"])
# Monday 4 May 2026, 10:00 in Paris. 5 working days later is Tuesday 12 May, not Monday
# 11 (Friday 8 May is a holiday); 10 is Wednesday 20 May (Ascension, Thursday 14, skipped);
# 15 is Thursday 28 May (Whit Monday, 25 May, skipped).
ROUTED = dt.datetime(2026, 5, 4, 8, 0)


def paris(year, month, day, hour=0, minute=5):
    """A French local time, as stored (naive UTC)."""
    local = dt.datetime(year, month, day, hour, minute, tzinfo=workdays.PARIS)
    return local.astimezone(dt.UTC).replace(tzinfo=None)


@pytest.fixture
def conn(app):
    """Queries next to requests: the request's teardown closes the connection, and
    peewee opens it again on the next query (the `db` fixture's context would break)."""
    yield models.db
    if not models.db.is_closed():
        models.db.close()


@pytest.fixture
def config(app):
    app.config.update(OPERATOR_EMAIL=OPERATOR, PUBLIC_URL="https://mentorat.example.fr")
    return app


def new_lead(routed=ROUTED, delai=5, **changes):
    """A youth's demande oriented by the matcher, then moved to `routed`, its association's
    promised delay set to `delai` working days."""
    lead = submitted_lead("jeune", dict(YOUTH, **changes))
    set_delai(lead.association_id, delai)
    arrived(lead, routed)
    Message.delete().execute()  # the submission's own e-mails: not this file's subject
    return Lead.get_by_id(lead.id)


def set_delai(association_id, delai):
    association = Association.get_by_id(association_id)
    association.delai_recontact = delai
    association.save()


def staff(association_id, email, notifications="chaque_demande"):
    return Utilisateur.create(
        email=email,
        role="membre",
        association=association_id,
        password_hash="argon2-hash-for-the-test",
        notifications=notifications,
    )


def tick(app, now):
    results = scheduler.tick(app, now)
    errors = [(name, error) for name, _, error in results if error is not None]
    assert not errors, errors
    return {name: report for name, report, _ in results}


def mails(**where):
    """The e-mails (the person's SMS aside: test_sms.py)."""
    where.setdefault("channel", "email")
    query = Message.select().order_by(Message.id)
    for name, value in where.items():
        query = query.where(getattr(Message, name) == value)
    return list(query)


def kinds(lead):
    events = Evenement.select().where(Evenement.lead == lead.id).order_by(Evenement.id)
    return [event.kind for event in events]


def test_a_later_change_of_the_delay_does_not_move_the_promised_day(config, db):
    """The promised day is fixed when the lead arrives: the association's delay changed
    afterwards (5 → 10 days) moves neither the reminders nor the follow-up page's date."""
    lead = new_lead(delai=5)
    due = fresh(lead).due_on
    assert due == workdays.due_day(ROUTED, 5)
    set_delai(lead.association_id, 10)
    staff(lead.association_id, "equipe@example.org")
    assert suivi.due_date(fresh(lead)) == due
    before = due - dt.timedelta(days=1)
    tick(config, paris(before.year, before.month, before.day, 9))
    assert mails(kind="relance") == []
    tick(config, paris(due.year, due.month, due.day, 9))
    (reminder,) = mails(kind="relance")
    assert "depuis 5 jours ouvrés" in reminder.subject


def test_reminders_on_their_working_day_then_the_hand_over(config, conn, client):
    lead = new_lead()
    old = lead.association_id
    staff(old, "equipe@example.org")
    # A reminder is no new lead: a digest reader gets it too.
    staff(old, "resume@example.org", notifications="resume_quotidien")

    person_sees = suivi.timeline(lead)
    tick(config, paris(2026, 5, 11, 23, 55))  # the day before (8 May, a holiday, between)
    assert mails() == [] and kinds(lead) == ["orientation"]

    report = tick(config, paris(2026, 5, 12, 0, 5))
    first = mails(kind="relance")
    assert sorted(m.to for m in first) == ["equipe@example.org", "resume@example.org"]
    assert first[0].subject == f"Rappel : demande {lead.reference} en attente depuis 5 jours ouvrés"
    assert f"https://mentorat.example.fr/espace/demandes/{lead.reference}" in first[0].body
    assert not any(word in m.body + m.subject for m in first for word in PERSONAL)
    assert report["remind_late_leads"].startswith("Relances : 1 rappel(s), 0 dernier(s)")
    assert kinds(lead)[-1] == "relance_1"

    tick(config, paris(2026, 5, 12, 18))  # later the same day, and every day after
    tick(config, paris(2026, 5, 19, 23, 55))  # the day before twice the delay
    assert len(mails()) == 2

    tick(config, paris(2026, 5, 20, 9))
    last = mails(kind="relance")[2:]
    assert sorted(m.to for m in last) == ["equipe@example.org", "resume@example.org"]
    assert last[0].subject.startswith(f"Dernier rappel : demande {lead.reference}")
    assert "10 jours ouvrés" in last[0].subject and "5 jours ouvrés" in last[0].body
    (copy,) = mails(kind="relance_operateur")
    assert copy.to == OPERATOR and lead.reference in copy.subject
    assert not any(word in copy.body for word in PERSONAL)
    assert kinds(lead)[-1] == "relance_2"
    # The reminders are the staff's business: the person's follow-up page is unchanged.
    assert suivi.timeline(fresh(lead)) == person_sees
    relance_2 = Evenement.get((Evenement.lead == lead.id) & (Evenement.kind == "relance_2"))
    assert relance_2.author == "tick" and "copie à la plateforme" in relance_2.note

    # The timeline of the staff page shows both reminders.
    user = Utilisateur.get(Utilisateur.email == "equipe@example.org")
    log_in(client, user)
    page = client.get(f"/espace/demandes/{lead.reference}").get_data(as_text=True)
    assert "Rappel envoyé à l&#39;association" in page
    assert "Dernier rappel envoyé à l&#39;association" in page

    before = Message.select().count()
    tick(config, paris(2026, 5, 27, 23, 55))  # the day before three times the delay
    assert Message.select().count() == before and fresh(lead).association_id == old

    for association in Association.select().where(Association.id != old):
        staff(association.id, f"equipe-{association.id}@example.org")
    report = tick(config, paris(2026, 5, 28, 0, 5))
    moved = fresh(lead)
    # The new association's staff are told, as at any hand-over.
    (announced,) = mails(kind="nouvelle_demande")
    assert announced.to == f"equipe-{moved.association_id}@example.org"
    assert moved.association_id not in (None, old)
    assert moved.status == "nouvelle" and moved.routed_at > ROUTED
    transfer = Evenement.get((Evenement.lead == lead.id) & (Evenement.kind == "transfert"))
    assert (transfer.author, transfer.motif) == ("tick", "sans_reponse")
    assert "1 demande(s) confiée(s)" in report["remind_late_leads"]
    (person,) = mails(kind="transfert")
    assert person.to == "ines.martin@example.org"
    told = mails(kind="demande_retiree")
    assert sorted(m.to for m in told) == ["equipe@example.org", "resume@example.org"]
    assert "vous n'avez plus à la traiter" in told[0].body
    # The old association lost it: its staff get the 404 of any lead not theirs.
    assert client.get(f"/espace/demandes/{lead.reference}").status_code == 404

    # The count starts again from the hand-over: nothing more the next day.
    before = Message.select().count()
    tick(config, paris(2026, 5, 29, 9))
    assert Message.select().count() == before
    new_delai = Association.get_by_id(moved.association_id).delai_recontact
    due = workdays.due_day(moved.routed_at, new_delai)
    staff(moved.association_id, "nouvelle-equipe@example.org")
    tick(config, paris(due.year, due.month, due.day, 0, 5))
    (reminder,) = mails(kind="relance", to="nouvelle-equipe@example.org")
    assert f"depuis {new_delai} jours ouvrés" in reminder.subject


def test_without_an_operator_the_copy_is_skipped_with_a_note(config, db):
    config.config["OPERATOR_EMAIL"] = ""
    lead = new_lead()
    staff(lead.association_id, "equipe@example.org")
    report = tick(config, paris(2026, 5, 20, 9))
    assert [m.to for m in mails()] == ["equipe@example.org"]
    assert "OPERATOR_EMAIL est vide" in report["remind_late_leads"]
    # Only the latest reminder due: a tick that did not run for days sends no backlog.
    assert kinds(lead)[-1] == "relance_2" and "relance_1" not in kinds(lead)
    event = Evenement.get((Evenement.lead == lead.id) & (Evenement.kind == "relance_2"))
    assert "OPERATOR_EMAIL vide" in event.note


def test_a_contacted_lead_is_never_reminded(config, db):
    lead = new_lead()
    staff(lead.association_id, "equipe@example.org")
    demandes.change_status(lead, "contactee", "equipe@example.org")
    tick(config, paris(2026, 6, 30, 9))
    assert mails() == [] and fresh(lead).association_id == lead.association_id


def last_association_lead():
    """A lead handed over until the matcher proposes nothing more after its association."""
    lead = new_lead()
    while demandes.hand_over_proposals(lead):
        lead = demandes.hand_over(lead, "equipe@example.org", "hors_territoire")
    assert lead.association_id is not None
    set_delai(lead.association_id, 5)
    arrived(lead, ROUTED)
    Message.delete().execute()
    return fresh(lead)


def test_none_left_the_waiting_list_and_the_operator_are_told(config, db):
    lead = last_association_lead()
    last = lead.association_id
    staff(last, "derniere@example.org")
    report = tick(config, paris(2026, 5, 28, 9))
    stored = fresh(lead)
    assert stored.association_id is None and stored.waiting_list
    assert kinds(lead)[-2:] == ["transfert", "liste_attente"]
    assert "1 en liste d'attente" in report["remind_late_leads"]
    (operator,) = mails(kind="liste_attente_operateur")
    assert operator.to == OPERATOR and "liste d'attente" in operator.subject
    assert not any(word in operator.body for word in PERSONAL)
    (told,) = mails(kind="demande_retiree")
    assert told.to == "derniere@example.org" and "liste d'attente" in told.body
    # On the waiting list: no association to remind any more.
    # (the operator's daily digest aside: it counts the waiting list)
    lead_mails = Message.select().where(Message.kind != "resume_operateur")
    before = lead_mails.count()
    tick(config, paris(2026, 7, 28, 9))
    assert lead_mails.count() == before


def test_the_hand_over_factor_is_configurable(config, db):
    config.config["AUTO_HANDOVER_FACTOR"] = 0  # never
    lead = new_lead()
    tick(config, paris(2026, 9, 1, 9))
    assert fresh(lead).association_id == lead.association_id
    config.config["AUTO_HANDOVER_FACTOR"] = 2  # before the last reminder: refused
    results = scheduler.tick(config, paris(2026, 9, 2, 9))
    (error,) = [e for name, _, e in results if name == "remind_late_leads"]
    assert isinstance(error, relances.ConfigError)


def test_en_attente_gets_one_nudge_after_60_days(config, db):
    lead = new_lead()
    staff(lead.association_id, "equipe@example.org")
    demandes.change_status(lead, "contactee", "equipe@example.org")
    demandes.change_status(lead, "en_attente", "equipe@example.org")
    entered = dt.datetime(2026, 3, 1, 10, 0)
    Evenement.update(at=entered).where(Evenement.lead == lead.id).execute()
    Message.delete().execute()

    tick(config, entered + dt.timedelta(days=59, hours=23))
    assert mails() == []
    report = tick(config, entered + dt.timedelta(days=60))
    (nudge,) = mails(kind="attente_longue")
    assert nudge.to == "equipe@example.org"
    assert nudge.subject == (
        f"Rappel : demande {lead.reference} en attente d'un binôme depuis 60 jours"
    )
    assert not any(word in nudge.body for word in PERSONAL)
    assert report["nudge_waiting_leads"].startswith("En attente d'un binôme : 1 rappel")
    tick(config, entered + dt.timedelta(days=61))
    tick(config, entered + dt.timedelta(days=120))
    assert len(mails()) == 1 and kinds(lead).count("relance_attente") == 1

    # Out of "en_attente" and back: a new stay, its own nudge 60 days later.
    demandes.change_status(lead, "sans_suite", "equipe@example.org", reason="autre_solution")
    demandes.change_status(lead, "contactee", "equipe@example.org")
    demandes.change_status(lead, "en_attente", "equipe@example.org")
    again = entered + dt.timedelta(days=130)
    Evenement.update(at=again).where(
        (Evenement.lead == lead.id) & (Evenement.at > entered + dt.timedelta(days=200))
    ).execute()
    tick(config, again + dt.timedelta(days=59))
    assert len(mails(kind="attente_longue")) == 1
    tick(config, again + dt.timedelta(days=60))
    assert len(mails(kind="attente_longue")) == 2


def test_per_lead_e_mail_or_daily_digest(config, db):
    each = staff(1, "chaque@example.org")
    digest = staff(1, "resume@example.org", notifications="resume_quotidien")
    # A lead at association 1: the per-lead e-mail goes to the first only.
    lead = new_lead()
    Lead.update(association=1).where(Lead.id == lead.id).execute()
    with models.write_transaction(durable=True):
        emails.notify_new_lead(fresh(lead))
    assert [m.to for m in mails(kind="nouvelle_demande")] == [each.email]

    routed = paris(2026, 5, 4, 15)
    arrived(lead, routed)
    tick(config, paris(2026, 5, 5, 6, 55))  # before 7:00 in France: not yet
    assert mails(kind="resume_quotidien") == []
    report = tick(config, paris(2026, 5, 5, 7, 0))
    (sent,) = mails(kind="resume_quotidien")
    assert sent.to == digest.email and report["send_digests"].endswith("1 envoyé(s).")
    assert sent.subject.startswith("Résumé du jour : 1 nouvelle demande pour ")
    assert f"https://mentorat.example.fr/espace/demandes/{lead.reference}" in sent.body
    assert "https://mentorat.example.fr/espace/compte" in sent.body
    assert not any(word in sent.body for word in PERSONAL)
    tick(config, paris(2026, 5, 5, 18))  # once a day
    assert len(mails(kind="resume_quotidien")) == 1
    # The next day: only what arrived since; nothing new, no e-mail.
    tick(config, paris(2026, 5, 6, 8))
    assert len(mails(kind="resume_quotidien")) == 1
    second = new_lead(routed=paris(2026, 5, 6, 12))
    Lead.update(association=1).where(Lead.id == second.id).execute()
    tick(config, paris(2026, 5, 7, 8))
    newest = mails(kind="resume_quotidien")[-1]
    assert second.reference in newest.body and lead.reference not in newest.body


def test_the_account_page_sets_the_choice(client, conn):
    user = staff(1, "chaque@example.org")
    log_in(client, user)
    page = client.get("/espace/compte").get_data(as_text=True)
    assert "Un résumé quotidien" in page and "Un e-mail par nouvelle demande" in page
    token = csrf_of(page)
    response = client.post(
        "/espace/compte/notifications",
        data={"csrf_token": token, "notifications": "resume_quotidien"},
    )
    assert response.status_code == 303
    assert Utilisateur.get_by_id(user.id).notifications == "resume_quotidien"
    response = client.post(
        "/espace/compte/notifications", data={"csrf_token": token, "notifications": "jamais"}
    )
    assert response.status_code == 422
    assert "Choisissez comment être prévenu·e" in response.get_data(as_text=True)
    assert Utilisateur.get_by_id(user.id).notifications == "resume_quotidien"
    # Without the CSRF token: refused, unchanged.
    response = client.post("/espace/compte/notifications", data={"notifications": "chaque_demande"})
    assert response.status_code == 400
    assert Utilisateur.get_by_id(user.id).notifications == "resume_quotidien"


def test_an_admin_has_no_new_lead_e_mails(client, conn):
    admin = Utilisateur.create(email="admin@example.org", role="admin", password_hash="x")
    log_in(client, admin)
    assert "Un résumé quotidien" not in client.get("/espace/compte").get_data(as_text=True)
    token = csrf_of(client.get("/espace/compte").get_data(as_text=True))
    response = client.post(
        "/espace/compte/notifications",
        data={"csrf_token": token, "notifications": "resume_quotidien"},
    )
    assert response.status_code == 404


def csrf_of(page):
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


@hypothesis_settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(value=st.one_of(st.text(max_size=40), st.sampled_from(["", "chaque_demande\x00"])))
def test_junk_at_the_choice_never_500(client, value):
    with models.db.connection_context():
        user = Utilisateur.get_or_none(Utilisateur.email == "junk@example.org")
        user = user or staff(1, "junk@example.org")
    log_in(client, user)
    token = csrf_of(client.get("/espace/compte").get_data(as_text=True))
    response = client.post(
        "/espace/compte/notifications", data={"csrf_token": token, "notifications": value}
    )
    assert response.status_code in (303, 422)
    with models.db.connection_context():
        stored = Utilisateur.get_by_id(user.id).notifications
    assert stored in ("chaque_demande", "resume_quotidien")


def test_retention_anonymises_inactive_leads_and_keeps_the_rest(config, db):
    config.config["AUTO_HANDOVER_FACTOR"] = 0  # the leads stay where they are
    now = dt.datetime(2030, 6, 1, 9)
    old = new_lead()
    noted, recent = new_lead(email="noted@example.org"), new_lead(email="recent@example.org")
    staff(old.association_id, "equipe@example.org")
    long_ago = dt.datetime(2027, 5, 1)
    Lead.update(updated_at=long_ago).where(Lead.id.in_([old.id, noted.id])).execute()
    Lead.update(updated_at=dt.datetime(2028, 1, 1)).where(Lead.id == recent.id).execute()
    Note.create(lead=noted, association=noted.association_id, text="Rappeler", at=now)
    Message.delete().execute()

    report = tick(config, now)
    erased = fresh(old)
    assert suivi.is_erased(erased)
    assert (erased.prenom, erased.nom, erased.email, erased.telephone) == ("", "", "", "")
    assert erased.answers == {} and erased.status == "sans_suite"
    # Statistics kept: kind, département, dates, its timeline's kinds.
    assert (erased.kind, erased.departement, erased.created_at) == (
        old.kind,
        old.departement,
        old.created_at,
    )
    assert kinds(erased)[-1] == "anonymisation"
    assert not any(word in (m.body + m.to) for m in mails() for word in PERSONAL)
    assert mails(kind="donnees_supprimees") == []  # staff are not told of an old lead
    assert not suivi.is_erased(fresh(noted)) and not suivi.is_erased(fresh(recent))
    assert report["apply_retention"].startswith("Conservation : 1 demande(s)")
    assert tick(config, now)["apply_retention"].startswith("Conservation : 0")


def test_tick_purges_the_drafts_nobody_can_resume(config, db):
    now = dt.datetime(2026, 5, 4, 12)
    Draft.create(token="vieux", parcours="jeune", updated_at=now - dt.timedelta(hours=25))
    Draft.create(token="frais", parcours="jeune", updated_at=now - dt.timedelta(hours=23))
    report = tick(config, now)
    assert [d.token for d in Draft.select()] == ["frais"]
    assert report["purge_drafts"] == "Brouillons : 1 supprimé(s)."


def test_two_ticks_at_once_remind_once_and_hand_over_once(config, database_url):
    with models.db.connection_context():
        reminded = [new_lead() for _ in range(3)]
        handed = new_lead(routed=ROUTED - dt.timedelta(days=30))
        for lead in reminded:
            staff(lead.association_id, f"equipe{lead.id}@example.org")
        staff(handed.association_id, f"equipe{handed.id}@example.org")
    now = paris(2026, 5, 12, 9)  # relance_1 for the first three, hand-over for the last
    barrier = threading.Barrier(2)
    results, failures = [], []

    def run():
        try:
            barrier.wait(10)
            results.append(scheduler.tick(config, now))
        except Exception as error:  # reported by the main thread
            failures.append(error)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not failures and len(results) == 2
    assert not [e for result in results for _, _, e in result if e is not None]
    with models.db.connection_context():
        for lead in reminded:
            team = len(emails.staff_of(lead.association_id))
            assert Relance.select().where(Relance.lead == lead.id).count() == 1
            assert kinds(lead).count("relance_1") == 1
            assert len(mails(kind="relance", lead=lead.id)) == team
        assert kinds(handed).count("transfert") == 1
        assert len(mails(kind="transfert", lead=handed.id)) == 1
        team = len(emails.staff_of(handed.association_id))
        assert len(mails(kind="demande_retiree", lead=handed.id)) == team
        # Queued once each; they leave once the clock reaches their queueing time.
        queued = Message.select().where(Message.channel == "email").count()
        report = outbox.send_due(outbox.settings_from(config.config, config.instance_path))
        assert report.sent == queued == len(list(Path(config.config["MAIL_DIR"]).glob("*.eml")))


def test_tick_sends_the_reminders_through_a_real_smtp_server(config, db, smtp_server):
    # On the real clock (the outbox sends what is due now): two weeks hold at least 6
    # working days, holidays or not, so the last reminder of a 3-day delay is due.
    smtp_server.start()
    config.config.update(SMTP_URL=smtp_server.url(), AUTO_HANDOVER_FACTOR=0)
    lead = new_lead(routed=models.now() - dt.timedelta(days=14), delai=3)
    staff(lead.association_id, "equipe@example.org")
    tick(config, None)
    by_recipient = {r.rcpt_tos[0]: r.email for r in smtp_server.received}
    assert sorted(by_recipient) == ["equipe@example.org", OPERATOR]
    # (A long subject is folded on the wire: compared word by word.)
    assert " ".join(str(by_recipient["equipe@example.org"]["Subject"]).split()) == (
        f"Dernier rappel : demande {lead.reference} en attente depuis 6 jours ouvrés"
    )
    assert f"/espace/demandes/{lead.reference}" in by_recipient["equipe@example.org"].get_content()
    tick(config, None)
    assert len(smtp_server.received) == 2
    assert [m.status for m in mails()] == ["envoye", "envoye"]


ROOT = Path(__file__).resolve().parent.parent


def tick_process(database_url, smtp_url):
    """`flask tick` in a process of its own, configured here (never by instance/config.py)."""
    script = (
        "import app;"
        f"a = app.create_app({{'SECRET_KEY': 'k', 'DATABASE_URL': {database_url!r},"
        f" 'SMTP_URL': {smtp_url!r}, 'OPERATOR_EMAIL': {OPERATOR!r}}});"
        "ctx = a.app_context(); ctx.push();"
        "a.cli.main(['tick'], prog_name='flask')"
    )
    return subprocess.Popen(
        [sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )


def test_two_flask_tick_processes_remind_once_and_hand_over_once(
    config, conn, database_url, smtp_server
):
    # On the real clock: routed 7 working days ago, between twice (6) and three times (9)
    # a delay of 3 days; 3 times a delay of 1 is long past.
    smtp_server.start()
    today = workdays.paris_day(models.now())
    day = today
    for _ in range(7):
        day -= dt.timedelta(days=1)
        while not workdays.is_working_day(day):
            day -= dt.timedelta(days=1)
    routed = paris(day.year, day.month, day.day, 2)
    reminded = [new_lead(routed=routed, delai=3) for _ in range(3)]  # last reminder
    places = {lead.association_id for lead in reminded}
    for association_id in places:
        staff(association_id, f"equipe{association_id}@example.org")
    # Another association, promising 1 working day: 3 are over, it hands the lead over.
    other = Association.select().where(Association.id.not_in(places)).order_by(Association.id)
    other = other.first()
    handed = new_lead(routed=routed, delai=3)
    Lead.update(association=other.id).where(Lead.id == handed.id).execute()
    set_delai(other.id, 1)
    arrived(handed, routed)  # at the other association, promising 1 day
    staff(other.id, "autre@example.org")
    conn.close()  # the processes have the database to themselves

    ticks = [tick_process(database_url, smtp_server.url()) for _ in range(2)]
    outputs = [tick.communicate(timeout=120)[0] for tick in ticks]

    assert [tick.returncode for tick in ticks] == [0, 0], outputs
    for output in outputs:  # one line per duty
        for start in ("Brouillons :", "Conservation :", "Relances :", "Résumés quotidiens :"):
            assert start in output, output
    with models.db.connection_context():
        for lead in reminded:
            assert kinds(lead).count("relance_2") == 1
        assert kinds(handed).count("transfert") == 1
        assert fresh(handed).association_id != other.id
        assert {fresh(lead).association_id for lead in reminded} == places
        queued = list(Message.select().where(Message.channel == "email"))
        assert {m.status for m in queued} == {"envoye"}
    received = [
        (r.rcpt_tos[0], " ".join(str(r.email["Subject"]).split())) for r in smtp_server.received
    ]
    assert len(received) == len(set(received)) == len(queued)  # each e-mail exactly once
    # On the real clock: after DIGEST_HOUR the operator's daily digest leaves too.
    copies = [
        subject
        for to, subject in received
        if to == OPERATOR and not subject.startswith("Résumé du jour")
    ]
    assert sorted(copies) == sorted(
        f"Copie du dernier rappel : demande {lead.reference} en attente depuis 6 jours ouvrés"
        for lead in reminded
    )


@pytest.mark.sqlite_only
def test_a_nested_durable_write_keeps_the_outer_commit_durable(db):
    # The automatic hand-over runs demandes.hand_over inside the tick's own transaction:
    # the inner write must not turn SQLite's synchronous back to NORMAL before the commit.
    with models.write_transaction(durable=True):
        with models.write_transaction(durable=True):
            pass
        assert models.db.execute_sql("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert models.db.execute_sql("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL again


def test_a_quiet_tick_reads_the_late_leads_in_a_fixed_number_of_queries(config, db):
    from helpers import counted_queries

    leads_ = [new_lead() for _ in range(3)]
    tick(config, paris(2026, 5, 12, 9))  # each gets its first reminder
    counts = []
    for extra in (0, 10):
        for _ in range(extra):
            leads_.append(new_lead())
        with models.write_transaction():
            for lead in leads_:
                if not Relance.select().where(Relance.lead == lead.id).exists():
                    Relance.create(lead=lead.id, kind="relance_1", since=ROUTED)
        with counted_queries() as statements:
            report = relances.remind_late_leads(config, paris(2026, 5, 13, 9))
        assert report.startswith("Relances : 0 rappel(s)")
        counts.append(len(statements))
    assert counts[0] == counts[1] == 2  # the late leads, their reminders


@pytest.mark.parametrize("noun", ["demande", "candidature"])
def test_every_reminder_text_renders_for_both_kinds(app, noun):
    common = dict(noun=noun, reference="M-23456", association="Asso", delai=5, jours=10)
    link = "https://mentorat.example.fr/espace/demandes/M-23456"
    texts = {
        "relance": dict(common, link=link, dernier=True, jours_restants=5, copie=True),
        "relance_operateur": dict(common, facteur=3, jours_restants=5),
        "demande_retiree": dict(common, link=link, autre=False),
        "liste_attente_operateur": common,
        "attente_longue": dict(common, link=link, jeune=noun == "demande"),
        "resume_quotidien": dict(
            association="Asso",
            delai=5,
            compte="https://mentorat.example.fr/espace/compte",
            leads=[{"noun": noun, "reference": "M-23456", "link": link}] * 2,
        ),
        "resume_operateur": dict(
            sans_lecteur=[{"nom": "Asso", "demandes": 2, "adresse": False}],
            en_attente=1,
            admin=f"https://mentorat.example.fr/admin/ {noun} M-23456",
        ),
    }
    with app.app_context():
        for name, context in texts.items():
            subject, body = emails.render(name, **context)
            assert "M-23456" in subject + body and "\n\n\n" not in body, name
            assert noun in (subject + body).lower(), name
