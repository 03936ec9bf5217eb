"""One Flask-WTF form per question page, with the product's French messages.

Each form knows how to turn its cleaned data into the answers we store
(`answers()`) and how to show them on the check page (`summary()`).
"""

import re

from email_validator import EmailNotValidError, validate_email
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import BooleanField, RadioField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    AnyOf,
    DataRequired,
    InputRequired,
    Length,
    Optional,
    StopValidation,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from domain import phones
from domain import vocabulary as V
from services import territory

# The choices, in vocabulary.py's words: the questionnaire's wording is a form of each term.
SITUATIONS_JEUNE = V.SITUATION_JEUNE.choices()
BESOINS = V.BESOIN.choices("question")
BESOINS_HINTS = V.BESOIN.labels("aide_question")
SITUATIONS_PARTICULIERES = V.PUBLIC.choices("question", exclude=V.PUBLICS_DERIVES)
AUCUNE = V.AUCUNE
SENSITIVE = set(V.PUBLICS_SENSIBLES)
RENCONTRES = V.RENCONTRE.choices()
CONTACT_PREFS = V.CONTACT_PREF.choices()
SITUATIONS_MENTOR = V.SITUATION_MENTOR.choices()
TRANCHES_AGE = V.TRANCHE_AGE.choices()
SECTEURS = V.SECTEUR.choices()
BESOINS_MENTOR = V.BESOIN.choices("mentor")
PUBLICS = V.PUBLIC_MENTOR.choices("question")
DISPONIBILITES = V.DISPONIBILITE.choices()
MODALITES = V.MODALITE.choices()

NAME_MAX = 80
# Letters of any script, spaces, apostrophes, hyphens and dots (J.-P.).
NAME_RE = re.compile(r"^[^\W\d_]+(?:[ '’.\-]+[^\W\d_]*)*$")


def choice(choices, message, **kwargs):
    """A radio question whose only error, whatever was sent, is `message`."""
    values = [value for value, _ in choices]
    return RadioField(
        choices=[SelectChoice(value, label) for value, label in choices],
        validate_choice=False,
        validators=[InputRequired(message), AnyOf(values, message=message)],
        **kwargs,
    )


def several(choices, invalid, required=None, **kwargs):
    """Checkboxes: blanks and repeats dropped, then every value sent must be one of
    `choices` (`invalid` otherwise); `required` makes at least one box required.

    No Optional(): it would end the validation at a blank first value and let the
    other values through unchecked.
    """
    allowed = {value for value, _ in choices}

    def check(form, field):
        if any(value not in allowed for value in field.data):
            raise StopValidation(invalid)
        if required and not field.data:
            raise StopValidation(required)

    return SelectMultipleField(
        choices=[SelectChoice(value, label) for value, label in choices],
        validate_choice=False,
        filters=[lambda values: list(dict.fromkeys(v for v in values or () if v))],
        validators=[check],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        **kwargs,
    )


class Checkbox(BooleanField):
    """A box that is ticked only when it sends its own value: "false", "0" or anything
    else a browser never sends for it is no agreement (BooleanField takes any value
    but "false" as true)."""

    VALUE = "y"

    def process_formdata(self, valuelist):
        self.data = valuelist[:1] == [self.VALUE]

    def _value(self):
        # Re-shown after an error, the box keeps its own value, never the one sent.
        return self.VALUE


def checkbox(label, required=None, **kwargs):
    """A single box; `required` is the message when it is left unticked."""
    return Checkbox(label, validators=[DataRequired(required)] if required else [], **kwargs)


PHONE_ERROR = "Indiquez un numéro de téléphone français, par exemple 06 12 34 56 78"
SMS_ERROR = (
    "Ce numéro est un fixe : choisissez d'être contacté·e par téléphone ou par e-mail, "
    "ou donnez un numéro de mobile"
)
EMAIL_ERROR = "Indiquez une adresse e-mail valide, par exemple nom@exemple.fr"
NAME_ERROR = "Indiquez {} avec seulement des lettres, des espaces, des tirets ou des apostrophes"


def check_phone(form, field):
    if phones.parse(field.data) is None:
        raise ValidationError(PHONE_ERROR)


def check_email(form, field):
    try:
        field.data = validate_email(field.data, check_deliverability=False).normalized
    except EmailNotValidError as error:
        raise ValidationError(EMAIL_ERROR) from error


def check_name(what):
    def check(form, field):
        if not NAME_RE.match(field.data):
            raise ValidationError(NAME_ERROR.format(what))

    return check


