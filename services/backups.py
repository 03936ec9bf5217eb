"""Backups and restore (`flask --app app backup` / `restore`, docs/exploitation.md).

SQLite: `VACUUM INTO` (one read transaction: a consistent copy of the committed data, the
WAL's included, while the app keeps writing; never a `cp` of the file, which misses what is
still in the WAL), `PRAGMA integrity_check` on the copy, then gzip. PostgreSQL: `pg_dump -Fc`
(compressed). Files are named by date (UTC) and the `keep` most recent are kept.

A restore brings back what the backup held, so two things are re-decided afterwards:
- e-mails still queued in the backup may have left since: they are set aside as « echec »
  with a note, for the operator to send again from the back office or not (none twice);
- leads erased since the backup come back: their erasure is applied again from the list of
  erased ids (models.Effacement) of the database being replaced.
"""

import glob
import gzip
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from peewee import SqliteDatabase

import models
from mail import outbox
from models import Effacement, Lead, Message

PREFIX = "unjeuneunmentor-"
SUFFIXES = (".sqlite.gz", ".pgdump")
HELD_NOTE = "Restauration du {date} : peut-être déjà envoyé avant la panne, à vérifier."


class BackupError(Exception):
    """A French message for the operator."""


def on_sqlite():
    return isinstance(models.db.obj, SqliteDatabase)


def sqlite_path():
    return Path(models.db.obj.database)


def libpq_url(url):
    """The DATABASE_URL as pg_dump reads it (peewee's +pool scheme removed)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(scheme="postgresql"))


def pg_tool(name):
    """Debian's binary of the newest server version, else the one on PATH."""
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=_version_key)
    if found:
        return found[-1]
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} introuvable : installez postgresql-client.")
    return path


def _version_key(path):
    return int(Path(path).parts[-3]) if Path(path).parts[-3].isdigit() else 0


