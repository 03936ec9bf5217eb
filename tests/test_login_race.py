"""Parallel logins are counted one by one (SQLite and PostgreSQL): 16 wrong passwords sent
at once from one address get exactly PAIR_LIMIT password checks, the rest a 429."""

import threading

from test_comptes import PASSWORD, login, make_user

import models
from services import accounts

ATTEMPTS = 16
TIMEOUT = 60


def test_parallel_failures_from_one_address_check_the_limit_only(app):
    user = make_user()
    clients = [app.test_client() for _ in range(ATTEMPTS)]
    for client in clients:  # each its CSRF token first, so the POSTs start together
        client.get("/espace/connexion")
    models.db.close()
    start = threading.Barrier(ATTEMPTS)
    statuses = []

    def attempt(client):
        start.wait(TIMEOUT)
        statuses.append(login(client, user.email, "faux", ip="10.9.0.1").status_code)

    threads = [threading.Thread(target=attempt, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT)
    assert sorted(statuses) == [422] * accounts.PAIR_LIMIT + [429] * (
        ATTEMPTS - accounts.PAIR_LIMIT
    )
    failures = models.SecurityEvent.select().where(models.SecurityEvent.kind == "echec_connexion")
    assert failures.count() == accounts.PAIR_LIMIT
    # The real person, elsewhere, is not held.
    assert login(app.test_client(), user.email, PASSWORD, ip="10.9.0.2").status_code == 303
