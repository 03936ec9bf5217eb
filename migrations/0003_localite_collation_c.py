"""The commune search compares normalised names and postal codes as byte ranges
(territory._suggestions_sql): on PostgreSQL their columns use the "C" collation, so a
database created with another locale (en_US.UTF-8, fr_FR.UTF-8) still finds every prefix.
SQLite always compares bytes: nothing to do there."""

from peewee import PostgresqlDatabase

COLUMNS = {"nom_normalise": "VARCHAR(255)", "code_postal": "VARCHAR(5)"}


def up(migrator, db):
    if isinstance(db, PostgresqlDatabase):
        for column, kind in COLUMNS.items():
            db.execute_sql(f'ALTER TABLE localite ALTER COLUMN {column} TYPE {kind} COLLATE "C"')


def down(migrator, db):
    if isinstance(db, PostgresqlDatabase):
        for column, kind in COLUMNS.items():
            db.execute_sql(f"ALTER TABLE localite ALTER COLUMN {column} TYPE {kind}")
