"""Communes: load the official file, search by name or postal code, resolve typed text.

Pure module (no Flask). Queries need an open connection on `models.db`.

A `Localite` row is one searchable name x one postal code. Names are stored normalised
(`normalise`), so accents, apostrophes, hyphens and "St"/"Saint" never get in the way.
The arrondissements municipaux of Paris, Lyon and Marseille are extra names pointing to
their commune: whoever types "75015" or "Lyon 3e" lives in Paris or Lyon for the matcher.
"""

import csv
import functools
import gzip
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from geo_names import DEPARTEMENTS
from models import Commune, Lead, Localite, db, write_transaction

MIN_LENGTH = 2
# The longest commune name has 45 characters: anything much longer is not a commune.
MAX_QUERY_LENGTH = 120
MAX_LIMIT = 50
# At most 6 localités give the same Place (name variants, arrondissement names).
ROWS_PER_PLACE = 6
CHUNK_ROWS = 500  # ids per DELETE ... IN (...): below every database's parameter limit

_LIGATURES = str.maketrans({"œ": "oe", "æ": "ae"})
_COMBINING = re.compile(r"[\u0300-\u036f]")
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")
_APOSTROPHES = re.compile(r"['’ʼ`´]")
_ABBREVIATIONS = {"st": "saint", "ste": "sainte"}
_ARRONDISSEMENT = re.compile(r"(?P<ville>.+) (?P<numero>[0-9]+)(?P<suffixe>er|e) Arrondissement")
_POSTAL_PREFIX = re.compile(r"[0-9]{2,5}")
_UNFINISHED_LABEL = re.compile(r"\s*\([0-9ab ]*$", re.IGNORECASE)
# "Lyon (69003)", "Saint-Denis (93)", "Ajaccio (2A)", or "Lyon 69003".
_LABEL = re.compile(
    r"(?P<nom>.*?[^\s(])\s*(?:\(\s*(?P<code>[0-9]{5}|[0-9]{2,3}|2[ab])\s*\)|(?P<cp>[0-9]{5}))",
    re.IGNORECASE,
)


def normalise(text):
    """Lowercase ASCII words: "Saint-Étienne", "st etienne" -> "saint etienne"."""
    text = unicodedata.normalize("NFKD", text.casefold().translate(_LIGATURES))
    # NFKD split "é" into "e" + a combining accent: drop the accents, then anything
    # else that is not an ASCII letter or digit separates words (’ - ( ) . and the rest).
    words = _NOT_ALNUM.sub(" ", _COMBINING.sub("", text)).split()
    return " ".join(_ABBREVIATIONS.get(word, word) for word in words)


def _searchable_names(nom):
    """The normalised name, and without apostrophes ("lhay les roses") when it has some."""
    return {normalise(nom), normalise(_APOSTROPHES.sub("", nom))}


@dataclass(frozen=True)
class Place:
    insee: str
    nom: str
    code_postal: str | None
    departement: str
    region: str
    population: int

    @property
    def label(self):
        """ "Lyon (69003)"; without a postal code, the département: "Saint-Denis (93)"."""
        return f"{self.nom} ({self.code_postal or self.departement})"

    @property
    def departement_nom(self):
        return DEPARTEMENTS[self.departement].nom


# --- Loading -------------------------------------------------------------------------


def read_file(path):
    """(communes, localites) rows from the gzipped CSV built by scripts/build_communes.py.

    Localité ids are their rank (population, then name, then postal code): searches sort
    on the id alone, which the name and postal code indexes already carry.
    """
    with gzip.open(Path(path), "rt", encoding="utf-8", newline="") as stream:
        rows = list(csv.DictReader(stream))
    communes = [_commune_row(r) for r in rows if not r["commune"]]
    if not communes:
        raise ValueError(f"{path} : aucune commune")
    rank = {c[0]: (-c[4], normalise(c[1])) for c in communes}
    localites = {loc for r in rows for loc in _localite_rows(r)}
    ordered = sorted(localites, key=lambda loc: (*rank[loc[0]], loc[3], loc[2], loc[1]))
    return communes, [(i, *loc) for i, loc in enumerate(ordered, start=1)]


def _commune_row(row):
    return (
        row["insee"],
        row["nom"],
        row["departement"],
        row["region"],
        int(row["population"] or 0),
    )


def _localite_rows(row):
    commune = row["commune"] or row["insee"]
    names = _searchable_names(row["nom"]) | _arrondissement_short_names(row["nom"])
    for code_postal in row["codes_postaux"].split():
        for nom_normalise in names:
            yield (commune, row["nom"], nom_normalise, code_postal)


