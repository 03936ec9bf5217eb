"""territory: normalising, loading, searching and resolving communes on the real file."""

import gzip
import importlib.util
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from peewee import fn

import models
from services import territory
from services.territory import Place, normalise, place, resolve, search

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
        ("paris15", "paris 15"),  # no commune name has a digit right after a letter
        ("Lyon3e", "lyon 3e"),
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


def test_file_columns_arrondissements_and_former_communes():
    with gzip.open(COMMUNES_FILE, "rt", encoding="utf-8") as stream:
        header = stream.readline().strip()
        rows = [line.rstrip("\n").split(",") for line in stream]
    assert header == "insee,nom,type,codes_postaux,departement,region,population,commune"
    by_type = {}
    for row in rows:
        by_type.setdefault(row[2], []).append(row)
    assert {t: len(r) for t, r in by_type.items()} == {
        "commune-actuelle": 34969,
        "arrondissement-municipal": 45,
        "commune-deleguee": 2105,
        "commune-associee": 471,
    }
    assert {row[-1] for row in by_type["arrondissement-municipal"]} == {PARIS, LYON, MARSEILLE}
    current = {row[0] for row in by_type["commune-actuelle"]}
    former = by_type["commune-deleguee"] + by_type["commune-associee"]
    assert {row[-1] for row in former} <= current
    assert ["49004", "Andard", "commune-deleguee", "", "49", "52", "", "49307"] in former


def test_build_is_deterministic(tmp_path):
    spec = importlib.util.spec_from_file_location("build", ROOT / "scripts" / "build_communes.py")
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    entries = [
        {"code": "69123", "nom": "Lyon", "type": "commune-actuelle", "departement": "69",
         "region": "84", "population": 519127, "codesPostaux": ["69003", "69001"]},
        {"code": "01015", "nom": "Arbignieu", "type": "commune-deleguee", "departement": "01",
         "region": "84", "chefLieu": "01015"},
        {"code": "01001", "nom": "L'Abergement-Clémenciat", "type": "commune-actuelle",
         "departement": "01", "region": "84", "codesPostaux": ["01400"]},
    ]  # fmt: skip
    rows = sorted((build.row(e, e.get("chefLieu", "")) for e in entries),
                  key=lambda r: (r["insee"], r["type"]))  # fmt: skip
    first, second = tmp_path / "a.csv.gz", tmp_path / "b.csv.gz"
    build.write_gzip_csv(rows, first)
    build.write_gzip_csv(list(rows), second)
    assert first.read_bytes() == second.read_bytes()
    assert first.read_bytes()[4:8] == b"\0\0\0\0"  # gzip mtime
    text = gzip.decompress(first.read_bytes()).decode()
    assert text.splitlines()[1:] == [
        "01001,L'Abergement-Clémenciat,commune-actuelle,01400,01,84,,",
        "01015,Arbignieu,commune-deleguee,,01,84,,01015",
        "69123,Lyon,commune-actuelle,69001 69003,69,84,519127,",
    ]


# --- What people type on a phone ------------------------------------------------------


def insees(places, first=5):
    return [p.insee for p in places[:first]]


@pytest.mark.parametrize(
    ("text", "insee"),
    [
        ("marseile", MARSEILLE),  # missing letter
        ("villeurbane", "69266"),
        ("montpelier", "34172"),
        ("toulouze", "31555"),  # neighbouring key
        ("nantez", "44109"),
        ("strasbuorg", "67482"),  # swapped letters
        ("bordeuax", "33063"),
        ("creteiil", "94028"),  # doubled letter
        ("lyin", LYON),
        ("Saint-Étiene", "42218"),
    ],
)
def test_one_typing_error_finds_the_commune(db, text, insee):
    places = search(text)
    assert insee in insees(places)
    (found,) = [p for p in places if p.insee == insee][:1]
    assert found.approximate
    assert resolve(text) == []  # a typo designates nothing by itself: the person confirms


def test_exact_and_prefix_matches_rank_before_typing_errors(db):
    for text in ("toulouze", "lyon", "paris15", "Rochelle", "sa", "Évry", "montpelier"):
        flags = [p.approximate for p in search(text)]
        assert flags == sorted(flags), text  # False (found as typed) before True
    # "toulouze" starts Toulouzette: that prefix comes first, Toulouse right after.
    assert labels(search("toulouze"))[:2] == ["Toulouzette (40250)", "Toulouse (31)"]
    assert not any(p.approximate for p in search("lyon"))