# No keyboard types these; a pasted tab or newline in a one-line answer becomes a space.
CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def strip(value):
    """Trimmed one-line text; a field missing from the POST becomes "" rather than None."""
    return CONTROL_RE.sub(" ", value).strip() if isinstance(value, str) else ""


def labels(choices, values):
    mapping = dict(choices)
    return [mapping[value] for value in values if value in mapping]


class StepForm(FlaskForm):
    """Base of every question page."""

    # Valid, but the page must ask again before saving (several communes match).
    needs_choice = False
    # {field: (controlling field, values)}: asked only while one of these values is ticked
    # (revealed by static/js/app.js; without JS, shown by the server once it must be answered).
    shown_by = {}

    class Meta:
        # Our errors speak French; WTForms' own defaults never show.
        locales = ["fr_FR", "fr"]

    def is_shown(self, name):
        controller, values = self.shown_by[name]
        return bool(set(values) & set(self[controller].data or []))

    def answers(self):
        return {
            name: phones.canonical(field.data) if isinstance(field, PhoneField) else field.data
            for name, field in self._fields.items()
            if name != "csrf_token"
        }

    @classmethod
    def summary(cls, answers):
        """[(question, answer text)] for the check page."""
        raise NotImplementedError

    @classmethod
    def form_data(cls, answers):
        """Stored answers as field values (the reverse of `answers()`)."""
        return answers

    def designates(self, answers):
        """After validating `from_answers`: the stored answers still mean the same."""
        return True

    @classmethod
    def from_answers(cls, answers):
        """Rebuild the posted form from stored answers, for the final re-validation."""
        data = MultiDict()
        for key, value in cls.form_data(answers).items():
            if isinstance(value, list):
                for item in value:
                    data.add(key, str(item))
            elif value is True:
                data.add(key, Checkbox.VALUE)
            elif value not in (None, False, ""):
                data.add(key, str(value))
        return cls(formdata=data, meta={"csrf": False})


class ChoiceForm(StepForm):
    """A page with one radio question, shown under `summary_label` on the check page."""

    summary_label = ""
    choices = ()

    @classmethod
    def summary(cls, answers):
        (value,) = answers.values()
        return [(cls.summary_label, dict(cls.choices)[value])]


# --- Parcours jeune -------------------------------------------------------------


class AgeForm(StepForm):
    age = StringField(
        "Quel âge avez-vous ?",
        filters=[strip],
        render_kw={"inputmode": "numeric", "autocomplete": "off", "maxlength": 3},
    )

    def validate_age(self, field):
        if not field.data:
            raise ValidationError("Indiquez votre âge")
        if not field.data.isdecimal() or not field.data.isascii():
            raise ValidationError("Indiquez votre âge en chiffres, par exemple 17")
        # Checked before int(): Python refuses to convert more than 4,300 digits.
        if len(field.data) > 3 or not 1 <= int(field.data) <= 120:
            raise ValidationError("Indiquez votre âge en années, entre 1 et 120")

    def answers(self):
        return {"age": int(self.age.data)}

    @classmethod
    def form_data(cls, answers):
        return {"age": str(answers["age"])}

    @classmethod
    def summary(cls, answers):
        return [("Âge", f"{answers['age']} ans")]


class SituationJeuneForm(ChoiceForm):
    summary_label = "Situation"
    choices = SITUATIONS_JEUNE
    situation = choice(
        choices, "Choisissez votre situation", label="Quelle est votre situation aujourd'hui ?"
    )


class BesoinForm(ChoiceForm):
    summary_label = "Besoin"
    choices = BESOINS
    besoin = choice(
        choices,
        "Choisissez ce pour quoi vous aimeriez être accompagné·e",
        label="Sur quoi aimeriez-vous être accompagné·e ?",
    )
    hints = BESOINS_HINTS


