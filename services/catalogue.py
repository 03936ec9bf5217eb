"""The catalogue of associations and programmes: the operator's file, the matcher's
snapshot and the statistics the matcher needs besides the catalogue.

The file format is documented in docs/catalogue.md: CSV, UTF-8, `;` separator, one row
per programme with its association's columns, several values in a cell separated by `|`.

Every function needs an open connection on `models.db`.
"""

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

from peewee import IntegrityError, fn

import models
from domain import lifecycle, matcher, phones
from domain import vocabulary as V
from domain.geo_names import DEPARTEMENTS, REGIONS
from models import Association, Commune, Lead, Orientation, Programme
from services import journal, statistiques

SEPARATOR = ";"
MULTI_SEPARATOR = "|"
TRUE, FALSE = "oui", "non"

ASSOCIATION_COLUMNS = (
    "association_slug",
    "association_nom",
    "association_description",
    "association_site",
    "association_email",
    "association_telephone",
    "association_delai_recontact",
    "association_active",
)
PROGRAMME_COLUMNS = (
    "programme_slug",
    "programme_nom",
    "programme_description",
    "publics",
    "besoins",
    "age_min",
    "age_max",
    "situations",
    "zone_nationale",
    "regions",
    "departements",
    "communes",
    "a_distance",
    "publics_reserves",
    "publics_prioritaires",
    "mentor_situations",
    "mentor_tranches_age",
    "mentor_secteurs",
    "format",
    "capacite_mensuelle",
    "en_pause",
    "programme_actif",
)
COLUMNS = ASSOCIATION_COLUMNS + PROGRAMME_COLUMNS

SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
INSEE = re.compile(r"(?:[0-9]{2}|2[AB])[0-9]{3}")
SITE = re.compile(r"https?://\S+")
AGE_MIN, AGE_MAX = 11, 30  # the questionnaire sends younger children to for_youngest()
DELAI_MAX = 30  # jours ouvrés: six weeks is already too long to wait for a call back
CAPACITE_MAX = 100_000
MAX_TEXT = 2000
MAX_NAME = 200
# Spreadsheets turn "01" into "1": say how a code is written.
DEPARTEMENT_HINT = "un code de département connu (01 à 95 sur deux chiffres, 2A, 2B, 971 à 976)"

# A lead still waiting for its pair: counted by stats().
OPEN_STATUSES = lifecycle.WAITING_FOR_PAIR


# --- Errors and report ------------------------------------------------------------------------
@dataclass(frozen=True)
class Problem:
    line: int
    field: str
    message: str

    def __str__(self):
        return f"ligne {self.line}, champ {self.field} : {self.message}"


class CatalogueError(Exception):
    """The file has errors: nothing was written. `errors` lists every Problem found."""

    def __init__(self, errors):
        self.errors = list(errors)
        super().__init__("\n".join(str(error) for error in self.errors))


@dataclass(frozen=True)
class LoadReport:
    associations_created: int = 0
    associations_updated: int = 0
    programmes_created: int = 0
    programmes_updated: int = 0
    programmes_unchanged: int = 0
    # Programmes in the database but not in the file: left as they are.
    absents: tuple = ()

    def __str__(self):
        lines = [
            f"Associations : {self.associations_created} créée(s), "
            f"{self.associations_updated} modifiée(s).",
            f"Programmes : {self.programmes_created} créé(s), {self.programmes_updated} "
            f"modifié(s), {self.programmes_unchanged} inchangé(s).",
        ]
        if self.absents:
            lines.append(
                "Programmes absents du fichier, laissés tels quels : " + ", ".join(self.absents)
            )
        return "\n".join(lines)


