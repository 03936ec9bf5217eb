"""The catalogue file, the matcher's snapshot and statistics, on a real SQLite database
(conftest's `db` holds the communes and the demo catalogue)."""

import csv
import dataclasses
import datetime as dt
import itertools
from pathlib import Path

import pytest

import models
from domain import matcher
from models import Association, Lead, Orientation, Programme
from services import catalogue, coverage, territory
from services.catalogue import CatalogueError, Problem

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "data" / "catalogue-demo.csv"


def demo_rows():
    with DEMO.open(encoding="utf-8", newline="") as stream:
        return list(csv.DictReader(stream, delimiter=";"))


def write(tmp_path, rows, columns=catalogue.COLUMNS):
    path = tmp_path / "catalogue.csv"
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.DictWriter(
            stream, fieldnames=columns, delimiter=";", extrasaction="ignore", lineterminator="\n"
        )
        writer.writeheader()
        writer.writerows(rows)
    return path


def errors_of(path):
    with pytest.raises(CatalogueError) as caught:
        catalogue.load_file(path)
    return caught.value.errors


def programme_slugs():
    return {p.slug for p in Programme.select(Programme.slug)}


# --- The demo catalogue -------------------------------------------------------------------------
def test_demo_catalogue_is_loaded_and_listed(db):
    associations = catalogue.list_associations()
    assert len(associations) == 15
    assert associations == sorted(associations)
    assert ("savoirs-partages", "Savoirs Partagés") in associations
    assert Programme.select().count() == 24


def test_demo_catalogue_is_clearly_fictional(db):
    for association in Association.select():
        assert association.description.startswith("Démonstration (association fictive).")
        assert association.email.endswith(".example.org")
        assert association.telephone.startswith("+3319900")  # 01 99 00 …, kept for fiction


def test_demo_catalogue_has_the_variety_the_matcher_needs(db):
    programmes = list(catalogue.snapshot())
    capacities = [p.capacite_mensuelle for p in programmes]
    assert (min(capacities), max(capacities)) == (5, 500)
    assert [p.slug for p in programmes if p.en_pause] == ["coup-de-pouce-gironde"]
    assert any(p.zone_nationale and p.a_distance for p in programmes)
    assert sum(bool(p.regions) for p in programmes) >= 5
    assert sum(bool(p.departements) for p in programmes) >= 5
    assert sum(bool(p.communes) for p in programmes) >= 3
    reserved = set().union(*(p.publics_reserves for p in programmes))
    assert {"handicap", "rural", "arrive_recemment", "ase"} <= reserved
    assert any(p.situations == {"apprentissage"} for p in programmes)
    assert any("etudiant" in p.mentor_situations for p in programmes)
    assert any("50_plus" in p.mentor_tranches_age for p in programmes)
    assert any(p.mentor_secteurs for p in programmes)
    ages = {(p.age_min, p.age_max) for p in programmes}
    assert {(11, 15), (15, 25), (18, 30)} <= ages


def jeune_a(insee, **answers):
    defaults = dict(situations_particulieres=[], rencontre="proximite")
    return matcher.person_from_answers("jeune", {**defaults, **answers}, territory.place(insee))


def demo_match(person):
    return matcher.match(person, catalogue.snapshot(), catalogue.stats())


def slugs(result):
    return [p.programme.slug for p in result.proposals]


def test_demo_collegien_in_lyon_gets_a_local_programme(db):
    result = demo_match(jeune_a("69123", age=13, situation="college", besoin="scolarite"))
    assert slugs(result)[:2] == ["quartiers-reussite-lyon", "savoirs-partages-college"]
    assert result.proposals[0].reasons[0] == "Elle intervient dans votre commune, Lyon."
    assert result.proposals[1].reasons[0] == "Elle intervient dans votre département, le Rhône."
    assert not result.fallback