class CommuneForm(StepForm):
    """The typed text is resolved by the server (this is the path without JavaScript).

    One commune designated exactly: done. Several, only partial matches ("villeurb"),
    a former commune ("Andard", to confirm it is Loire-Authion today) or only names near
    a typing error ("marseile"): they are offered as radio buttons, valued by their label.
    """

    commune = StringField(
        "Où habitez-vous ?",
        filters=[strip],
        description="Commencez à saisir le nom de votre commune ou son code postal, "
        "puis choisissez-la dans la liste.",
        render_kw={"maxlength": 100},
    )
    choix = StringField()  # the label picked among the candidates
    choix_affiche = StringField()  # set when the matches were shown as radio buttons

    ERROR = "Indiquez une commune de France, par exemple Lyon ou 69003"
    MAX_CANDIDATES = 10

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.candidates = []
        self.place = None

    def validate_commune(self, field):
        if not field.data or len(field.data) > 100:
            raise ValidationError(self.ERROR)
        exact = territory.resolve(field.data)
        similar = territory.search(field.data, limit=self.MAX_CANDIDATES)
        if len(exact) == 1 and self.unambiguous(field.data, exact[0], similar):
            self.place = exact[0]
            return
        insees = {p.insee for p in exact}
        self.candidates = exact + [p for p in similar if p.insee not in insees]
        if not self.candidates:
            raise ValidationError(self.ERROR)
        picked = [p for p in self.candidates if p.label == self.choix.data]
        if picked:
            self.place = picked[0]

    def validate_choix(self, field):
        if self.commune.errors or self.place is not None:
            return
        if field.data or self.choix_affiche.data:
            raise ValidationError("Choisissez votre commune dans la liste")

    @staticmethod
    def unambiguous(text, place, similar):
        """A label or postal code says which commune; a bare name only when no bigger
        commune starts with it ("Lyon" is Lyon, but "Évry" may well mean Évry-Courcouronnes
        rather than the village of the Yonne)."""
        if text == place.label or text.isdecimal():
            return True
        if place.ancien_nom:  # say it is another commune today before saving it
            return False
        return all(p.population <= place.population for p in similar)

    @property
    def approximate(self):
        """Only names near what was typed: the page asks "did you mean"."""
        return bool(self.candidates) and all(p.approximate for p in self.candidates)

    @property
    def needs_choice(self):
        """Candidates but no commune yet: ask which one (not an error yet)."""
        return self.place is None and bool(self.candidates) and not self.errors

    def answers(self):
        return {
            "commune": self.place.insee,
            "code_postal": self.place.code_postal,
            "commune_label": self.place.label,
        }

    @classmethod
    def form_data(cls, answers):
        return {"commune": answers["commune_label"]}

    def designates(self, answers):
        # A postal code gone from the communes file resolves to the name alone.
        return self.place is not None and self.answers() == answers

    @classmethod
    def summary(cls, answers):
        return [("Commune", answers["commune_label"])]


class SituationParticuliereForm(StepForm):
    situations = several(
        SITUATIONS_PARTICULIERES + [AUCUNE],
        "Choisissez parmi les situations proposées",
        label="Êtes-vous dans l'une de ces situations ?",
        description="Ces réponses sont facultatives. Elles servent seulement à vous "
        "proposer une association qui accompagne en priorité des jeunes comme vous. "
        "Pour le handicap et l'ASE, nous vous demandons aussi votre accord.",
    )
    accord_sensible = checkbox(
        "J'accepte que ma situation de handicap ou d'accompagnement par l'ASE soit "
        "utilisée pour me proposer une association, et transmise à cette seule association.",
    )
    shown_by = {"accord_sensible": ("situations", sorted(SENSITIVE))}

    def validate_situations(self, field):
        if AUCUNE[0] in field.data and len(field.data) > 1:
            raise ValidationError(
                "Cochez « Aucune de ces situations » seule, ou seulement les situations "
                "qui vous concernent"
            )

    def validate_accord_sensible(self, field):
        if SENSITIVE & set(self.situations.data or []) and not field.data:
            raise ValidationError(
                "Pour que l'on tienne compte du handicap ou de l'ASE, cochez la case "
                "d'accord, ou décochez ces situations"
            )

    def answers(self):
        chosen = [v for v in self.situations.data if v != AUCUNE[0]]
        return {
            "situations_particulieres": chosen,
            "accord_sensible": bool(SENSITIVE & set(chosen)),
        }

    @classmethod
    def form_data(cls, answers):
        # Answered with nothing ticked is « Aucune de ces situations ».
        return {
            "situations": answers["situations_particulieres"] or [AUCUNE[0]],
            "accord_sensible": answers["accord_sensible"],
        }

    @classmethod
    def summary(cls, answers):
        chosen = labels(SITUATIONS_PARTICULIERES, answers["situations_particulieres"])
        return [("Situations particulières", chosen or AUCUNE[1])]


class RencontreForm(ChoiceForm):
    summary_label = "Rencontre"
    choices = RENCONTRES
    rencontre = choice(
        choices,
        "Choisissez comment vous préférez rencontrer votre mentor",
        label="Comment préférez-vous rencontrer votre mentor ?",
    )


