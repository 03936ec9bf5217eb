"""The operator's back office forms (/admin/): catalogue records, import, actions and the
matcher simulator (moved out of the staff forms as is).

Every POST is already checked by the app-wide CSRFProtect (the pages write the token with
csrf_token()), so these forms do not add a second token field.
"""

import datetime as dt
import re

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError

from domain import vocabulary as V
from forms import questionnaire
from forms.questionnaire import checkbox, several, strip
from services import catalogue, territory

# The codes and their wordings come from vocabulary.py; "jeunes"/"mentors" are the
# catalogue file's own codes for a programme's publics.
PUBLICS_PROGRAMME = [("jeunes", "Jeunes"), ("mentors", "Mentors")]
BESOINS = V.BESOIN.choices()
SITUATIONS_JEUNE = V.SITUATION_JEUNE.choices()
SITUATIONS_MENTOR = V.SITUATION_MENTOR.choices()
TRANCHES_AGE = V.TRANCHE_AGE.choices()
SECTEURS = V.SECTEUR.choices()
PUBLICS = V.PUBLIC.choices()
PUBLICS_DECLARES = V.PUBLIC.choices(exclude=V.PUBLICS_DERIVES)
PUBLICS_MENTOR = V.PUBLIC_MENTOR.choices()
FORMATS = V.FORMAT.choices()
KINDS = V.PARCOURS.choices()
RENCONTRES = V.RENCONTRE.choices()
# A mentor's "modalité" has its own codes for the same three answers.
MODALITE_OF_RENCONTRE = {"proximite": "presentiel", "distance": "distance", "les_deux": "les_deux"}

INVALID_CHOICE = "Choisissez parmi les valeurs proposées"
CODES_HINT = "Plusieurs codes séparés par des espaces, des virgules ou des « | »"
CODES_SPLIT = re.compile(r"[\s,;|]+")


def _message(problem):
    return problem.message[:1].upper() + problem.message[1:]


def admin_text(label, description="", textarea=False, maxlength=None):
    field = TextAreaField if textarea else StringField
    render_kw = {"maxlength": maxlength} if maxlength else {}
    # Multi-line text keeps its newlines; one-line text loses control characters.
    filters = [lambda v: v.strip() if isinstance(v, str) else ""] if textarea else [strip]
    return field(label, description=description, filters=filters, render_kw=render_kw)


def options(choices, first=None):
    """SelectChoice options, after an empty first option labelled `first`."""
    pairs = ([("", first)] if first else []) + list(choices)
    return [SelectChoice(value, label) for value, label in pairs]


def codes(label, choices):
    return several(choices, INVALID_CHOICE, label=label)


class CatalogueForm(FlaskForm):
    """A form whose fields are named after the catalogue file's columns."""

    class Meta:
        locales = ["fr_FR", "fr"]

    def cells(self):
        """The fields as the file's cells: lists joined by `|`, booleans as oui/non."""
        cells = {}
        for name, field in self._fields.items():
            if name == "csrf_token":
                continue
            if isinstance(field.data, bool):
                cells[name] = catalogue.TRUE if field.data else catalogue.FALSE
            elif isinstance(field.data, list):
                cells[name] = catalogue.MULTI_SEPARATOR.join(field.data)
            elif name in self.code_lists:
                cells[name] = catalogue.MULTI_SEPARATOR.join(CODES_SPLIT.split(field.data or ""))
            else:
                cells[name] = field.data or ""
        return cells

    code_lists = ()

    def add_problems(self, problems):
        """Put the catalogue's problems under their fields; True when there were some."""
        for problem in problems:
            field = self._fields.get(problem.field)
            if field is not None and _message(problem) not in field.errors:
                field.errors = [*field.errors, _message(problem)]
        return bool(problems)


