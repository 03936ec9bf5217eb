"""territory: normalising, loading, searching and resolving communes on the real file."""

import gzip
import importlib.util
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import models
import territory
from territory import Place, normalise, place, resolve, search

ROOT = Path(__file__).resolve().parent.parent
COMMUNES_FILE = ROOT / "data" / "communes.csv.gz"

PARIS, LYON, MARSEILLE = "75056", "69123", "13055"


def labels(places):
    return [p.label for p in places]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Saint-Étienne", "saint etienne"),
        ("st etienne", "saint etienne"),
        ("ST-ÉTIENNE", "saint etienne"),
        ("St. Étienne", "saint etienne"),
        ("Ste-Foy-lès-Lyon", "sainte foy les lyon"),
        ("L'Haÿ-les-Roses", "l hay les roses"),
        ("L’Haÿ-les-Roses", "l hay les roses"),
        ("Villeneuve-d'Ascq", "villeneuve d ascq"),
        ("Œuilly", "oeuilly"),
        ("Évry-Courcouronnes", "evry courcouronnes"),
        ("  Lyon   3e  ", "lyon 3e"),
        ("Château-Chinon (Ville)", "chateau chinon ville"),
        ("Stella-Plage", "stella plage"),  # "st" only as a whole word
        ("Saint-Étienne-de-St-Geoirs", "saint etienne de saint geoirs"),
        ("", ""),
        ("%_<>;", ""),
    ],
)
def test_normalise(text, expected):
    assert normalise(text) == expected


def test_place_label():
    assert Place("94038", "L'Haÿ-les-Roses", "94240", "94", "11", 31188).label == (
        "L'Haÿ-les-Roses (94240)"
    )
    # Without a postal code (a commune with several, none named): the département.
    assert Place("93066", "Saint-Denis", None, "93", "11", 1).label == "Saint-Denis (93)"


@pytest.mark.parametrize(
    ("text", "first"),
    [
        ("Saint-Étienne", "Saint-Étienne (42000)"),
        ("saint etienne", "Saint-Étienne (42000)"),
        ("st etienne", "Saint-Étienne (42000)"),
        ("ST-ÉTIENNE", "Saint-Étienne (42000)"),
        ("L'Haÿ-les-Roses", "L'Haÿ-les-Roses (94240)"),
        ("l’hay les roses", "L'Haÿ-les-Roses (94240)"),
        ("l hay", "L'Haÿ-les-Roses (94240)"),
        ("lhay", "L'Haÿ-les-Roses (94240)"),
        ("Villeneuve-d'Ascq", "Villeneuve-d'Ascq (59491)"),
        ("villeneuve dascq", "Villeneuve-d'Ascq (59491)"),
        ("Évry", "Évry (89140)"),  # the exact name first, though Évry-Courcouronnes is bigger
        ("evry", "Évry (89140)"),
        ("Lyon", "Lyon (69001)"),
        ("Paris", "Paris (75001)"),
    ],
)
def test_search_forgives_accents_apostrophes_hyphens_saint(db, text, first):
    assert labels(search(text))[0] == first


def test_search_lists_longer_names_after_the_exact_one(db):
    found = labels(search("Évry"))
    assert "Évry-Courcouronnes (91000)" in found
    assert found.index("Évry (89140)") < found.index("Évry-Courcouronnes (91000)")


def test_search_ranks_exact_names_then_population(db):
    places = search("Saint-Denis")
    exact = [p for p in places if p.nom == "Saint-Denis"]
    assert places[: len(exact)] == exact
    assert {p.departement for p in exact} >= {"93", "974"}
    others = places[len(exact) :]
    assert [p.population for p in others] == sorted((p.population for p in others), reverse=True)


def test_search_short_prefix_gives_the_big_communes_first(db):
    places = search("sa")
    assert len(places) == 10
    assert all(normalise(p.nom).startswith("sa") for p in places)
    populations = [p.population for p in places]
    assert populations == sorted(populations, reverse=True)
    assert populations[0] > 100_000


def test_search_gives_one_suggestion_per_label(db):
    for text in ("Paris", "paris 1", "75", "Lyon", "13"):
        found = labels(search(text, limit=50))
        assert len(found) == len(set(found)), text