def name_field(label, autocomplete, required_message, what):
    return StringField(
        label,
        filters=[strip],
        validators=[
            InputRequired(required_message),
            Length(max=NAME_MAX, message=f"Indiquez au plus {NAME_MAX} caractères"),
            check_name(what),
        ],
        render_kw={"autocomplete": autocomplete, "spellcheck": "false"},
    )


def email_field(label, autocomplete="email", required_message=None, description=""):
    presence = InputRequired(required_message) if required_message else Optional()
    return StringField(
        label,
        filters=[strip],
        description=description,
        validators=[
            presence,
            Length(max=254, message="Indiquez une adresse e-mail plus courte"),
            check_email,
        ],
        render_kw={"autocomplete": autocomplete, "type": "email", "spellcheck": "false"},
    )


class PhoneField(StringField):
    """A French phone number (phones.py): stored in E.164, shown as phones.display does,
    the stored answer included (a number as typed and refused is shown as it was typed)."""

    def _value(self):
        return phones.display(self.data)


def phone_field(label, autocomplete="tel"):
    return PhoneField(
        label,
        filters=[strip],
        description="Exemple : 06 12 34 56 78",
        validators=[
            Optional(),
            Length(max=phones.MAX_LENGTH, message="Indiquez un numéro plus court"),
            check_phone,
        ],
        render_kw={"autocomplete": autocomplete, "type": "tel"},
    )


class CoordonneesJeuneForm(StepForm):
    prenom = name_field("Prénom", "given-name", "Indiquez votre prénom", "un prénom")
    nom = name_field("Nom", "family-name", "Indiquez votre nom", "un nom")
    email = email_field(
        "Adresse e-mail",
        description="Donnez au moins votre adresse e-mail ou votre téléphone.",
    )
    telephone = phone_field("Téléphone")
    contact_pref = choice(
        CONTACT_PREFS,
        "Choisissez comment vous préférez être contacté·e",
        label="Je préfère être contacté·e par",
    )

    def validate(self, extra_validators=None):
        valid = super().validate(extra_validators)
        if self.email.errors or self.telephone.errors or self.contact_pref.errors:
            return False
        if not self.email.data and not self.telephone.data:
            self.telephone.errors.append("Indiquez un numéro de téléphone ou une adresse e-mail")
            return False
        if self.contact_pref.data == "email" and not self.email.data:
            self.email.errors.append(
                "Indiquez votre adresse e-mail, ou choisissez d'être contacté·e par téléphone"
            )
            return False
        if self.contact_pref.data in ("telephone", "sms") and not self.telephone.data:
            self.telephone.errors.append(
                "Indiquez votre numéro de téléphone, ou choisissez d'être contacté·e par e-mail"
            )
            return False
        if self.contact_pref.data == "sms" and not phones.takes_sms(self.telephone.data):
            self.telephone.errors.append(SMS_ERROR)
            return False
        return valid

    @classmethod
    def summary(cls, answers):
        contact = [answers["prenom"] + " " + answers["nom"]]
        contact += [v for v in (answers["email"], phones.display(answers["telephone"])) if v]
        return [
            ("Vos coordonnées", contact),
            ("Contact préféré", dict(CONTACT_PREFS)[answers["contact_pref"]]),
        ]


class ParentForm(StepForm):
    """Under 15: a parent's contact and agreement."""

    parent_prenom = name_field("Prénom", "off", "Indiquez le prénom de votre parent", "un prénom")
    parent_nom = name_field("Nom", "off", "Indiquez le nom de votre parent", "un nom")
    parent_email = email_field(
        "Adresse e-mail",
        "off",
        description="Donnez au moins l'adresse e-mail ou le téléphone de votre parent.",
    )
    parent_telephone = phone_field("Téléphone", "off")
    parent_accord = checkbox(
        "Mon parent ou représentant légal est d'accord pour cette demande",
        required="Cochez la case si votre parent ou représentant légal est d'accord. "
        "Sans son accord, nous ne pouvons pas envoyer votre demande.",
    )

    def validate(self, extra_validators=None):
        valid = super().validate(extra_validators)
        if not self.parent_telephone.data and not self.parent_email.data:
            self.parent_telephone.errors.append(
                "Indiquez le téléphone ou l'adresse e-mail de votre parent"
            )
            return False
        return valid

    @classmethod
    def summary(cls, answers):
        contact = [answers["parent_prenom"] + " " + answers["parent_nom"]]
        contact += [
            v for v in (answers["parent_email"], phones.display(answers["parent_telephone"])) if v
        ]
        agreed = "Oui" if answers["parent_accord"] else "Non"
        return [("Parent ou représentant légal", contact), ("Accord du parent", agreed)]


