"""The e-mail outbox: a Message row written in the transaction of the change that causes
the e-mail, so an e-mail is never sent for a change that was rolled back, nor lost for
one that was committed; and the sender that empties it (`send_due`, run by `tick`).

Claims. A sender takes a batch of due rows in one write transaction: it selects their ids
(on PostgreSQL locking them, and skipping rows another claim has locked: SKIP LOCKED), then
a compare-and-set UPDATE writes its own unique id and a lease (`claimed_until`) on those
that are still unclaimed or whose lease has expired; then it reads back the rows that
carry its id. Two senders racing on the same rows (two `tick` at once, on SQLite or
PostgreSQL) cannot both win one: SQLite runs the transactions one after the other (BEGIN
IMMEDIATE), PostgreSQL holds the rows' locks until commit and re-checks the UPDATE's
conditions on a row another transaction changed. A sender killed mid-batch leaves its
claim behind; once the lease expires another sender retries.

Never lost, never doubled. A row leaves "a_envoyer" only once the SMTP server has
accepted the message (status "envoye") or retries are over (status "echec"). Each
message is marked sent in its own durable transaction right after the server's "250",
before the next one is sent: a crash can only double the one message sent in that
instant (the next sender sends it again once the lease has expired), and so can a
server that accepts the message but whose reply never arrives — SMTP offers nothing
better. Both copies then carry the same Message-ID, which mail programs use to drop the
second. A sender never starts a message its lease may not cover to the end.

Failures. A refused connection, a timeout, a 4xx answer: the message is tried again
(after 1, 2, 4 minutes, then every 5) for 24 hours after it was queued, then left in
"echec" for the operator. A recipient or a message refused with a 5xx answer fails at
once: retrying would not change the answer. `last_error` keeps the exception's class,
the SMTP code and the server's text with any e-mail address blanked out, never the
message itself.

Without SMTP_URL, messages are written as .eml files in instance/mail/ (one per message,
named after its id, written atomically) so a newcomer can read them.
"""

import dataclasses
import datetime as dt
import email.policy
import email.utils
import logging
import os
import re
import smtplib
import ssl
import time
import uuid
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import peewee

import models

log = logging.getLogger(__name__)

TO_SEND, SENT, FAILED = "a_envoyer", "envoye", "echec"

BATCH = 20  # messages claimed at once, sent over one SMTP connection
LEASE = dt.timedelta(minutes=15)  # longer than a batch takes, even a slow one
FIRST_RETRY = dt.timedelta(minutes=1)
RETRY_EVERY = dt.timedelta(minutes=5)
GIVE_UP_AFTER = dt.timedelta(hours=24)
DEFAULT_TIMEOUT = 30  # seconds per SMTP operation (connect, each command)
ERROR_LENGTH = 300

STARTTLS_MODES = ("auto", "always", "never")
# Anything around an @ up to a space or bracket: blanking too much beats keeping one.
EMAIL_RE = re.compile(r"[^\s<>\[\]]*@[^\s<>\[\]]*")


EMAIL, SMS = "email", "sms"  # Message.channel: the SMS sender (mail/sms.py) shares the table


def queue(to, subject, body, kind, lead=None):
    """Add a plain-text e-mail to the outbox; call inside the change's write_transaction."""
    return models.Message.create(to=to, subject=subject, body=body, kind=kind, lead=lead)


# --- Settings -----------------------------------------------------------------------------


class ConfigError(ValueError):
    """SMTP_URL or MAIL_FROM cannot be used; the message says what to fix."""


@dataclasses.dataclass(frozen=True)
class Smtp:
    host: str
    port: int
    ssl: bool  # smtps://: TLS from the first byte
    starttls: str  # auto (when offered) | always | never
    user: str = ""
    password: str = dataclasses.field(default="", repr=False)


@dataclasses.dataclass(frozen=True)
class Settings:
    mail_from: str
    smtp: Smtp | None  # None: .eml files in mail_dir
    mail_dir: Path
    timeout: float = DEFAULT_TIMEOUT


