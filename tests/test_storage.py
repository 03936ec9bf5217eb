"""Connections and transactions: one kept connection per thread, never inherited across
a fork or left mid-transaction, replaced when it died; durability by what is written."""

import logging
import os
import sqlite3
import threading

import pytest
from peewee import SqliteDatabase

import models
from tests.helpers import YOUTH_STEPS, post, submit, walk


def on_sqlite():
    return isinstance(models.db.obj, SqliteDatabase)


def ph():
    """The driver's parameter placeholder, for SQL written by hand."""
    return models.db.obj.param


@pytest.fixture
def pool_log(caplog):
    """What the pool does: connections it creates and takes back."""
    caplog.set_level(logging.DEBUG, logger="peewee.pool")

    def events(kind):
        return [r for r in caplog.records if r.name == "peewee.pool" and kind in r.getMessage()]

    return events


@pytest.fixture
def sql_log(caplog):
    caplog.set_level(logging.DEBUG, logger="peewee")
    return lambda: [r.getMessage() for r in caplog.records if r.name == "peewee"]


def test_one_connection_is_kept_across_requests(client, pool_log):
    walk(client, "jeune", YOUTH_STEPS[:2])
    for _ in range(5):
        assert client.get("/jeune/besoin").status_code == 200
    assert len(pool_log("Created new connection")) == 1
    assert len(pool_log("Returning")) >= 5 + 2  # each request gave it back
    assert models.db.is_closed()  # nothing held between requests


def test_a_page_without_a_query_takes_no_connection(client, pool_log, sql_log):
    for url in ("/", "/jeune/age", "/mentions-legales"):
        assert client.get(url).status_code == 200
    assert pool_log("connection") == [] and pool_log("Returning") == []
    assert sql_log() == []


def test_a_step_with_a_draft_reads_it_with_one_query(client, sql_log):
    walk(client, "jeune", YOUTH_STEPS[:2])
    before = len(sql_log())
    assert client.get("/jeune/besoin").status_code == 200
    assert len(sql_log()) - before == 1