# --- Parcours mentor ------------------------------------------------------------


class SituationMentorForm(ChoiceForm):
    summary_label = "Situation"
    choices = SITUATIONS_MENTOR
    situation = choice(choices, "Choisissez votre situation", label="Quelle est votre situation ?")


class TrancheAgeForm(ChoiceForm):
    summary_label = "Tranche d'âge"
    choices = TRANCHES_AGE
    tranche_age = choice(
        choices, "Choisissez votre tranche d'âge", label="Quelle est votre tranche d'âge ?"
    )


class ExperienceForm(StepForm):
    secteur = choice(
        SECTEURS,
        "Choisissez un secteur, ou « Autre secteur »",
        label="Dans quel secteur travaillez-vous ou avez-vous travaillé ?",
    )
    metier = StringField(
        "Votre métier (facultatif)",
        filters=[strip],
        description="Par exemple : comptable, infirmière, développeur",
        validators=[Optional(), Length(max=100, message="Indiquez au plus 100 caractères")],
        render_kw={"autocomplete": "organization-title"},
    )

    @classmethod
    def summary(cls, answers):
        rows = [("Secteur", dict(SECTEURS)[answers["secteur"]])]
        if answers.get("metier"):
            rows.append(("Métier", answers["metier"]))
        return rows


class AccompagnementForm(StepForm):
    besoins = several(
        BESOINS_MENTOR,
        "Choisissez parmi les sujets proposés",
        required="Choisissez au moins un sujet",
        label="Sur quoi aimeriez-vous accompagner un jeune ?",
        description="Plusieurs choix possibles.",
    )
    publics = several(
        PUBLICS,
        "Choisissez parmi les jeunes proposés",
        label="Quels jeunes ? (facultatif)",
        description="Plusieurs choix possibles.",
    )

    @classmethod
    def summary(cls, answers):
        rows = [("Sujets", labels(BESOINS_MENTOR, answers["besoins"]))]
        rows.append(("Jeunes", labels(PUBLICS, answers["publics"]) or "Tous"))
        return rows


class DisponibiliteForm(StepForm):
    disponibilite = choice(
        DISPONIBILITES,
        "Choisissez le temps que vous pouvez y consacrer",
        label="Combien de temps pouvez-vous y consacrer ?",
    )
    modalite = choice(MODALITES, "Choisissez comment vous pouvez accompagner", label="Comment ?")

    @classmethod
    def summary(cls, answers):
        return [
            ("Disponibilité", dict(DISPONIBILITES)[answers["disponibilite"]]),
            ("Comment", dict(MODALITES)[answers["modalite"]]),
        ]


class CoordonneesMentorForm(StepForm):
    prenom = name_field("Prénom", "given-name", "Indiquez votre prénom", "un prénom")
    nom = name_field("Nom", "family-name", "Indiquez votre nom", "un nom")
    email = email_field("Adresse e-mail", required_message="Indiquez votre adresse e-mail")
    telephone = phone_field("Téléphone (facultatif)")

    @classmethod
    def summary(cls, answers):
        contact = [answers["prenom"] + " " + answers["nom"], answers["email"]]
        if answers["telephone"]:
            contact.append(phones.display(answers["telephone"]))
        return [("Vos coordonnées", contact)]


FORMS = {
    "jeune": {
        "age": AgeForm,
        "situation": SituationJeuneForm,
        "besoin": BesoinForm,
        "commune": CommuneForm,
        "situation-particuliere": SituationParticuliereForm,
        "rencontre": RencontreForm,
        "coordonnees": CoordonneesJeuneForm,
        "parent": ParentForm,
    },
    "mentor": {
        "situation": SituationMentorForm,
        "age": TrancheAgeForm,
        "experience": ExperienceForm,
        "accompagnement": AccompagnementForm,
        "disponibilite": DisponibiliteForm,
        "commune": CommuneForm,
        "coordonnees": CoordonneesMentorForm,
    },
}


# The honeypot's name: nothing a browser or a password manager fills on its own.
TRAP_FIELD = "reference_dossier_interne"


class ConsentForm(FlaskForm):
    # Hidden from people (off-screen, aria-hidden, no tab stop): only a robot fills it.
    reference_dossier_interne = StringField("Laissez ce champ vide")
    consentement = checkbox(
        "J'accepte que mes réponses soient transmises à l'association de mentorat qui me "
        "sera proposée, pour qu'elle me recontacte.",
        required="Cochez la case pour accepter que vos réponses soient transmises à "
        "l'association, sans quoi elle ne pourra pas vous recontacter",
    )
