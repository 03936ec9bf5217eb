"""Every code of the domain and its French wordings, in one place.

Pure: no Flask, no database. The questionnaire's forms, the matcher, the catalogue file's
allow-lists, the back office, the templates (the `label` filter) and the export all read
these tables, so adding an option is one edit here.

A `Vocab` is an ordered list of `Term`s. Each term has a code, a `label` (the default
wording, as staff and the check page read it) and, when the same thing is said otherwise
somewhere, named `forms`: "question" (the questionnaire's option), "phrase" (inside a
sentence of the matcher), "pluriel" ("des mentors salarié·es"), and so on.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Term:
    code: str
    label: str
    forms: Mapping = field(default_factory=dict)
    # A reason that needs a note to say what it is ("autre (préciser)").
    needs_note: bool = False

    def say(self, form=None):
        """The wording `form`, else the label."""
        if form is None:
            return self.label
        return self.forms.get(form, self.label)


class Vocab:
    def __init__(self, name, terms):
        self.name = name
        self.terms = tuple(terms)
        self.by_code = {term.code: term for term in self.terms}
        if len(self.by_code) != len(self.terms):
            raise ValueError(f"{name}: a code is given twice")

    @property
    def codes(self):
        return tuple(term.code for term in self.terms)

    def __contains__(self, code):
        return code in self.by_code

    def __iter__(self):
        return iter(self.terms)

    def label(self, code, form=None):
        """The wording of `code`; an unknown code is shown as it is (old data)."""
        term = self.by_code.get(code)
        return code if term is None else term.say(form)

    def choices(self, form=None, exclude=()):
        """[(code, wording)] in order, for a form's choices."""
        return [(t.code, t.say(form)) for t in self.terms if t.code not in exclude]

    def labels(self, form=None, strict=False):
        """{code: wording}; `strict`: only the terms that have this form."""
        return {
            t.code: t.say(form) for t in self.terms if not strict or form is None or form in t.forms
        }


def T(code, label, needs_note=False, **forms):  # noqa: N802 - reads as a table
    return Term(code, label, forms, needs_note)


# --- Parcours -------------------------------------------------------------------------------------
PARCOURS = Vocab(
    "parcours",
    [
        T("jeune", "Jeune", nom="demande", nom_pluriel="demandes", prefixe="J"),
        T("mentor", "Mentor", nom="candidature", nom_pluriel="candidatures", prefixe="M"),
    ],
)

# --- The questionnaires ---------------------------------------------------------------------------
SITUATION_JEUNE = Vocab(
    "situation_jeune",
    [
        T("college", "Au collège", phrase="au collège"),
        T(
            "lycee_general",
            "Au lycée général ou technologique",
            phrase="au lycée général ou technologique",
        ),
        T(
            "lycee_pro",
            "Au lycée professionnel ou en CAP",
            phrase="au lycée professionnel ou en CAP",
        ),
        T(
            "apprentissage",
            "En apprentissage ou en alternance",
            phrase="en apprentissage ou en alternance",
        ),
        T("superieur", "Dans l'enseignement supérieur", phrase="dans l'enseignement supérieur"),
        T(
            "recherche",
            "En recherche d'emploi, de stage ou de formation",
            phrase="en recherche d'emploi, de stage ou de formation",
        ),
        T("emploi", "En emploi", phrase="en emploi"),
        T("autre", "Autre situation", phrase="autre situation"),
    ],
)

SITUATION_MENTOR = Vocab(
    "situation_mentor",
    [
        T("salarie", "Salarié·e", pluriel="salarié·es"),
        T(
            "independant",
            "Indépendant·e ou chef·fe d'entreprise",
            pluriel="indépendant·es ou chef·fes d'entreprise",
        ),
        T("agent_public", "Agent·e public·que", pluriel="agent·es public·ques"),
        T("retraite", "Retraité·e", pluriel="retraité·es"),
        T("etudiant", "Étudiant·e", pluriel="étudiant·es"),
        T("recherche_emploi", "En recherche d'emploi", pluriel="en recherche d'emploi"),
        T("autre", "Autre", pluriel="dans votre situation"),
    ],
)

