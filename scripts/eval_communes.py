"""Recall@5 and latency of territory.search on queries generated from the communes file.

The queries are made, seeded, from data/communes.csv.gz (the official data), one kind per
way people type a commune on a phone:

    exact            the official name, "Saint-Étienne"
    prefix           the name cut after 60 % or more of its letters, "Saint-Éti"
    sans accents     lowercase, accents dropped, "saint-etienne"
    typo: missing    one letter left out, "marseile"
    typo: doubled    one letter typed twice, "creteiil"
    typo: swapped    two neighbouring letters swapped, "strasbuorg"
    typo: neighbour  one letter replaced by a neighbouring key on an AZERTY phone keyboard,
                     "toulouze"
    postal code first  "69100 Villeurbanne"
    name + département "Saint-Denis 93"
    article dropped  "Mureaux" for Les Mureaux
    former commune   a commune déléguée or associée, "Andard" (Loire-Authion today)
    arrondissement   "paris15", "Lyon 3e", "marseille-1er", ...
    city-wide code   "75000", "69000", "13000"

Typos are made on names of 4 letters or more, lowercase and without accents (as typed on a
phone), at any letter. A query is a hit when the commune meant is among the first five
suggestions. A name borne by several communes ("Saint-Martin") cannot say which one is
meant: any commune bearing it is a hit (narrowed by the postal code or département when
the query has one). Each search is timed in-process (perf_counter) on a temporary SQLite
database loaded with the file; the index of names is built before the clock starts, and
measured (tracemalloc) while it is built.

Usage:
    python scripts/eval_communes.py                  # 2,000 queries per kind, seed 5
    python scripts/eval_communes.py --per-kind 500 --seed 1
"""

import argparse
import csv
import gzip
import math
import random
import sys
import tempfile
import time
import tracemalloc
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import models  # noqa: E402
from services import territory  # noqa: E402

COMMUNES_FILE = ROOT / "data" / "communes.csv.gz"
TOP = 5
AZERTY = ("azertyuiop", "qsdfghjklm", "wxcvbn")
ARTICLES = ("Le ", "La ", "Les ", "L'")
ARRONDISSEMENT_FORMS = ("{n}", "{n}e", "{n}eme", "{n}ème", "{n}e arrondissement")


def neighbours():
    """AZERTY keys next to each letter: same row, and the rows above and below."""
    around = {}
    for r, row in enumerate(AZERTY):
        for i, key in enumerate(row):
            near = {row[j] for j in (i - 1, i + 1) if 0 <= j < len(row)}
            for other in (r - 1, r + 1):
                if 0 <= other < len(AZERTY):
                    near |= {AZERTY[other][j] for j in (i - 1, i) if 0 <= j < len(AZERTY[other])}
            around[key] = "".join(sorted(near))
    return around


NEIGHBOURS = neighbours()