# --- Reading the file -------------------------------------------------------------------------
class _Row:
    """One row's cells, turning each into a value or a Problem."""

    def __init__(self, line, cells, problems):
        self.line = line
        self.cells = cells
        self.problems = problems

    def error(self, field, message):
        self.problems.append(Problem(self.line, field, message))

    def text(self, field, required=False, max_length=MAX_NAME):
        value = self.cells.get(field, "")
        if required and not value:
            self.error(field, "cette information est obligatoire")
        elif len(value) > max_length:
            self.error(field, f"le texte dépasse {max_length} caractères")
        return value

    def matching(self, field, pattern, what, required=False):
        value = self.text(field, required)
        if value and not pattern.fullmatch(value):
            self.error(field, f"« {value} » n'est pas {what}")
        return value

    def phone(self, field):
        """Stored in E.164, as every phone number (phones.py)."""
        value = self.text(field)
        number = phones.canonical(value)
        if value and not number:
            self.error(field, f"« {value} » n'est pas un numéro de téléphone français")
        return number

    def integer(self, field, low, high, required=False):
        value = self.text(field, required)
        if not value:
            return None
        if not re.fullmatch(r"-?[0-9]+", value):
            self.error(field, f"« {value} » n'est pas un nombre entier")
            return None
        number = int(value)
        if not low <= number <= high:
            self.error(field, f"« {value} » doit être compris entre {low} et {high}")
            return None
        return number

    def boolean(self, field, default):
        value = self.text(field).lower()
        if not value:
            return default
        if value not in (TRUE, FALSE):
            self.error(field, f"« {value} » : écrivez « {TRUE} » ou « {FALSE} »")
            return default
        return value == TRUE

    def choice(self, field, allowed, default):
        value = self.text(field) or default
        if value not in allowed:
            self.error(field, f"« {value} » n'est pas une valeur possible ({', '.join(allowed)})")
        return value

    def codes(self, field, allowed, what, required=False):
        """Several codes separated by `|`, each in `allowed`; kept in `allowed`'s order."""
        values = [v.strip() for v in self.text(field, required, MAX_TEXT).split(MULTI_SEPARATOR)]
        values = [v for v in values if v]
        for value in values:
            if value not in allowed:
                hint = f" (valeurs possibles : {', '.join(allowed)})" if len(allowed) < 20 else ""
                self.error(field, f"« {value} » n'est pas {what}{hint}")
        return [code for code in allowed if code in values]

    def communes(self, field):
        values = [v.strip() for v in self.text(field, max_length=MAX_TEXT).split(MULTI_SEPARATOR)]
        values = sorted({v for v in values if v})
        for value in values:
            departement = value[:3] if value[:2] in ("97", "98") else value[:2]
            if not INSEE.fullmatch(value) or departement not in DEPARTEMENTS:
                self.error(
                    field,
                    f"« {value} » n'est pas un code INSEE de commune "
                    "(5 caractères, par exemple 69123)",
                )
        return values


def _association(row):
    return dict(
        nom=row.text("association_nom", required=True),
        description=row.text("association_description", max_length=MAX_TEXT),
        site=row.matching("association_site", SITE, "une adresse de site commençant par https://"),
        email=row.matching("association_email", EMAIL, "une adresse e-mail"),
        telephone=row.phone("association_telephone"),
        delai_recontact=row.integer("association_delai_recontact", 1, DELAI_MAX, required=True),
        actif=row.boolean("association_active", True),
    )


def _programme(row):
    publics = row.codes("publics", ("jeunes", "mentors"), "un public connu", required=True)
    fields = dict(
        nom=row.text("programme_nom", required=True),
        description=row.text("programme_description", max_length=MAX_TEXT),
        publics=publics,
        besoins=row.codes("besoins", V.BESOIN.codes, "un besoin connu", required=True),
        age_min=row.integer("age_min", AGE_MIN, AGE_MAX),
        age_max=row.integer("age_max", AGE_MIN, AGE_MAX),
        situations=row.codes("situations", V.SITUATION_JEUNE.codes, "une situation connue"),
        zone_nationale=row.boolean("zone_nationale", False),
        regions=sorted(row.codes("regions", tuple(REGIONS), "un code de région connu")),
        departements=sorted(row.codes("departements", tuple(DEPARTEMENTS), DEPARTEMENT_HINT)),
        communes=row.communes("communes"),
        a_distance=row.boolean("a_distance", False),
        publics_reserves=row.codes("publics_reserves", V.PUBLIC.codes, "un public connu"),
        publics_prioritaires=row.codes("publics_prioritaires", V.PUBLIC.codes, "un public connu"),
        profil_mentor=dict(
            situations=row.codes(
                "mentor_situations", V.SITUATION_MENTOR.codes, "une situation connue"
            ),
            tranches_age=row.codes(
                "mentor_tranches_age", V.TRANCHE_AGE.codes, "une tranche d'âge connue"
            ),
            secteurs=row.codes("mentor_secteurs", V.SECTEUR.codes, "un secteur connu"),
        ),
        format=row.choice("format", V.FORMAT.codes, "individuel"),
        capacite_mensuelle=row.integer("capacite_mensuelle", 0, CAPACITE_MAX, required=True),
        en_pause=row.boolean("en_pause", False),
        actif=row.boolean("programme_actif", True),
    )
    _check_programme(row, fields)
    return fields


