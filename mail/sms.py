"""The SMS channel, built like the e-mail outbox (outbox.py) and sharing its table: an SMS
is a Message row with channel "sms", `to` an E.164 number, no subject, written in the
transaction of the change that causes it; `send_due` (run by `tick`) claims the due ones
with outbox.claim, and marks each sent, retried or failed with the outbox's own functions:
the same lease, the same backoff (1, 2, 4 minutes, then every 5, for 24 hours), the same
final "echec" listed for the operator in /admin/messages.

Texts: templates/sms/<name>.txt, one short paragraph, written in GSM-7 (domain/sms.py) so
that it costs one SMS; the link is the short form /s/<token> (views/public.py), the only
personal data is the first name.

Costs: at most SMS_CAP_PER_NUMBER SMS a day to one number and SMS_CAP_PER_DAY a day for the
whole instance (French calendar day), counted on the rows queued: beyond, `queue` queues
nothing and returns None, and the page that would have said « nous vous avons envoyé un
SMS » does not say it (it reads what was queued).

SMS_URL chooses the sender:
- "" (default): one text file per SMS in instance/sms/ (SMS_DIR), for a machine without
  a provider;
- "off": no SMS at all (nothing is queued, no page promises one);
- brevo://API_KEY@api.brevo.com?sender=NAME — Brevo's transactional SMS API;
- twilio://ACCOUNT_SID:AUTH_TOKEN@api.twilio.com?from=NUMBER (or ?messaging_service=MG…)
  — Twilio's Messages API, or any provider speaking it (a path prefix is kept:
  twilio://…@host/api/laml?…).
"brevo+http://" and "twilio+http://" speak plain HTTP (the tests' local servers only).
"""

import base64
import dataclasses
import datetime as dt
import http.client
import json
import os
import re
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import flask
import jinja2

import models
from domain import sms as gsm
from domain import workdays
from mail import outbox

OFF = "off"
DEFAULT_CAP_PER_NUMBER = 3
DEFAULT_CAP_PER_DAY = 200
DEFAULT_TIMEOUT = 30
ERROR_LENGTH = outbox.ERROR_LENGTH
PROVIDERS = ("brevo", "twilio")
# A run of digits long enough to be a phone number, in a provider's error: blanked.
NUMBER_RE = re.compile(r"\+?\d[\d .-]{6,}\d")

environment = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent.parent / "templates" / "sms"),
    autoescape=False,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


# --- Settings -----------------------------------------------------------------------------
class ConfigError(outbox.ConfigError):
    """SMS_URL cannot be used; the message says what to fix."""


@dataclasses.dataclass(frozen=True)
class Provider:
    name: str  # brevo | twilio
    base: str  # scheme://host[:port][/prefix], without a final /
    user: str  # Brevo: the API key; Twilio: the Account SID
    password: str = dataclasses.field(default="", repr=False)  # Twilio: the Auth Token
    sender: str = ""  # Brevo's sender name, Twilio's From number
    messaging_service: str = ""  # Twilio's MessagingServiceSid, instead of From


@dataclasses.dataclass(frozen=True)
class Settings:
    provider: Provider | None  # None: text files in sms_dir
    sms_dir: Path
    enabled: bool = True
    cap_per_number: int = DEFAULT_CAP_PER_NUMBER
    cap_per_day: int = DEFAULT_CAP_PER_DAY
    timeout: float = DEFAULT_TIMEOUT


def parse_sms_url(url):
    example = (
        "SMS_URL doit ressembler à brevo://CLE-API@api.brevo.com?sender=NOM ou "
        "twilio://ACCOUNT_SID:AUTH_TOKEN@api.twilio.com?from=%2B33612345678"
    )
    try:
        parts = urllib.parse.urlsplit(url)
        hostname, port = parts.hostname, parts.port
    except ValueError as error:
        raise ConfigError(example) from error
    name, _, transport = parts.scheme.partition("+")
    if name not in PROVIDERS or transport not in ("", "http") or not hostname:
        raise ConfigError(example)
    query = {key: values[-1] for key, values in urllib.parse.parse_qs(parts.query).items()}
    user = urllib.parse.unquote(parts.username or "")
    password = urllib.parse.unquote(parts.password or "")
    host = f"[{hostname}]" if ":" in hostname else hostname
    base = f"{transport or 'https'}://{host}{f':{port}' if port else ''}{parts.path.rstrip('/')}"
    if name == "brevo":
        if not user or not query.get("sender"):
            raise ConfigError("SMS_URL (Brevo) : la clé d'API avant @ et ?sender=NOM")
        return Provider("brevo", base, user, sender=query["sender"])
    sender, service = query.get("from", ""), query.get("messaging_service", "")
    if not (user and password) or not (sender or service):
        raise ConfigError(
            "SMS_URL (Twilio) : ACCOUNT_SID:AUTH_TOKEN avant @, et ?from=NUMERO "
            "ou ?messaging_service=MG…"
        )
    return Provider("twilio", base, user, password, sender=sender, messaging_service=service)