class AssociationForm(CatalogueForm):
    association_slug = admin_text(
        "Identifiant",
        "En minuscules, chiffres et tirets, par exemple « mentorat-lyon » ; il ne change plus",
        maxlength=catalogue.MAX_NAME,
    )
    association_nom = admin_text("Nom", maxlength=catalogue.MAX_NAME)
    association_description = admin_text("Description", textarea=True, maxlength=catalogue.MAX_TEXT)
    association_site = admin_text("Site", "Commençant par https://", maxlength=catalogue.MAX_NAME)
    association_email = admin_text("E-mail de contact", maxlength=catalogue.MAX_NAME)
    association_telephone = admin_text("Téléphone", maxlength=catalogue.MAX_NAME)
    association_delai_recontact = admin_text(
        "Délai de rappel promis, en jours ouvrés",
        f"Un nombre entier de 1 à {catalogue.DELAI_MAX}",
        maxlength=3,
    )
    association_active = checkbox("Association active (ses programmes peuvent être proposés)")

    def check(self):
        """(slug, fields) when valid; the catalogue's problems are put under the fields."""
        if not self.validate():
            return None
        cells = self.cells()
        fields, problems = catalogue.check_association(cells)
        problems += catalogue.check_slug(cells["association_slug"], "association_slug")
        if self.add_problems(problems):
            return None
        return cells["association_slug"], fields

    @staticmethod
    def data_of(association):
        return dict(
            association_slug=association.slug,
            association_nom=association.nom,
            association_description=association.description,
            association_site=association.site,
            association_email=association.email,
            association_telephone=association.telephone,
            association_delai_recontact=str(association.delai_recontact),
            association_active=association.actif,
        )