def test_each_thread_has_its_own_connection(app, pool_log):
    both_inside = threading.Barrier(2, timeout=10)
    seen = []

    @app.get("/_both")
    def both():
        seen.append(models.db.execute_sql("SELECT 1").fetchone()[0])
        both_inside.wait()  # two requests hold a connection at the same time
        return "ok"

    @app.get("/_one")
    def one():
        return str(models.db.execute_sql("SELECT 1").fetchone()[0])

    def request():
        assert app.test_client().get("/_both").status_code == 200

    threads = [threading.Thread(target=request) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == [1, 1]
    assert len(pool_log("Created new connection")) == 2
    assert app.test_client().get("/_one").text == "1"  # takes one of them back
    assert len(pool_log("Created new connection")) == 2


def test_an_error_inside_a_request_rolls_back(app, client):
    @app.get("/_fails")
    def fails():
        with models.write_transaction():
            models.Draft.create(token="not-kept", parcours="jeune")
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        client.get("/_fails")
    with models.db.connection_context():
        assert not models.Draft.select().where(models.Draft.token == "not-kept").exists()


def test_a_transaction_left_open_is_rolled_back_for_the_next_request(app, client):
    @app.get("/_forgets")
    def forgets():
        # Behind peewee's back: a BEGIN never committed.
        models.db.execute_sql("BEGIN")
        models.db.execute_sql(
            "INSERT INTO draft (token, parcours, answers, created_at, updated_at) "
            f"VALUES ('left-open', 'jeune', '{{}}', {ph()}, {ph()})",
            (models.now(), models.now()),
        )
        return "ok"

    @app.get("/_writes")
    def writes():
        with models.write_transaction():
            models.Draft.create(token="next", parcours="jeune")
        return "ok"

    assert client.get("/_forgets").status_code == 200
    assert client.get("/_writes").status_code == 200  # not blocked, not inside the other one
    with models.db.connection_context():
        tokens = {d.token for d in models.Draft.select()}
    assert "left-open" not in tokens and "next" in tokens


def test_a_dead_connection_is_replaced(app, client):
    walk(client, "jeune", YOUTH_STEPS[:2])
    with models.db.connection_context():
        kept = models.db.connection()
        pid = None if on_sqlite() else models.db.execute_sql("SELECT pg_backend_pid()").fetchone()
    if on_sqlite():
        kept.close()
    else:  # the server ends the session, as a restart or an idle timeout would
        other = models.make_database(app.config["DATABASE_URL"])
        other.execute_sql("SELECT pg_terminate_backend(%s)", pid)
        other.close_all()
    assert client.get("/jeune/besoin").status_code == 200
    with models.db.connection_context():
        assert models.db.connection() is not kept


def test_a_forked_child_never_uses_the_parents_connection(db):
    models.db.execute_sql("SELECT 1")
    parent = models.db.connection()
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover (the child reports through the pipe)
        try:
            inherited = not models.db.is_closed()
            ok = models.db.execute_sql("SELECT 1").fetchone()[0] == 1
            own = models.db.connection() is not parent
            models.db.close()
            os.write(write, b"ok" if ok and own and not inherited else b"bad")
        finally:
            os._exit(0)
    os.close(write)
    os.waitpid(child, 0)
    assert os.read(read, 10) == b"ok"
    os.close(read)
    # The parent's own session was not closed by the child.
    assert models.db.connection() is parent
    assert models.db.execute_sql("SELECT 1").fetchone()[0] == 1


def durability():
    """The backend's commit setting as seen from the current transaction."""
    if on_sqlite():
        return {1: "normal", 2: "full"}[models.db.execute_sql("PRAGMA synchronous").fetchone()[0]]
    return models.db.execute_sql("SHOW synchronous_commit").fetchone()[0]


def test_durability_is_chosen_per_transaction(db):
    relaxed, durable = ("normal", "full") if on_sqlite() else ("off", "on")
    with models.write_transaction():
        assert durability() == relaxed
    with models.write_transaction(durable=True):
        assert durability() == durable
    with models.write_transaction():
        assert durability() == relaxed
    with pytest.raises(RuntimeError), models.write_transaction(durable=True):
        raise RuntimeError
    with models.write_transaction():
        assert durability() == relaxed  # restored after a failed durable one too


@pytest.mark.parametrize("durable", [False, True])
def test_a_write_transaction_takes_the_sqlite_write_lock_at_once(db, db_path, durable):
    if not on_sqlite():
        pytest.skip("SQLite's lock")
    other = sqlite3.connect(db_path, timeout=0, isolation_level=None)
    with (
        models.write_transaction(durable=durable),
        pytest.raises(sqlite3.OperationalError, match="locked"),
    ):
        other.execute("BEGIN IMMEDIATE")
    other.execute("BEGIN IMMEDIATE")
    other.execute("ROLLBACK")
    other.close()


def test_a_draft_step_is_not_fsynced_but_a_sent_demande_is(client, sql_log):
    full = "PRAGMA synchronous = full"
    relaxed = "SET LOCAL synchronous_commit TO OFF"
    walk(client, "jeune", YOUTH_STEPS)
    steps = sql_log()
    submit_start = len(steps)
    assert submit(client, "jeune").status_code == 303
    sent = sql_log()[submit_start:]
    if on_sqlite():
        assert not any(full in q for q in steps)
        assert any(full in q for q in sent)
    else:
        assert any(relaxed in q for q in steps)
        assert not any(relaxed in q for q in sent)


def test_choosing_an_alternative_is_durable(client, sql_log):
    walk(client, "jeune", YOUTH_STEPS)
    location = submit(client, "jeune").headers["Location"]
    html = client.get(location).get_data(as_text=True)
    alternative = html.split('name="orientation" value="')[1].split('"')[0]
    start = len(sql_log())
    response = post(client, f"{location}/choisir", {"orientation": alternative}, token=None)
    assert response.status_code == 303
    chosen = sql_log()[start:]
    if on_sqlite():
        assert any("PRAGMA synchronous = full" in q for q in chosen)
    else:
        assert not any("synchronous_commit TO OFF" in q for q in chosen)
