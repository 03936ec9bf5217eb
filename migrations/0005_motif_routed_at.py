"""The reason of a timeline event (a code of vocabulary.MOTIF_SANS_SUITE or MOTIF_TRANSFERT),
apart from the staff's free note; and when a lead reached its current association (or the
waiting list), from which the promised call-back delay runs: a hand-over starts it again."""

from peewee import CharField, DateTimeField


def up(migrator, db):
    migrator.migrate(
        migrator.add_column("evenement", "motif", CharField(default="")),
        migrator.add_column("lead", "routed_at", DateTimeField(null=True)),
    )
    db.execute_sql("UPDATE lead SET routed_at = created_at")


def down(migrator, db):
    migrator.migrate(
        migrator.drop_column("lead", "routed_at"),
        migrator.drop_column("evenement", "motif"),
    )