def parse_smtp_url(url):
    """smtp://user:pass@host:port?starttls=auto|always|never, or smtps://… (SSL)."""
    example = "SMTP_URL doit ressembler à smtp://utilisateur:mot-de-passe@hôte:587"
    try:
        parts = urlsplit(url)
        hostname = parts.hostname
    except ValueError as error:  # e.g. "smtp://[": an IPv6 address not closed
        raise ConfigError(example) from error
    if parts.scheme not in ("smtp", "smtps") or not hostname:
        raise ConfigError(example)
    query = {name: values[-1] for name, values in parse_qs(parts.query).items()}
    starttls = query.get("starttls", "never" if parts.scheme == "smtps" else "auto")
    if starttls not in STARTTLS_MODES:
        raise ConfigError(f"SMTP_URL : starttls doit valoir {', '.join(STARTTLS_MODES)}")
    try:
        port = parts.port
    except ValueError as error:
        raise ConfigError("SMTP_URL : port invalide") from error
    user, password = unquote(parts.username or ""), unquote(parts.password or "")
    if not (user + password).isascii():  # smtplib's AUTH sends ASCII only
        raise ConfigError("SMTP_URL : identifiant et mot de passe en caractères ASCII")
    is_ssl = parts.scheme == "smtps"
    return Smtp(
        host=hostname,
        port=port or (465 if is_ssl else 25),
        ssl=is_ssl,
        starttls=starttls,
        user=user,
        password=password,
    )


def settings_from(config, instance_path):
    """The sender's settings from the app's config (MAIL_FROM, SMTP_URL, SMTP_TIMEOUT)."""
    mail_from = config.get("MAIL_FROM", "")
    if "@" not in email.utils.parseaddr(mail_from)[1]:
        raise ConfigError("MAIL_FROM doit contenir une adresse e-mail")
    url = config.get("SMTP_URL", "")
    return Settings(
        mail_from=mail_from,
        smtp=parse_smtp_url(url) if url else None,
        mail_dir=Path(config.get("MAIL_DIR") or Path(instance_path) / "mail"),
        timeout=float(config.get("SMTP_TIMEOUT", DEFAULT_TIMEOUT)),
    )


# --- Building the e-mail ------------------------------------------------------------------


def message_id(message, mail_from):
    """The same for every attempt: a copy sent twice is recognised as one."""
    domain = email.utils.parseaddr(mail_from)[1].rpartition("@")[2]
    return f"<outbox.{message.id}.{message.created_at:%Y%m%d%H%M%S%f}@{domain}>"


class Unsendable(Exception):
    """The message cannot be made into an e-mail (e.g. a newline in its address)."""


def build_email(message, mail_from, cte="quoted-printable"):
    """Plain text, UTF-8. Raises Unsendable."""
    try:
        return make_email(message, mail_from, cte)
    except (ValueError, TypeError) as error:
        raise Unsendable(type(error).__name__) from error


def make_email(message, mail_from, cte):
    mail = EmailMessage(policy=email.policy.SMTP)
    mail["From"] = mail_from
    mail["To"] = message.to
    mail["Subject"] = message.subject
    mail["Date"] = email.utils.format_datetime(message.created_at.replace(tzinfo=dt.UTC))
    mail["Message-ID"] = message_id(message, mail_from)
    mail["Auto-Submitted"] = "auto-generated"  # no vacation replies
    mail.set_content(message.body, charset="utf-8", cte=cte)
    if not mail["To"].addresses or not all(a.addr_spec for a in mail["To"].addresses):
        raise ValueError("adresse du destinataire invalide")
    return mail


# --- Claims -------------------------------------------------------------------------------


def new_sender_id():
    return f"{os.getpid()}-{uuid.uuid4().hex[:12]}"


def claimable(now, channel=EMAIL):
    Message = models.Message
    return (
        (Message.channel == channel)
        & (Message.status == TO_SEND)
        & (Message.next_attempt_at <= now)
        & (Message.claimed_until.is_null() | (Message.claimed_until < now))
    )


def claim(sender_id, now, limit=BATCH, channel=EMAIL):
    """Take up to `limit` due messages of `channel` for `sender_id`; oldest first."""
    Message = models.Message
    due = (
        Message.select(Message.id)
        .where(claimable(now, channel))
        .order_by(Message.next_attempt_at, Message.id)
        .limit(limit)
    )
    if models.db.obj.for_update:  # PostgreSQL: leave rows another claim holds to it
        due = due.for_update(skip_locked=True)
    with models.write_transaction():
        # Two statements, not UPDATE … WHERE id IN (SELECT … LIMIT): PostgreSQL may run
        # such a subquery again for each row, and SKIP LOCKED then lets it pick rows past
        # the limit. The ids, locked until commit on PostgreSQL, then the compare-and-set
        # UPDATE, which checks the conditions again on each row.
        ids = [row.id for row in due]
        if ids:
            (
                Message.update(claimed_by=sender_id, claimed_until=now + LEASE)
                .where(Message.id.in_(ids) & claimable(now, channel))
                .execute()
            )
    return list(
        Message.select()
        .where((Message.claimed_by == sender_id) & (Message.status == TO_SEND))
        .order_by(Message.next_attempt_at, Message.id)
    )


MARK_ATTEMPTS = 5


