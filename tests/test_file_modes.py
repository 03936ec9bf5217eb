"""Files holding secrets or personal data are their owner's only: instance/ 0700, the
SQLite database, instance/config.py (written by make) and the .eml files 0600."""

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import YOUTH_STEPS, submit, walk

import models
from app import create_app

ROOT = Path(__file__).resolve().parent.parent


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_the_instance_directory_is_private(app):
    assert mode(app.instance_path) == 0o700


def test_a_new_sqlite_database_is_private(tmp_path):
    old = os.umask(0o022)  # the usual umask, which makes 0644 files
    try:
        path = tmp_path / "new.db"
        create_app({"SECRET_KEY": "x", "DATABASE_URL": f"sqlite:///{path}"})
        models.migrate()
        models.db.close_all()
    finally:
        os.umask(old)
    assert mode(path) == 0o600
    for sibling in tmp_path.glob("new.db-*"):  # -wal, -shm
        assert mode(sibling) == 0o600, sibling


def test_an_existing_database_is_made_private(db_path):
    os.chmod(db_path, 0o644)
    models.init_db(f"sqlite:///{db_path}")
    assert mode(db_path) == 0o600


def test_eml_files_are_private(app, client, runner):
    old = os.umask(0o022)
    try:
        walk(client, "jeune", YOUTH_STEPS)
        assert submit(client, "jeune").status_code == 303
        assert runner.invoke(args=["tick"]).exit_code == 0
    finally:
        os.umask(old)
    directory = Path(app.config["MAIL_DIR"])
    files = list(directory.glob("*.eml"))
    assert files
    assert mode(directory) == 0o700
    assert all(mode(f) == 0o600 for f in files), [oct(mode(f)) for f in files]


@pytest.mark.skipif(not Path("/usr/bin/make").exists(), reason="make absent")
def test_make_writes_a_private_config(tmp_path):
    bin_dir = Path(sys.executable).parent
    subprocess.run(
        ["make", "-f", str(ROOT / "Makefile"), f"BIN={bin_dir}", "instance/config.py"],
        cwd=tmp_path,
        check=True,
        capture_output=True,
        env=dict(os.environ),
    )
    config = tmp_path / "instance" / "config.py"
    assert "SECRET_KEY = " in config.read_text()
    assert mode(config) == 0o600
    assert mode(tmp_path / "instance") == 0o700