def _check_programme(row, fields):
    """Rules across columns: a programme must be reachable, and coherent."""
    if (
        fields["age_min"] is not None
        and fields["age_max"] is not None
        and fields["age_min"] > fields["age_max"]
    ):
        row.error(
            "age_max",
            f"l'âge maximum ({fields['age_max']}) est inférieur "
            f"à l'âge minimum ({fields['age_min']})",
        )
    zones = ("zone_nationale", "regions", "departements", "communes", "a_distance")
    if not any(fields[zone] for zone in zones):
        row.error(
            "zone_nationale",
            "le programme ne couvre aucun territoire (zone_nationale, regions, departements, "
            "communes) et n'accompagne pas à distance (a_distance)",
        )
    if "mentors" not in fields["publics"]:
        for key, value in fields["profil_mentor"].items():
            if value:
                row.error(
                    f"mentor_{key}",
                    "le programme n'accueille pas de mentors : laissez ce champ vide ou ajoutez "
                    "« mentors » dans publics",
                )


def _decode(data):
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        return "", [
            Problem(
                line,
                "(fichier)",
                "le fichier n'est pas en UTF-8 : enregistrez-le au format « CSV UTF-8 »",
            )
        ]


def _header_problems(header):
    if not header:
        return [Problem(1, "(fichier)", "le fichier est vide")]
    if len(header) == 1 and "," in header[0]:
        return [
            Problem(1, "(fichier)", "le séparateur des colonnes doit être le point-virgule (;)")
        ]
    problems = [
        Problem(1, column, "colonne manquante") for column in COLUMNS if column not in header
    ]
    problems += [
        Problem(1, column, "colonne inconnue") for column in header if column not in COLUMNS
    ]
    seen = set()
    for column in header:
        if column in seen:
            problems.append(Problem(1, column, "colonne en double"))
        seen.add(column)
    return problems


