"""Shared fixtures: a real database per test, seeded once per session with the communes and
the demo catalogue, then copied (cheap) so tests never share leads.

SQLite files by default; PostgreSQL databases when TEST_DATABASE_URL names a server
(`scripts/test-postgres.sh` starts a throwaway one; see tests/testdb.py). A test that is
about SQLite itself is marked `sqlite_only` and skipped on PostgreSQL.
"""

import os
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
from flask.testing import FlaskClient
from testdb import ON_POSTGRES, open_databases

import models
from app import create_app
from services import catalogue, territory

# The `smtp_server` fixture: a real SMTP server (aiosmtpd); `redis_url`: a real Redis.
pytest_plugins = ["smtp_server", "redis_server"]

ROOT = Path(__file__).resolve().parent.parent
COMMUNES_FILE = ROOT / "data" / "communes.csv.gz"
DEMO_CATALOGUE = ROOT / "data" / "catalogue-demo.csv"


def pytest_report_header(config):
    return f"base de données des tests : {'PostgreSQL' if ON_POSTGRES else 'SQLite'}"


def pytest_collection_modifyitems(config, items):
    if not ON_POSTGRES:
        return
    skip = pytest.mark.skip(reason="propre à SQLite (TEST_DATABASE_URL vise PostgreSQL)")
    for item in items:
        if item.get_closest_marker("sqlite_only"):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def databases():
    """Where test databases are made (SQLite files or PostgreSQL databases)."""
    try:
        backend = open_databases()
    except psycopg.OperationalError as error:
        message = f"TEST_DATABASE_URL : serveur PostgreSQL injoignable ({error})"
        if os.environ.get("CI") == "true":
            pytest.fail(message + " CI=true : la suite PostgreSQL est obligatoire.", pytrace=False)
        pytest.skip(message)
    yield backend
    backend.close()


@pytest.fixture(scope="session")
def seed_db(databases, tmp_path_factory):
    """URL of the seeded database; never opened by tests, only copied."""
    url = databases.new(tmp_path_factory.mktemp("seed"), "seed")
    models.init_db(url)
    models.migrate()
    with models.db.connection_context():
        territory.load_file(COMMUNES_FILE)
        catalogue.load_file(DEMO_CATALOGUE)
    # Really close the pooled connection: the last close checkpoints the WAL into the
    # file that the tests copy.
    models.db.close_all()
    yield url
    databases.drop(url)


@pytest.fixture
def database_url(databases, seed_db, tmp_path):
    """A fresh copy of the seeded database for this test."""
    url = databases.copy(seed_db, tmp_path, "test")
    yield url
    if not models.db.is_closed():
        models.db.close()
    databases.drop(url)


@pytest.fixture
def db_path(database_url):
    """The file of `database_url`, for tests about SQLite itself (skipped on PostgreSQL)."""
    if ON_POSTGRES:
        pytest.skip("propre à SQLite : le fichier de la base")
    return Path(urlsplit(database_url).path[1:])


@pytest.fixture
def empty_database_url(databases, tmp_path):
    """A new database without tables (migrations not run)."""
    url = databases.new(tmp_path, "empty")
    yield url
    if not models.db.is_closed():
        models.db.close()
    databases.drop(url)


class HttpsClient(FlaskClient):
    """The test client as a browser over HTTPS: requests are https://localhost/…, and a
    form's POST carries the Referer a browser sends under the site's Referrer-Policy (its
    own origin), which Flask-WTF's CSRF check asks of every HTTPS POST. A test that is
    about the Referer passes its own (or `Referer=None` for none)."""

    def open(self, *args, **kwargs):
        headers = dict(kwargs.pop("headers", None) or {})
        method = kwargs.get("method", "GET")
        if method not in ("GET", "HEAD", "OPTIONS") and "Referer" not in headers:
            headers["Referer"] = "https://localhost/"
        kwargs["headers"] = {k: v for k, v in headers.items() if v is not None}
        return super().open(*args, **kwargs)


@pytest.fixture
def app(database_url, tmp_path):
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret-key",
            "DATABASE_URL": database_url,
            # Without SMTP_URL e-mails are files: this test's own, never instance/mail/.
            "SMTP_URL": "",
            "MAIL_DIR": str(tmp_path / "mail"),
            "SMS_DIR": str(tmp_path / "sms"),  # SMS files too (mail/sms.py)
            # Every request over HTTPS, as in production (HttpsClient).
            "PREFERRED_URL_SCHEME": "https",
            # Tests answer in milliseconds, and send one person many times: the time
            # trap and the link to a first demande have their own (test_bots.py,
            # test_sent_again.py, helpers.make_app).
            "MIN_FILL_SECONDS": 0,
            "SENT_AGAIN_HOURS": 0,
            # Junk tests answer hundreds of steps a minute (limits: test_limits.py).
            "LIMIT_ETAPES": "100000 per minute",
        }
    )
    app.test_client_class = HttpsClient
    catalogue.invalidate()
    yield app
    if not models.db.is_closed():
        models.db.close()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def db(app):
    """An open connection for tests that query models directly."""
    with models.db.connection_context():
        yield models.db
