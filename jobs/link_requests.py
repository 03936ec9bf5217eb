"""`tick` answers « mot de passe oublié » and « j'ai perdu mon lien » requests
(services/link_requests.py); before send_outbox, so their e-mails leave in this tick."""

import models
from services import link_requests


def answer_link_requests(app, now=None):
    # The links' host is PUBLIC_URL, their path ours: built without a request context,
    # whose teardown would give back the connection tick opened for this duty.
    urls = app.url_map.bind("localhost")
    count = link_requests.answer(
        now or models.now(),
        lambda token: urls.build("espace.reinitialisation", {"token": token}),
    )
    return f"Demandes de lien : {count} traitée(s)."
