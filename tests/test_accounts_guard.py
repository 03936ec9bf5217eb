"""Flask-Login's loader: the session epoch revokes, an inactive account is nobody."""

import models
from services import accounts


def make_user(**fields):
    association = models.Association.select().first()
    return models.Utilisateur.create(
        email="staff@example.org", role="membre", association=association, **fields
    )


def test_loader_accepts_the_current_epoch_only(db):
    user = make_user()
    assert accounts.load_user(f"{user.id}:0").row.id == user.id
    models.Utilisateur.update(session_epoch=1).where(models.Utilisateur.id == user.id).execute()
    assert accounts.load_user(f"{user.id}:0") is None
    assert accounts.load_user(f"{user.id}:1").row.id == user.id


def test_loader_refuses_junk_and_inactive_accounts(db):
    user = make_user(actif=False)
    for junk in ("", ":", "abc:0", f"{user.id}", f"{user.id}:x", "-1:0"):
        assert accounts.load_user(junk) is None
    assert accounts.load_user(f"{user.id}:0") is None