# The besoin: staff read the short label; the youth ticks "question", the mentor "mentor".
BESOIN = Vocab(
    "besoin",
    [
        T(
            "scolarite",
            "Scolarité",
            question="J'ai des difficultés à l'école",
            mentor="La scolarité",
            phrase="scolarité",
            aide="progresser à l'école",
            aide_question="Votre mentor pourra vous aider à organiser votre travail "
            "et à améliorer vos résultats scolaires.",
        ),
        T(
            "orientation",
            "Orientation",
            question="Je ne sais pas quelle orientation choisir",
            mentor="L'orientation",
            phrase="orientation",
            aide="choisir leur orientation",
            aide_question="Votre mentor pourra vous conseiller et vous guider, avant ou après "
            "le bac.",
        ),
        T(
            "emploi",
            "Stage, alternance ou premier emploi",
            question="Je cherche un stage, une alternance, un premier emploi",
            mentor="La recherche de stage, d'alternance ou de premier emploi",
            phrase="stage, alternance ou premier emploi",
            aide="trouver un stage, une alternance ou un premier emploi",
            aide_question="Votre mentor pourra vous aider et vous ouvrir son réseau professionnel.",
        ),
        T(
            "entrepreneuriat",
            "Création d'activité",
            question="Je veux créer mon activité ou mon entreprise",
            mentor="La création d'activité ou d'entreprise",
            phrase="création d'activité",
            aide="créer leur activité ou leur entreprise",
            aide_question="Votre mentor pourra vous aider à construire et lancer votre projet.",
        ),
    ],
)

# Priority or reserved publics of a programme; the youth declares all but "rural" (derived
# from the commune) on the « situations particulières » page ("question").
PUBLIC = Vocab(
    "public",
    [
        T(
            "qpv",
            "Quartier prioritaire (QPV)",
            question="J'habite dans un quartier prioritaire de la politique de la ville (QPV)",
            pluriel="jeunes des quartiers prioritaires",
        ),
        T("rural", "Commune rurale", pluriel="jeunes des communes rurales"),
        T(
            "handicap",
            "Situation de handicap",
            question="Je suis en situation de handicap",
            pluriel="jeunes en situation de handicap",
        ),
        T(
            "ase",
            "Aide sociale à l'enfance (ASE)",
            question="Je suis ou j'ai été accompagné·e par l'aide sociale à l'enfance (ASE)",
            pluriel="jeunes accompagné·es par l'aide sociale à l'enfance",
        ),
        T(
            "boursier",
            "Boursier ou boursière",
            question="Je suis boursier ou boursière",
            pluriel="jeunes boursières et boursiers",
        ),
        T(
            "arrive_recemment",
            "Arrivé·e en France depuis moins de 5 ans",
            question="Je suis arrivé·e en France il y a moins de 5 ans",
            pluriel="jeunes arrivé·es en France depuis moins de 5 ans",
        ),
    ],
)
PUBLICS_DERIVES = ("rural",)
PUBLICS_DECLARES = tuple(code for code in PUBLIC.codes if code not in PUBLICS_DERIVES)
# Health and child welfare: used only with the youth's explicit agreement.
PUBLICS_SENSIBLES = ("handicap", "ase")
AUCUNE = ("aucune", "Aucune de ces situations")

RENCONTRE = Vocab(
    "rencontre",
    [
        T("proximite", "Près de chez moi"),
        T("distance", "À distance (visio, téléphone)"),
        T("les_deux", "Les deux me conviennent"),
    ],
)

CONTACT_PREF = Vocab(
    "contact_pref",
    [
        T("telephone", "Téléphone", phrase="téléphone"),
        T("sms", "SMS", phrase="SMS"),
        T("email", "E-mail", phrase="e-mail"),
    ],
)

TRANCHE_AGE = Vocab(
    "tranche_age",
    [
        T("moins_25", "Moins de 25 ans", phrase="moins de 25 ans", pluriel="de moins de 25 ans"),
        T("25_49", "25 à 49 ans", phrase="25 à 49 ans", pluriel="de 25 à 49 ans"),
        T("50_plus", "50 ans et plus", phrase="50 ans et plus", pluriel="de 50 ans et plus"),
    ],
)

