"""The statistics computed by `tick` (models.Statistique): monthly counts by département and
the associations' responsiveness, so no page and no submit computes them."""

from peewee import CharField, DateTimeField, Model, TextField


def up(migrator, db):
    class Statistique(Model):
        cle = CharField(unique=True, max_length=20)
        data = TextField(default="{}")
        computed_at = DateTimeField()

        class Meta:
            database = db
            table_name = "statistique"

    db.create_tables([Statistique])


def down(migrator, db):
    db.execute_sql("DROP TABLE statistique")
