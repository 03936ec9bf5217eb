"""Staff accounts: who is logged in, what each role may open, passwords, the login
throttle and the single-use links (password reset, invitation).

Flask-Login keeps "<id>:<session_epoch>" in the signed session cookie; moving the user's
epoch (logout, password change, deactivation) makes every cookie issued before it
worthless, on every worker and device, with no session table.

Every function that writes takes `now` (a naive UTC datetime) so tests control the clock,
and opens its own `models.write_transaction(durable=True)`: an account change cannot be
redone by the person.
"""

import datetime as dt
import functools
import gzip
import hashlib
import re
import secrets
import unicodedata
from pathlib import Path

import argon2
from email_validator import EmailNotValidError, validate_email
from flask import abort, current_app
from flask_login import LoginManager, UserMixin, current_user
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from peewee import IntegrityError, fn

import models
from domain import ecriture, lifecycle
from mail import outbox
from services import journal

ROLES = ("responsable", "membre", "admin")
STAFF_ROLES = ("responsable", "membre")

login_manager = LoginManager()
login_manager.login_view = "espace.connexion"
login_manager.login_message = "Connectez-vous pour accéder à l'espace association."
login_manager.login_message_category = "info"
# The session cookie is the only credential: no "remember me" cookie to revoke apart.
login_manager.session_protection = "basic"


class User(UserMixin):
    """The logged-in Utilisateur, as Flask-Login wants it."""

    def __init__(self, row):
        self.row = row

    def get_id(self):
        return f"{self.row.id}:{self.row.session_epoch}"

    @property
    def is_active(self):
        return self.row.actif

    @property
    def role(self):
        return self.row.role

    @property
    def association_id(self):
        return self.row.association_id


@login_manager.user_loader
def load_user(session_id):
    user_id, _, epoch = session_id.partition(":")
    if not (user_id.isdigit() and epoch.isdigit()):
        return None
    Utilisateur = models.Utilisateur
    row = Utilisateur.get_or_none(
        (Utilisateur.id == int(user_id))
        & (Utilisateur.session_epoch == int(epoch))
        & Utilisateur.actif
    )
    return User(row) if row else None


def role_required(*roles):
    """The view needs a logged-in user with one of `roles`; staff need an association.

    Anonymous visitors go to the login page; a logged-in user without the role gets a 404
    (the page is not theirs, and need not be known to exist).
    """

    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in roles:
                abort(404)
            if current_user.role in STAFF_ROLES and current_user.association_id is None:
                abort(404)
            return view(*args, **kwargs)

        return wrapper

    return decorator


staff_required = role_required(*STAFF_ROLES)
responsable_required = role_required("responsable")
admin_required = role_required("admin")


# --- Passwords ------------------------------------------------------------------------

# argon2-cffi's defaults: argon2id with RFC 9106's low-memory parameters. When they change
# in a new release, `needs_rehash` sees it and the next login stores a fresh hash.
HASHER = argon2.PasswordHasher()
PASSWORD_MIN_LENGTH = 12
PASSWORD_MAX_LENGTH = 128  # argon2 takes any length; a bound keeps hashing cheap
COMMON_PASSWORDS_FILE = Path(__file__).parent.parent / "data" / "common-passwords.txt.gz"
FRENCH_PASSWORDS_FILE = Path(__file__).parent.parent / "data" / "common-passwords-fr.txt"
EMAIL_MAX_LENGTH = 254


@functools.cache
def common_passwords():
    """Django's list (leaked passwords, mostly English) and a French one."""
    with gzip.open(COMMON_PASSWORDS_FILE, "rt", encoding="utf-8") as lines:
        words = {line.strip() for line in lines if line.strip()}
    french = FRENCH_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    words.update(w.strip() for w in french if w.strip() and not w.startswith("#"))
    return frozenset(words)


LEET = str.maketrans("0134578@$!|", "oleastbasil")
AROUND = re.compile(r"^[\W\d_]+|[\W\d_]+$")


