"""Outgoing messages: the outbox and its sender, the rendering of e-mails (templates/emails/)."""