def _rows(text):
    """(line, cells) for each non-empty row after the header, and the header's problems."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=SEPARATOR)
    header = [cell.strip() for cell in next(reader, [])]
    while header and not header[-1]:
        header.pop()  # spreadsheets often end every line with a ";"
    problems = _header_problems(header)
    rows = []
    if problems:
        return rows, problems
    end_of_previous = reader.line_num
    for cells in reader:
        line = end_of_previous + 1  # a quoted cell may span lines: report where the row starts
        end_of_previous = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        if any(cell.strip() for cell in cells[len(header) :]):
            problems.append(
                Problem(
                    line,
                    "(ligne)",
                    f"{len(cells)} cellules pour {len(header)} colonnes : un « ; » de trop ?",
                )
            )
            continue
        if len(cells) < len(header):
            problems.append(
                Problem(
                    line,
                    header[len(cells)],
                    f"{len(cells)} cellules pour {len(header)} colonnes : il en manque",
                )
            )
            continue
        rows.append(
            (line, {column: cell.strip() for column, cell in zip(header, cells, strict=False)})
        )
    return rows, problems


# --- One record at a time (the operator's forms) --------------------------------------------
# The forms send the file's cells (same column names, same syntax), so a record is checked
# by the very rules that check the file: (fields, problems), problems on line 0.
SLUG_WHAT = "un identifiant (minuscules, chiffres et tirets)"


def check_slug(value, field):
    problems = []
    _Row(0, {field: value}, problems).matching(field, SLUG, SLUG_WHAT, required=True)
    return problems


def check_association(cells):
    """The association_* cells of one row -> (fields, [Problem])."""
    problems = []
    return _association(_Row(0, cells, problems)), problems


def check_programme(cells):
    """The programme cells of one row -> (fields, [Problem])."""
    problems = []
    return _programme(_Row(0, cells, problems)), problems


def read_file(path):
    """Parse and check the file without touching the database (see read_bytes)."""
    return read_bytes(Path(path).read_bytes())


def read_bytes(data):
    """Parse and check the file's content without touching the database.

    Returns (associations: slug -> fields, programmes: slug -> (line, association slug,
    fields)); raises CatalogueError listing every problem.
    """
    text, problems = _decode(data)
    rows, header_problems = _rows(text) if not problems else ([], [])
    problems += header_problems
    associations, association_lines, programmes = {}, {}, {}
    for line, cells in rows:
        row = _Row(line, cells, problems)
        association_slug = row.matching("association_slug", SLUG, SLUG_WHAT, True)
        programme_slug = row.matching("programme_slug", SLUG, SLUG_WHAT, True)
        association = _association(row)
        programme = _programme(row)
        if association_slug in associations and associations[association_slug] != association:
            first = association_lines[association_slug]
            row.error(
                "association_slug",
                f"les colonnes association_* diffèrent de la ligne {first} "
                "pour la même association",
            )
        associations.setdefault(association_slug, association)
        association_lines.setdefault(association_slug, line)
        if programme_slug in programmes:
            first = programmes[programme_slug][0]
            row.error("programme_slug", f"« {programme_slug} » est déjà utilisé ligne {first}")
        else:
            programmes[programme_slug] = (line, association_slug, programme)
    if not rows and not problems:
        problems.append(Problem(2, "(fichier)", "le fichier ne contient aucun programme"))
    if problems:
        raise CatalogueError(problems)
    return associations, programmes


def unknown_communes(codes, line=0):
    """Problems for the INSEE codes absent from the communes table (see _unknown_communes)."""
    return _unknown_communes({"": (line, "", {"communes": list(codes)})})


def _unknown_communes(programmes):
    """Communes absent from the communes table, when it is loaded (an empty table: the
    communes are not loaded yet, only the format was checked)."""
    if not Commune.select().exists():
        return []
    wanted = {code for _, _, fields in programmes.values() for code in fields["communes"]}
    known = {
        code
        for (code,) in Commune.select(Commune.insee)
        .where(Commune.insee.in_(sorted(wanted)))
        .tuples()
    }
    return [
        Problem(
            line,
            "communes",
            f"« {code} » n'est pas une commune connue "
            "(pour un arrondissement, donnez le code de la commune)",
        )
        for line, _, fields in programmes.values()
        for code in fields["communes"]
        if code not in known
    ]


# --- Writing ----------------------------------------------------------------------------------
def operator_associations(demo_path):
    """Slugs of the associations in the database that the demo file does not hold: the
    operator's own catalogue, which the fictional one must never be mixed into."""
    demo, _ = read_file(demo_path)
    query = Association.select(Association.slug).where(Association.slug.not_in(list(demo)))
    return [slug for (slug,) in query.tuples()]


def load_file(path):
    """Check the whole file, then create or update its associations and programmes, keyed
    by slug, in one transaction. Raises CatalogueError (nothing written) on any problem.
    Loading the same file twice changes nothing the second time."""
    return load_bytes(Path(path).read_bytes())


def load_bytes(data, actor=None):
    """load_file for a file's content (the operator's upload: `actor`, journaled)."""
    associations, programmes = read_bytes(data)
    problems = _unknown_communes(programmes)
    if problems:
        raise CatalogueError(problems)
    with models.write_transaction(durable=True):
        report = _upsert(associations, programmes)
        if actor is not None:
            journal.record("import_catalogue", actor)
    invalidate()
    return report


def _apply(instance, fields):
    """Set the fields that differ; True when something changed."""
    changed = False
    for name, value in fields.items():
        if getattr(instance, name) != value:
            setattr(instance, name, value)
            changed = True
    return changed


