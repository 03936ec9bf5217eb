"""The reason of a timeline event (a code of vocabulary.MOTIF_SANS_SUITE or MOTIF_TRANSFERT),
apart from the staff's free note: the export and the operator count them."""

from peewee import CharField


def up(migrator, db):
    migrator.migrate(migrator.add_column("evenement", "motif", CharField(default="")))


def down(migrator, db):
    migrator.migrate(migrator.drop_column("evenement", "motif"))
