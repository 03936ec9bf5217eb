"""The forms of the espace association (staff): login, passwords, settings, the lead
page's actions. The operator's are in forms/admin.py, the questionnaire's in questionnaire.py.

Every POST is already checked by the app-wide CSRFProtect (the pages write the token with
csrf_token()), so these forms do not add a second token field.
"""

from urllib.parse import urlsplit

from flask_wtf import FlaskForm
from wtforms import (
    HiddenField,
    PasswordField,
    RadioField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, ValidationError

from domain import lifecycle, phones
from domain import vocabulary as V
from forms.questionnaire import EMAIL_ERROR, PHONE_ERROR, Checkbox, choice, strip
from services import accounts, catalogue


class StaffForm(FlaskForm):
    class Meta:
        csrf = False  # CSRFProtect checks every POST of the app
        locales = ["fr_FR", "fr"]


# === Accounts and settings (issue 6 §1, settings of §3) ===============================

# --- Accounts: login, lost password, new password -------------------------------------

ROLE_LABELS = {code: V.ROLE.label(code) for code in V.ROLE.codes}  # one wording: vocabulary
ROLE_HINTS = {
    "responsable": "Gère le profil de l'association, ses programmes et son équipe, "
    "et traite les demandes",
    "membre": "Traite les demandes",
}


def required(message):
    return InputRequired(message)


def text(value):
    """A password exactly as typed; only a missing field becomes ""."""
    return value if isinstance(value, str) else ""


class LoginForm(StaffForm):
    email = StringField(
        "Adresse e-mail",
        filters=[strip],
        validators=[required("Indiquez votre adresse e-mail")],
        render_kw={
            "type": "email",
            "autocomplete": "username",
            "spellcheck": "false",
            "maxlength": 254,
        },
    )
    password = PasswordField(
        "Mot de passe",
        filters=[text],
        validators=[required("Indiquez votre mot de passe")],
        render_kw={"autocomplete": "current-password"},
    )


class ForgotForm(StaffForm):
    email = StringField(
        "Adresse e-mail",
        filters=[strip],
        description="L'adresse de votre compte de l'espace association",
        render_kw={
            "type": "email",
            "autocomplete": "username",
            "spellcheck": "false",
            "maxlength": 254,
        },
    )

    def validate_email(self, field):
        if accounts.normalize_email(field.data) is None:
            raise ValidationError(EMAIL_ERROR)


def new_password_field(label="Nouveau mot de passe"):
    return PasswordField(
        label,
        filters=[text],
        description=f"Au moins {accounts.PASSWORD_MIN_LENGTH} caractères. Une phrase de "
        "plusieurs mots est facile à retenir et difficile à deviner.",
        render_kw={"autocomplete": "new-password"},
    )


class NewPasswordForm(StaffForm):
    """A password chosen twice; its strength is checked against the account (e-mail)."""

    nouveau = new_password_field()
    confirmation = PasswordField(
        "Confirmez le nouveau mot de passe",
        filters=[text],
        render_kw={"autocomplete": "new-password"},
    )

    def __init__(self, *args, email="", **kwargs):
        super().__init__(*args, **kwargs)
        self.account_email = email

    def validate_nouveau(self, field):
        problem = accounts.password_problem(field.data, self.account_email)
        if problem:
            raise ValidationError(problem)

    def validate_confirmation(self, field):
        if not self.nouveau.errors and field.data != self.nouveau.data:
            raise ValidationError("Les deux mots de passe ne sont pas les mêmes")


class ChangePasswordForm(NewPasswordForm):
    actuel = PasswordField(
        "Mot de passe actuel",
        filters=[text],
        validators=[required("Indiquez votre mot de passe actuel")],
        render_kw={"autocomplete": "current-password"},
    )

    FIELD_ORDER = ("actuel", "nouveau", "confirmation")

    def __iter__(self):
        return iter([self[name] for name in self.FIELD_ORDER])


# --- Settings (responsable): profile, programmes, staff -------------------------------

# The same bounds as the catalogue file's (one rule, wherever the value is typed).
DELAI_MIN, DELAI_MAX = 1, catalogue.DELAI_MAX  # jours ouvrés
CAPACITE_MAX = catalogue.CAPACITE_MAX
DESCRIPTION_MAX = 2000
SITE_MAX = 200


def whole_number(minimum, maximum, message):
    def check(form, field):
        data = field.data
        if not (data.isdecimal() and data.isascii() and len(data) <= 6):
            raise ValidationError(message)
        if not minimum <= int(data) <= maximum:
            raise ValidationError(message)

    return check


def multiline(value):
    """Trimmed text whose lines are kept; other control characters become spaces."""
    if not isinstance(value, str):
        return ""
    value = value.replace("\r\n", "\n")
    return "".join(c if c == "\n" or c.isprintable() else " " for c in value).strip()


class ProfileForm(StaffForm):
    description = TextAreaField(
        "Présentation de l'association",
        filters=[multiline],
        description="Montrée aux jeunes et aux mentors à qui l'association est proposée",
        render_kw={"rows": 6, "maxlength": DESCRIPTION_MAX},
    )
    site = StringField(
        "Site internet (facultatif)",
        filters=[strip],
        description="Par exemple https://www.exemple.fr",
        render_kw={"inputmode": "url", "spellcheck": "false", "maxlength": SITE_MAX},
    )
    email = StringField(
        "Adresse e-mail de contact (facultatif)",
        filters=[strip],
        render_kw={"type": "email", "spellcheck": "false", "maxlength": 254},
    )
    telephone = StringField(
        "Téléphone de contact (facultatif)",
        filters=[strip],
        render_kw={"inputmode": "tel", "maxlength": phones.MAX_LENGTH},
    )
    delai_recontact = StringField(
        "Délai de recontact promis, en jours ouvrés",
        filters=[strip],
        description=f"Entre {DELAI_MIN} et {DELAI_MAX} : annoncé aux jeunes et aux mentors",
        validators=[
            whole_number(
                DELAI_MIN,
                DELAI_MAX,
                f"Indiquez un nombre de jours ouvrés entre {DELAI_MIN} et {DELAI_MAX}",
            )
        ],
        render_kw={"inputmode": "numeric", "maxlength": 2},
    )

    def validate_description(self, field):
        if len(field.data) > DESCRIPTION_MAX:
            raise ValidationError(
                f"Écrivez une présentation de {DESCRIPTION_MAX} caractères au plus"
            )

    def validate_site(self, field):
        if not field.data:
            return
        parts = urlsplit(field.data) if len(field.data) <= SITE_MAX else None
        if parts is None or parts.scheme not in ("http", "https") or "." not in parts.netloc:
            raise ValidationError(
                "Indiquez l'adresse d'un site, par exemple https://www.exemple.fr"
            )

    def validate_email(self, field):
        if field.data:
            address = accounts.normalize_email(field.data)
            if address is None:
                raise ValidationError(EMAIL_ERROR)
            field.data = address

    def validate_telephone(self, field):
        if field.data:
            if phones.parse(field.data) is None:
                raise ValidationError(PHONE_ERROR)
            field.data = phones.canonical(field.data)

    def values(self):
        """The Association's fields as they are stored."""
        return {
            "description": self.description.data,
            "site": self.site.data,
            "email": self.email.data,
            "telephone": self.telephone.data,
            "delai_recontact": int(self.delai_recontact.data),
        }


class ProgrammeForm(StaffForm):
    capacite_mensuelle = StringField(
        "Nouvelles personnes accueillies par mois",
        filters=[strip],
        description="Laissez 0 si vous ne voulez pas donner ce nombre.",
        validators=[whole_number(0, CAPACITE_MAX, f"Indiquez un nombre entre 0 et {CAPACITE_MAX}")],
        render_kw={"inputmode": "numeric", "maxlength": 4},
    )
    en_pause = Checkbox(
        "En pause : ne plus recevoir de nouvelles demandes pour ce programme",
    )

    def values(self):
        return {
            "capacite_mensuelle": int(self.capacite_mensuelle.data),
            "en_pause": self.en_pause.data,
        }


STAFF_ROLES_CHOICES = [(role, ROLE_LABELS[role]) for role in ("membre", "responsable")]


class InviteForm(StaffForm):
    email = StringField(
        "Adresse e-mail de la personne à inviter",
        filters=[strip],
        render_kw={"type": "email", "spellcheck": "false", "maxlength": 254},
    )
    role = choice(STAFF_ROLES_CHOICES, "Choisissez un rôle", label="Rôle")
    hints = ROLE_HINTS

    def validate_email(self, field):
        address = accounts.normalize_email(field.data)
        if address is None:
            raise ValidationError(EMAIL_ERROR)
        field.data = address


class NotificationsForm(StaffForm):
    """Each staff member's own choice: an e-mail per new lead, or one digest a day."""

    notifications = choice(
        V.NOTIFICATIONS.choices(),
        "Choisissez comment être prévenu·e des nouvelles demandes",
        label="Être prévenu·e des nouvelles demandes et candidatures",
    )
    hints = {
        "chaque_demande": "Dès qu'une demande arrive dans votre association",
        "resume_quotidien": "Un seul e-mail chaque matin, s'il y a du nouveau. "
        "Les rappels des demandes en retard arrivent toujours tout de suite",
    }


# === end of accounts and settings =====================================================


# === Lead actions (issue 6 §3: the lead page's status block, pairs, hand-over) ========
# Each form carries the lead's version the page showed: demandes.py refuses an action
# from a page read before another change (StaleLead), the view answers 409.

NOTE_MAX = lifecycle.NOTE_MAX
NOTE_INVALID = lifecycle.NOTE_INVALID


def version_of(value):
    """The version a form sent, or None when it is none (the page is then treated as
    stale: reloaded, it carries a good one)."""
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 9:
        return int(value)
    return None


class LeadActionForm(StaffForm):
    """A button of the lead page's status block: the lead's version only."""

    version = HiddenField(filters=[strip])

    def expected_version(self):
        return version_of(self.version.data)


def note_field(label, description):
    return TextAreaField(
        label,
        filters=[multiline],
        description=description,
        validators=[Length(max=NOTE_MAX, message=lifecycle.NOTE_TOO_LONG)],
        render_kw={"rows": 3},
    )


def printable_note(form, field):
    # multiline() turned control characters into spaces; a NUL or the like is refused
    # before that in the raw value (PostgreSQL refuses a NUL byte).
    raw = field.raw_data[0] if field.raw_data else ""
    if isinstance(raw, str) and any(not (c.isprintable() or c in "\n\r\t") for c in raw):
        raise ValidationError(NOTE_INVALID)


class ReasonForm(LeadActionForm):
    """An action that takes a reason from a fixed list; "autre" needs the note
    (lifecycle.check_input decides, the view shows its message on the field)."""

    reasons = None  # a vocabulary.Vocab

    def __init__(self, *args, reasons, **kwargs):
        super().__init__(*args, **kwargs)
        # Reasons the platform alone gives (an automatic hand-over) are never staff's.
        offered = reasons.choices(exclude=V.AUTOMATIC_MOTIFS)
        self.motif.choices = [SelectChoice(code, label) for code, label in offered]
        self.allowed = {code for code, _ in offered}

    motif = RadioField("Motif", choices=[], validate_choice=False)
    note = note_field("Note (obligatoire pour « Autre »)", "Visible dans l'historique")

    def validate_motif(self, field):
        if not field.data:
            raise ValidationError("Choisissez un motif")
        if field.data not in self.allowed:
            raise ValidationError("Choisissez un motif dans la liste")

    def validate_note(self, field):
        printable_note(self, field)


class SansSuiteForm(ReasonForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, reasons=V.MOTIF_SANS_SUITE, **kwargs)


class PairForm(LeadActionForm):
    """The partner of the binôme: "REFERENCE:version" of one of the listed candidates."""

    partenaire = RadioField("Avec qui former le binôme ?", choices=[], validate_choice=False)

    def partner(self):
        """(reference, version) chosen, or None."""
        reference, _, version = (self.partenaire.data or "").partition(":")
        version = version_of(version)
        if version is None or not reference.isascii() or not 0 < len(reference) <= 20:
            return None
        return reference, version

    def validate_partenaire(self, field):
        if self.partner() is None:
            raise ValidationError("Choisissez la personne avec qui former le binôme")


class HandOverForm(ReasonForm):
    """The association to confide the lead to (one of the matcher's proposals, the first
    by default), and why."""

    programme = RadioField("À quelle association ?", choices=[], validate_choice=False)

    def __init__(self, *args, programmes=(), **kwargs):
        super().__init__(*args, reasons=V.MOTIF_TRANSFERT, **kwargs)
        self.programme_ids = {str(p) for p in programmes}

    def validate_programme(self, field):
        # Nothing picked: the matcher's first proposal.
        if field.data and field.data not in self.programme_ids:
            raise ValidationError("Choisissez une des associations proposées")

    def programme_id(self):
        return int(self.programme.data) if self.programme.data else None


# === end of lead actions ==============================================================


# === The operator (/admin/), issue 6 §4 ===============================================
# Its catalogue forms send the catalogue file's cells (same column names, same syntax) to
# catalogue.check_association / check_programme: one set of rules for the file and forms.


# === The second factor (services/second_factor.py) ===================================


class CodeForm(StaffForm):
    """The login's second step: a code of the authentication app, or a recovery code."""

    code = StringField(
        "Code de vérification",
        filters=[strip],
        description="Les 6 chiffres affichés par votre application d'authentification, "
        "ou l'un de vos codes de secours",
        validators=[
            required("Indiquez le code affiché par votre application"),
            Length(max=20, message="Ce code est trop long : vérifiez-le"),
        ],
        render_kw={"autocomplete": "one-time-code", "spellcheck": "false", "maxlength": 20},
    )


class EnrolForm(StaffForm):
    code = StringField(
        "Code affiché par l'application",
        filters=[strip],
        description="6 chiffres, par exemple 123456",
        validators=[
            required("Indiquez le code à 6 chiffres affiché par votre application"),
            Length(max=20, message="Ce code est trop long : vérifiez-le"),
        ],
        render_kw={
            "autocomplete": "one-time-code",
            "inputmode": "numeric",
            "spellcheck": "false",
            "maxlength": 20,
        },
    )


class DisableSecondFactorForm(StaffForm):
    password = PasswordField(
        "Mot de passe actuel",
        filters=[text],
        validators=[required("Indiquez votre mot de passe actuel")],
        render_kw={"autocomplete": "current-password"},
    )


class SecondFactorRuleForm(StaffForm):
    obligatoire = Checkbox(
        "Double authentification obligatoire pour l'équipe",
        description="Chaque membre devra, à sa prochaine connexion, configurer une "
        "application d'authentification puis saisir un code à chaque connexion",
    )
