"""Former communes (déléguées, associées) become searchable names of today's commune."""

from peewee import BooleanField


def up(migrator, db):
    migrator.migrate(migrator.add_column("localite", "ancienne", BooleanField(default=False)))


def down(migrator, db):
    migrator.migrate(migrator.drop_column("localite", "ancienne"))
