"""« Mot de passe oublié » and « J'ai perdu mon lien »: the page records the request (one
insert, the same whether or not the address has an account or a demande) and `tick`
answers it (jobs/link_requests.py, before the outbox is sent: the e-mail leaves in the
same tick). Nothing the page does, nor how long it takes, tells a known address apart.
"""

import models
from services import accounts, suivi

RESET = accounts.RESET
LOST_LINK = suivi.LINK_KIND
MAX_PER_TICK = 500  # a flood is answered over several ticks


def ask(kind, address, now=None):
    """Record a request for `address` (as typed: the answer normalises it)."""
    assert kind in (RESET, LOST_LINK), kind
    with models.write_transaction():
        models.LinkRequest.create(
            kind=kind, address=(address or "").strip()[:254], created_at=now or models.now()
        )


def answer(now, reset_link):
    """Answer the pending requests, each claimed by deleting it (two ticks at once answer
    each once). `reset_link(token)` builds a reset link's path. Returns the count."""
    LinkRequest = models.LinkRequest
    pending = list(LinkRequest.select().order_by(LinkRequest.id).limit(MAX_PER_TICK))
    answered = 0
    for request in pending:
        if not LinkRequest.delete().where(LinkRequest.id == request.id).execute():
            continue  # another tick took it
        if request.kind == RESET:
            accounts.request_reset(request.address, now, reset_link)
        else:
            suivi.resend_links(request.address, now)
        answered += 1
    return answered