def _upsert(associations, programmes):
    counts = dict.fromkeys(
        (
            "associations_created",
            "associations_updated",
            "programmes_created",
            "programmes_updated",
        ),
        0,
    )
    existing = {a.slug: a for a in Association.select()}
    for slug, fields in associations.items():
        association = existing.get(slug)
        if association is None:
            existing[slug] = Association.create(slug=slug, **fields)
            counts["associations_created"] += 1
        elif _apply(association, fields):
            association.save()
            counts["associations_updated"] += 1
    unchanged = 0
    current = {p.slug: p for p in Programme.select()}
    for slug, (_, association_slug, fields) in programmes.items():
        fields = dict(fields, association=existing[association_slug].id)
        programme = current.get(slug)
        if programme is None:
            Programme.create(slug=slug, **fields)
            counts["programmes_created"] += 1
        elif _apply_programme(programme, fields):
            programme.save()
            counts["programmes_updated"] += 1
        else:
            unchanged += 1
    absents = tuple(sorted(set(current) - set(programmes)))
    return LoadReport(**counts, programmes_unchanged=unchanged, absents=absents)


def _apply_programme(programme, fields):
    # The foreign key compares as an id; every other field as its value.
    association_id = fields.pop("association")
    changed = programme.association_id != association_id
    programme.association = association_id
    return _apply(programme, fields) or changed


def update_association(association, fields):
    """Save the association's changed fields (the operator's form); True when changed."""
    with models.write_transaction(durable=True):
        changed = _apply(association, fields)
        if changed:
            association.save()
    return changed


def update_programme(programme, association_id, fields):
    """Save the programme's changed fields (the operator's form); True when changed."""
    with models.write_transaction(durable=True):
        changed = _apply_programme(programme, dict(fields, association=association_id))
        if changed:
            programme.save()
    return changed


class SlugTaken(Exception):
    """The identifier asked for belongs to another association or programme."""


def create_association(slug, fields):
    """The operator's new association; SlugTaken when the slug is someone else's (checked,
    and caught again when another operator took it in between)."""
    _create(Association, slug, fields)


def create_programme(slug, association_id, fields):
    _create(Programme, slug, dict(fields, association=association_id))


def _create(model, slug, fields):
    try:
        with models.write_transaction(durable=True):
            if model.select().where(model.slug == slug).exists():
                raise SlugTaken(slug)
            model.create(slug=slug, **fields)
    except IntegrityError as error:
        raise SlugTaken(slug) from error


def set_flag(row, name, value):
    """Activate, deactivate, pause or resume an association or a programme (`name` is
    `actif` or `en_pause`): the matcher's snapshot follows at its next read."""
    with models.write_transaction(durable=True):
        setattr(row, name, value)
        row.save()


# --- The matcher's snapshot -------------------------------------------------------------------
# (database, version, catalogue): one tuple, replaced at once.
_cache = None


def invalidate():
    """Forget the snapshot (tests call it after creating an app on a new database)."""
    global _cache
    _cache = None
    statistiques.invalidate()


def _version():
    """Cheap and shared by every worker of every server: the counter that the database's
    triggers bump in the transaction of any write to an association or a programme
    (migration 0012), so no server's clock is trusted."""
    return models.CatalogueVersion.select(models.CatalogueVersion.version).scalar()


def snapshot():
    """The catalogue for the matcher (a matcher.Catalogue, iterable of ProgrammeInfo),
    read once and re-read only when an association or a programme changed."""
    global _cache
    database = id(models.db.obj)
    # The version is read before the rows: a change in between makes the next call re-read.
    version = _version()
    cached = _cache
    if cached is not None and cached[0] == database and cached[1] == version:
        return cached[2]
    catalogue = matcher.build_catalogue(_programme_info(p) for p in _programmes_with_association())
    _cache = (database, version, catalogue)
    return catalogue


def _programmes_with_association():
    return Programme.select(Programme, Association).join(Association).order_by(Programme.id)