def password_cores(password):
    """What a common password hides under: the password lower-cased, without the digits
    and symbols around it ("motdepasse123!", "2024azerty"), without accents, spaces and
    leetspeak ("m0t de p@sse")."""
    lowered = unicodedata.normalize("NFKD", password.lower())
    lowered = "".join(c for c in lowered if not unicodedata.combining(c))
    cores = set()
    for base in (lowered, AROUND.sub("", lowered)):
        for text in (base, base.translate(LEET)):
            squeezed = re.sub(r"[\W_]+", "", text)
            cores |= {text, squeezed, AROUND.sub("", squeezed)}
    return {core for core in cores if core}


def is_common(password):
    words = common_passwords()
    return any(core in words for core in password_cores(password))


@functools.cache
def dummy_hash():
    """A hash nobody's password matches: verified when the account does not exist, so
    the answer takes as long either way."""
    return HASHER.hash(secrets.token_urlsafe(32))


def password_problem(password, email=""):
    """The French message that refuses `password`, or None when it is acceptable."""
    if len(password) < PASSWORD_MIN_LENGTH:
        return f"Choisissez un mot de passe d'au moins {PASSWORD_MIN_LENGTH} caractères"
    if len(password) > PASSWORD_MAX_LENGTH:
        return f"Choisissez un mot de passe de {PASSWORD_MAX_LENGTH} caractères au plus"
    lowered = password.lower()
    if is_common(password) or len(set(lowered)) < 4:
        return "Ce mot de passe est trop courant : choisissez-en un autre, plus difficile à deviner"
    local_part = email.lower().partition("@")[0]
    if len(local_part) >= 4 and local_part in lowered:
        return "Choisissez un mot de passe qui ne reprend pas votre adresse e-mail"
    return None


def hash_password(password):
    return HASHER.hash(password)


def check_password(row, password):
    """Whether `password` is `row`'s (row may be None: the dummy hash is checked then)."""
    stored = row.password_hash if row is not None and row.password_hash else dummy_hash()
    try:
        HASHER.verify(stored, password)
    except (argon2.exceptions.VerificationError, argon2.exceptions.InvalidHashError):
        return False
    return row is not None and bool(row.password_hash)