class AdminProgrammeForm(CatalogueForm):
    code_lists = ("regions", "departements", "communes")

    association = SelectField("Association", validate_choice=False)
    programme_slug = admin_text(
        "Identifiant",
        "En minuscules, chiffres et tirets ; il ne change plus",
        maxlength=catalogue.MAX_NAME,
    )
    programme_nom = admin_text("Nom", maxlength=catalogue.MAX_NAME)
    programme_description = admin_text("Description", textarea=True, maxlength=catalogue.MAX_TEXT)
    publics = codes("Publics accueillis", PUBLICS_PROGRAMME)
    besoins = codes("Besoins accompagnés", BESOINS)
    age_min = admin_text(
        "Âge minimum des jeunes", f"De {catalogue.AGE_MIN} à {catalogue.AGE_MAX}", maxlength=3
    )
    age_max = admin_text(
        "Âge maximum des jeunes", f"De {catalogue.AGE_MIN} à {catalogue.AGE_MAX}", maxlength=3
    )
    situations = codes("Situations des jeunes acceptées (aucune cochée : toutes)", SITUATIONS_JEUNE)
    zone_nationale = checkbox("Intervient partout en France")
    regions = admin_text(
        "Régions (codes INSEE, par exemple 84)", CODES_HINT, maxlength=catalogue.MAX_TEXT
    )
    departements = admin_text(
        "Départements (codes, par exemple 69 ou 2A)", CODES_HINT, maxlength=catalogue.MAX_TEXT
    )
    communes = admin_text(
        "Communes (codes INSEE, par exemple 69123)", CODES_HINT, maxlength=catalogue.MAX_TEXT
    )
    a_distance = checkbox("Accompagne à distance")
    publics_reserves = codes("Réservé aux publics", PUBLICS)
    publics_prioritaires = codes("Publics prioritaires", PUBLICS)
    mentor_situations = codes("Situations des mentors recherchées", SITUATIONS_MENTOR)
    mentor_tranches_age = codes("Tranches d'âge des mentors recherchées", TRANCHES_AGE)
    mentor_secteurs = codes("Secteurs des mentors souhaités", SECTEURS)
    format = RadioField(
        "Format",
        choices=[SelectChoice(v, label) for v, label in FORMATS],
        validate_choice=False,
        default="individuel",
    )
    capacite_mensuelle = admin_text(
        "Capacité mensuelle (nouvelles personnes par mois)",
        "0 si elle n'est pas connue",
        maxlength=7,
    )
    en_pause = checkbox("En pause (n'est plus proposé pour l'instant)")
    programme_actif = checkbox("Programme actif")

    def __init__(self, associations, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # [(id, nom)]: the SelectField's values are ids as text.
        self.association.choices = options(
            [(str(i), nom) for i, nom in associations], "Choisissez une association"
        )
        self.association_ids = {str(i) for i, _ in associations}

    def validate_association(self, field):
        if field.data not in self.association_ids:
            raise ValidationError("Choisissez l'association du programme")

    def validate_format(self, field):
        if field.data not in dict(FORMATS):
            raise ValidationError(INVALID_CHOICE)

    def check(self):
        """(slug, association id, fields) when valid, else None with the errors set."""
        valid = self.validate()
        cells = self.cells()
        fields, problems = catalogue.check_programme(cells)
        problems += catalogue.check_slug(cells["programme_slug"], "programme_slug")
        if not problems and fields["communes"]:
            problems += catalogue.unknown_communes(fields["communes"])
        if self.add_problems(problems) or not valid:
            return None
        return cells["programme_slug"], int(self.association.data), fields

    @staticmethod
    def data_of(programme):
        profil = programme.profil_mentor or {}
        return dict(
            association=str(programme.association_id),
            programme_slug=programme.slug,
            programme_nom=programme.nom,
            programme_description=programme.description,
            publics=list(programme.publics),
            besoins=list(programme.besoins),
            age_min="" if programme.age_min is None else str(programme.age_min),
            age_max="" if programme.age_max is None else str(programme.age_max),
            situations=list(programme.situations),
            zone_nationale=programme.zone_nationale,
            regions=" ".join(programme.regions),
            departements=" ".join(programme.departements),
            communes=" ".join(programme.communes),
            a_distance=programme.a_distance,
            publics_reserves=list(programme.publics_reserves),
            publics_prioritaires=list(programme.publics_prioritaires),
            mentor_situations=list(profil.get("situations", ())),
            mentor_tranches_age=list(profil.get("tranches_age", ())),
            mentor_secteurs=list(profil.get("secteurs", ())),
            format=programme.format,
            capacite_mensuelle=str(programme.capacite_mensuelle),
            en_pause=programme.en_pause,
            programme_actif=programme.actif,
        )


class ImportForm(FlaskForm):
    fichier = FileField(
        "Fichier du catalogue (CSV UTF-8, séparateur « ; »)",
        description="Le même format que « flask load-catalogue » (docs/catalogue.md)",
    )

    def validate_fichier(self, field):
        if not field.data or not getattr(field.data, "filename", ""):
            raise ValidationError("Choisissez le fichier du catalogue à importer")


class ActionForm(FlaskForm):
    """A button that changes something: only its CSRF token."""


class SimulatorForm(FlaskForm):
    """The answers of a jeune or a mentor, sent by GET (shareable, nothing is written)."""

    class Meta:
        csrf = False
        locales = ["fr_FR", "fr"]

    kind = RadioField(
        "Qui cherche un programme ?",
        choices=[SelectChoice(v, label) for v, label in KINDS],
        validate_choice=False,
    )
    commune = admin_text("Commune", "Nom ou code postal, par exemple Lyon ou 69003", maxlength=100)
    rencontre = RadioField(
        "Rencontre",
        choices=[SelectChoice(v, label) for v, label in RENCONTRES],
        validate_choice=False,
    )
    age = admin_text("Âge du ou de la jeune", maxlength=3)
    situation_jeune = SelectField(
        "Situation du ou de la jeune",
        choices=options(SITUATIONS_JEUNE, "Choisissez"),
        validate_choice=False,
    )
    besoin = SelectField(
        "Besoin du ou de la jeune", choices=options(BESOINS, "Choisissez"), validate_choice=False
    )
    publics = codes("Situations particulières du ou de la jeune", PUBLICS_DECLARES)
    tranche_age = SelectField(
        "Tranche d'âge du ou de la mentor",
        choices=options(TRANCHES_AGE, "Choisissez"),
        validate_choice=False,
    )
    situation_mentor = SelectField(
        "Situation du ou de la mentor",
        choices=options(SITUATIONS_MENTOR, "Choisissez"),
        validate_choice=False,
    )
    secteur = SelectField(
        "Secteur du ou de la mentor",
        choices=options(SECTEURS, "Aucun"),
        validate_choice=False,
    )
    besoins = codes("Besoins que le ou la mentor veut accompagner", BESOINS)
    publics_mentor = codes("Jeunes que le ou la mentor voudrait aider", PUBLICS_MENTOR)

    JEUNE_FIELDS = ("age", "situation_jeune", "besoin", "publics")
    MENTOR_FIELDS = ("tranche_age", "situation_mentor", "secteur", "besoins", "publics_mentor")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.place = None
        self.candidates = []

    def validate(self, extra_validators=None):
        super().validate(extra_validators)
        self._require(self.kind, dict(KINDS), "Choisissez un ou une jeune, ou un ou une mentor")
        self._require(self.rencontre, dict(RENCONTRES), "Choisissez la rencontre souhaitée")
        self._resolve_commune()
        if self.kind.data == "jeune":
            self._check_age()
            self._require(self.situation_jeune, dict(SITUATIONS_JEUNE), "Choisissez la situation")
            self._require(self.besoin, dict(BESOINS), "Choisissez le besoin")
        elif self.kind.data == "mentor":
            self._require(self.tranche_age, dict(TRANCHES_AGE), "Choisissez la tranche d'âge")
            self._require(self.situation_mentor, dict(SITUATIONS_MENTOR), "Choisissez la situation")
            if self.secteur.data and self.secteur.data not in dict(SECTEURS):
                self.secteur.errors = [INVALID_CHOICE]
            if not self.besoins.errors and not self.besoins.data:
                self.besoins.errors = ["Cochez au moins un besoin"]
        return not any(field.errors for field in self)

    @staticmethod
    def _require(field, allowed, message):
        if field.data not in allowed:
            field.errors = [message]

    def _check_age(self):
        value = self.age.data or ""
        if not (value.isascii() and value.isdecimal() and len(value) <= 2):
            self.age.errors = ["Indiquez l'âge en chiffres, par exemple 17"]
        elif not catalogue.AGE_MIN <= int(value) <= catalogue.AGE_MAX:
            self.age.errors = [
                f"Indiquez un âge de {catalogue.AGE_MIN} à {catalogue.AGE_MAX} ans : "
                "le service n'accompagne pas les autres"
            ]

    def _resolve_commune(self):
        """As the questionnaire without JS: one commune designated, else the candidates."""
        text_value = self.commune.data or ""
        if not text_value:
            self.commune.errors = ["Indiquez une commune, par exemple Lyon ou 69003"]
            return
        exact = territory.resolve(text_value)
        similar = territory.search(text_value, limit=questionnaire.CommuneForm.MAX_CANDIDATES)
        if len(exact) == 1 and questionnaire.CommuneForm.unambiguous(text_value, exact[0], similar):
            self.place = exact[0]
            return
        insees = {p.insee for p in exact}
        self.candidates = exact + [p for p in similar if p.insee not in insees]
        if self.candidates:
            self.commune.errors = ["Plusieurs communes correspondent : choisissez-la ci-dessous"]
        else:
            self.commune.errors = [questionnaire.CommuneForm.ERROR]

    def answers(self):
        """The matcher's answers (as the questionnaires store them)."""
        if self.kind.data == "jeune":
            return dict(
                age=int(self.age.data),
                situation=self.situation_jeune.data,
                besoin=self.besoin.data,
                rencontre=self.rencontre.data,
                situations_particulieres=self.publics.data,
            )
        return dict(
            situation=self.situation_mentor.data,
            tranche_age=self.tranche_age.data,
            secteur=self.secteur.data,
            besoins=self.besoins.data,
            publics=self.publics_mentor.data,
            modalite=MODALITE_OF_RENCONTRE[self.rencontre.data],
        )


class JournalForm(FlaskForm):
    """The security journal's filters, sent by GET (nothing is written)."""

    class Meta:
        csrf = False

    kind = SelectField("Type d'événement", validate_choice=False)
    compte = admin_text(
        "Adresse e-mail du compte", "Celui qui agit ou celui qui est concerné", maxlength=254
    )
    du = admin_text("Du", "Date au format JJ/MM/AAAA", maxlength=10)
    au = admin_text("Au", "Date au format JJ/MM/AAAA", maxlength=10)

    def __init__(self, *args, kinds=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = options(kinds, "Tous")

    def validate_kind(self, field):
        if field.data and field.data not in _kind_codes(self):
            raise ValidationError(INVALID_CHOICE)

    def validate_du(self, field):
        field.day = _french_date(field.data)

    def validate_au(self, field):
        field.day = _french_date(field.data)
        since = getattr(self.du, "day", None)
        if field.day and since and field.day < since:
            raise ValidationError("Choisissez une date de fin après la date de début")


def _kind_codes(form):
    return {choice.value: choice.label for choice in form.kind.choices}


def _french_date(text):
    """The date of "JJ/MM/AAAA" (or the browser's AAAA-MM-JJ), None when empty."""
    if not text:
        return None
    for pattern in ("%d/%m/%Y", "%Y-%m-%d"):
        try:
            return dt.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise ValidationError("Indiquez une date au format JJ/MM/AAAA, par exemple 08/12/2026")
