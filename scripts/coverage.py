"""How much of France the catalogue serves: the share of a grid of youths and of mentors
that the matcher puts on the waiting list (no programme at all, even remote).

The grid is catalogue.youth_grid / catalogue.mentor_grid over the most populous communes.
The communes and the catalogue are loaded into a throwaway SQLite database; nothing else
is touched.

Usage: python scripts/coverage.py [--catalogue data/catalogue-demo.csv] [--communes 300]
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import models  # noqa: E402
from domain import matcher  # noqa: E402
from domain.geo_names import DEPARTEMENTS  # noqa: E402
from services import catalogue, coverage, territory  # noqa: E402

WORST = 10


def percent(share):
    return f"{100 * share:5.1f} %"


def report(title, result):
    print(f"\n{title} : {result.total} personnes")
    print(f"  en liste d'attente : {percent(result.share())}")
    print(
        f"  proposées seulement au niveau national ou à distance : "
        f"{percent(result.share(of='fallback'))}"
    )
    print("  en liste d'attente, par besoin :")
    for besoin in matcher.BESOINS:
        print(f"    {besoin:<16} {percent(result.share(besoin=besoin))}")
    print(
        "  départements les moins bien servis (liste d'attente, seulement national ou à distance) :"
    )
    for code, waiting, fallback in result.worst_departements(WORST):
        print(f"    {code:>3} {DEPARTEMENTS[code].nom:<26} {percent(waiting)}  {percent(fallback)}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--catalogue", type=Path, default=ROOT / "data" / "catalogue-demo.csv")
    parser.add_argument("--communes", type=int, default=coverage.COVERAGE_COMMUNES)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        models.init_db(f"sqlite:///{Path(directory) / 'coverage.db'}")
        models.migrate()
        with models.db.connection_context():
            territory.load_file(ROOT / "data" / "communes.csv.gz")
            catalogue.load_file(args.catalogue)
            places = coverage.most_populous_places(args.communes)
            snapshot = catalogue.snapshot()
        started = time.perf_counter()
        youths = coverage.coverage(places, snapshot, coverage.youths_of)
        mentors = coverage.coverage(places, snapshot, coverage.mentors_of)
        elapsed = time.perf_counter() - started
    print(f"{args.catalogue.name} : {len(snapshot)} programmes, {len(places)} communes")
    report("Jeunes", youths)
    report("Mentors", mentors)
    print(f"\n({youths.total + mentors.total} personnes en {elapsed:.1f} s)")


if __name__ == "__main__":
    main()
