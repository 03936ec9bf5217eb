"""Communes: load the official file, search by name or postal code, resolve typed text.

Pure module (no Flask). Queries need an open connection on `models.db`.

A `Localite` row is one searchable name x one postal code. Names are stored normalised
(`normalise`), so accents, apostrophes, hyphens and "St"/"Saint" never get in the way.
The arrondissements municipaux of Paris, Lyon and Marseille are extra names pointing to
their commune: whoever types "75015" or "Lyon 3e" lives in Paris or Lyon for the matcher.
Former communes (déléguées and associées of a commune nouvelle) are extra names too,
marked `ancienne`: "Andard" is Loire-Authion today, and the suggestion says so.

What `search` understands, in this order:
1. a postal code or its beginning ("69003", "690"), and the city-wide codes people write
   for Paris, Lyon and Marseille ("75000");
2. a label, written as people do: "Lyon (69003)", "Lyon 69003", "69100 Villeurbanne" (as on
   an envelope), "Saint-Denis (93)", "Saint-Denis 93";
3. a name: exact first, then exact once a dropped leading article is put back ("Mureaux":
   Les Mureaux), then the names starting with it (from 4 letters, after an article too),
   biggest commune first;
4. while that leaves room: the names one or two typing errors away (`approximate`).

Typing errors. The distance is rapidfuzz's optimal string alignment (`OSA`): a missing,
extra or wrong letter, or two swapped letters, each count one ("marseile", "toulouze",
"strasbuorg", "creteiil" are all one away). Up to 1 error is allowed from 4 letters, 2 from
8. A name of another length than the query's by more than that cannot be as close, and one
error leaves either the first letter or the last two in place; so the index groups the
distinct normalised names by length and first letter, and by length and last two letters,
and rapidfuzz (bit-parallel, in C++) compares the query with the names of at most ten small
groups (two errors are found when they leave one end in place). Hits rank by distance, then
by the name's best localité id (biggest commune first). They are looked for only when the
text is no name in full (with its article or not) and could be one (no "<", "%"...).

The index is built from the database at the first fuzzy search of the process, dropped by
`load_file` and rebuilt when the localités change under it (their last id moves): ~36,000
names kept twice by reference, about 4 MB (scripts/eval_communes.py measures it).
"""

import array
import csv
import functools
import gzip
import re
import unicodedata
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import NamedTuple

from rapidfuzz import process
from rapidfuzz.distance import OSA

from domain.geo_names import DEPARTEMENTS
from models import Commune, Lead, Localite, db, write_transaction

MIN_LENGTH = 2
# The longest commune name has 45 characters: anything much longer is not a commune.
MAX_QUERY_LENGTH = 120
MAX_LIMIT = 50
# At most 6 localités give the same Place (name variants, arrondissement names).
ROWS_PER_PLACE = 6
CHUNK_ROWS = 500  # ids per DELETE ... IN (...): below every database's parameter limit
# Row types of the communes file (scripts/build_communes.py).
ACTUELLE = "commune-actuelle"
FORMER = {"commune-deleguee", "commune-associee"}
# The codes people write for a whole city, though La Poste gives each arrondissement its own.
CITY_WIDE_CODES = {"75000": "75056", "69000": "69123", "13000": "13055"}
# Put back in front of a name when the exact name is no commune: "Mureaux", "Rochelle".
ARTICLES = ("le", "la", "les", "l")
ARTICLE_PREFIX_LENGTH = 4  # below that, "la " + prefix only adds noise

_LIGATURES = str.maketrans({"œ": "oe", "æ": "ae"})
_COMBINING = re.compile(r"[\u0300-\u036f]")
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")
# Typing errors are forgiven only in what could be a name: "<script>" or "ly%n" is no typo.
_NAME_LIKE = re.compile(r"(?:[^\W_]|[\s'’ʼ`´.,()-])+")
_LETTER_DIGIT = re.compile(r"(?<=[a-z])(?=[0-9])")  # "paris15": no commune name has one
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
# "69100 Villeurbanne", as on an envelope.
_ENVELOPE = re.compile(r"(?P<code>[0-9]{5})[\s,]+(?P<nom>\S.*)")
# "Saint-Denis 93": a département without parentheses, unless the whole is a name ("Paris 15").
_BARE_DEPARTEMENT = re.compile(r"(?P<nom>.*[^\s(])\s+(?P<code>[0-9]{2,3}|2[ab])", re.IGNORECASE)


