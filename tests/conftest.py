"""Shared fixtures: a real SQLite file per test, seeded once per session with the
communes and the demo catalogue, then copied (cheap) so tests never share leads."""

import shutil
from pathlib import Path

import pytest

import catalogue
import models
import territory
from app import create_app

ROOT = Path(__file__).resolve().parent.parent
COMMUNES_FILE = ROOT / "data" / "communes.csv.gz"
DEMO_CATALOGUE = ROOT / "data" / "catalogue-demo.csv"


@pytest.fixture(scope="session")
def seed_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("seed") / "seed.db"
    models.init_db(f"sqlite:///{path}")
    models.migrate()
    with models.db.connection_context():
        territory.load_file(COMMUNES_FILE)
        catalogue.load_file(DEMO_CATALOGUE)
    # Really close the pooled connection: the last close checkpoints the WAL into the
    # file that db_path copies.
    models.db.close_all()
    return path


@pytest.fixture
def db_path(seed_db, tmp_path):
    path = tmp_path / "test.db"
    shutil.copy(seed_db, path)
    return path


@pytest.fixture
def app(db_path):
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret-key",
            "DATABASE_URL": f"sqlite:///{db_path}",
        }
    )
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