def test_search_respects_the_limit(db):
    assert len(search("saint", limit=3)) == 3
    assert len(search("saint")) == 10


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("69003", ["Lyon (69003)"]),
        ("75015", ["Paris (75015)"]),
        ("13008", ["Marseille (13008)"]),
        ("94240", ["L'Haÿ-les-Roses (94240)"]),
        ("69 003", ["Lyon (69003)"]),
    ],
)
def test_search_by_postal_code(db, text, expected):
    assert labels(search(text)) == expected


def test_search_by_postal_code_prefix(db):
    places = search("69")
    assert len(places) == 10
    assert all(p.code_postal.startswith("69") for p in places)
    assert places[0].insee == LYON
    assert {p.insee for p in search("690", limit=50)} == {LYON}  # 69001-69009 only


@pytest.mark.parametrize(
    ("text", "insee", "code_postal"),
    [
        ("75015", PARIS, "75015"),
        ("75116", PARIS, "75116"),
        ("69003", LYON, "69003"),
        ("13008", MARSEILLE, "13008"),
        ("Paris 15", PARIS, "75015"),
        ("Paris 15e arrondissement", PARIS, "75015"),
        ("Lyon 3e", LYON, "69003"),
        ("Paris 15ème", PARIS, "75015"),
        ("Lyon 3eme", LYON, "69003"),
        ("Marseille 1er", MARSEILLE, "13001"),
    ],
)
def test_arrondissements_resolve_to_their_commune(db, text, insee, code_postal):
    first = search(text)[0]
    assert (first.insee, first.code_postal) == (insee, code_postal)
    assert [(p.insee, p.code_postal) for p in resolve(text)] == [(insee, code_postal)]


def test_a_label_typed_back_matches(db):
    assert labels(search("Lyon (69003)")) == ["Lyon (69003)"]
    assert labels(search("L'Haÿ-les-Roses (94240)")) == ["L'Haÿ-les-Roses (94240)"]
    assert labels(search("Saint-Denis (93)")) == ["Saint-Denis (93)"]
    assert labels(search("Château-Chinon (Ville) (58120)")) == ["Château-Chinon (Ville) (58120)"]


def test_a_label_being_edited_still_gets_suggestions(db):
    assert labels(search("Lyon (6900"))[:2] == ["Lyon (69001)", "Lyon (69002)"]
    assert labels(search("Lyon (75001)"))[0] == "Lyon (69001)"


@pytest.mark.parametrize(
    "text", ["", " ", "a", "1", "%", "%%", "_", "__", "%a", "<script>", "x" * 2000, None, 69003]
)
def test_search_ignores_short_or_junk_text(db, text):
    assert search(text) == []


def test_like_wildcards_are_plain_characters(db):
    assert "Lyon (69001)" in labels(search("lyon"))
    for text in ("l_on", "ly%n", "_yon", "%on", "6900_", "6900%"):
        assert "Lyon (69001)" not in labels(search(text)), text


def test_resolve_a_label(db):
    assert resolve("Lyon (69003)") == [Place(LYON, "Lyon", "69003", "69", "84", 519127)]


def test_resolve_a_postal_code_shared_by_several_communes(db):
    places = resolve("01400")
    assert len(places) > 1
    assert len({p.insee for p in places}) == len(places)
    assert {p.code_postal for p in places} == {"01400"}


def test_resolve_a_name_with_several_postal_codes_gives_the_commune_once(db):
    (lyon,) = resolve("lyon")
    assert (lyon.insee, lyon.code_postal, lyon.label) == (LYON, None, "Lyon (69)")
    assert resolve(lyon.label) == [lyon]


def test_resolve_an_ambiguous_name(db):
    places = resolve("Saint-Denis")
    assert {"93066", "97411"} <= {p.insee for p in places}
    assert len({p.insee for p in places}) == len(places)
    # Each candidate's label designates that commune alone: the no-JS page offers them.
    for candidate in places:
        assert resolve(candidate.label) == [candidate]