def mark_sent(message, now):
    """Record the sending at once. A busy database (SQLite's lock held beyond its busy
    timeout) is waited for a little more: until this commits, a crash sends it twice.
    False when the row is gone (erased with its lead while it was being sent)."""
    Message = models.Message
    for attempt in range(1, MARK_ATTEMPTS + 1):
        try:
            with models.write_transaction(durable=True):
                # By id alone: it has been sent, whoever holds the claim now.
                Message.update(status=SENT, sent_at=now, claimed_by="", claimed_until=None).where(
                    (Message.id == message.id) & (Message.status == TO_SEND)
                ).execute()
                return Message.select().where(Message.id == message.id).exists()
        except peewee.OperationalError:
            if attempt == MARK_ATTEMPTS:
                raise
            time.sleep(0.2 * 2**attempt)


def retry_delay(attempts):
    """1, 2, 4 minutes, then every 5 minutes."""
    return min(FIRST_RETRY * 2 ** min(max(attempts - 1, 0), 8), RETRY_EVERY)


def mark_failed(messages, sender_id, now, error, permanent=False, text=None):
    """Count one failed attempt on each message; returns how many are now "echec".
    `text`: the error as the operator reads it (default: describe(error))."""
    Message = models.Message
    text = describe(error) if text is None else text
    given_up = 0
    with models.write_transaction(durable=True):
        for message in messages:
            attempts = message.attempts + 1
            retry_at = now + retry_delay(attempts)
            failed = permanent or retry_at > message.created_at + GIVE_UP_AFTER
            given_up += failed
            Message.update(
                status=FAILED if failed else TO_SEND,
                attempts=attempts,
                next_attempt_at=retry_at,
                claimed_by="",
                claimed_until=None,
                last_error=text,
            ).where(
                (Message.id == message.id)
                & (Message.claimed_by == sender_id)
                & (Message.status == TO_SEND)
            ).execute()
            log.warning(
                "%s %s (%s) : %s, tentative %s — %s",
                "SMS" if message.channel == SMS else "e-mail",
                message.id,
                message.kind,
                "abandonné" if failed else "réessai",
                attempts,
                type(error).__name__,
            )
    return given_up


def retry(message_id, now):
    """The operator's « Réessayer » on a failed message: queued again, attempts from zero,
    unclaimed. False when it is not (or no longer) in failure."""
    Message = models.Message
    with models.write_transaction(durable=True):
        return bool(
            Message.update(
                status=TO_SEND, attempts=0, next_attempt_at=now, claimed_by="", claimed_until=None
            )
            .where((Message.id == message_id) & (Message.status == FAILED))
            .execute()
        )


def release(messages, sender_id):
    """Give back claimed messages not attempted (no attempt counted)."""
    Message = models.Message
    ids = [message.id for message in messages]
    if not ids:
        return
    with models.write_transaction():
        Message.update(claimed_by="", claimed_until=None).where(
            Message.id.in_(ids) & (Message.claimed_by == sender_id)
        ).execute()


def describe(error):
    """The error for the operator: no e-mail address, so no personal data of the person."""
    parts = [type(error).__name__]
    code = getattr(error, "smtp_code", None)
    if code is None and isinstance(error, smtplib.SMTPRecipientsRefused):
        code, reply = next(iter(error.recipients.values()), (None, b""))
        parts += [str(code), reply.decode("utf-8", "replace")] if code else []
    elif code is not None:
        reply = error.smtp_error
        reply = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
        parts += [str(code), reply]
    elif str(error):
        parts.append(str(error))
    text = " ".join(" ".join(parts).split())
    return EMAIL_RE.sub("<adresse>", text)[:ERROR_LENGTH]


def is_permanent(error):
    """A 5xx refusal of the recipient or of this message: retrying will not change it.
    (A refused sender or login is the server's set-up: retried, the operator fixes it.)"""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in error.recipients.values())
    if isinstance(error, smtplib.SMTPDataError):
        return error.smtp_code >= 500
    return isinstance(error, Unsendable)


# --- Transports ---------------------------------------------------------------------------