def test_demo_young_entrepreneur_in_paris(db):
    result = demo_match(jeune_a("75056", age=25, situation="emploi", besoin="entrepreneuriat"))
    assert slugs(result) == ["jeunes-pousses"]
    assert result.proposals[0].niveau == "region"


def test_demo_young_entrepreneur_in_creuse_is_offered_remote(db):
    result = demo_match(jeune_a("23096", age=25, situation="emploi", besoin="entrepreneuriat"))
    assert slugs(result) == ["jeunes-pousses-distance"]
    assert result.fallback and result.distance_forcee
    assert "à distance" in result.proposals[0].reasons[0]


def test_demo_lyceen_in_creuse_is_told_the_meetings_are_remote(db):
    result = demo_match(jeune_a("23096", age=17, situation="lycee_general", besoin="orientation"))
    assert slugs(result) == ["cap-avenir-distance"]
    assert result.fallback and result.distance_forcee
    assert "à distance" in result.proposals[0].reasons[0]


def test_demo_waiting_list(db):
    person = jeune_a("23096", age=12, situation="college", besoin="emploi", rencontre="les_deux")
    result = demo_match(person)
    assert result.waiting_list
    assert result.proposals == ()


def test_demo_paused_programme_is_never_proposed(db):
    result = demo_match(jeune_a("33063", age=12, situation="college", besoin="scolarite"))
    assert slugs(result) == ["savoirs-partages-college"]
    paused = next(p for p in catalogue.snapshot() if p.slug == "coup-de-pouce-gironde")
    person = jeune_a("33063", age=12, situation="college", besoin="scolarite")
    assert matcher.explain(person, paused) == ["Le programme est en pause."]


def test_demo_student_mentor_in_lyon(db):
    answers = dict(
        situation="etudiant",
        tranche_age="moins_25",
        secteur="education",
        besoins=["scolarite"],
        publics=["collegiens"],
        modalite="presentiel",
    )
    person = matcher.person_from_answers("mentor", answers, territory.place("69123"))
    result = demo_match(person)
    assert slugs(result)[0] == "savoirs-partages-college"
    assert "Elle recherche en particulier des mentors étudiant·es, comme vous." in (
        result.proposals[0].reasons
    )


def test_demo_file_loads_into_an_empty_database(empty_database_url):
    """Without communes loaded: INSEE codes are checked for their format only."""
    models.init_db(empty_database_url)
    models.migrate()
    catalogue.invalidate()
    with models.db.connection_context():
        report = catalogue.load_file(DEMO)
        assert (report.associations_created, report.programmes_created) == (15, 24)
        assert (report.associations_updated, report.programmes_updated) == (0, 0)
        assert len(catalogue.snapshot()) == 24
    catalogue.invalidate()


# --- Reloading ----------------------------------------------------------------------------------
def test_reloading_the_same_file_changes_nothing(db):
    before = {p.slug: p.updated_at for p in Programme.select()}
    version = catalogue._version()
    report = catalogue.load_file(DEMO)
    assert report == catalogue.LoadReport(programmes_unchanged=24)
    assert {p.slug: p.updated_at for p in Programme.select()} == before
    assert catalogue._version() == version


def test_reload_updates_creates_and_reports_absent_programmes(db, tmp_path):
    rows = demo_rows()
    rows[0]["capacite_mensuelle"] = "123"
    new = dict(rows[1], programme_slug="savoirs-partages-ete", programme_nom="Stage d'été")
    dropped = rows.pop()["programme_slug"]
    report = catalogue.load_file(write(tmp_path, [*rows, new]))
    assert (report.programmes_created, report.programmes_updated) == (1, 1)
    assert report.programmes_unchanged == 22
    assert report.absents == (dropped,)
    assert "absents du fichier" in str(report)
    assert Programme.get(Programme.slug == rows[0]["programme_slug"]).capacite_mensuelle == 123
    assert dropped in programme_slugs()  # absent from the file, kept in the database