def plain(text):
    """Lowercase without accents, as typed on a phone."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def typo(rng, name, kind):
    """`name` with one typing error of the given kind, at a random letter."""
    text = plain(name)
    letters = [i for i, c in enumerate(text) if c.isalpha()]
    if kind == "swapped":
        pairs = [i for i in letters if i + 1 < len(text) and text[i + 1].isalpha()]
        pairs = [i for i in pairs if text[i] != text[i + 1]]
        if not pairs:
            return None
        i = rng.choice(pairs)
        return text[:i] + text[i + 1] + text[i] + text[i + 2 :]
    i = rng.choice(letters)
    if kind == "missing":
        return text[:i] + text[i + 1 :]
    if kind == "doubled":
        return text[:i] + text[i] + text[i:]
    near = NEIGHBOURS.get(text[i])
    return text[:i] + rng.choice(near) + text[i + 1 :] if near else None


def read_rows():
    with gzip.open(COMMUNES_FILE, "rt", encoding="utf-8", newline="") as stream:
        return list(csv.DictReader(stream))


class Communes:
    """The file as the evaluation needs it: who bears which name, where."""

    def __init__(self, rows):
        self.actuelles = [r for r in rows if r["type"] == territory.ACTUELLE]
        self.former = [r for r in rows if r["type"] in territory.FORMER]
        self.arrondissements = [r for r in rows if r["type"] == "arrondissement-municipal"]
        self.by_insee = {r["insee"]: r for r in self.actuelles}
        self.bearers = {}
        for r in self.actuelles + self.former:
            self.bearers.setdefault(territory.normalise(r["nom"]), set()).add(
                r["commune"] or r["insee"]
            )

    def homonyms(self, nom):
        return self.bearers[territory.normalise(nom)]


def queries(communes, rng, per_kind):
    """{kind: [(query, {insee, ...} meant)]}."""

    def sample(pool):
        return rng.sample(pool, min(per_kind, len(pool)))

    actuelles = [r for r in communes.actuelles if r["codes_postaux"]]
    long_names = [r for r in actuelles if len(territory.normalise(r["nom"])) >= 4]
    kinds = {}
    kinds["exact"] = [(r["nom"], communes.homonyms(r["nom"])) for r in sample(actuelles)]
    kinds["prefix"] = []
    for r in sample([r for r in actuelles if len(r["nom"]) >= 5]):
        cut = rng.randint(max(4, math.ceil(0.6 * len(r["nom"]))), len(r["nom"]))
        kinds["prefix"].append((r["nom"][:cut], communes.homonyms(r["nom"])))
    accented = [r for r in actuelles if plain(r["nom"]) != r["nom"].lower()]
    kinds["sans accents"] = [
        (plain(r["nom"]), communes.homonyms(r["nom"])) for r in sample(accented)
    ]
    for kind in ("missing", "doubled", "swapped", "neighbour"):
        made = ((typo(rng, r["nom"], kind), r) for r in sample(long_names))
        kinds[f"typo: {kind}"] = [(q, communes.homonyms(r["nom"])) for q, r in made if q]
    kinds["postal code first"] = []
    for r in sample(actuelles):
        code = rng.choice(r["codes_postaux"].split())
        meant = {
            i
            for i in communes.homonyms(r["nom"])
            if code in communes.by_insee[i]["codes_postaux"].split()
        }
        kinds["postal code first"].append((f"{code} {r['nom']}", meant))
    kinds["name + département"] = []
    for r in sample(actuelles):
        meant = {
            i
            for i in communes.homonyms(r["nom"])
            if communes.by_insee[i]["departement"] == r["departement"]
        }
        kinds["name + département"].append((f"{r['nom']} {r['departement']}", meant))
    kinds["article dropped"] = [
        (r["nom"][len(article) :], communes.homonyms(r["nom"]))
        for r in sample([r for r in actuelles if r["nom"].startswith(ARTICLES)])
        for article in ARTICLES
        if r["nom"].startswith(article)
    ]
    kinds["former commune"] = [
        (r["nom"], communes.homonyms(r["nom"])) for r in sample(communes.former)
    ]
    kinds["arrondissement"] = sample(arrondissement_queries(communes))
    kinds["city-wide code"] = [(code, {i}) for code, i in territory.CITY_WIDE_CODES.items()]
    return kinds


def arrondissement_queries(communes):
    """Every way of writing every arrondissement: "paris15", "Paris 15e", "lyon-3eme"..."""
    found = []
    for r in communes.arrondissements:
        city, number = r["nom"].split()[:2]
        number = number.removesuffix("er").removesuffix("e")
        for form in ARRONDISSEMENT_FORMS:
            suffix = form.format(n="1er" if number == "1" and form == "{n}e" else number)
            for name in (city, city.lower(), city.upper()):
                for space in ("", " ", "-"):
                    found.append((f"{name}{space}{suffix}", {r["commune"]}))
    return found


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def measure_index():
    """(names, bytes kept, seconds) of building the in-memory index of names."""
    territory._names_index.cache_clear()
    start = time.perf_counter()
    territory.names_index()
    elapsed = time.perf_counter() - start
    # Again under tracemalloc, which slows allocations down: for the size only.
    territory._names_index.cache_clear()
    tracemalloc.start()
    index = territory.names_index()
    kept, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return len(index), kept, elapsed


def evaluate(kinds):
    """{kind: (hits, total, [wall seconds], [CPU seconds])}.

    The CPU time of the thread (SQLite runs in it) is what a search costs; the wall time
    adds whatever else the machine was doing meanwhile.
    """
    results = {}
    for kind, cases in kinds.items():
        hits, wall, cpu = 0, [], []
        for query, meant in cases:
            start, start_cpu = time.perf_counter(), time.thread_time()
            found = territory.search(query)
            cpu.append(time.thread_time() - start_cpu)
            wall.append(time.perf_counter() - start)
            hits += any(p.insee in meant for p in found[:TOP])
        results[kind] = (hits, len(cases), wall, cpu)
    return results


def milliseconds(times):
    return " ".join(f"{percentile(times, q) * 1000:>7.2f}" for q in (0.5, 0.99))


def report(results, index):
    print(f"{'':<20} {'':>7} {'':>9} {'wall time':>15} {'CPU time':>15}")
    print(
        f"{'kind':<20} {'queries':>7} {'recall@5':>9} {'p50 ms  p99 ms':>15} {'p50 ms  p99 ms':>15}"
    )
    every, every_cpu = [], []
    for kind, (hits, total, wall, cpu) in results.items():
        every += wall
        every_cpu += cpu
        print(
            f"{kind:<20} {total:>7} {hits / total:>9.3f} {milliseconds(wall)} {milliseconds(cpu)}"
        )
    print(f"{'all':<20} {len(every):>7} {'':>9} {milliseconds(every)} {milliseconds(every_cpu)}")
    names, kept, elapsed = index
    print(
        f"index: {names} names, {kept / 1e6:.1f} MB kept (tracemalloc),"
        f" built in {elapsed * 1000:.0f} ms"
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-kind", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args(argv)
    kinds = queries(Communes(read_rows()), random.Random(args.seed), args.per_kind)
    with tempfile.TemporaryDirectory() as directory:
        models.init_db(f"sqlite:///{Path(directory) / 'eval.db'}")
        models.migrate()
        with models.db.connection_context():
            territory.load_file(COMMUNES_FILE)
            index = measure_index()
            report(evaluate(kinds), index)
        models.db.close()


if __name__ == "__main__":
    main()