# --- Backup ------------------------------------------------------------------------------------
def backup(url, directory, keep, now=None, say=print):
    """Write a backup of the database in `directory`; returns its path. Keeps `keep` files."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    stamp = (now or models.now()).strftime("%Y%m%d-%H%M%S")
    if on_sqlite():
        target = _backup_sqlite(directory, stamp, say)
    else:
        target = directory / f"{PREFIX}{stamp}.pgdump"
        say("Export PostgreSQL (pg_dump -Fc)…")
        _run([pg_tool("pg_dump"), "-Fc", "--no-owner", "-f", str(target), libpq_url(url)])
    removed = prune(directory, keep)
    say(
        f"Sauvegarde terminée : {target} ({target.stat().st_size // 1024} Ko), "
        f"{removed} ancienne(s) supprimée(s), {keep} gardée(s) au plus."
    )
    return target


def _backup_sqlite(directory, stamp, say):
    copy = directory / f".{PREFIX}{stamp}.sqlite"
    target = directory / f"{PREFIX}{stamp}.sqlite.gz"
    copy.unlink(missing_ok=True)
    try:
        say("Copie de la base (VACUUM INTO)…")
        source = sqlite3.connect(sqlite_path(), timeout=30)
        try:
            source.execute("VACUUM INTO ?", (str(copy),))
        finally:
            source.close()
        say("Vérification de la copie (PRAGMA integrity_check)…")
        check_sqlite(copy)
        say("Compression (gzip)…")
        with open(copy, "rb") as raw, gzip.open(f"{target}.part", "wb") as packed:
            shutil.copyfileobj(raw, packed, 1024 * 1024)
        os.replace(f"{target}.part", target)
    finally:
        copy.unlink(missing_ok=True)
    return target


def check_sqlite(path):
    connection = sqlite3.connect(path)
    try:
        result = connection.execute("PRAGMA integrity_check").fetchall()
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{path.name} n'est pas une base SQLite lisible ({error}).") from error
    finally:
        connection.close()
    if result != [("ok",)]:
        raise BackupError(f"{path.name} est endommagée : {result[0][0]}")


def prune(directory, keep):
    """Delete all but the `keep` most recent backups (their names sort by date)."""
    backups = sorted(p for p in directory.iterdir() if is_backup(p))
    old = backups[:-keep] if keep > 0 else []
    for path in old:
        path.unlink()
    return len(old)


def is_backup(path):
    return path.name.startswith(PREFIX) and path.name.endswith(SUFFIXES)


def _run(command):
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        # pg_dump's message names objects, never rows: safe to show.
        raise BackupError(f"{Path(command[0]).name} a échoué : {result.stderr.strip()[-500:]}")


# --- Restore -----------------------------------------------------------------------------------
def in_use():
    """What the database holds already (a restore over it needs --force): its count of
    leads, or None when it has no tables (a fresh instance)."""
    if not Lead.table_exists():
        return None
    return Lead.select().count()


def erasures():
    """[(lead id, date)] erased in the database about to be replaced (if it has the table)."""
    if not Effacement.table_exists():
        return []
    return list(Effacement.select(Effacement.lead_id, Effacement.at).tuples())


def restore(url, path, mail_dir, say=print):
    """Replace the database by the backup at `path`, migrate it, set its queued e-mails
    aside and erase again the leads erased since. Returns a one-line French summary."""
    path = Path(path)
    if not is_backup(path):
        raise BackupError(f"{path.name} : pas une sauvegarde ({PREFIX}….sqlite.gz ou .pgdump).")
    erased = erasures()
    if on_sqlite():
        _restore_sqlite(path, say)
    else:
        _restore_postgres(url, path, say)
    say("Migrations…")
    applied = models.migrate()
    with models.db.connection_context():
        held = hold_queued_messages()
        again = erase_again(erased, mail_dir)
    return (
        f"Restauration terminée depuis {path.name} : {len(applied)} migration(s), "
        f"{held} e-mail(s) en attente mis de côté (à vérifier dans Administration › "
        f"Messages), {again} effacement(s) réappliqué(s)."
    )


def _restore_sqlite(path, say):
    target = sqlite_path()
    copy = target.with_name(f".restore-{target.name}")
    say("Décompression…")
    try:
        with gzip.open(path, "rb") as packed, open(copy, "wb") as raw:
            shutil.copyfileobj(packed, raw, 1024 * 1024)
    except (OSError, EOFError) as error:
        copy.unlink(missing_ok=True)
        raise BackupError(f"{path.name} est illisible ({error}).") from error
    try:
        say("Vérification (PRAGMA integrity_check)…")
        check_sqlite(copy)
        say(f"Écriture dans {target} (API de sauvegarde de SQLite)…")
        models.db.close_all()
        # Through SQLite's own locks and WAL, never a file copy over a live database.
        source, destination = sqlite3.connect(copy), sqlite3.connect(target, timeout=30)
        try:
            source.backup(destination)
        finally:
            source.close()
            destination.close()
    finally:
        copy.unlink(missing_ok=True)


def _restore_postgres(url, path, say):
    say("Vérification de l'archive (pg_restore --list)…")
    _run([pg_tool("pg_restore"), "--list", str(path)])
    models.db.close_all()
    say("Restauration PostgreSQL (pg_restore --clean)…")
    _run(
        [
            pg_tool("pg_restore"),
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            "-d",
            libpq_url(url),
            str(path),
        ]
    )


def hold_queued_messages(now=None):
    """Every e-mail still to send in the restored database was queued before the backup,
    and may have left since: none is sent again on its own, the operator decides."""
    now = now or models.now()
    note = HELD_NOTE.format(date=now.strftime("%d/%m/%Y %H:%M UTC"))
    with models.write_transaction(durable=True):
        return (
            Message.update(status=outbox.FAILED, last_error=note, claimed_by="", claimed_until=None)
            .where(Message.status == outbox.TO_SEND)
            .execute()
        )


def erase_again(erased, mail_dir):
    """Apply again each erasure made after the backup; returns how many."""
    from services import suivi

    count = 0
    for lead_id, at in erased:
        lead = Lead.get_or_none(Lead.id == lead_id)
        if lead is not None and suivi.erase(lead, mail_dir, by="restauration", tell_staff=False):
            count += 1
        Effacement.insert(lead_id=lead_id, at=at).on_conflict_ignore().execute()
    return count
