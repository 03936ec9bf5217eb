"""The life of a lead as data: its statuses and the actions that move it, like journeys.py.

Pure Python: no Flask, no database. demandes.change_status is the one place that applies
these rules to a stored lead; the back office shows `actions_for(lead.status)` as buttons.

    nouvelle -> contactee -> en_attente -> binome_forme -> terminee
    sans_suite from any status before a pair (a reason from a fixed list; "autre" needs a
    note): once a pair is formed, it ends with "terminer", which closes the Binome too
    rouvrir: sans_suite or terminee -> contactee

A hand-over to another association is not a status: the lead goes back to "nouvelle" at
the new association (demandes.hand_over), from the statuses in HAND_OVER.from_statuses.
"""

from dataclasses import dataclass

from domain import vocabulary as V

STATUSES = V.STATUT.codes
INITIAL = "nouvelle"
CLOSED = frozenset({"terminee", "sans_suite"})
OPEN = tuple(s for s in STATUSES if s not in CLOSED)
# Still waiting for a pair: what the matcher counts as youths waiting / mentors available.
WAITING_FOR_PAIR = ("nouvelle", "contactee", "en_attente")
# Moves that only form_pair / end_pair make: they create or close a Binome too.
PAIR_STATUSES = frozenset({"binome_forme"})

NOTE_MAX = 2000
# A note's two refusals, said the same way by every form and service that takes a note.
NOTE_TOO_LONG = f"Écrivez une note de {NOTE_MAX} caractères au plus"
NOTE_INVALID = "La note contient des caractères non valides"


@dataclass(frozen=True)
class Action:
    code: str  # also the Evenement's kind
    label: str  # the button, docs/contenu.md « Espace association »
    from_statuses: tuple
    to: str | None  # None: not a change of status (the hand-over)
    reasons: V.Vocab | None = None  # a reason from this list is required
    note_required: bool = False  # a note is always required

    def needs_note(self, reason):
        term = self.reasons.by_code.get(reason) if self.reasons else None
        return self.note_required or bool(term and term.needs_note)


ACTIONS = (
    Action("contacter", "J'ai contacté cette personne", ("nouvelle",), "contactee"),
    Action("mettre_en_attente", "Mettre en attente d'un binôme", ("contactee",), "en_attente"),
    Action("former_binome", "Former un binôme", ("contactee", "en_attente"), "binome_forme"),
    Action("terminer", "Terminer l'accompagnement", ("binome_forme",), "terminee"),
    Action(
        "classer_sans_suite",
        "Classer sans suite",
        WAITING_FOR_PAIR,
        "sans_suite",
        reasons=V.MOTIF_SANS_SUITE,
    ),
    Action("rouvrir", "Rouvrir", ("sans_suite", "terminee"), "contactee"),
)
HAND_OVER = Action(
    "transfert",
    "Confier à une autre association",
    WAITING_FOR_PAIR,
    None,
    reasons=V.MOTIF_TRANSFERT,
)
BY_CODE = {action.code: action for action in (*ACTIONS, HAND_OVER)}


class TransitionError(Exception):
    """The action is not allowed or lacks its reason or note; `message` says so in French,
    `field` names what to correct ("reason", "note") when it is the person's input."""

    def __init__(self, message, field=None):
        super().__init__(message)
        self.message = message
        self.field = field


def status_label(status):
    return V.STATUT.label(status)


def actions_for(status, hand_over=True):
    """The actions offered to staff for a lead in `status`, in button order."""
    actions = [a for a in ACTIONS if status in a.from_statuses]
    if hand_over and status in HAND_OVER.from_statuses:
        actions.append(HAND_OVER)
    return actions


def action_to(from_status, to_status):
    """The action that moves `from_status` to `to_status`, or None."""
    for action in ACTIONS:
        if action.to == to_status and from_status in action.from_statuses:
            return action
    return None


def check(from_status, to_status, reason="", note=""):
    """The Action allowed for this move, or TransitionError with a French message."""
    if from_status not in STATUSES or to_status not in STATUSES:
        raise TransitionError("Ce statut n'existe pas.")
    if from_status == to_status:
        raise TransitionError(f"Cette demande est déjà « {status_label(to_status)} ».")
    action = action_to(from_status, to_status)
    if action is None:
        raise TransitionError(
            f"Une demande « {status_label(from_status)} » ne peut pas passer à "
            f"« {status_label(to_status)} »."
        )
    check_input(action, reason, note)
    return action


def check_hand_over(from_status, reason="", note=""):
    if from_status not in HAND_OVER.from_statuses:
        raise TransitionError(
            f"Une demande « {status_label(from_status)} » ne peut pas être confiée à une "
            "autre association."
        )
    check_input(HAND_OVER, reason, note)
    return HAND_OVER


def check_input(action, reason, note):
    """The reason is one of the action's list (or none when it takes none); the note is
    given when it must be, and not too long."""
    if action.reasons is None:
        if reason:
            raise TransitionError("Cette action ne demande pas de motif.", "reason")
    elif not reason:
        raise TransitionError("Choisissez un motif.", "reason")
    elif reason not in action.reasons:
        raise TransitionError("Choisissez un motif dans la liste.", "reason")
    if action.needs_note(reason) and not (note or "").strip():
        raise TransitionError("Précisez le motif dans la note.", "note")
    if len(note or "") > NOTE_MAX:
        raise TransitionError(NOTE_TOO_LONG, "note")