def normalize_email(text):
    """The stored form of an address (validated, lower-cased), or None when it is none."""
    text = (text or "").strip()
    if not text or len(text) > EMAIL_MAX_LENGTH:
        return None
    try:
        return validate_email(text, check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        return None


def set_password(row, password, now):
    """New password: every session of the account ends (the epoch moves), and so do the
    reset links still pending. Call inside a write transaction."""
    Utilisateur = models.Utilisateur
    Utilisateur.update(
        password_hash=hash_password(password), session_epoch=Utilisateur.session_epoch + 1
    ).where(Utilisateur.id == row.id).execute()
    AccountToken = models.AccountToken
    AccountToken.update(used_at=now).where(
        (AccountToken.utilisateur == row.id) & AccountToken.used_at.is_null()
    ).execute()
    return Utilisateur.get_by_id(row.id)


def log_out(row):
    """Logout: every session of the account ends."""
    Utilisateur = models.Utilisateur
    with models.write_transaction(durable=True):
        Utilisateur.update(session_epoch=Utilisateur.session_epoch + 1).where(
            Utilisateur.id == row.id
        ).execute()
        journal.record("deconnexion", row)
    return Utilisateur.get_by_id(row.id)


def change_password(row, current, new, now):
    """The logged-in user's change: (updated row, None) or (None, {field: message})."""
    if not check_password(row, current):
        return None, {"actuel": "Votre mot de passe actuel est incorrect"}
    problem = password_problem(new, row.email)
    if problem:
        return None, {"nouveau": problem}
    with models.write_transaction(durable=True):
        journal.record("mot_de_passe_change", row)
        return set_password(row, new, now), None


# --- Login and its throttle -----------------------------------------------------------

# Per (account, client address): PAIR_LIMIT password checks per PAIR_WINDOW, then that
# address waits for the window's end; the same account from another address is not held.
PAIR_WINDOW = dt.timedelta(minutes=15)
PAIR_LIMIT = 5
# Per account, whatever the address: ACCOUNT_FREE failures per ACCOUNT_WINDOW, then each
# further check waits 1, 2, 4 … up to ACCOUNT_MAX_DELAY seconds after the one before: a
# distributed attacker gets about ACCOUNT_FREE + 65 guesses per hour (docs/security.md),
# the real person waits a minute at worst, never a lockout.
ACCOUNT_WINDOW = dt.timedelta(hours=1)
ACCOUNT_FREE = 10
ACCOUNT_MAX_DELAY = 60


def account_key(email):
    """What the throttle counts an account by: the address typed, known or not (so a
    throttled address says nothing of whether it has an account)."""
    # The normalised address when it is one: every spelling of an account counts for it.
    text = normalize_email(email) or (email or "").strip().lower()
    return hashlib.sha256(text.encode()).hexdigest()


def account_delay(failures):
    """Seconds the account's next check waits after its last one."""
    if failures < ACCOUNT_FREE:
        return 0
    return min(2 ** (failures - ACCOUNT_FREE), ACCOUNT_MAX_DELAY)


class Throttled(Exception):
    """Too many attempts: `wait` seconds before the next one is checked."""

    def __init__(self, wait):
        super().__init__(wait)
        self.wait = max(1, int(wait))


def locked_counter(key, window, now):
    """The counter of `key`, its row locked until the end of the transaction (created
    first if missing, so two first attempts at once still queue on the one row); a
    counter whose window ended starts again."""
    LoginCounter = models.LoginCounter
    LoginCounter.insert(
        key=key, failures=0, window_start=now, last_at=now
    ).on_conflict_ignore().execute()
    row = models.locked(LoginCounter.select().where(LoginCounter.key == key)).get()
    if row.window_start <= now - window:
        row.failures, row.window_start = 0, now
    return row


def claim_attempt(key, ip, now, user_id=None):
    """Count one attempt of `key` (an account, or a second-factor step) from `ip`, before
    the secret is checked; raises Throttled when it may not be checked now. Counted under
    the counters' row locks: parallel attempts are counted one by one."""
    with models.write_transaction():
        wait = attempt_wait(key, ip, now, user_id)
    if wait is not None:
        raise Throttled(wait)


def attempt_wait(key, ip, now, user_id):
    """None and the attempt counted, or the seconds to wait (nothing counted)."""
    pair = locked_counter(f"p:{key}:{ip[:64]}", PAIR_WINDOW, now)
    if pair.failures >= PAIR_LIMIT:
        return (pair.window_start + PAIR_WINDOW - now).total_seconds()
    account = locked_counter(f"a:{key}", ACCOUNT_WINDOW, now)
    ready_at = account.last_at + dt.timedelta(seconds=account_delay(account.failures))
    if account.failures >= ACCOUNT_FREE and now < ready_at:
        # Not counted for the address: the real person waiting is not held longer.
        return (ready_at - now).total_seconds()
    for row, limit, scope in ((pair, PAIR_LIMIT, "adresse"), (account, ACCOUNT_FREE, "compte")):
        row.failures += 1
        row.last_at = now
        row.save()
        if row.failures == limit:  # from now on this address waits, or the account slows
            journal.record("verrouillage", user_id, portee=scope)
    return None


def attempt_succeeded(key, ip):
    """The secret was right: this address's count goes, and this attempt is taken back
    from the account's (the others' failures still count). Call inside a transaction."""
    LoginCounter = models.LoginCounter
    LoginCounter.delete().where(LoginCounter.key == f"p:{key}:{ip[:64]}").execute()
    LoginCounter.update(failures=LoginCounter.failures - 1).where(
        (LoginCounter.key == f"a:{key}") & (LoginCounter.failures > 0)
    ).execute()


def clear_counts(email):
    """A password reset: the account's counts start again, from every address."""
    key = account_key(email)
    LoginCounter = models.LoginCounter
    LoginCounter.delete().where(
        (LoginCounter.key == f"a:{key}") | LoginCounter.key.startswith(f"p:{key}:")
    ).execute()


def purge_counters(now):
    """For `tick`: counters whose window ended count for nothing any more."""
    LoginCounter = models.LoginCounter
    with models.write_transaction():
        return (
            LoginCounter.delete()
            .where(LoginCounter.window_start <= now - max(PAIR_WINDOW, ACCOUNT_WINDOW))
            .execute()
        )


def authenticate(email, password, ip, now):
    """The active Utilisateur whose address and password these are, or None; raises
    Throttled (without checking the password) after too many recent failures."""
    address = normalize_email(email)
    Utilisateur = models.Utilisateur
    row = None
    if address and len(password) <= PASSWORD_MAX_LENGTH:
        row = Utilisateur.get_or_none((Utilisateur.email == address) & Utilisateur.actif)
    key = account_key(email)
    claim_attempt(key, ip, now, user_id=row.id if row else None)
    if not check_password(row, password[:PASSWORD_MAX_LENGTH]):
        with models.write_transaction():
            journal.record("echec_connexion", row.id if row else None)
        return None
    with models.write_transaction(durable=True):
        fields = {"last_login_at": now}
        if HASHER.check_needs_rehash(row.password_hash):
            fields["password_hash"] = hash_password(password)
        Utilisateur.update(**fields).where(Utilisateur.id == row.id).execute()
        attempt_succeeded(key, ip)
        if row.totp_secret:  # the login is complete once its code is given
            journal.record("mot_de_passe_valide", row.id)
        else:
            journal.record("connexion", row.id)
    return Utilisateur.get_by_id(row.id)


# --- Single-use links -----------------------------------------------------------------

RESET = "reinitialisation"
INVITATION = "invitation"
TOKEN_LIFETIMES = {RESET: dt.timedelta(hours=1), INVITATION: dt.timedelta(days=14)}
TOKEN_MAX_LENGTH = 100


def token_hash(token):
    return hashlib.sha256(token.encode()).hexdigest()


def new_token(row, purpose, now):
    """A fresh link's secret (256 random bits); only its hash is stored. Call inside the
    write transaction that queues the e-mail carrying it."""
    token = secrets.token_urlsafe(32)  # the shape log_redaction.SHAPE_RE redacts
    models.AccountToken.create(
        utilisateur=row.id,
        purpose=purpose,
        token_hash=token_hash(token),
        created_at=now,
        expires_at=now + TOKEN_LIFETIMES[purpose],
    )
    return token


def find_token(token, purpose, now):
    """(AccountToken, None) for a link that can still be used, or (None, why) with why
    "inconnu", "utilise" or "expire"."""
    if not token or len(token) > TOKEN_MAX_LENGTH:
        return None, "inconnu"
    AccountToken = models.AccountToken
    row = AccountToken.get_or_none(
        (AccountToken.token_hash == token_hash(token)) & (AccountToken.purpose == purpose)
    )
    if row is None:
        return None, "inconnu"
    if row.used_at is not None:
        return None, "utilise"
    if row.expires_at <= now or not row.utilisateur.actif:
        return None, "expire"
    return row, None


def use_token(token, purpose, password, now):
    """Set the password through a link: (Utilisateur, None), or (None, why) as find_token,
    or (None, message) for a refused password (the link is not spent then). The link is
    spent in the transaction that sets the password."""
    row, why = find_token(token, purpose, now)
    if row is None:
        return None, why
    problem = password_problem(password, row.utilisateur.email)
    if problem:
        return None, problem
    AccountToken = models.AccountToken
    with models.write_transaction(durable=True):
        # Claimed with a compare-and-set: two clicks at once set one password.
        claimed = (
            AccountToken.update(used_at=now)
            .where(
                (AccountToken.id == row.id)
                & AccountToken.used_at.is_null()
                & (AccountToken.expires_at > now)
            )
            .execute()
        )
        if not claimed:
            return None, "utilise"
        user = row.utilisateur
        # The person proved they read the account's mail: strangers' failures end.
        clear_counts(user.email)
        journal.record("reinitialisation" if purpose == RESET else "invitation_acceptee", user)
        return set_password(user, password, now), None


def public_url(endpoint_path):
    base = current_app.config.get("PUBLIC_URL", "http://127.0.0.1:5000").rstrip("/")
    return base + endpoint_path


SIGNATURE = "L'équipe 1 jeune, 1 mentor"
RESET_SUBJECT = "Réinitialisation de votre mot de passe"
INVITATION_SUBJECT = "Invitation à l'espace association"


def request_reset(email, now, link):
    """Queue a reset link for an active account with a password; nothing otherwise (the
    page says the same either way). `link(token)` builds the URL path."""
    address = normalize_email(email)
    if address is None:
        return False
    Utilisateur = models.Utilisateur
    with models.write_transaction(durable=True):
        row = Utilisateur.get_or_none(
            (Utilisateur.email == address) & Utilisateur.actif & (Utilisateur.password_hash != "")
        )
        if row is None or resets_in_the_last_hour(row, now) >= RESET_LIMIT_PER_HOUR:
            return False
        token = new_token(row, RESET, now)
        journal.record("reinitialisation_demandee", row)
        outbox.queue(row.email, RESET_SUBJECT, reset_body(public_url(link(token))), RESET)
    return True


RESET_LIMIT_PER_HOUR = 3  # reset e-mails to one account: a stranger cannot flood it


def resets_in_the_last_hour(row, now):
    AccountToken = models.AccountToken
    return (
        AccountToken.select()
        .where(
            (AccountToken.utilisateur == row.id)
            & (AccountToken.purpose == RESET)
            & (AccountToken.created_at > now - dt.timedelta(hours=1))
        )
        .count()
    )


def reset_body(url):
    return (
        "Bonjour,\n\n"
        "Vous avez demandé à réinitialiser le mot de passe de votre compte de l'espace "
        "association de 1 jeune, 1 mentor. Pour en choisir un nouveau, ouvrez ce lien "
        "(valable une heure, une seule fois) :\n\n"
        f"{url}\n\n"
        "Si vous n'êtes pas à l'origine de cette demande, ignorez ce message : votre mot de "
        "passe reste le même. Vous ne recevrez pas d'autre message à ce sujet.\n\n"
        f"{SIGNATURE}\n"
    )


class AccountError(Exception):
    """A staff account that cannot be created: the message says why, in French."""


def create_account(
    email, role, association, now, password=None, invited_by=None, link=None, actor=None
):
    """A new account with `password`, or invited (no password yet; `link(token)` builds
    the invitation's URL path, e-mailed in the same transaction). Raises AccountError."""
    address = normalize_email(email)
    if address is None:
        raise AccountError("Indiquez une adresse e-mail valide, par exemple nom@exemple.fr")
    if role not in ROLES:
        raise AccountError("Rôle inconnu : responsable, membre ou admin")
    if (role == "admin") != (association is None):
        raise AccountError("Un compte admin n'a pas d'association ; les autres en ont une")
    if password is not None:
        problem = password_problem(password, address)
        if problem:
            raise AccountError(problem)
    try:
        return _create_account(address, role, association, now, password, invited_by, link, actor)
    except IntegrityError:
        # Created by someone else between the check and the insert (PostgreSQL reads
        # committed rows: the unique index decides). The error quotes the address: not
        # chained, so never logged with it.
        raise AccountError(f"Un compte existe déjà pour l'adresse {address}") from None


def _create_account(address, role, association, now, password, invited_by, link, actor):
    Utilisateur = models.Utilisateur
    with models.write_transaction(durable=True):
        existing = Utilisateur.get_or_none(Utilisateur.email == address)
        if existing is not None and password is None and is_pending(existing, association):
            # Invited again (the first link expired or was lost): a fresh link.
            Utilisateur.update(role=role, actif=True).where(Utilisateur.id == existing.id).execute()
            if role != existing.role:
                journal.record("changement_role", actor, existing, avant=existing.role, apres=role)
            row = Utilisateur.get_by_id(existing.id)
            send_invitation(row, now, link, invited_by, actor)
            return row
        if existing is not None:
            raise AccountError(f"Un compte existe déjà pour l'adresse {address}")
        row = Utilisateur.create(
            email=address,
            role=role,
            association=association,
            password_hash=hash_password(password) if password is not None else "",
            created_at=now,
        )
        if password is None:
            send_invitation(row, now, link, invited_by, actor)
    return row


def is_pending(row, association):
    """An invitation of this association never accepted (no password chosen yet)."""
    return (
        not row.password_hash and association is not None and row.association_id == association.id
    )


def send_invitation(row, now, link, invited_by=None, actor=None):
    """Queue a (new) invitation link for `row`; call inside a write transaction. The
    links sent before are spent: only the newest opens the account."""
    AccountToken = models.AccountToken
    AccountToken.update(used_at=now).where(
        (AccountToken.utilisateur == row.id)
        & (AccountToken.purpose == INVITATION)
        & AccountToken.used_at.is_null()
    ).execute()
    token = new_token(row, INVITATION, now)
    journal.record("invitation", actor, row, role=row.role)
    who = f"{invited_by} vous invite" if invited_by else "L'équipe 1 jeune, 1 mentor vous invite"
    where = f" {ecriture.de(row.association.nom)}" if row.association_id else ""
    body = (
        "Bonjour,\n\n"
        f"{who} à rejoindre l'espace association{where} sur 1 jeune, 1 mentor, "
        "où les associations de mentorat reçoivent et suivent les demandes des jeunes et "
        "des mentors. Pour choisir votre mot de passe et activer votre compte, ouvrez ce lien "
        "(valable 14 jours, une seule fois) :\n\n"
        f"{public_url(link(token))}\n\n"
        "Si vous ne vous attendiez pas à cette invitation, ignorez ce message : aucun compte "
        "ne sera activé et vous ne recevrez pas d'autre message.\n\n"
        f"{SIGNATURE}\n"
    )
    outbox.queue(row.email, INVITATION_SUBJECT, body, INVITATION)


def expire_invitations(now):
    """For `tick`: invitation links past their 14 days are deleted, and so are the
    accounts they were for, if no password was ever chosen. Returns accounts deleted."""
    AccountToken, Utilisateur = models.AccountToken, models.Utilisateur
    with models.write_transaction(durable=True):
        # A spent or expired link opens nothing: only its row goes.
        AccountToken.delete().where(AccountToken.expires_at <= now).execute()
        pending = AccountToken.select(AccountToken.utilisateur).where(
            AccountToken.purpose == INVITATION
        )
        return (
            Utilisateur.delete()
            .where((Utilisateur.password_hash == "") & Utilisateur.id.not_in(pending))
            .execute()
        )


# --- An association's staff -----------------------------------------------------------


def staff_of(association_id):
    """The association's accounts, responsables first; pending invitations included."""
    Utilisateur = models.Utilisateur
    return list(
        Utilisateur.select()
        .where(Utilisateur.association == association_id)
        .order_by(Utilisateur.actif.desc(), Utilisateur.role.desc(), Utilisateur.email)
    )


def is_responsable(row):
    """An active responsable who has chosen a password (not a pending invitation)."""
    return row.role == "responsable" and row.actif and bool(row.password_hash)


def deactivate(target, now, actor=None):
    """Deactivate `target`: its sessions and links end. Raises AccountError when it is
    the association's last responsable. Call with a row of the actor's association."""
    Utilisateur, AccountToken = models.Utilisateur, models.AccountToken
    with models.write_transaction(durable=True):
        # The association's accounts locked: two responsables deactivating each other at
        # once cannot leave it with none.
        rows = {
            r.id: r
            for r in models.locked(
                Utilisateur.select().where(Utilisateur.association == target.association_id)
            )
        }
        row = rows[target.id]
        if not row.actif:
            return row
        if is_responsable(row) and sum(map(is_responsable, rows.values())) <= 1:
            raise AccountError(
                "Ce compte est le dernier responsable actif de l'association : "
                "nommez d'abord un autre responsable"
            )
        Utilisateur.update(actif=False, session_epoch=Utilisateur.session_epoch + 1).where(
            Utilisateur.id == row.id
        ).execute()
        journal.record("desactivation", actor, row)
        AccountToken.update(used_at=now).where(
            (AccountToken.utilisateur == row.id) & AccountToken.used_at.is_null()
        ).execute()
    return Utilisateur.get_by_id(row.id)


def reactivate(target, actor=None):
    """Let `target` log in again. Its old sessions stay ended: `deactivate` moved the
    epoch their cookies carry, and its old links stay used."""
    with models.write_transaction(durable=True):
        models.Utilisateur.update(actif=True).where(models.Utilisateur.id == target.id).execute()
        journal.record("activation", actor, target)


# --- An association with nobody to read its leads -------------------------------------
# The catalogue lists associations before their staff have accounts. Their e-mails about
# leads then go to the association's own catalogue address, with a claim link: a link
# signed for that association and that address (itsdangerous, no row stored), valid
# CLAIM_MAX_AGE. Opening it and confirming sends an ordinary invitation (responsable) to
# that same address: only whoever reads the association's mailbox gets an account, and
# the link dies when the catalogue address changes or once the association has staff.
CLAIM_SALT = "rejoindre-association"
CLAIM_MAX_AGE = dt.timedelta(days=30)


def claim_serializer():
    return URLSafeTimedSerializer(current_app.secret_key, salt=CLAIM_SALT)


def claim_token(association):
    return claim_serializer().dumps([association.id, association.email])


CLAIM_PATH = "/espace/rejoindre/"  # views.espace.account.rejoindre


def claim_url(association, base):
    """The claim link's full URL (for an e-mail; `base`: the site's address)."""
    return f"{base}{CLAIM_PATH}{claim_token(association)}"


def association_of_claim(token):
    """(Association, None) for a claim link that can still be used, or (None, why) with
    why "inconnu", "expire" or "pourvue" (the association has staff now)."""
    if not token or len(token) > TOKEN_MAX_LENGTH * 2:
        return None, "inconnu"
    try:
        association_id, address = claim_serializer().loads(
            token, max_age=int(CLAIM_MAX_AGE.total_seconds())
        )
    except SignatureExpired:
        return None, "expire"
    except (BadSignature, ValueError, TypeError):
        return None, "inconnu"
    association = models.Association.get_or_none(
        (models.Association.id == association_id) & models.Association.actif
    )
    if association is None or not address or association.email != address:
        return None, "expire"
    if readers_of(association.id):
        return None, "pourvue"
    return association, None


def claim(association, now, link):
    """Invite the association's catalogue address as its responsable (AccountError)."""
    return create_account(
        association.email, "responsable", association, now, invited_by=None, link=link
    )


def readers_condition():
    """Accounts that can read leads: active staff who chose a password."""
    Utilisateur = models.Utilisateur
    return Utilisateur.actif & Utilisateur.role.in_(STAFF_ROLES) & (Utilisateur.password_hash != "")


def readers_of(association_id):
    Utilisateur = models.Utilisateur
    return (
        Utilisateur.select(Utilisateur.id)
        .where((Utilisateur.association == association_id) & readers_condition())
        .exists()
    )


def unread_associations():
    """[(Association, open leads)]: associations that have leads in an open status and
    nobody able to read them (no active staff account with a password), most leads
    first. One query."""
    Association, Lead, Utilisateur = models.Association, models.Lead, models.Utilisateur
    readers = Utilisateur.select(Utilisateur.association).where(
        readers_condition() & Utilisateur.association.is_null(False)
    )
    count = fn.COUNT(Lead.id)
    rows = (
        Association.select(Association, count.alias("open_leads"))
        .join(Lead, on=(Lead.association == Association.id))
        .where(Lead.status.in_(lifecycle.OPEN) & Association.id.not_in(readers))
        .group_by(Association.id)
        .order_by(count.desc(), Association.nom)
    )
    return [(row, row.open_leads) for row in rows]