def test_reload_moves_a_programme_to_another_association(db, tmp_path):
    rows = demo_rows()
    target = next(r for r in rows if r["association_slug"] == "propulse")
    for column in catalogue.ASSOCIATION_COLUMNS:
        rows[0][column] = target[column]
    catalogue.load_file(write(tmp_path, rows))
    moved = Programme.get(Programme.slug == rows[0]["programme_slug"])
    assert moved.association.slug == "propulse"


# --- Errors -------------------------------------------------------------------------------------
# (row index to change, column, new value, expected problem); row index 0 is line 2.
BAD_CELLS = [
    (5, "age_min", "abc", Problem(7, "age_min", "« abc » n'est pas un nombre entier")),
    (0, "age_max", "45", Problem(2, "age_max", "« 45 » doit être compris entre 11 et 30")),
    (
        2,
        "besoins",
        "scolarite|sport",
        Problem(
            4,
            "besoins",
            "« sport » n'est pas un besoin connu "
            "(valeurs possibles : scolarite, orientation, emploi, entrepreneuriat)",
        ),
    ),
    (
        0,
        "departements",
        "69|20",
        Problem(
            2,
            "departements",
            "« 20 » n'est pas un code de département connu "
            "(01 à 95 sur deux chiffres, 2A, 2B, 971 à 976)",
        ),
    ),
    (0, "regions", "99", Problem(2, "regions", "« 99 » n'est pas un code de région connu")),
    (
        0,
        "communes",
        "6912",
        Problem(
            2,
            "communes",
            "« 6912 » n'est pas un code INSEE de commune (5 caractères, par exemple 69123)",
        ),
    ),
    (
        0,
        "communes",
        "75101",
        Problem(
            2,
            "communes",
            "« 75101 » n'est pas une commune connue "
            "(pour un arrondissement, donnez le code de la commune)",
        ),
    ),
    (3, "programme_nom", "", Problem(5, "programme_nom", "cette information est obligatoire")),
    (
        0,
        "en_pause",
        "peut-être",
        Problem(2, "en_pause", "« peut-être » : écrivez « oui » ou « non »"),
    ),
    (
        0,
        "programme_slug",
        "Réussir au collège",
        Problem(
            2,
            "programme_slug",
            "« Réussir au collège » n'est pas un identifiant (minuscules, chiffres et tirets)",
        ),
    ),
    (
        0,
        "format",
        "binome",
        Problem(2, "format", "« binome » n'est pas une valeur possible (individuel, collectif)"),
    ),
    (
        0,
        "mentor_tranches_age",
        "60_plus",
        Problem(
            2,
            "mentor_tranches_age",
            "« 60_plus » n'est pas une tranche d'âge connue "
            "(valeurs possibles : moins_25, 25_49, 50_plus)",
        ),
    ),
    (  # handi-avenir: an association with one programme, so no disagreement between rows
        6,
        "association_delai_recontact",
        "0",
        Problem(8, "association_delai_recontact", "« 0 » doit être compris entre 1 et 30"),
    ),
    (
        0,
        "publics",
        "jeunes",
        Problem(
            2,
            "mentor_situations",
            "le programme n'accueille pas de mentors : laissez ce champ vide "
            "ou ajoutez « mentors » dans publics",
        ),
    ),
    (
        0,
        "age_min",
        "16",
        Problem(2, "age_max", "l'âge maximum (15) est inférieur à l'âge minimum (16)"),
    ),
]


@pytest.mark.parametrize(("index", "column", "value", "expected"), BAD_CELLS)
def test_a_bad_cell_is_reported_with_line_and_field(db, tmp_path, index, column, value, expected):
    rows = demo_rows()
    rows[index][column] = value
    assert errors_of(write(tmp_path, rows)) == [expected]


def test_error_reads_as_french_sentence(db, tmp_path):
    rows = demo_rows()
    rows[5]["age_min"] = "abc"
    with pytest.raises(CatalogueError) as caught:
        catalogue.load_file(write(tmp_path, rows))
    assert str(caught.value) == "ligne 7, champ age_min : « abc » n'est pas un nombre entier"


