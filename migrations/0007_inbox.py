"""The inbox's département filter lists the départements of an association's leads: an
index on (association, département) answers that DISTINCT from the index alone, without
reading every lead of the association."""


def up(migrator, db):
    migrator.migrate(migrator.add_index("lead", ("association_id", "departement")))


def down(migrator, db):
    migrator.migrate(migrator.drop_index("lead", "lead_association_id_departement"))