def _arrondissement_short_names(nom):
    """ "Paris 15e Arrondissement" is also "paris 15", "paris 15e" and "paris 15eme"."""
    match = _ARRONDISSEMENT.fullmatch(nom)
    if not match:
        return set()
    return {
        normalise(f"{match['ville']} {match['numero']}{suffix}")
        for suffix in ("", match["suffixe"], "eme")
    }


def _chunks(rows, size=CHUNK_ROWS):
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


COMMUNE_FIELDS = [
    Commune.insee,
    Commune.nom,
    Commune.departement,
    Commune.region,
    Commune.population,
]
LOCALITE_FIELDS = [
    Localite.id,
    Localite.commune,
    Localite.nom,
    Localite.nom_normalise,
    Localite.code_postal,
]


def load_file(path):
    """Load (or reload) the communes file in one transaction; returns the commune count.

    Communes are upserted, not replaced: leads keep pointing at them. Localités are
    rebuilt from scratch (nothing references them), so a second run gives the same rows.
    """
    communes, localites = read_file(path)
    upsert = Commune.insert_many(communes[:1], fields=COMMUNE_FIELDS).on_conflict(
        conflict_target=[Commune.insee], preserve=COMMUNE_FIELDS[1:]
    )
    with write_transaction():
        _execute_many(upsert, communes)
        _delete_stale_communes({c[0] for c in communes})
        Localite.delete().execute()
        _execute_many(Localite.insert_many(localites[:1], fields=LOCALITE_FIELDS), localites)
    return len(communes)


def _execute_many(query, rows):
    """Run a one-row INSERT written by peewee for every row.

    Peewee spends far more time writing a 1,000-row INSERT than the database running it;
    the driver's executemany reuses one prepared statement (SQLite and PostgreSQL alike).
    """
    sql, _ = query.sql()
    db.cursor().executemany(sql, rows)


def _delete_stale_communes(current):
    """Communes gone from the file (merged into a commune nouvelle), unless a lead has one."""
    stale = sorted({insee for (insee,) in Commune.select(Commune.insee).tuples()} - current)
    referenced = Lead.select(Lead.commune).where(Lead.commune.is_null(False))
    for chunk in _chunks(stale):
        Commune.delete().where(
            Commune.insee.in_(chunk) & Commune.insee.not_in(referenced)
        ).execute()


# --- Queries -------------------------------------------------------------------------

_PLACE_COLUMNS = (
    Commune.insee,
    Commune.nom,
    Localite.code_postal,
    Commune.departement,
    Commune.region,
    Commune.population,
)