def test_resolve_round_trips_every_suggestion(db):
    for text in ("sa", "Paris", "75", "lhay", "Évry", "Marseille 1"):
        for suggestion in search(text):
            assert resolve(suggestion.label) == [suggestion], suggestion.label


def test_a_label_with_a_code_that_does_not_fit_designates_nothing(db):
    # "Évry (91000)" must not fall back to the only commune named exactly Évry (89).
    assert resolve("Lyon (75001)") == []
    assert resolve("Evry (91000)") == []


@pytest.mark.parametrize(
    "text", ["", "   ", "Lyo", "6900", "690031", "Nulle-Part-sur-Rien", "<script>", "x" * 2000]
)
def test_resolve_nothing(db, text):
    assert resolve(text) == []


def test_place(db):
    assert place(LYON).label == "Lyon (69)"
    assert place(LYON, "69003").label == "Lyon (69003)"
    assert place(LYON, "75001") is None
    assert place("99999") is None
    assert place("94038") == Place("94038", "L'Haÿ-les-Roses", "94240", "94", "11", 31188)


def test_load_is_idempotent(db):
    def snapshot():
        return (
            list(models.Commune.select().order_by(models.Commune.insee).tuples()),
            list(models.Localite.select().order_by(models.Localite.id).tuples()),
        )

    before = snapshot()
    assert territory.load_file(COMMUNES_FILE) == len(before[0])
    assert snapshot() == before
    assert territory.count() == (34969, len(before[1]))


def test_reload_removes_communes_gone_from_the_file_unless_a_lead_has_one(db):
    models.Commune.create(insee="99998", nom="Disparue", departement="99", region="99")
    kept = models.Commune.create(insee="99999", nom="Fusionnée", departement="99", region="99")
    models.Lead.create(
        reference="J-TEST01", kind="jeune", suivi_token="t" * 64, answers={}, commune=kept
    )
    territory.load_file(COMMUNES_FILE)
    assert models.Commune.get_or_none(models.Commune.insee == "99998") is None
    assert models.Commune.get_or_none(models.Commune.insee == "99999") is not None


def test_file_columns_and_arrondissements():
    with gzip.open(COMMUNES_FILE, "rt", encoding="utf-8") as stream:
        header = stream.readline().strip()
        rows = [line.rstrip("\n").split(",") for line in stream]
    assert header == "insee,nom,codes_postaux,departement,region,population,commune"
    parents = {row[-1] for row in rows if row[-1]}
    assert parents == {PARIS, LYON, MARSEILLE}
    assert sum(1 for row in rows if row[-1]) == 45


def test_build_is_deterministic(tmp_path):
    spec = importlib.util.spec_from_file_location("build", ROOT / "scripts" / "build_communes.py")
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    entries = [
        {"code": "69123", "nom": "Lyon", "type": "commune-actuelle", "departement": "69",
         "region": "84", "population": 519127, "codesPostaux": ["69003", "69001"]},
        {"code": "01001", "nom": "L'Abergement-Clémenciat", "type": "commune-actuelle",
         "departement": "01", "region": "84", "codesPostaux": ["01400"]},
        {"code": "01015", "nom": "Arbignieu", "type": "commune-deleguee", "departement": "01",
         "region": "84"},
    ]  # fmt: skip
    rows = sorted((build.row(e) for e in entries if e["type"] == "commune-actuelle"),
                  key=lambda r: r["insee"])  # fmt: skip
    first, second = tmp_path / "a.csv.gz", tmp_path / "b.csv.gz"
    build.write_gzip_csv(rows, first)
    build.write_gzip_csv(list(rows), second)
    assert first.read_bytes() == second.read_bytes()
    assert first.read_bytes()[4:8] == b"\0\0\0\0"  # gzip mtime
    text = gzip.decompress(first.read_bytes()).decode()
    assert text.splitlines()[1:] == [
        "01001,L'Abergement-Clémenciat,01400,01,84,,",
        "69123,Lyon,69001 69003,69,84,519127,",
    ]


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.text(max_size=150))
def test_search_and_resolve_never_raise(db, text):
    found = search(text)
    assert len(found) <= 10 and all(isinstance(p, Place) for p in found)
    assert all(isinstance(p, Place) for p in resolve(text))