def settings_from(config, instance_path):
    url = (config.get("SMS_URL") or "").strip()
    return Settings(
        provider=parse_sms_url(url) if url and url != OFF else None,
        sms_dir=Path(config.get("SMS_DIR") or Path(instance_path) / "sms"),
        enabled=url != OFF,
        cap_per_number=int(config.get("SMS_CAP_PER_NUMBER", DEFAULT_CAP_PER_NUMBER)),
        cap_per_day=int(config.get("SMS_CAP_PER_DAY", DEFAULT_CAP_PER_DAY)),
        timeout=float(config.get("SMS_TIMEOUT", DEFAULT_TIMEOUT)),
    )


def current_settings():
    """The app's settings; outside an app (scripts), the default files and caps."""
    if flask.has_app_context():
        app = flask.current_app
        return settings_from(app.config, app.instance_path)
    return settings_from({}, Path("instance"))


# --- Queueing -----------------------------------------------------------------------------
# What a text may leave out to fit in one SMS, tried in this order (the link never goes).
SHORTER: tuple[dict[str, str], ...] = ({}, {"prenom": ""}, {"prenom": "", "association": ""})


def render(name, **context):
    """The text of templates/sms/<name>.txt, on one line, in GSM-7 where French allows;
    without the first name, then the association's name, when that makes it one SMS."""
    from mail import emails  # emails imports services, which import this module

    template = environment.get_template(f"{name}.txt")
    for leave_out in SHORTER:
        values = {**context, **{k: v for k, v in leave_out.items() if k in context}}
        text = template.render(public_url=emails.public_url(), **values)
        text = gsm.to_gsm7(" ".join(text.split()))
        if gsm.segments(text) == 1:
            break
    return text


def short_link(token):
    from mail import emails

    return f"{emails.public_url()}/s/{token}"


def wants_sms(lead):
    """The person is told by SMS: they chose it, or gave no e-mail, and the number
    they gave can take one (a mobile)."""
    from domain import phones

    return (
        bool(lead.telephone)
        and (lead.contact_pref == "sms" or not lead.email)
        and phones.takes_sms(lead.telephone)
    )


def day_start(now):
    """The start (naive UTC) of the French calendar day of `now`."""
    local = workdays.to_paris(now)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight.astimezone(dt.UTC).replace(tzinfo=None)


def sent_today(now=None, to=None):
    """SMS queued since the start of the French day (all, or to one number)."""
    Message = models.Message
    condition = (Message.channel == outbox.SMS) & (
        Message.created_at >= day_start(now or models.now())
    )
    if to is not None:
        condition &= Message.to == to
    return Message.select().where(condition).count()


def queue(to, name, kind, lead=None, settings=None, now=None, **context):
    """Queue templates/sms/<name>.txt to `to` (E.164) inside the change's write transaction;
    None when SMS are off or a daily cap is reached (the caller then promises nothing)."""
    settings = settings or current_settings()
    if not settings.enabled or not to:
        return None
    now = now or models.now()
    if sent_today(now, to) >= settings.cap_per_number or sent_today(now) >= settings.cap_per_day:
        return None
    return models.Message.create(
        to=to,
        subject="",
        body=render(name, **context),
        kind=kind,
        lead=lead,
        channel=outbox.SMS,
        created_at=now,
        next_attempt_at=now,
    )


# --- Transports ---------------------------------------------------------------------------
class ProviderError(Exception):
    """The provider answered with an error: its HTTP status and its text."""

    def __init__(self, status, text):
        super().__init__(f"HTTP {status} {text}")
        self.status = status


def is_permanent(error):
    """The provider refused this message itself (a bad number, an empty text): retrying
    will not change it. A refused key (401, 403), a limit (429) or a server's error is
    retried: the operator fixes the set-up, or the provider recovers."""
    return isinstance(error, ProviderError) and error.status in (400, 404, 422)


def describe(error):
    """For the operator: the class and the provider's answer, with any number blanked."""
    text = " ".join(f"{type(error).__name__} {error}".split())
    return NUMBER_RE.sub("<numéro>", outbox.EMAIL_RE.sub("<adresse>", text))[:ERROR_LENGTH]


