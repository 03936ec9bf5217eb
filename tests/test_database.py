"""The database handle: URLs, drivers, migrations, on the backend under test."""

from urllib.parse import urlsplit

import psycopg
import pytest
from testdb import ON_POSTGRES

import models
from app import create_app

postgres_only = pytest.mark.skipif(
    not ON_POSTGRES, reason="propre à PostgreSQL (TEST_DATABASE_URL ne le vise pas)"
)


def test_init_db_migrates_an_empty_database_once(empty_database_url):
    app = create_app({"SECRET_KEY": "test", "DATABASE_URL": empty_database_url})
    runner = app.test_cli_runner()
    assert "Migrations appliquées : 0001_initial" in runner.invoke(args=["init-db"]).output
    assert "Migrations appliquées : aucune" in runner.invoke(args=["init-db"]).output
    with models.db.connection_context():
        tables = set(models.db.get_tables())
    assert {model._meta.table_name for model in models.MODELS} <= tables


@postgres_only
@pytest.mark.parametrize("scheme", ["postgresql", "postgres", "postgresql+pool"])
def test_postgresql_urls_connect_through_psycopg_3(database_url, scheme):
    url = urlsplit(database_url)._replace(scheme=scheme).geturl()
    database = models.make_database(url)
    with database.connection_context():
        assert isinstance(database.connection(), psycopg.Connection)
        assert database.execute_sql("SELECT count(*) FROM commune").fetchone()[0] > 30_000
    if hasattr(database, "close_all"):  # the pool keeps its connections otherwise
        database.close_all()


@pytest.mark.sqlite_only
def test_sqlite_connections_get_the_pragmas(db):
    def pragma(name):
        return db.execute_sql(f"PRAGMA {name}").fetchone()[0]

    assert pragma("journal_mode") == "wal"
    assert pragma("foreign_keys") == 1
    assert pragma("busy_timeout") == models.SQLITE_PRAGMAS["busy_timeout"]
