"""Derive data/communes.csv.gz from the official open data.

Source: npm package @etalab/decoupage-administratif@6.0.0 (MIT licence), file
data/communes.json, itself built from INSEE's Code officiel géographique, La Poste's
base des codes postaux and INSEE's populations légales.

Output: a gzipped UTF-8 CSV with a header row, one row per commune actuelle, per
arrondissement municipal of Paris, Lyon and Marseille and per former commune (commune
déléguée or associée of a commune nouvelle), sorted by INSEE code then type, gzip mtime 0,
so the same source always gives the same bytes (a clean diff in git).

Columns:
    insee          code INSEE of the row, e.g. 69123, 69383, 2A004; a former commune that
                   was the chef-lieu of its commune nouvelle shares the new commune's code
    nom            official name, e.g. "L'Haÿ-les-Roses", "Lyon 3e Arrondissement", "Andard"
    type           the source's type: commune-actuelle, arrondissement-municipal,
                   commune-deleguee or commune-associee
    codes_postaux  postal codes separated by spaces, sorted; empty for a few uninhabited
                   communes (Terres australes) and for former communes (the source has none)
    departement    code du département, e.g. 01, 2A, 974
    region         code de la région, e.g. 84; for collectivités d'outre-mer, their own code
    population     population municipale; empty when the source has none
    commune        the INSEE code of the commune actuelle the row belongs to: for an
                   arrondissement municipal its commune (75056 Paris, 69123 Lyon, 13055
                   Marseille), for a former commune its chef-lieu; empty for a commune

Usage:
    python scripts/build_communes.py                  # installs the npm package in a temp dir
    python scripts/build_communes.py --source DIR     # an unpacked package (or its data/ dir)
"""

import argparse
import collections
import csv
import gzip
import io
import json
import subprocess
import sys
import tempfile
from pathlib import Path

PACKAGE = "@etalab/decoupage-administratif"
VERSION = "6.0.0"
ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = ROOT / "data" / "communes.csv.gz"
COLUMNS = [
    "insee",
    "nom",
    "type",
    "codes_postaux",
    "departement",
    "region",
    "population",
    "commune",
]
PARENTS = {"75056", "69123", "13055"}
FORMER = ("commune-deleguee", "commune-associee")


def data_dir(source):
    """The directory holding communes.json, given a package root or its data/ dir."""
    source = Path(source)
    for candidate in (source, source / "data"):
        if (candidate / "communes.json").is_file():
            return candidate
    raise SystemExit(f"communes.json introuvable dans {source}")


def install_package(workdir):
    subprocess.run(
        ["npm", "i", "-E", "--silent", "--no-audit", "--no-fund", f"{PACKAGE}@{VERSION}"],
        cwd=workdir,
        check=True,
    )
    package_dir = Path(workdir) / "node_modules" / PACKAGE
    installed = json.loads((package_dir / "package.json").read_text())["version"]
    if installed != VERSION:
        raise SystemExit(f"{PACKAGE}: version {installed} installée, {VERSION} attendue")
    return package_dir


def row(entry, parent=""):
    population = entry.get("population")
    return {
        "insee": entry["code"],
        "nom": entry["nom"],
        "type": entry["type"],
        "codes_postaux": " ".join(sorted(set(entry.get("codesPostaux", [])))),
        "departement": entry["departement"],
        "region": entry["region"],
        "population": "" if population is None else str(int(population)),
        "commune": parent,
    }


def select_rows(entries):
    """Communes actuelles, municipal arrondissements and former communes, checked, sorted
    by code then type (a chef-lieu déléguée shares its commune nouvelle's code)."""
    communes = [row(e) for e in entries if e["type"] == "commune-actuelle"]
    arrondissements = [
        row(e, parent=e["commune"]) for e in entries if e["type"] == "arrondissement-municipal"
    ]
    former = [row(e, parent=e["chefLieu"]) for e in entries if e["type"] in FORMER]
    codes = {r["insee"] for r in communes}
    if len(codes) != len(communes) or len(communes) < 30000:
        raise SystemExit(f"données inattendues : {len(communes)} communes, {len(codes)} codes")
    parents = {r["commune"] for r in arrondissements}
    if parents != PARENTS or not parents <= codes:
        raise SystemExit(f"arrondissements inattendus : communes parentes {sorted(parents)}")
    orphans = sorted({r["commune"] for r in former} - codes)
    if orphans or len(former) < 2000:
        raise SystemExit(f"anciennes communes : {len(former)}, chefs-lieux inconnus {orphans}")
    return sorted(communes + arrondissements + former, key=lambda r: (r["insee"], r["type"]))


def write_gzip_csv(rows, output):
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    output.parent.mkdir(parents=True, exist_ok=True)
    # filename "" and mtime 0: the header carries nothing that changes between runs.
    with output.open("wb") as raw, gzip.GzipFile("", "wb", 9, raw, mtime=0) as gz:
        gz.write(text.getvalue().encode("utf-8"))


def build(source_dir, output):
    entries = json.loads((data_dir(source_dir) / "communes.json").read_text(encoding="utf-8"))
    rows = select_rows(entries)
    write_gzip_csv(rows, output)
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", help="unpacked npm package (otherwise installed with npm)")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)
    if args.source:
        rows = build(args.source, args.output)
    else:
        with tempfile.TemporaryDirectory() as workdir:
            rows = build(install_package(workdir), args.output)
    types = collections.Counter(r["type"] for r in rows)
    print(
        f"{args.output}: {types['commune-actuelle']} communes, "
        f"{types['arrondissement-municipal']} arrondissements, "
        f"{sum(types[t] for t in FORMER)} anciennes communes, "
        f"{args.output.stat().st_size} octets",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
