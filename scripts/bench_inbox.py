"""Benchmark the inbox of the espace association with 10,000 leads in a throwaway SQLite
database: render time of a page, in-process with Flask's test client (no network), mean
and p95 per kind of page, and the number of SQL queries each runs.

Not a test: timings vary by machine and are reported, never asserted (the fixed number of
queries per page is asserted in tests/test_espace_demandes.py).

Usage: python scripts/bench_inbox.py [--leads 10000] [--requests 50]
"""

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import models  # noqa: E402
from app import create_app  # noqa: E402
from domain import vocabulary  # noqa: E402

PAGES = [
    ("nouvelles, page 1", "/espace/"),
    ("toutes, page 100 de 25", "/espace/?statut=toutes&page=100"),
    ("toutes, 50 par page", "/espace/?statut=toutes&par_page=50"),
    ("en retard, jeunes", "/espace/?retard=1&type=jeune"),
    ("besoin et département", "/espace/?statut=toutes&besoin=emploi&departement=69"),
    ("recherche d'un nom", "/espace/?statut=toutes&q=Prénom4242"),
    ("recherche d'un téléphone", "/espace/?statut=toutes&q=06 00 00 42 42"),
    ("fragment htmx", "/espace/?statut=toutes&type=mentor"),
]
STATUSES = list(vocabulary.STATUT.codes)


def fill(count):
    association = models.Association.create(slug="banc", nom="Association du banc")
    other = models.Association.create(slug="autre", nom="Une autre association")
    start = models.now() - dt.timedelta(days=90)
    rows = [
        dict(
            reference=f"J-{i:06d}"[:10],
            kind="jeune" if i % 2 else "mentor",
            status=STATUSES[i % len(STATUSES)],
            suivi_token=f"token-{i}",
            answers="{}",
            association=(association if i % 10 else other).id,
            prenom=f"Prénom{i}",
            nom="Lefèvre",
            email=f"p{i}@example.org",
            telephone=f"+336{i:08d}",
            besoin="orientation" if i % 3 else "emploi,scolarite",
            departement=("69", "75", "13", "33", "974")[i % 5],
            created_at=start + dt.timedelta(minutes=12 * i),
        )
        for i in range(count)
    ]
    with models.db.atomic():
        for batch in range(0, count, 500):
            models.Lead.insert_many(rows[batch : batch + 500]).execute()
    return models.Utilisateur.create(
        email="banc@example.org", role="membre", association=association
    )


def count_queries(client, url, headers):
    database = models.db.obj
    original = database.execute_sql
    seen = []

    def execute_sql(sql, params=None, *args, **kwargs):
        seen.append(sql)
        return original(sql, params, *args, **kwargs)

    database.execute_sql = execute_sql
    try:
        client.get(url, headers=headers)
    finally:
        del database.execute_sql
    return len(seen)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=50)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        app = create_app({"SECRET_KEY": "bench", "DATABASE_URL": url, "TESTING": True})
        models.migrate()
        with models.db.connection_context():
            user = fill(options.leads)
        client = app.test_client()
        with client.session_transaction() as session:
            session["_user_id"] = f"{user.id}:{user.session_epoch}"
        print(f"Boîte de réception, {options.leads} demandes (SQLite, client de test Flask)")
        print(f"{'page':<28} {'moyenne':>9} {'p95':>9} {'requêtes':>9}")
        for label, page in PAGES:
            headers = {"HX-Request": "true"} if label == "fragment htmx" else {}
            assert client.get(page, headers=headers).status_code == 200, page
            times = []
            for _ in range(options.requests):
                began = time.perf_counter()
                client.get(page, headers=headers)
                times.append((time.perf_counter() - began) * 1000)
            p95 = statistics.quantiles(times, n=20)[-1]
            queries = count_queries(client, page, headers)
            print(f"{label:<28} {statistics.mean(times):>7.1f} ms {p95:>6.1f} ms {queries:>9}")
        models.db.close_all()


if __name__ == "__main__":
    main()
