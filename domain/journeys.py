"""The two questionnaires as data, and the walker that derives where a person is.

Pure Python: no Flask, no database. We never store a "current step": the walker
follows the stored answers from the first step, each step's condition deciding
whether it applies, and finds the completed steps and the next one (after
GOV.UK Forms' runner, app/lib/flow/journey.rb).
"""

from collections.abc import Callable
from dataclasses import dataclass

from domain import vocabulary as V

CHECK = "verifier"


def always(answers):
    return True


@dataclass(frozen=True)
class Step:
    name: str  # the URL segment: /jeune/<name>
    question: str  # the page heading and <title>
    condition: Callable[[dict], bool] = always  # applies, given the answers before it
    exit: bool = False  # an end page with no form (e.g. 30 and over)
    intro: str = ""  # one sentence under the question: why we ask, what happens next


@dataclass(frozen=True)
class Parcours:
    name: str  # "jeune" | "mentor"
    title: str  # for <title>: "Je trouve un mentor"
    noun: str  # what is sent: "demande" | "candidature"
    steps: tuple[Step, ...]
    submit_label: str

    @property
    def fixed_length(self):
        """No step depends on the answers: « Étape n sur N » can be shown."""
        return all(step.condition is always for step in self.steps)

    def step(self, name):
        for step in self.steps:
            if step.name == name:
                return step
        return None


def _age_at_least(limit):
    return lambda answers: answers.get("age", 0) >= limit


def _age_under(limit):
    return lambda answers: 0 < answers.get("age", 0) < limit


JEUNE = Parcours(
    name="jeune",
    title="Je trouve un mentor",
    noun=V.PARCOURS.label("jeune", "nom"),
    submit_label="Envoyer ma demande",
    steps=(
        Step("age", "Quel âge avez-vous ?"),
        Step(
            "plus-de-30-ans",
            "Le mentorat 1 jeune, 1 mentor s'adresse aux jeunes de moins de 30 ans",
            condition=_age_at_least(30),
            exit=True,
        ),
        Step(
            "moins-de-11-ans",
            "Un parent peut contacter directement une association",
            condition=_age_under(11),
            exit=True,
        ),
        Step("situation", "Quelle est votre situation aujourd'hui ?"),
        Step("besoin", "Sur quoi aimeriez-vous être accompagné·e ?"),
        Step("commune", "Où habitez-vous ?"),
        Step("situation-particuliere", "Êtes-vous dans l'une de ces situations ?"),
        Step("rencontre", "Comment préférez-vous rencontrer votre mentor ?"),
        Step("coordonnees", "Comment l'association peut-elle vous contacter ?"),
        Step(
            "parent",
            "Votre parent ou représentant légal",
            condition=_age_under(15),
            intro=(
                "Comme vous avez moins de 15 ans, votre parent ou représentant légal doit être "
                "d'accord : s'il ou elle a une adresse e-mail, nous lui envoyons une copie de "
                "votre demande, et l'association le ou la contacte avant de vous présenter un "
                "mentor."
            ),
        ),
    ),
)

MENTOR = Parcours(
    name="mentor",
    title="Je deviens mentor",
    noun=V.PARCOURS.label("mentor", "nom"),
    submit_label="Envoyer ma candidature",
    steps=(
        Step("situation", "Quelle est votre situation ?"),
        Step("age", "Quelle est votre tranche d'âge ?"),
        Step("experience", "Dans quel secteur travaillez-vous ou avez-vous travaillé ?"),
        Step("accompagnement", "Sur quoi aimeriez-vous accompagner un jeune ?"),
        Step("disponibilite", "Combien de temps pouvez-vous y consacrer ?"),
        Step("commune", "Où habitez-vous ?"),
        Step("coordonnees", "Comment l'association peut-elle vous contacter ?"),
    ),
)

PARCOURS = {p.name: p for p in (JEUNE, MENTOR)}


class Journey:
    """Where a person stands in a parcours, given the answers stored per step.

    `answers` maps a step name to that step's cleaned answers (a dict).
    """

    def __init__(self, parcours, answers):
        self.parcours = parcours
        self.answers = answers
        self.completed, self.next_step = self._walk()

    def _walk(self):
        completed = []
        known = {}
        for step in self.parcours.steps:
            if not step.condition(known):
                continue
            if step.exit or step.name not in self.answers:
                return completed, step
            completed.append(step)
            known.update(self.answers[step.name])
        return completed, None

    @property
    def is_complete(self):
        """Every applicable question answered: the check page comes next."""
        return self.next_step is None

    @property
    def first_url_step(self):
        """Where a person who asks for a step they cannot see yet is sent."""
        return self.next_step.name if self.next_step else CHECK

    def relevant_answers(self):
        """Answers of the completed steps only: abandoned branches are ignored."""
        merged = {}
        for step in self.completed:
            merged.update(self.answers[step.name])
        return merged

    def inapplicable(self):
        """Stored steps whose condition no longer holds: a changed answer took
        the person off that branch, so those answers are dropped."""
        known = {}
        dropped = []
        for step in self.parcours.steps:
            stored = self.answers.get(step.name)
            if stored is None:
                continue
            if step.condition(known):
                known.update(stored)
            else:
                dropped.append(step.name)
        return dropped

    def can_visit(self, name):
        if name == CHECK:
            return self.is_complete
        applicable = [s.name for s in self.completed]
        if self.next_step is not None:
            applicable.append(self.next_step.name)
        return name in applicable

    def previous(self, name):
        """The step before `name` on the path walked, for the back link."""
        if name == CHECK:
            return self.completed[-1].name if self.completed else None
        names = [s.name for s in self.completed]
        if self.next_step is not None:
            names.append(self.next_step.name)
        index = names.index(name)
        return names[index - 1] if index > 0 else None

    def following(self, name):
        """The step after `name` on the path walked, or the check page."""
        names = [s.name for s in self.completed]
        if name not in names:
            return self.first_url_step
        index = names.index(name)
        if index + 1 < len(names):
            return names[index + 1]
        return self.first_url_step

    def progress(self, name):
        """(position, total) of a page among the questions that apply now, check page
        included. The total moves with the answers, so it is shown as a bar only."""
        known = self.relevant_answers()
        names = [s.name for s in self.parcours.steps if not s.exit and s.condition(known)]
        names.append(CHECK)
        position = names.index(name) + 1 if name in names else len(names)
        return position, len(names)