def normalise(text):
    """Lowercase ASCII words: "Saint-Étienne", "st etienne" -> "saint etienne"."""
    text = unicodedata.normalize("NFKD", text.casefold().translate(_LIGATURES))
    # NFKD split "é" into "e" + a combining accent: drop the accents, then anything
    # else that is not an ASCII letter or digit separates words (’ - ( ) . and the rest).
    text = _LETTER_DIGIT.sub(" ", _COMBINING.sub("", text))
    words = _NOT_ALNUM.sub(" ", text).split()
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
    # How the place was found, not which place it is: left out of ==.
    ancien_nom: str | None = field(default=None, compare=False)  # the former commune named
    approximate: bool = field(default=False, compare=False)  # despite a typing error

    @property
    def label(self):
        """ "Lyon (69003)"; without a postal code, the département: "Saint-Denis (93)"."""
        return f"{self.nom} ({self.code_postal or self.departement})"

    @property
    def display(self):
        """What a list shows: "Andard, aujourd'hui Loire-Authion (49)" for a former commune."""
        if self.ancien_nom:
            return f"{self.ancien_nom}, aujourd'hui {self.label}"
        return self.label

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
    actuelles = {r["insee"]: r for r in rows if r["type"] == ACTUELLE}
    communes = [_commune_row(r) for r in actuelles.values()]
    if not communes:
        raise ValueError(f"{path} : aucune commune")
    rank = {c[0]: (-c[4], normalise(c[1])) for c in communes}
    localites = {loc for r in rows for loc in _localite_rows(r, actuelles)}
    # Former communes after every current one: a prefix rather means a commune of today.
    ordered = sorted(localites, key=lambda loc: (loc[4], *rank[loc[0]], loc[3], loc[2], loc[1]))
    return communes, [(i, *loc) for i, loc in enumerate(ordered, start=1)]


def _commune_row(row):
    return (
        row["insee"],
        row["nom"],
        row["departement"],
        row["region"],
        int(row["population"] or 0),
    )


def _localite_rows(row, actuelles):
    if row["type"] in FORMER:
        yield from _former_rows(row, actuelles[row["commune"]])
        return
    commune = row["commune"] or row["insee"]
    names = _searchable_names(row["nom"]) | _arrondissement_short_names(row["nom"])
    for code_postal in row["codes_postaux"].split():
        for nom_normalise in names:
            yield (commune, row["nom"], nom_normalise, code_postal, False)


def _former_rows(row, actuelle):
    """A former commune's names, pointing to today's commune, unless they are its own.

    The source gives no postal code to a former commune: it gets its commune's when that
    has one only, and "" otherwise (its Place then has none, labelled by département,
    rather than a list of codes where one would be wrong).
    """
    codes = actuelle["codes_postaux"].split()
    code_postal = codes[0] if len(codes) == 1 else ""
    for nom_normalise in _searchable_names(row["nom"]) - _searchable_names(actuelle["nom"]):
        yield (actuelle["insee"], row["nom"], nom_normalise, code_postal, True)


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
    Localite.id,  # type: ignore[attr-defined]  # peewee adds the primary key
    Localite.commune,
    Localite.nom,
    Localite.nom_normalise,
    Localite.code_postal,
    Localite.ancienne,
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
    _names_index.cache_clear()
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

# Every query of a Place reads these columns, then the localité's normalised name.
_PLACE_COLUMNS = (
    "c.insee, c.nom, l.code_postal, c.departement, c.region, c.population, l.nom, l.ancienne"
)
_LOCALITE, _COMMUNE = Localite._meta.table_name, Commune._meta.table_name
_PLACES_SQL = (
    f"SELECT {_PLACE_COLUMNS}, l.nom_normalise FROM {_LOCALITE} AS l "
    f"JOIN {_COMMUNE} AS c ON c.insee = l.commune_id WHERE "
)