class SmtpTransport:
    """One SMTP connection for a batch."""

    def __init__(self, smtp, timeout):
        self.smtp, self.timeout = smtp, timeout
        self.client = None

    def __enter__(self):
        smtp, context = self.smtp, ssl.create_default_context()
        if smtp.ssl:
            client = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=self.timeout, context=context)
        else:
            client = smtplib.SMTP(smtp.host, smtp.port, timeout=self.timeout)
        try:
            client.ehlo()
            offered = client.has_extn("starttls")
            if smtp.starttls == "always" or (smtp.starttls == "auto" and offered):
                client.starttls(context=context)  # SMTPNotSupportedError if not offered
                client.ehlo()
            if smtp.user:
                client.login(smtp.user, smtp.password)
        except BaseException:
            client.close()
            raise
        self.client = client
        return self

    def send(self, message, mail_from):
        mail = build_email(message, mail_from)
        envelope_from = email.utils.parseaddr(mail_from)[1]
        try:
            self.client.send_message(mail, from_addr=envelope_from, to_addrs=[message.to])
        except (smtplib.SMTPNotSupportedError, UnicodeError) as error:
            # An address beyond ASCII and a server without SMTPUTF8: this message only.
            raise Unsendable(type(error).__name__) from error

    def discard(self, message):
        pass  # an e-mail handed to the server cannot be taken back

    def __exit__(self, *exc):
        try:
            self.client.quit()
        except (smtplib.SMTPException, OSError):
            self.client.close()


def private_opener(path, flags):
    return os.open(path, flags, 0o600)


class DirectoryTransport:
    """Each message as an .eml file, for a machine without a mail server."""

    def __init__(self, directory):
        self.directory = Path(directory)

    def __enter__(self):
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        return self

    def path(self, message):
        return self.directory / f"message-{message.id:06d}.eml"

    def send(self, message, mail_from):
        # 8bit body and UTF-8 headers (RFC 6532), so the file reads as plain French in
        # a text editor; LF line ends.
        mail = build_email(message, mail_from, cte="8bit")
        data = mail.as_bytes(policy=email.policy.default.clone(utf8=True))
        target = self.path(message)
        partial = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.tmp")
        try:
            # Readable by the owner only (0600): a message holds a person's data.
            with open(partial, "wb", opener=private_opener) as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.replace(partial, target)  # a reader sees the whole file or none
        finally:
            partial.unlink(missing_ok=True)
        directory = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)

    def discard(self, message):
        """The row was deleted while its file was written (suivi.erase): the file goes too."""
        self.path(message).unlink(missing_ok=True)

    def __exit__(self, *exc):
        pass


def transport(settings):
    if settings.smtp is None:
        return DirectoryTransport(settings.mail_dir)
    return SmtpTransport(settings.smtp, settings.timeout)


# --- The sender ---------------------------------------------------------------------------


@dataclasses.dataclass
class Report:
    sent: int = 0
    retry: int = 0  # failed this time, tried again later
    failed: int = 0  # given up: status "echec"

    def __str__(self):
        return (
            f"E-mails : {self.sent} envoyé(s), {self.retry} à réessayer, "
            f"{self.failed} en échec définitif."
        )


def send_due(settings, now=None, sender_id=None, batch=BATCH):
    """Send every message due at `now` (default: the current time); returns a Report.

    Call with a database connection open. Stops at the first batch whose connection
    fails: the server is down, the next run tries again.
    """
    clock = Clock(now)
    sender_id = sender_id or new_sender_id()
    report = Report()
    while True:
        messages = claim(sender_id, clock(), batch)
        if not messages:
            return report
        if not send_batch(settings, messages, sender_id, clock, report):
            return report


def send_batch(settings, messages, sender_id, clock, report):
    """False when the connection failed or the lease ran out: stop this run."""
    pending = list(messages)
    try:
        with transport(settings) as channel:
            while pending:
                message = pending[0]
                if not lease_covers(message, clock(), settings.timeout):
                    release(pending, sender_id)
                    return False
                try:
                    channel.send(message, settings.mail_from)
                except (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError, Unsendable) as e:
                    # This message only; the connection stays usable.
                    count_failure(report, [message], sender_id, clock(), e)
                else:
                    if not mark_sent(message, clock()):
                        channel.discard(message)
                    report.sent += 1
                pending.pop(0)
    except (smtplib.SMTPException, OSError) as error:
        # Connection refused or lost, timeout, TLS, authentication: every message not
        # yet sent waits for the next run.
        count_failure(report, pending, sender_id, clock(), error)
        return False
    return True


def count_failure(report, messages, sender_id, now, error):
    if not messages:
        return
    permanent = is_permanent(error)
    given_up = mark_failed(messages, sender_id, now, error, permanent)
    report.failed += given_up
    report.retry += len(messages) - given_up


def lease_covers(message, now, timeout):
    """Enough lease left to send and mark it before anyone else may claim it."""
    return now + dt.timedelta(seconds=3 * timeout) < message.claimed_until


class Clock:
    """The current time; or `now`, fixed, when given (tests move the clock themselves)."""

    def __init__(self, now=None):
        self.now = now

    def __call__(self):
        return models.now() if self.now is None else self.now