# "phrase": "des mentors qui connaissent votre secteur : le numérique" (none for "autre").
SECTEUR = Vocab(
    "secteur",
    [
        T("numerique", "Numérique, informatique, télécoms", phrase="le numérique"),
        T("industrie", "Industrie, énergie", phrase="l'industrie"),
        T("commerce", "Commerce, vente, marketing", phrase="le commerce"),
        T("sante_social", "Santé, social, services à la personne", phrase="la santé et le social"),
        T("education", "Éducation, formation, recherche", phrase="l'éducation"),
        T(
            "btp",
            "Bâtiment, travaux publics, architecture",
            phrase="le bâtiment et les travaux publics",
        ),
        T(
            "banque_assurance",
            "Banque, assurance, finance, comptabilité",
            phrase="la banque et l'assurance",
        ),
        T("administration", "Administration, fonction publique, droit", phrase="l'administration"),
        T("art_culture", "Arts, culture, communication, médias", phrase="les arts et la culture"),
        T("agriculture", "Agriculture, environnement", phrase="l'agriculture"),
        T("transport_logistique", "Transport, logistique", phrase="le transport et la logistique"),
        T(
            "hotellerie_restauration",
            "Hôtellerie, restauration, tourisme",
            phrase="l'hôtellerie et la restauration",
        ),
        T("autre", "Autre secteur"),
    ],
)

# The youths a mentor would like to help.
PUBLIC_MENTOR = Vocab(
    "public_mentor",
    [
        T("collegiens", "Collégiens", question="Des collégiens", pluriel="collégien·nes"),
        T("lyceens", "Lycéens", question="Des lycéens", pluriel="lycéen·nes"),
        T("etudiants", "Étudiants", question="Des étudiants", pluriel="étudiant·es"),
        T(
            "demandeurs_emploi",
            "Jeunes en recherche d'emploi",
            question="Des jeunes en recherche d'emploi",
            pluriel="jeunes en recherche d'emploi",
        ),
    ],
)

DISPONIBILITE = Vocab(
    "disponibilite",
    [
        T("1_2h", "1 à 2 heures par mois"),
        T("2_4h", "2 à 4 heures par mois"),
        T("plus_4h", "Plus de 4 heures par mois"),
    ],
)

MODALITE = Vocab(
    "modalite",
    [T("presentiel", "En personne"), T("distance", "À distance"), T("les_deux", "Les deux")],
)

# --- The catalogue --------------------------------------------------------------------------------
FORMAT = Vocab("format", [T("individuel", "Individuel"), T("collectif", "Collectif")])

# --- The back office ------------------------------------------------------------------------------
# Labels: docs/contenu.md « Espace association ». The transitions are in lifecycle.py.
STATUT = Vocab(
    "statut",
    [
        # suivi: the follow-up page's timeline, as the person reads it.
        T("nouvelle", "Nouvelle", suivi="En attente d'un appel de l'association"),
        T("contactee", "Contactée", suivi="Vous avez été contacté·e"),
        T("en_attente", "En attente d'un binôme", suivi="En attente d'un binôme"),
        T("binome_forme", "Binôme formé", suivi="Binôme formé"),
        T("terminee", "Terminée", suivi="Accompagnement terminé"),
        T("sans_suite", "Sans suite", suivi="Demande close"),
    ],
)

MOTIF_SANS_SUITE = Vocab(
    "motif_sans_suite",
    [
        T("injoignable", "Injoignable malgré plusieurs essais"),
        T("absent_rdv", "Ne s'est pas présenté·e au rendez-vous"),
        T("autre_solution", "A trouvé une autre solution"),
        T("plus_interesse", "N'est plus intéressé·e"),
        T("hors_criteres", "Ne correspond pas aux critères du programme"),
        T("trop_loin", "Trop loin de nos lieux d'accompagnement"),
        T("doublon", "Doublon d'une autre demande"),
        T("autre", "Autre (préciser)", needs_note=True),
    ],
)

MOTIF_TRANSFERT = Vocab(
    "motif_transfert",
    [
        T("pas_de_mentor", "Pas de mentor disponible en ce moment"),
        T("hors_territoire", "Hors de notre territoire"),
        T("hors_criteres", "Hors de nos critères"),
        T("autre", "Autre (préciser)", needs_note=True),
        # Given by `tick` only (relances.py), never offered to staff: see AUTOMATIC_MOTIFS.
        T("sans_reponse", "Sans réponse de l'association dans le délai promis"),
    ],
)
# Hand-over reasons that only the platform gives: staff forms list
# MOTIF_TRANSFERT.choices(exclude=AUTOMATIC_MOTIFS).
AUTOMATIC_MOTIFS = ("sans_reponse",)