def _place(row, approximate=False):
    """A Place from a row of the `_PLACE_COLUMNS`."""
    insee, nom, code_postal, departement, region, population, localite, ancienne = row[:8]
    return Place(
        insee,
        nom,
        code_postal or None,
        departement,
        region,
        population,
        ancien_nom=localite if ancienne else None,
        approximate=approximate,
    )


def _places_where(condition, params):
    """Rows of the `_PLACE_COLUMNS` and the localité's name. `condition` is ours, never
    user input; hand-written as peewee takes longer to build a query than SQLite to run it."""
    return db.execute_sql(_PLACES_SQL + condition.replace("?", db.param), params).fetchall()


def _upper_bound(prefix):
    """The smallest string above every string starting with `prefix` (ASCII prefix)."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def _suggestions(column, exact, restored, prefixes, limit):
    """One Place per label whose localité `column` is `exact`, or one of `restored` (the
    name with an article put back), or starts with one of `prefixes`; in that order, then
    by rank (the localité id, see read_file).

    The candidate ids come from the index alone (ranges, not LIKE, which SQLite only
    indexes under case_sensitive_like), so a two-letter prefix matching thousands of rows
    stays cheap.
    """
    wanted = limit * ROWS_PER_PLACE
    params = [exact, wanted]
    if restored:
        params += [*restored, wanted]
    for prefix in prefixes:
        params += [prefix, _upper_bound(prefix), wanted]
    params += [exact, *restored]
    sql = _suggestions_sql(column.column_name, len(restored), len(prefixes), db.param)
    return _unique([_place(row) for row in db.execute_sql(sql, params).fetchall()])[:limit]


def _any_called(names):
    """Whether a localité is called one of `names` exactly."""
    among = ", ".join([db.param] * len(names))
    sql = f"SELECT 1 FROM {_LOCALITE} WHERE nom_normalise IN ({among}) LIMIT 1"
    return db.execute_sql(sql, names).fetchone() is not None


@functools.cache
def _suggestions_sql(column, restored, prefixes, param):
    """The suggestions query, written once: peewee would take longer to build it each time
    than SQLite takes to run it. `column` is a Localite column name, never user input."""
    ids = f"SELECT id FROM {_LOCALITE} WHERE {{}} ORDER BY id LIMIT {param}"
    among = ", ".join([param] * restored)
    parts = [ids.format(f"{column} = {param}")]
    if restored:
        parts.append(ids.format(f"{column} IN ({among})"))
    parts += [ids.format(f"{column} >= {param} AND {column} < {param}")] * prefixes
    union = " UNION ".join(f"SELECT id FROM ({part}) AS p{i}" for i, part in enumerate(parts))
    tier = f"CASE WHEN l.{column} = {param} THEN 0"
    if restored:
        tier += f" WHEN l.{column} IN ({among}) THEN 1"
    return (
        f"WITH ids (id) AS ({union}) SELECT {_PLACE_COLUMNS} "
        f"FROM ids JOIN {_LOCALITE} AS l ON l.id = ids.id "
        f"JOIN {_COMMUNE} AS c ON c.insee = l.commune_id "
        f"ORDER BY {tier} ELSE 2 END, l.id"
    )


def _restored(name):
    """The name with each article put back in front."""
    return [f"{article} {name}" for article in ARTICLES]


def _name_suggestions(name, limit):
    """The localités called `name`, then `name` after an article, then starting with it."""
    restored = _restored(name)
    prefixes = [name, *(restored if len(name) >= ARTICLE_PREFIX_LENGTH else [])]
    return _suggestions(Localite.nom_normalise, name, restored, prefixes, limit)


def _unique(places):
    """One Place per label, first (best ranked) wins."""
    seen = set()
    return [p for p in places if not (p.label in seen or seen.add(p.label))]


# --- Typing errors (see the module docstring) -----------------------------------------


class _Names:
    """The distinct normalised names, in rank order, grouped by length and first letter,
    and again by length and last two letters."""

    def __init__(self, rows):
        """`rows`: (name, best localité id), best first."""
        groups = {}  # key: ([names], array of their best ids)
        for name, best_id in rows:
            for key in _keys(name, len(name)):
                names, ids = groups.setdefault(key, ([], array.array("l")))
                names.append(name)
                ids.append(best_id)
        self.groups = groups

    def __len__(self):
        return sum(len(names) for (_, _, first), (names, _) in self.groups.items() if first)

    def near(self, name, distance, count):
        """[(name, distance)]: the `count` nearest names within `distance`, best first."""
        hits = {}
        for length in range(len(name) - distance, len(name) + distance + 1):
            for key in _keys(name, length):
                names, ids = self.groups.get(key, ((), None))
                # extract breaks ties by position: the group's rank order.
                for found, score, index in process.extract(
                    name, names, scorer=OSA.distance, score_cutoff=distance, limit=count
                ):
                    hits[found] = (score, ids[index])
        best = sorted(hits.items(), key=lambda hit: hit[1])[:count]
        return [(found, score) for found, (score, _) in best]


def _keys(name, length):
    """The groups of names of `length` letters that may be one typing error from `name`:
    one error leaves the first letter or the last two in place."""
    return ((length, name[0], True), (length, name[-2:], False))


@functools.lru_cache(maxsize=1)
def _names_index(last_id):
    """The names of the localités, while their last id is `last_id` (load_file renumbers
    them, so another file, even loaded by another process, gives another index)."""
    # Read row by row, in rank order: no list of 36,000 rows to sort, nor its memory after.
    sql = (
        f"SELECT nom_normalise, MIN(id) AS best FROM {_LOCALITE} "
        "GROUP BY nom_normalise ORDER BY best"
    )
    return _Names(db.execute_sql(sql))


def names_index():
    """The in-memory index of names, built at its first use by this process."""
    (last_id,) = db.execute_sql(_LAST_ID_SQL).fetchone()
    return _names_index(last_id)


_LAST_ID_SQL = f"SELECT MAX(id) FROM {_LOCALITE}"


def _max_distance(name):
    """The typing errors forgiven in a name: none below 4 letters, 1, then 2 from 8."""
    return 0 if len(name) < 4 else 1 if len(name) < 8 else 2


def _near(name, limit):
    """Places whose name is a typing error or two from `name`: nearest, then biggest."""
    distance = _max_distance(name)
    if not distance:
        return []
    # A few more names than places: two names may give the same label ("lhay", "l hay").
    hits = dict(names_index().near(name, distance, limit + ROWS_PER_PLACE))
    if not hits:
        return []
    ranked = sorted(_places_named(hits), key=lambda hit: (hits[hit[0]], _rank(hit[1])))
    return _unique([replace(place, approximate=True) for _, place in ranked])[:limit]


# --- Reading what was typed ------------------------------------------------------------


def _clean(text):
    """The text worth querying, or None for junk (not a string, empty, too long)."""
    if not isinstance(text, str) or len(text) > MAX_QUERY_LENGTH:
        return None
    return text.strip() or None


def _postal_code(text):
    """ "69003", "69 003" -> "69003"; None when the text is not 2-5 digits."""
    digits = text.replace(" ", "")
    return digits if _POSTAL_PREFIX.fullmatch(digits) else None


class _Label(NamedTuple):
    nom: str
    code: str  # a postal code or a département
    bare: bool  # "Saint-Denis 93": the name with a trailing number may be a name itself


def _label(text):
    """The label the text is, written as people do, or None:
    "Lyon (69003)", "Lyon 69003", "69100 Villeurbanne", "Saint-Denis (93)", "Saint-Denis 93"
    (but "Paris 15" is a name)."""
    for pattern in (_LABEL, _ENVELOPE):
        match = pattern.fullmatch(text)
        if match:
            return _Label(match["nom"], (match["code"] or match["cp"]).upper(), False)
    match = _BARE_DEPARTEMENT.fullmatch(text)
    if match and not _any_called([normalise(text)]):
        return _Label(match["nom"], match["code"].upper(), True)
    return None


def _city_wide(code):
    """[Paris] for "75000" (and Lyon, Marseille); [] for any other code."""
    insee = CITY_WIDE_CODES.get(code)
    city = insee and place(insee)
    return [city] if city else []


def _label_places(nom, code):
    """The communes a "Nom (code)" label designates: code is a postal code or a département."""
    name = normalise(nom)
    if len(code) == 5:
        # The localité's name (an arrondissement's, "Paris 15e Arrondissement (75015)", or a
        # former commune's), or the commune's own.
        hits = [
            row
            for row in _places_where("l.code_postal = ?", (code,))
            if name == row[8] or (not row[7] and name == normalise(row[1]))
        ]
        return _unique(sorted(map(_place, hits), key=_rank))
    return [p for _, p in _places_named([name]) if p.departement == code]


def _places_named(names):
    """[(name, Place)]: one per commune having a localité called one of `names`, by rank."""
    names = list(names)
    rows = _places_where(f"l.nom_normalise IN ({', '.join('?' * len(names))})", names)
    groups = {}
    for row in rows:
        groups.setdefault((row[0], row[8]), []).append(row)
    found = []
    for (_, name), group in groups.items():
        codes = {row[2] for row in group}
        # Several postal codes and the text named none: the commune, without a code.
        code_postal = next(iter(codes)) if len(codes) == 1 else None
        found.append((name, _place((*group[0][:2], code_postal, *group[0][3:]))))
    return sorted(found, key=lambda hit: _rank(hit[1]))


def _places_with_postal_code(code):
    places = {Place(*row[:6]) for row in _places_where("l.code_postal = ?", (code,))}
    return sorted(places, key=_rank)


def _rank(place):
    return (-place.population, place.nom, place.departement, place.code_postal or "")


def searchable(text):
    """Whether `search` looks the text up: 2+ letters or 2-5 digits, not junk."""
    text = _clean(text)
    return text is not None and bool(_postal_code(text) or len(normalise(text)) >= MIN_LENGTH)


def search(text, limit=10):
    """Suggestions for what is being typed (see the module docstring), best first."""
    text = _clean(text)
    limit = max(1, min(int(limit), MAX_LIMIT))
    if text is None:
        return []
    code = _postal_code(text)
    if code:
        return _city_wide(code) or _suggestions(Localite.code_postal, code, [], [code], limit)
    label = _label(text)
    if label:
        places = _label_places(label.nom, label.code)
        if places:
            return places[:limit]
        if not label.bare:  # "Lyon (75001)": the code does not fit, suggest from the name
            text = label.nom
    # A picked label being edited ("Lyon (6900"): suggest from the name.
    name = normalise(_UNFINISHED_LABEL.sub("", text))
    if len(name) < MIN_LENGTH:
        return []
    found = _name_suggestions(name, limit)
    if len(found) < limit and _may_be_a_typo(text, name):
        found = _unique(found + _near(name, limit))[:limit]
    return found


def _may_be_a_typo(text, name):
    """A name typed in full is none; a prefix may be one ("toulouze", as in Toulouzette)."""
    return bool(_NAME_LIKE.fullmatch(text)) and not _any_called([name, *_restored(name)])


def resolve(text):
    """The distinct communes the text designates exactly (label, postal code or full name)."""
    text = _clean(text)
    if text is None:
        return []
    code = _postal_code(text)
    if code:
        return _city_wide(code) or (_places_with_postal_code(code) if len(code) == 5 else [])
    label = _label(text)
    if label:
        # A code that does not fit the name ("Evry (91000)") designates nothing: the
        # name alone could be a homonym elsewhere in France.
        places = _label_places(label.nom, label.code)
        if places or not label.bare:
            return places
    name = normalise(text)
    return [p for _, p in _places_named([name])] if name else []


def place(insee, code_postal=None):
    """The Place of a commune (and one of its postal codes); None when unknown."""
    commune = Commune.get_or_none(Commune.insee == insee)
    if commune is None:
        return None
    codes = sorted(
        code
        for (code,) in Localite.select(Localite.code_postal)
        .where(Localite.commune == insee, Localite.code_postal != "")
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