def _upper_bound(prefix):
    """The smallest string above every string starting with `prefix` (ASCII prefix)."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def _suggestions(column, prefix, limit):
    """One Place per label whose localité `column` starts with `prefix`, best first.

    Exact matches first, then by rank (the localité id, see read_file). The candidate ids
    come from the index alone (a range, not LIKE, which SQLite only indexes under
    case_sensitive_like), so a two-letter prefix matching thousands of rows stays cheap.
    """
    wanted = limit * ROWS_PER_PLACE
    params = (prefix, wanted, prefix, _upper_bound(prefix), wanted, prefix)
    rows = db.execute_sql(_suggestions_sql(column.column_name, db.param), params).fetchall()
    return _unique([Place(*row) for row in rows])[:limit]


@functools.cache
def _suggestions_sql(column, param):
    """The suggestions query, written once: peewee would take longer to build it each time
    than SQLite takes to run it. `column` is a Localite column name, never user input."""
    localite, commune = Localite._meta.table_name, Commune._meta.table_name
    ids = f"SELECT id FROM {localite} WHERE {{}} ORDER BY id LIMIT {param}"
    exact = ids.format(f"{column} = {param}")
    prefix = ids.format(f"{column} >= {param} AND {column} < {param}")
    return (
        f"WITH ids (id) AS (SELECT id FROM ({exact}) AS e UNION SELECT id FROM ({prefix}) AS p) "
        "SELECT c.insee, c.nom, l.code_postal, c.departement, c.region, c.population "
        f"FROM ids JOIN {localite} AS l ON l.id = ids.id "
        f"JOIN {commune} AS c ON c.insee = l.commune_id "
        f"ORDER BY l.{column} = {param} DESC, l.id"
    )


def _unique(places):
    """One Place per label, first (best ranked) wins."""
    seen = set()
    return [p for p in places if not (p.label in seen or seen.add(p.label))]


def _clean(text):
    """The text worth querying, or None for junk (not a string, empty, too long)."""
    if not isinstance(text, str) or len(text) > MAX_QUERY_LENGTH:
        return None
    return text.strip() or None


def _postal_code(text):
    """ "69003", "69 003" -> "69003"; None when the text is not 2-5 digits."""
    digits = text.replace(" ", "")
    return digits if _POSTAL_PREFIX.fullmatch(digits) else None


def _parse_label(text):
    """("Lyon", "69003") for "Lyon (69003)" or "Lyon 69003"; ("Saint-Denis", "93"); or None."""
    match = _LABEL.fullmatch(text)
    if not match:
        return None
    return match["nom"], (match["code"] or match["cp"]).upper()


def _label_places(nom, code):
    """The communes a "Nom (code)" label designates: code is a postal code or a département."""
    name = normalise(nom)
    if len(code) == 5:
        rows = (
            Localite.select(*_PLACE_COLUMNS, Localite.nom_normalise)
            .join(Commune)
            .where(Localite.code_postal == code)
            .tuples()
        )
        # The commune's own name, or an arrondissement's ("Paris 15e Arrondissement (75015)").
        hits = [r[:6] for r in rows if name in (r[6], normalise(r[1]))]
        return _unique(sorted((Place(*r) for r in hits), key=_rank))
    return [p for p in _places_named(name) if p.departement == code]


def _places_named(name):
    """One Place per commune having a localité called exactly `name`."""
    rows = (
        Localite.select(*_PLACE_COLUMNS)
        .join(Commune)
        .where(Localite.nom_normalise == name)
        .tuples()
    )
    postal_codes = {}
    communes = {}
    for row in rows:
        communes[row[0]] = row
        postal_codes.setdefault(row[0], set()).add(row[2])
    places = []
    for insee, row in communes.items():
        codes = postal_codes[insee]
        # Several postal codes and the text named none: the commune, without a code.
        code_postal = next(iter(codes)) if len(codes) == 1 else None
        places.append(Place(row[0], row[1], code_postal, *row[3:]))
    return sorted(places, key=_rank)


def _places_with_postal_code(code):
    rows = (
        Localite.select(*_PLACE_COLUMNS)
        .join(Commune)
        .where(Localite.code_postal == code)
        .distinct()
        .tuples()
    )
    return sorted((Place(*row) for row in rows), key=_rank)


def _rank(place):
    return (-place.population, place.nom, place.departement, place.code_postal or "")


def searchable(text):
    """Whether `search` looks the text up: 2+ letters or 2-5 digits, not junk."""
    text = _clean(text)
    return text is not None and bool(_postal_code(text) or len(normalise(text)) >= MIN_LENGTH)


def search(text, limit=10):
    """Suggestions for what is being typed: a name or postal code prefix, or a label."""
    text = _clean(text)
    limit = max(1, min(int(limit), MAX_LIMIT))
    if text is None:
        return []
    code = _postal_code(text)
    if code:
        return _suggestions(Localite.code_postal, code, limit)
    label = _parse_label(text)
    if label:
        places = _label_places(*label)
        if places:
            return places[:limit]
        text = label[0]
    # A picked label being edited ("Lyon (6900"): suggest from the name.
    text = _UNFINISHED_LABEL.sub("", text)
    name = normalise(text)
    if len(name) < MIN_LENGTH:
        return []
    return _suggestions(Localite.nom_normalise, name, limit)


def resolve(text):
    """The distinct communes the text designates exactly (label, postal code or full name)."""
    text = _clean(text)
    if text is None:
        return []
    code = _postal_code(text)
    if code:
        return _places_with_postal_code(code) if len(code) == 5 else []
    label = _parse_label(text)
    if label:
        # A code that does not fit the name ("Evry (91000)") designates nothing: the
        # name alone could be a homonym elsewhere in France.
        return _label_places(*label)
    name = normalise(text)
    return _places_named(name) if name else []


def place(insee, code_postal=None):
    """The Place of a commune (and one of its postal codes); None when unknown."""
    commune = Commune.get_or_none(Commune.insee == insee)
    if commune is None:
        return None
    codes = sorted(
        code
        for (code,) in Localite.select(Localite.code_postal)
        .where(Localite.commune == insee)
        .distinct()
        .tuples()
    )
    if code_postal is not None and code_postal not in codes:
        return None
    if code_postal is None and len(codes) == 1:
        code_postal = codes[0]
    return Place(
        commune.insee,
        commune.nom,
        code_postal,
        commune.departement,
        commune.region,
        commune.population,
    )


def count():
    """(communes, localités) in the database: for the CLI and tests."""
    return Commune.select().count(), Localite.select().count()