# The timeline: one kind per action of lifecycle.py, and the platform's own events.
EVENEMENT = Vocab(
    "evenement",
    [
        T("orientation", "Orientée par la plateforme"),
        T("liste_attente", "Mise en liste d'attente"),
        T("choix_alternative", "Autre association choisie par la personne"),
        T("contacter", "Personne contactée"),
        T("mettre_en_attente", "En attente d'un binôme"),
        T("former_binome", "Binôme formé"),
        T("terminer", "Accompagnement terminé"),
        T("classer_sans_suite", "Classée sans suite"),
        T("rouvrir", "Rouverte"),
        T("transfert", "Confiée à une autre association"),
        T("relance_1", "Rappel envoyé à l'association (délai promis atteint)"),
        # Whether the platform got a copy is the event's note (OPERATOR_EMAIL may be empty).
        T("relance_2", "Dernier rappel envoyé à l'association"),
        T(
            "relance_attente",
            "Rappel envoyé à l'association (en attente d'un binôme depuis longtemps)",
        ),
        T("suppression_donnees", "Données supprimées par la personne"),
        T("anonymisation", "Données personnelles effacées (durée de conservation écoulée)"),
    ],
)

# Each staff member's choice of e-mails about new leads (espace « Mon compte »).
NOTIFICATIONS = Vocab(
    "notifications",
    [
        T("chaque_demande", "Un e-mail par nouvelle demande"),
        T("resume_quotidien", "Un résumé quotidien"),
    ],
)

# The person's own reasons to stop, on the follow-up page (docs/contenu.md « Suivi »).
MOTIF_ARRET = Vocab(
    "motif_arret",
    [
        T("autre_solution", "J'ai trouvé une autre solution"),
        T("plus_le_temps", "Je n'ai plus le temps"),
        T("ne_convient_pas", "L'association ne me convient pas"),
        T("autre", "Autre"),
    ],
)

RESULTAT_ORIENTATION = Vocab(
    "resultat_orientation",
    [
        T("proposee", "Proposée"),
        T("acceptee", "Choisie par la personne"),
        T("refusee", "Écartée par la personne"),
        T("expiree", "Remplacée par une nouvelle orientation"),
        T("transferee", "Confiée à une autre association"),
    ],
)

# A demande's public reference, « J-7K3Q9 »: the kind's letter, a dash, five characters
# nobody misreads (no 0/O, 1/I/L).
REFERENCE_PREFIX = {"jeune": "J", "mentor": "M"}
REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
REFERENCE_LENGTH = 5
REFERENCE_PATTERN = f"[{''.join(REFERENCE_PREFIX.values())}]-[0-9A-Z]{{{REFERENCE_LENGTH}}}"

ROLE = Vocab(
    "role",
    [
        T("responsable", "Responsable"),
        T("membre", "Membre"),
        T("admin", "Administrateur ou administratrice de la plateforme"),
    ],
)

VOCABS = {
    vocab.name: vocab
    for vocab in (
        PARCOURS,
        SITUATION_JEUNE,
        SITUATION_MENTOR,
        BESOIN,
        PUBLIC,
        RENCONTRE,
        CONTACT_PREF,
        TRANCHE_AGE,
        SECTEUR,
        PUBLIC_MENTOR,
        DISPONIBILITE,
        MODALITE,
        FORMAT,
        STATUT,
        MOTIF_SANS_SUITE,
        MOTIF_TRANSFERT,
        EVENEMENT,
        MOTIF_ARRET,
        RESULTAT_ORIENTATION,
        ROLE,
        NOTIFICATIONS,
    )
}


def vocab(kind):
    """The Vocab named `kind`; KeyError names it when it does not exist (a typo in a
    template must fail loudly, not print a code)."""
    try:
        return VOCABS[kind]
    except KeyError:
        raise KeyError(f"unknown vocabulary: {kind!r}") from None


def label(kind, code, form=None):
    """The French wording of `code` in the vocabulary `kind` (`form`: another wording).

    Several codes (a list, or "a,b" as Lead.besoin stores a mentor's besoins) give their
    wordings joined with ", "."""
    if isinstance(code, str) and "," in code:
        code = code.split(",")
    if isinstance(code, list | tuple | set | frozenset):
        return ", ".join(vocab(kind).label(c, form) for c in code)
    return vocab(kind).label(code, form)


def jinja_label(code, kind, form=None):
    """The `label` template filter: {{ lead.status|label("statut") }}."""
    return label(kind, code, form)


def situation_vocab(parcours):
    return SITUATION_JEUNE if parcours == "jeune" else SITUATION_MENTOR