def test_association_columns_must_agree_across_rows(db, tmp_path):
    rows = demo_rows()
    rows[1]["association_telephone"] = "01 99 00 99 99"  # same association as line 2
    assert errors_of(write(tmp_path, rows)) == [
        Problem(
            3,
            "association_slug",
            "les colonnes association_* diffèrent de la ligne 2 pour la même association",
        )
    ]


def test_bad_phone_email_and_site(db, tmp_path):
    rows = demo_rows()
    for row in rows[:2]:
        row.update(
            association_telephone="12 34", association_email="contact", association_site="www.x.org"
        )
    fields = {(e.line, e.field) for e in errors_of(write(tmp_path, rows))}
    assert {
        (2, "association_telephone"),
        (2, "association_email"),
        (2, "association_site"),
    } <= fields


def test_programme_must_reach_someone(db, tmp_path):
    rows = demo_rows()
    rows[0].update(departements="", zone_nationale="non", a_distance="non")
    assert errors_of(write(tmp_path, rows)) == [
        Problem(
            2,
            "zone_nationale",
            "le programme ne couvre aucun territoire (zone_nationale, regions, departements, "
            "communes) et n'accompagne pas à distance (a_distance)",
        )
    ]


def test_duplicate_programme_slug(db, tmp_path):
    rows = demo_rows()
    rows[3]["programme_slug"] = rows[1]["programme_slug"]
    assert errors_of(write(tmp_path, rows)) == [
        Problem(5, "programme_slug", "« savoirs-partages-lycee » est déjà utilisé ligne 3")
    ]


def test_missing_and_unknown_columns(db, tmp_path):
    columns = [c for c in catalogue.COLUMNS if c != "besoins"] + ["commentaire"]
    assert errors_of(write(tmp_path, demo_rows(), columns)) == [
        Problem(1, "besoins", "colonne manquante"),
        Problem(1, "commentaire", "colonne inconnue"),
    ]


def test_every_error_is_reported_in_line_order(db, tmp_path):
    rows = demo_rows()
    rows[9]["capacite_mensuelle"] = "beaucoup"
    rows[2]["besoins"] = ""
    errors = errors_of(write(tmp_path, rows))
    assert [(e.line, e.field) for e in errors] == [(4, "besoins"), (11, "capacite_mensuelle")]


def test_nothing_is_written_when_any_row_is_wrong(db, tmp_path):
    before = {p.slug: (p.capacite_mensuelle, p.updated_at) for p in Programme.select()}
    rows = demo_rows()
    rows[0]["capacite_mensuelle"] = "999"  # valid change
    new = dict(rows[1], programme_slug="nouveau-programme")  # valid new row
    rows[-1]["age_min"] = "douze"  # one error at the end
    with pytest.raises(CatalogueError):
        catalogue.load_file(write(tmp_path, [*rows, new]))
    assert {p.slug: (p.capacite_mensuelle, p.updated_at) for p in Programme.select()} == before
    assert "nouveau-programme" not in programme_slugs()


