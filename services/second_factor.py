"""The TOTP second factor (RFC 6238, pyotp): enrolment with a QR code drawn here (segno,
an inline SVG: no external service, nothing the CSP forbids), one-time recovery codes
stored hashed, and the rule of who must have it: operators always, an association's staff
when it asks (« double authentification obligatoire »), anyone who enrolled.

A code is accepted once: the time step it belongs to is stored, and a later login needs
a later step (compare-and-set, so two logins with one code at once let one in).
"""

import datetime as dt
import hashlib
import re
import secrets

import pyotp
import segno
from markupsafe import Markup

import models
from services import accounts, journal

ISSUER = "1 jeune, 1 mentor"
RECOVERY_CODES = 10
RECOVERY_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
CODE_RE = re.compile(r"\d{6}")


def required(row):
    """Whether `row` must have a second factor to use the espace."""
    if row.role == "admin":
        return True
    association = row.association if row.association_id else None
    return bool(association and association.double_authentification)


def enrolled(row):
    return bool(row.totp_secret)


def new_secret():
    return pyotp.random_base32()


def qr_svg(secret, email):
    """The enrolment's QR code as inline SVG markup (presentation attributes only)."""
    uri = pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)
    svg = segno.make(uri, error="m").svg_inline(
        scale=4, title="Code QR à scanner avec votre application d'authentification"
    )
    return Markup(svg.replace("<svg ", '<svg role="img" focusable="false" ', 1))


def matching_step(secret, code, now):
    """The time step (of now, or one before or after: clocks drift) whose code is `code`."""
    code = re.sub(r"\s", "", code or "")
    if not CODE_RE.fullmatch(code):
        return None
    totp = pyotp.TOTP(secret)
    moment = now.replace(tzinfo=dt.UTC) if now.tzinfo is None else now  # naive UTC
    for offset in (0, -1, 1):
        at = moment + dt.timedelta(seconds=offset * totp.interval)
        if secrets.compare_digest(totp.at(at), code):
            return totp.timecode(at)
    return None


def hash_code(code):
    normal = re.sub(r"[\s-]", "", code or "").upper()
    return hashlib.sha256(normal.encode()).hexdigest()


def new_recovery_codes():
    return [
        "-".join("".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(5)) for _ in range(2))
        for _ in range(RECOVERY_CODES)
    ]


def enrol(row, secret, code, now):
    """Confirm the enrolment with a first code: (recovery codes, shown once) or None."""
    step = matching_step(secret, code, now)
    if step is None:
        return None
    codes = new_recovery_codes()
    Utilisateur, RecoveryCode = models.Utilisateur, models.RecoveryCode
    with models.write_transaction(durable=True):
        Utilisateur.update(totp_secret=secret, totp_last_step=step).where(
            Utilisateur.id == row.id
        ).execute()
        RecoveryCode.delete().where(RecoveryCode.utilisateur == row.id).execute()
        RecoveryCode.insert_many(
            [{"utilisateur": row.id, "code_hash": hash_code(c)} for c in codes]
        ).execute()
        journal.record("double_auth_activee", row)
    return codes


def disable(row, actor=None):
    Utilisateur, RecoveryCode = models.Utilisateur, models.RecoveryCode
    with models.write_transaction(durable=True):
        Utilisateur.update(totp_secret="", totp_last_step=0).where(
            Utilisateur.id == row.id
        ).execute()
        RecoveryCode.delete().where(RecoveryCode.utilisateur == row.id).execute()
        journal.record("double_auth_desactivee", actor or row, row)


def check(row, code, now, ip):
    """Whether `code` (a TOTP code or a recovery code) lets `row` in; spends it. Call
    after accounts.claim_attempt(f"totp:{row.id}", ip, …), the throttle it clears."""
    Utilisateur, RecoveryCode = models.Utilisateur, models.RecoveryCode
    step = matching_step(row.totp_secret, code, now)
    with models.write_transaction(durable=True):
        if step is not None:
            accepted = (
                Utilisateur.update(totp_last_step=step)
                .where((Utilisateur.id == row.id) & (Utilisateur.totp_last_step < step))
                .execute()
            )
        else:
            accepted = (
                RecoveryCode.update(used_at=now)
                .where(
                    (RecoveryCode.utilisateur == row.id)
                    & (RecoveryCode.code_hash == hash_code(code))
                    & RecoveryCode.used_at.is_null()
                )
                .execute()
            )
            if accepted:
                journal.record("code_secours_utilise", row)
        if accepted:
            accounts.attempt_succeeded(f"totp:{row.id}", ip)
            journal.record("connexion", row, double_auth="reussie")
        else:
            journal.record("double_auth_echec", row)
    return bool(accepted)


def recovery_codes_left(row):
    RecoveryCode = models.RecoveryCode
    return (
        RecoveryCode.select()
        .where((RecoveryCode.utilisateur == row.id) & RecoveryCode.used_at.is_null())
        .count()
    )


def set_association_rule(association, required_flag, actor):
    Association = models.Association
    with models.write_transaction(durable=True):
        Association.update(double_authentification=required_flag).where(
            Association.id == association.id
        ).execute()
        journal.record("double_auth_reglage", actor, obligatoire=required_flag)
