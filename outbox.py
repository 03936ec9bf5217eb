"""The e-mail outbox: a Message row written in the transaction of the change that causes
the e-mail, so an e-mail is never sent for a change that was rolled back, nor lost for
one that was committed."""

import models


def queue(to, subject, body, kind, lead=None):
    """Add a plain-text e-mail to the outbox; call inside the change's write_transaction."""
    return models.Message.create(to=to, subject=subject, body=body, kind=kind, lead=lead)