def test_file_not_in_utf8(db, tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes(DEMO.read_text(encoding="utf-8").encode("latin-1", errors="replace"))
    assert errors_of(path) == [
        Problem(
            2,
            "(fichier)",
            "le fichier n'est pas en UTF-8 : enregistrez-le au format « CSV UTF-8 »",
        )
    ]


def test_file_with_commas(db, tmp_path):
    path = tmp_path / "virgules.csv"
    path.write_text(",".join(catalogue.COLUMNS) + "\n", encoding="utf-8")
    assert errors_of(path) == [
        Problem(1, "(fichier)", "le séparateur des colonnes doit être le point-virgule (;)")
    ]


def test_empty_file_and_header_only(db, tmp_path):
    path = tmp_path / "vide.csv"
    path.write_text("", encoding="utf-8")
    assert errors_of(path) == [Problem(1, "(fichier)", "le fichier est vide")]
    assert errors_of(write(tmp_path, [])) == [
        Problem(2, "(fichier)", "le fichier ne contient aucun programme")
    ]


def test_extra_cell_and_blank_lines(db, tmp_path):
    path = write(tmp_path, demo_rows()[:2])
    lines = path.read_text(encoding="utf-8").splitlines()
    lines.insert(2, ";" * (len(catalogue.COLUMNS) - 1))  # a blank spreadsheet row: ignored
    lines.append(lines[1] + ";de trop")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert errors_of(path) == [
        Problem(5, "(ligne)", "31 cellules pour 30 colonnes : un « ; » de trop ?")
    ]


def test_spreadsheet_bom_and_quoted_multiline_cells_are_accepted(db, tmp_path):
    rows = demo_rows()
    rows[0]["programme_description"] = "Première ligne ;\nseconde ligne."
    rows[2]["age_min"] = "x"
    path = write(tmp_path, rows)
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    # The multi-line cell does not shift the line numbers of the rows that follow it...
    assert errors_of(path) == [Problem(5, "age_min", "« x » n'est pas un nombre entier")]
    rows[2]["age_min"] = "16"
    catalogue.load_file(write(tmp_path, rows))
    programme = Programme.get(Programme.slug == rows[0]["programme_slug"])
    assert programme.description == "Première ligne ;\nseconde ligne."


# --- Snapshot -----------------------------------------------------------------------------------
def test_snapshot_is_read_once(db):
    first = catalogue.snapshot()
    assert catalogue.snapshot() is first
    college = next(p for p in first if p.slug == "savoirs-partages-college")
    assert college.association_nom == "Savoirs Partagés"
    assert college.delai_recontact == 5
    assert "69" in college.departements
    assert college.mentor_situations == {"etudiant"}
    assert college.publics == {"jeunes", "mentors"}


def test_snapshot_sees_a_saved_programme_without_invalidate(db):
    first = catalogue.snapshot()
    programme = Programme.get(Programme.slug == "propulse")
    programme.en_pause = True
    programme.save()
    second = catalogue.snapshot()
    assert second is not first
    assert next(p for p in second if p.slug == "propulse").en_pause


def test_snapshot_sees_a_partial_save(db):
    catalogue.snapshot()
    programme = Programme.get(Programme.slug == "propulse")
    programme.capacite_mensuelle = 3
    programme.save(only=[Programme.capacite_mensuelle])
    assert next(p for p in catalogue.snapshot() if p.slug == "propulse").capacite_mensuelle == 3


def test_snapshot_sees_an_association_change(db):
    catalogue.snapshot()
    association = Association.get(Association.slug == "jeunes-pousses")
    association.actif = False
    association.save()
    programmes = [p for p in catalogue.snapshot() if p.association_slug == "jeunes-pousses"]
    assert len(programmes) == 2
    assert not any(p.association_active for p in programmes)


def test_snapshot_sees_a_deleted_programme(db):
    catalogue.snapshot()
    Programme.delete().where(Programme.slug == "propulse").execute()
    assert "propulse" not in {p.slug for p in catalogue.snapshot()}


def test_snapshot_sees_a_change_made_by_another_worker(db, database_url):
    """Another process writes through its own connection: no invalidate() reaches us."""
    catalogue.snapshot()
    other = models.make_database(database_url)
    with other.connection_context():
        other.execute_sql(
            "UPDATE programme SET capacite_mensuelle = 7, updated_at = "
            f"{other.param} WHERE slug = 'propulse'",
            (models.now(),),
        )
    assert next(p for p in catalogue.snapshot() if p.slug == "propulse").capacite_mensuelle == 7


# --- Statistics ---------------------------------------------------------------------------------
NUMBERS = itertools.count(1)


def lead(kind="jeune", status="nouvelle"):
    number = next(NUMBERS)
    return Lead.create(
        reference=f"T-{number:05d}",
        kind=kind,
        status=status,
        suivi_token=f"token-{number}",
        answers={},
    )


def orient(lead, slug, rank=1, outcome="proposee", at=None):
    programme = Programme.get(Programme.slug == slug)
    return Orientation.create(
        lead=lead,
        programme=programme,
        rank=rank,
        score=50,
        matcher_version=matcher.MATCHER_VERSION,
        outcome=outcome,
        created_at=at or models.now(),
    )


def programme_id(slug):
    return Programme.get(Programme.slug == slug).id


def test_stats_last_proposal_and_this_month(db):
    now = dt.datetime(2026, 11, 20, 12)
    orient(lead(), "propulse", at=dt.datetime(2026, 10, 30, 9))
    orient(lead(), "propulse", at=dt.datetime(2026, 11, 3, 9))
    orient(lead(), "propulse", at=dt.datetime(2026, 11, 18, 9))
    orient(lead(), "propulse", rank=2, at=dt.datetime(2026, 11, 19, 9))  # an alternative
    stats = catalogue.stats(now=now)
    propulse = programme_id("propulse")
    assert stats.last_proposed == {propulse: dt.datetime(2026, 11, 18, 9)}
    assert stats.proposed_this_month == {propulse: 2}
    assert stats.reactivite == {}


def test_stats_youths_waiting_and_mentors_available(db):
    elan, pulse = programme_id("collectif-elan"), programme_id("propulse")
    orient(lead("jeune"), "collectif-elan")
    orient(lead("jeune", status="en_attente"), "collectif-elan", outcome="acceptee")
    orient(lead("jeune", status="binome_forme"), "collectif-elan")  # paired: not waiting
    orient(lead("jeune"), "collectif-elan", outcome="refusee")  # no longer there
    orient(lead("jeune"), "collectif-elan", rank=2)  # only an alternative
    chose_alternative = lead("jeune")
    orient(chose_alternative, "propulse", rank=2, outcome="acceptee")
    orient(lead("mentor"), "collectif-elan")
    stats = catalogue.stats()
    assert isinstance(stats, matcher.Stats)
    assert stats.jeunes_en_attente == {elan: 2, pulse: 1}
    assert stats.mentors_disponibles == {elan: 1}


def test_stats_feed_the_matcher(db):
    """A programme whose monthly capacity is used up loses its capacity points."""
    person = jeune_a("92050", age=20, situation="recherche", besoin="emploi")
    before = demo_match(person).proposals[0]
    assert before.programme.slug == "quartiers-reussite-nanterre"
    assert "Elle a encore des places ce mois-ci." in before.reasons
    for _ in range(before.programme.capacite_mensuelle):
        orient(lead(), "quartiers-reussite-nanterre")
    after = next(
        p for p in demo_match(person).proposals if p.programme.slug == before.programme.slug
    )
    assert after.score == before.score - matcher.WEIGHTS["capacite"]
    assert "Elle a encore des places ce mois-ci." not in after.reasons


def test_for_youngest_lists_open_programmes_from_11_one_per_association(db):
    youngest = catalogue.for_youngest()
    # Cap Avenir Collège also starts at 11, but for orientation: not what a child's parents seek.
    assert [p.association_slug for p in youngest] == ["quartiers-reussite", "savoirs-partages"]
    assert all(p.age_min == 11 and not p.en_pause and "scolarite" in p.besoins for p in youngest)


# --- Coverage -----------------------------------------------------------------------------------
def les_deux(place):
    # Who accepts remote meetings gets what a "près de chez moi" would get after the
    # fallback: the waiting list does not depend on the rencontre choice.
    return coverage.youths_of(place, rencontres=("les_deux",))


def test_demo_catalogue_leaves_at_most_5_percent_of_the_grid_on_the_waiting_list(db):
    places = coverage.most_populous_places()
    assert len(places) == coverage.COVERAGE_COMMUNES
    youths = coverage.coverage(places, catalogue.snapshot(), les_deux)
    assert youths.total == 300 * 65 * 4  # communes × plausible (age, situation) × besoins
    assert youths.share() <= 0.05
    # Left waiting: only what nobody offers at that age (a collégien·ne creating a company,
    # a stage before 13).
    assert youths.share(besoin="scolarite") == youths.share(besoin="orientation") == 0
    # Some départements have no local programme: the fallback path is part of the demo.
    assert max(fallback for _, _, fallback in youths.worst_departements()) > 0.9


def test_demo_catalogue_offers_almost_every_mentor_a_programme(db):
    places = coverage.most_populous_places()
    mentors = coverage.coverage(
        places, catalogue.snapshot(), lambda place: coverage.mentors_of(place, ("les_deux",))
    )
    assert mentors.share() <= 0.05


def test_coverage_counts_each_commune_once_per_person_of_the_grid(db):
    """One national programme for school support, and one for entrepreneurs in Lyon only."""
    places = [territory.place(insee) for insee in ("69123", "69266", "75056", "23096")]
    school = matcher.ProgrammeInfo(
        1, "ecole", "École", 1, "a", "A", besoins=frozenset({"scolarite"}), zone_nationale=True
    )
    lyon = dataclasses.replace(
        school,
        id=2,
        slug="lyon",
        besoins=frozenset({"entrepreneuriat"}),
        zone_nationale=False,
        communes=frozenset({"69123"}),
    )
    snapshot = matcher.build_catalogue([school, lyon])
    result = coverage.coverage(places, snapshot, les_deux)
    assert result.total == 4 * 65 * 4
    assert result.share(besoin="scolarite") == 0
    assert result.share(besoin="orientation") == result.share(besoin="emploi") == 1
    assert result.share(besoin="entrepreneuriat") == 3 / 4  # all but Lyon
    assert result.share(besoin="entrepreneuriat", departement="69") == 1 / 2  # Villeurbanne
    assert result.share(besoin="scolarite", of="fallback") == 1  # national only
    assert result.share() == (0 + 1 + 1 + 3 / 4) / 4
    assert result.worst_departements(1) == [("23", 3 / 4, 1 / 4)]


# --- CLI (the lead's wrappers in app.py) --------------------------------------------------------
def test_cli_list_associations(runner):
    result = runner.invoke(args=["list-associations"])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert len(lines) == 15
    assert "savoirs-partages\tSavoirs Partagés" in lines


def test_cli_load_catalogue_reports_errors(runner, tmp_path):
    rows = demo_rows()
    rows[5]["age_min"] = "abc"
    result = runner.invoke(args=["load-catalogue", str(write(tmp_path, rows))])
    assert result.exit_code != 0
    assert "ligne 7, champ age_min : « abc » n'est pas un nombre entier" in result.output


def test_demo_youth_who_wants_remote_meetings_gets_a_remote_programme_first(db):
    person = jeune_a(
        "69123", age=17, situation="lycee_general", besoin="orientation", rencontre="distance"
    )
    result = demo_match(person)
    assert result.proposals[0].programme.a_distance
    assert "à distance" in " ".join(result.proposals[0].reasons)


def test_a_trailing_separator_on_every_line_is_accepted(db, tmp_path):
    text = DEMO.read_text(encoding="utf-8")
    path = tmp_path / "trailing.csv"
    path.write_text("".join(line + ";\n" for line in text.splitlines()), encoding="utf-8")
    report = catalogue.load_file(path)
    assert "24 inchangé(s)" in str(report)


def test_a_row_with_missing_cells_is_refused_with_its_line(db, tmp_path):
    lines = DEMO.read_text(encoding="utf-8").splitlines()
    lines[2] = ";".join(lines[2].split(";")[:-2])  # en_pause and programme_actif lost
    path = tmp_path / "short.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    (problem,) = errors_of(path)
    assert (problem.line, problem.field) == (3, "en_pause")
    assert "il en manque" in problem.message
