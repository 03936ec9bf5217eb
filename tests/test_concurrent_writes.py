"""Two people at once: the second of two concurrent writes gets a French 4xx, never a 500."""

import threading
import time

from helpers import log_in
from test_comptes import invite, responsable

import models
from services import accounts


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


def test_an_operator_deactivation_spends_the_accounts_pending_links(app):
    """A reset link sent before the operator deactivated the account does not come back
    to life when the account is reactivated (as a responsable's deactivation)."""
    from test_admin import make_admin, make_staff, post

    with models.db.connection_context():
        staff = make_staff("membre")
        admin = make_admin()
        with models.write_transaction():
            token = accounts.new_token(staff, accounts.RESET, models.now())
    admin_client = app.test_client()
    log_in(admin_client, admin)
    for action in ("desactivation", "activation"):
        response = post(admin_client, f"/admin/comptes/{staff.id}/{action}", {})
        assert response.status_code == 303
    anyone = app.test_client()
    page = anyone.get(f"/espace/reinitialisation/{token}")
    assert page.status_code == 410, page.status_code
