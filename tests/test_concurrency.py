"""Writes racing on one draft, each request on its own connection, on SQLite and PostgreSQL
(TEST_DATABASE_URL): the claim at submit, the locked read of save_step, the reference retry.

Each race is staged for real: a third connection holds the draft's lock, both requests start
and wait for it (PostgreSQL shows them waiting in pg_stat_activity; SQLite cannot, a short
pause stands in), then the lock is released and they run into each other.
"""

import threading
import time

import psycopg
import pytest
from helpers import YOUTH_STEPS, submit, walk
from peewee import IntegrityError
from testdb import ON_POSTGRES

import models
from services import drafts

TIMEOUT = 30  # seconds; only reached when something hangs


def draft_token(client):
    with client.session_transaction() as session:
        return session["drafts"]["jeune"]


def wait_until_waiting(database_url, count):
    """Until `count` sessions wait for a lock (PostgreSQL), or a pause (SQLite)."""
    if not ON_POSTGRES:
        time.sleep(0.5)  # SQLite waits in its busy handler, invisible from outside
        return
    deadline = time.monotonic() + TIMEOUT
    with psycopg.connect(database_url, autocommit=True) as watcher:
        while time.monotonic() < deadline:
            (waiting,) = watcher.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND wait_event_type = 'Lock'"
            ).fetchone()
            if waiting >= count:
                return
            time.sleep(0.02)
    pytest.fail(f"{count} sessions attendues en attente d'un verrou")


def race(database_url, token, *requests):
    """Run each request (a function of nothing) in its own thread and connection, all held
    behind the draft's lock until every one waits for it, in the order given (PostgreSQL
    then grants the lock in that order); returns their results."""
    results = [None] * len(requests)
    errors = []

    def run(number, request):
        try:
            with models.db.connection_context():
                results[number] = request()
        except Exception as error:  # reported by the main thread
            errors.append(error)

    holder = models.make_database(database_url)
    threads = [threading.Thread(target=run, args=item) for item in enumerate(requests)]
    with holder.connection_context(), holder.atomic():
        # A row write: PostgreSQL locks the row, SQLite the whole database.
        holder.execute_sql(
            f"UPDATE draft SET updated_at = updated_at WHERE token = {holder.param}", (token,)
        )
        for waiting, thread in enumerate(threads, 1):
            thread.start()
            wait_until_waiting(database_url, waiting)  # so they queue in order
    for thread in threads:
        thread.join(TIMEOUT)
    assert not errors, errors
    assert not any(thread.is_alive() for thread in threads)
    return results


def valid(journey):
    return None  # the answers were validated by the walk


def test_two_simultaneous_submits_make_one_lead(client, database_url):
    walk(client, "jeune", YOUTH_STEPS)
    token = draft_token(client)
    first, second = race(
        database_url,
        token,
        lambda: drafts.submit(token, valid),
        lambda: drafts.submit(token, valid),
    )
    with models.db.connection_context():
        assert models.Lead.select().count() == 1
        lead = models.Lead.get()
        assert first.id == second.id == lead.id
        assert models.Draft.get(models.Draft.token == token).lead_id == lead.id
        assert models.Orientation.select().where(models.Orientation.lead == lead).count() > 0


def test_two_simultaneous_saves_keep_both_answers(client, database_url):
    walk(client, "jeune", YOUTH_STEPS[:3])  # age, situation, besoin
    token = draft_token(client)
    race(
        database_url,
        token,
        lambda: drafts.save_step(token, "jeune", "besoin", {"besoin": "emploi"}, 30),
        lambda: drafts.save_step(token, "jeune", "commune", {"commune": "Lyon (69003)"}, 30),
    )
    with models.db.connection_context():
        answers = models.Draft.get(models.Draft.token == token).answers
    assert answers["besoin"] == {"besoin": "emploi"}
    assert answers["commune"] == {"commune": "Lyon (69003)"}
    assert answers["age"] == {"age": 17}


def test_a_save_racing_a_submit_never_changes_the_sent_draft(client, database_url):
    walk(client, "jeune", YOUTH_STEPS)
    token = draft_token(client)
    lead, saved = race(
        database_url,
        token,
        lambda: drafts.submit(token, valid),
        lambda: drafts.save_step(token, "jeune", "besoin", {"besoin": "emploi"}, 30),
    )
    with models.db.connection_context():
        sent = models.Draft.get(models.Draft.token == token)
        lead = models.Lead.get_by_id(lead.id)
    # Whichever ran first, the lead was made from the answers the draft keeps.
    assert lead.besoin == sent.answers["besoin"]["besoin"]
    if saved.token != token:  # the submit won: the save went to a fresh draft
        assert sent.answers["besoin"] == {"besoin": "orientation"}


# --- The reference of a new lead ----------------------------------------------------------


def references(*values):
    """A stand-in for drafts.new_reference returning `values` in turn."""
    values = iter(values)
    return lambda kind: next(values)


def test_a_taken_reference_is_drawn_again(client, monkeypatch):
    walk(client, "jeune", YOUTH_STEPS)
    assert submit(client, "jeune").status_code == 303
    with models.db.connection_context():
        taken = models.Lead.get()
    walk(client, "jeune", YOUTH_STEPS)
    monkeypatch.setattr(drafts, "new_reference", references(taken.reference, "J-NEW22"))
    assert submit(client, "jeune").status_code == 303
    token = draft_token(client)
    with models.db.connection_context():
        assert models.Lead.select().count() == 2
        assert models.Lead.get_by_id(taken.id).reference == taken.reference
        lead = models.Lead.get(models.Lead.id != taken.id)
        assert lead.reference == "J-NEW22"
        assert models.Draft.get(models.Draft.token == token).lead_id == lead.id


def test_references_all_taken_write_nothing(client, monkeypatch):
    walk(client, "jeune", YOUTH_STEPS)
    assert submit(client, "jeune").status_code == 303
    walk(client, "jeune", YOUTH_STEPS)
    token = draft_token(client)
    with models.db.connection_context():
        taken = models.Lead.get().reference
        monkeypatch.setattr(
            drafts, "new_reference", references(*[taken] * drafts.REFERENCE_ATTEMPTS)
        )
        with pytest.raises(IntegrityError):
            drafts.submit(token, valid)
        assert models.Lead.select().count() == 1
        assert models.Draft.get(models.Draft.token == token).submitted_at is None