def test_typing_errors_are_not_looked_for_in_junk_or_short_text(db):
    assert search("<script>") == [] and search("ly%n") == []
    assert search("lyo") and all(not p.approximate for p in search("lyo"))
    assert search("xqzw") == []  # nothing near: nothing offered


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("69100 Villeurbanne", "Villeurbanne (69100)"),
        ("13008 Marseille", "Marseille (13008)"),
        ("75015 Paris", "Paris (75015)"),
        ("94240, L'Haÿ-les-Roses", "L'Haÿ-les-Roses (94240)"),
        ("Saint-Denis 93", "Saint-Denis (93)"),
        ("saint denis 974", "Saint-Denis (974)"),
        ("Ajaccio 2a", "Ajaccio (2A)"),
    ],
)
def test_postal_code_first_or_departement_after_the_name(db, text, expected):
    assert labels(search(text)) == [expected]
    assert labels(resolve(text)) == [expected]


def test_a_trailing_number_that_makes_a_name_stays_a_name(db):
    # "Paris 15" is the 15th arrondissement, not Paris in the Cantal (15).
    assert labels(resolve("Paris 15")) == ["Paris (75015)"]
    assert labels(resolve("Marseille 13")) == ["Marseille (13013)"]
    assert resolve("Nulle-Part 93") == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Mureaux", "Les Mureaux (78130)"),
        ("Rochelle", "La Rochelle (17000)"),
        ("Kremlin-Bicêtre", "Le Kremlin-Bicêtre (94270)"),
        ("kremlin", "Le Kremlin-Bicêtre (94270)"),
        ("Mans", "Le Mans (72000)"),
        ("Haÿ-les-Roses", "L'Haÿ-les-Roses (94240)"),
    ],
)
def test_a_dropped_leading_article(db, text, expected):
    first = search(text)[0]
    assert (first.label, first.approximate) == (expected, False)


def test_a_former_commune_is_todays_commune_and_says_so(db):
    (andard,) = search("Andard")
    assert (andard.insee, andard.label) == ("49307", "Loire-Authion (49)")
    assert andard.display == "Andard, aujourd'hui Loire-Authion (49)"
    assert resolve("Andard") == [andard] and resolve("Andard")[0].ancien_nom == "Andard"
    assert resolve(andard.label) == [andard]  # the label picked designates the commune
    assert resolve("Andard (49)") == [andard]
    assert search("Seynod")[0].display == "Seynod, aujourd'hui Annecy (74)"
    # Annecy's own name, also a commune déléguée of Annecy, is not said twice.
    assert [p.display for p in search("Annecy")][:5] == [
        "Annecy (74000)", "Annecy (74370)", "Annecy (74600)", "Annecy (74940)", "Annecy (74960)"
    ]  # fmt: skip
    # The current communes starting with a prefix come before the former ones.
    former = [bool(p.ancien_nom) for p in search("loire")]
    assert former == sorted(former) and not former[0]


def test_a_former_commune_gets_the_postal_code_when_its_commune_has_one():
    communes, localites = territory.read_file(COMMUNES_FILE)
    former = {(loc[2], loc[3]): loc for loc in localites if loc[5]}
    # Bâgé-la-Ville is Bâgé-Dommartin (01380) today; Andard is Loire-Authion, 4 codes.
    assert former[("Bâgé-la-Ville", "bage la ville")][1:5] == ("01025", "Bâgé-la-Ville",
                                                              "bage la ville", "01380")  # fmt: skip
    assert former[("Andard", "andard")][4] == ""
    assert ("Annecy", "annecy") not in former
    # Every former commune ranks after every current one.
    first_former = min(loc[0] for loc in former.values())
    assert all(loc[0] < first_former for loc in localites if not loc[5])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("paris15", "Paris (75015)"),
        ("Paris15e", "Paris (75015)"),
        ("lyon3", "Lyon (69003)"),
        ("marseille1er", "Marseille (13001)"),
        ("75000", "Paris (75)"),
        ("69000", "Lyon (69)"),
        ("13000", "Marseille (13)"),
    ],
)
def test_arrondissements_without_space_and_city_wide_codes(db, text, expected):
    assert search(text)[0].label == expected
    assert labels(resolve(text)) == [expected]


def test_names_index_is_built_once_and_dropped_by_a_load(db):
    index = territory.names_index()
    assert territory.names_index() is index
    assert len(index) > 35_000
    assert ("marseille", 1) in index.near("marseile", 1, 3)
    territory.load_file(COMMUNES_FILE)
    assert territory.names_index() is not index


def test_names_index_follows_another_database(db):
    """A process that meets another database (another file loaded) indexes its names."""
    territory.names_index()
    models.Localite.delete().where(models.Localite.nom_normalise == "marseille").execute()
    models.Localite.delete().where(
        models.Localite.id == models.Localite.select(fn.MAX(models.Localite.id))
    ).execute()
    assert all(p.insee != MARSEILLE for p in search("marseile"))


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.text(max_size=150))
def test_search_and_resolve_never_raise(db, text):
    found = search(text)
    assert len(found) <= 10 and all(isinstance(p, Place) for p in found)
    assert all(isinstance(p, Place) for p in resolve(text))