def _programme_info(programme):
    association = programme.association
    profil = programme.profil_mentor or {}
    return matcher.ProgrammeInfo(
        id=programme.id,
        slug=programme.slug,
        nom=programme.nom,
        description=programme.description,
        association_id=association.id,
        association_slug=association.slug,
        association_nom=association.nom,
        association_description=association.description,
        association_site=association.site,
        association_email=association.email,
        association_telephone=association.telephone,
        delai_recontact=association.delai_recontact,
        association_active=association.actif,
        actif=programme.actif,
        en_pause=programme.en_pause,
        publics=frozenset(programme.publics),
        besoins=frozenset(programme.besoins),
        age_min=programme.age_min,
        age_max=programme.age_max,
        situations=frozenset(programme.situations),
        zone_nationale=programme.zone_nationale,
        regions=frozenset(programme.regions),
        departements=frozenset(programme.departements),
        communes=frozenset(programme.communes),
        a_distance=programme.a_distance,
        publics_reserves=frozenset(programme.publics_reserves),
        publics_prioritaires=frozenset(programme.publics_prioritaires),
        mentor_situations=frozenset(profil.get("situations", ())),
        mentor_tranches_age=frozenset(profil.get("tranches_age", ())),
        mentor_secteurs=frozenset(profil.get("secteurs", ())),
        format=programme.format,
        capacite_mensuelle=programme.capacite_mensuelle,
    )


# --- Statistics for the matcher ---------------------------------------------------------------
def stats(now=None):
    """What matcher.match knows besides the catalogue: a matcher.Stats.

    A lead's current programme is the one it accepted, else its first-rank proposal still
    open ("proposee"); refused or expired orientations no longer count. Youths waiting and
    mentors available are open leads (OPEN_STATUSES) by current programme. Responsiveness
    is what `tick` last measured (statistiques.reactivite(), cached: no query of the leads).
    """
    now = now or models.now()
    month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    waiting = _open_leads_by_programme()
    first = Orientation.alias()
    this_month = first.created_at >= month_start
    last = _first_rank(first, fn.MAX(first.created_at))
    return matcher.Stats(
        last_proposed={p: Orientation.created_at.python_value(at) for p, at in last.items()},
        proposed_this_month=_first_rank(first, fn.COUNT(first.id), this_month),
        jeunes_en_attente={
            programme: n for (programme, kind), n in waiting.items() if kind == "jeune"
        },
        mentors_disponibles={
            programme: n for (programme, kind), n in waiting.items() if kind == "mentor"
        },
        reactivite=statistiques.reactivite(),
    )


def _first_rank(first, aggregate, *conditions):
    """programme id -> aggregate over its first-rank orientations (`first`, an alias of
    Orientation), where there are some. One indexed subquery per programme: a GROUP BY
    would read the whole orientation history at every submit."""
    value = first.select(aggregate).where(
        (first.programme == Programme.id) & (first.rank == 1), *conditions
    )
    query = Programme.select(Programme.id, value.alias("value"))
    return {programme: v for programme, v in query.tuples() if v}


def _open_leads_by_programme():
    return {(programme, kind): count for programme, kind, count in _open_leads_query().tuples()}


def _open_leads_query():
    current = (Orientation.outcome == "acceptee") | (
        (Orientation.rank == 1) & (Orientation.outcome == "proposee")
    )
    return (
        Orientation.select(Orientation.programme, Lead.kind, fn.COUNT(fn.DISTINCT(Lead.id)))
        .join(Lead)
        .where(current, Lead.status.in_(OPEN_STATUSES))
        .group_by(Orientation.programme, Lead.kind)
    )


# --- For the pages ----------------------------------------------------------------------------
def for_youngest():
    """Open school-support programmes for youths that start at the lowest age the service
    takes (11), one per association, by association name: the under-11 exit page lists them
    for parents (school is what a younger child's parents ask help for)."""
    chosen = {}
    for p in sorted(snapshot(), key=lambda p: (p.association_nom, p.id)):
        youngest = p.age_min is None or p.age_min <= AGE_MIN
        school = "scolarite" in p.besoins
        if youngest and school and matcher.is_open(p) and "jeunes" in p.publics:
            chosen.setdefault(p.association_id, p)
    return list(chosen.values())


# --- For the CLI ------------------------------------------------------------------------------
def list_associations():
    """(slug, nom) of every association, by slug."""
    query = Association.select(Association.slug, Association.nom).order_by(Association.slug)
    return list(query.tuples())
