"""Two people at once: the second of two concurrent writes gets a French 4xx, never a 500."""

import threading
import time

from test_comptes import invite, responsable

import models


def test_an_invitation_racing_another_for_the_same_address_is_refused_in_french(app, client):
    """Another responsable's invitation of the same address commits while this one runs
    (PostgreSQL: read committed, the unique index decides; SQLite: the write lock)."""
    responsable(client)
    answers = []
    with models.db.atomic():
        models.Utilisateur.create(email="meme@example.org", role="membre", association=None)
        worker = threading.Thread(target=lambda: answers.append(invite(client, "meme@example.org")))
        worker.start()
        time.sleep(1)  # the request has read "no such account" and waits on the index/lock
    worker.join(timeout=30)
    (response,) = answers
    assert response.status_code == 422, response.status_code
    assert "Un compte existe déjà" in response.get_data(as_text=True)
    assert (
        models.Utilisateur.select().where(models.Utilisateur.email == "meme@example.org").count()
        == 1
    )