def brevo_request(provider, message):
    """POST /v3/transactionalSMS/sms, JSON, header api-key (Brevo's API reference)."""
    body = {
        "sender": provider.sender,
        "recipient": message.to.lstrip("+"),  # international format without the +
        "content": message.body,
        "type": "transactional",
    }
    headers = {
        "api-key": provider.user,
        "Content-Type": "application/json",
        "Accept": "application/json",
    }
    url = f"{provider.base}/v3/transactionalSMS/sms"
    return url, json.dumps(body, ensure_ascii=False).encode(), headers


def twilio_request(provider, message):
    """POST /2010-04-01/Accounts/{AccountSid}/Messages.json, form-encoded To, From (or
    MessagingServiceSid) and Body, HTTP Basic auth SID:token (Twilio's Messages API)."""
    fields = {"To": message.to, "Body": message.body}
    if provider.messaging_service:
        fields["MessagingServiceSid"] = provider.messaging_service
    else:
        fields["From"] = provider.sender
    credentials = base64.b64encode(f"{provider.user}:{provider.password}".encode()).decode()
    headers = {
        "Authorization": f"Basic {credentials}",
        "Content-Type": "application/x-www-form-urlencoded",
        "Accept": "application/json",
    }
    account = urllib.parse.quote(provider.user, safe="")
    url = f"{provider.base}/2010-04-01/Accounts/{account}/Messages.json"
    return url, urllib.parse.urlencode(fields).encode(), headers


REQUESTS = {"brevo": brevo_request, "twilio": twilio_request}


class HttpTransport:
    def __init__(self, provider, timeout):
        self.provider, self.timeout = provider, timeout

    def send(self, message):
        url, data, headers = REQUESTS[self.provider.name](self.provider, message)
        request = urllib.request.Request(url, data=data, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                response.read()
        except urllib.error.HTTPError as error:
            text = error.read(ERROR_LENGTH).decode("utf-8", "replace")
            raise ProviderError(error.code, text) from None

    def discard(self, message):
        pass  # an SMS handed to the provider cannot be taken back


class DirectoryTransport:
    """Each SMS as a text file (sms-<id>.txt: the number, a blank line, the text)."""

    def __init__(self, directory):
        self.directory = Path(directory)

    def path(self, message):
        return self.directory / f"sms-{message.id:06d}.txt"

    def send(self, message):
        self.directory.mkdir(parents=True, exist_ok=True)
        target = self.path(message)
        partial = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.tmp")
        try:
            with open(partial, "w", encoding="utf-8") as file:
                file.write(f"À : {message.to}\n\n{message.body}\n")
                file.flush()
                os.fsync(file.fileno())
            os.replace(partial, target)
        finally:
            partial.unlink(missing_ok=True)

    def discard(self, message):
        self.path(message).unlink(missing_ok=True)


def transport(settings):
    if settings.provider is None:
        return DirectoryTransport(settings.sms_dir)
    return HttpTransport(settings.provider, settings.timeout)


def remove_files(message_ids, settings=None):
    """The files of erased SMS (suivi.erase); a sender writing one now removes it itself."""
    settings = settings or current_settings()
    if settings.provider is not None:
        return
    files = DirectoryTransport(settings.sms_dir)
    for message_id in message_ids:
        files.path(models.Message(id=message_id)).unlink(missing_ok=True)


# --- The sender ---------------------------------------------------------------------------
@dataclasses.dataclass
class Report(outbox.Report):
    def __str__(self):
        return (
            f"SMS : {self.sent} envoyé(s), {self.retry} à réessayer, "
            f"{self.failed} en échec définitif."
        )


NETWORK_ERRORS = (ProviderError, urllib.error.URLError, http.client.HTTPException, OSError)


def send_due(settings, now=None, sender_id=None, batch=outbox.BATCH):
    """Send every SMS due at `now`; returns a Report. A provider down (no answer, a
    server's error) stops the run: the next tick tries again."""
    clock = outbox.Clock(now)
    sender_id = sender_id or outbox.new_sender_id()
    report = Report()
    channel = transport(settings)
    while True:
        messages = outbox.claim(sender_id, clock(), batch, channel=outbox.SMS)
        if not messages:
            return report
        for index, message in enumerate(messages):
            if not outbox.lease_covers(message, clock(), settings.timeout):
                outbox.release(messages[index:], sender_id)
                return report
            try:
                channel.send(message)
            except NETWORK_ERRORS as error:
                permanent = is_permanent(error)
                given_up = outbox.mark_failed(
                    [message], sender_id, clock(), error, permanent, text=describe(error)
                )
                report.failed += given_up
                report.retry += 1 - given_up
                if not permanent:  # the provider is down or refuses us: stop here
                    outbox.release(messages[index + 1 :], sender_id)
                    return report
                continue
            if not outbox.mark_sent(message, clock()):
                channel.discard(message)
            report.sent += 1
