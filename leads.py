"""Drafts (answers kept server-side while a person fills the questionnaire) and
the submission that turns a draft into a lead with its orientations."""

import datetime as dt
import secrets

from peewee import IntegrityError

import catalogue
import matcher
import models
import territory
from journeys import PARCOURS, Journey

# No 0/O, 1/I/L: a reference is read over the phone.
REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
REFERENCE_PREFIX = {"jeune": "J", "mentor": "M"}


def new_token():
    return secrets.token_urlsafe(32)


def get_draft(token, parcours, max_age_days):
    """The person's draft, submitted or not, or None when unknown or too old."""
    if not token:
        return None
    oldest = models.now() - dt.timedelta(days=max_age_days)
    return (
        models.Draft.select()
        .where(
            (models.Draft.token == token)
            & (models.Draft.parcours == parcours)
            & (models.Draft.updated_at >= oldest)
        )
        .first()
    )


def save_step(draft, parcours, step_name, step_answers):
    """Store one step's answers; answers on abandoned branches are dropped.

    Returns the draft, created on the first valid answer (never on a GET).
    """
    with models.write_transaction():
        if draft is None:
            draft = models.Draft(token=new_token(), parcours=parcours, answers={})
            force_insert = True
        else:
            force_insert = False
        answers = dict(draft.answers)
        answers[step_name] = step_answers
        for name in Journey(PARCOURS[parcours], answers).inapplicable():
            del answers[name]
        draft.answers = answers
        draft.updated_at = models.now()
        draft.save(force_insert=force_insert)
    return draft


def new_reference(kind):
    suffix = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(5))
    return f"{REFERENCE_PREFIX[kind]}-{suffix}"


def submit(token):
    """Create the lead, run the matcher and store its orientations, in one
    transaction. A second submit of the same draft returns the same lead."""
    with models.write_transaction():
        draft = models.Draft.get(models.Draft.token == token)
        if draft.lead_id is not None:
            return draft.lead
        journey = Journey(PARCOURS[draft.parcours], draft.answers)
        answers = journey.relevant_answers()
        place = territory.place(answers["commune"], answers.get("code_postal"))
        lead = create_lead(draft.parcours, answers, place)
        orient(lead, answers, place)
        draft.lead = lead
        draft.submitted_at = models.now()
        draft.save()
    return lead


def create_lead(kind, answers, place):
    fields = dict(
        kind=kind,
        suivi_token=new_token(),
        answers=answers,
        age=answers.get("age"),
        situation=answers["situation"],
        besoin=answers.get("besoin", ",".join(answers.get("besoins", []))),
        commune=place.insee,
        departement=place.departement,
        prenom=answers["prenom"],
        nom=answers["nom"],
        email=answers.get("email", ""),
        telephone=answers.get("telephone", ""),
        contact_pref=answers.get("contact_pref", "email"),
    )
    for _ in range(10):
        try:
            with models.db.atomic():
                return models.Lead.create(reference=new_reference(kind), **fields)
        except IntegrityError:
            continue  # a reference already taken: draw another
    raise RuntimeError("no free reference after 10 draws")


def orient(lead, answers, place):
    """Run the matcher and keep every proposal as an Orientation row."""
    person = matcher.person_from_answers(lead.kind, answers, place)
    result = matcher.match(person, catalogue.snapshot(), **catalogue.stats())
    for proposal in result.proposals:
        models.Orientation.create(
            lead=lead,
            programme=proposal.programme_id,
            rank=proposal.rank,
            score=proposal.score,
            reasons=list(proposal.reasons),
            matcher_version=matcher.MATCHER_VERSION,
        )
    first = result.proposals[0] if result.proposals else None
    lead.waiting_list = first is None
    lead.association = first.association_id if first else None
    lead.save()
    models.Evenement.create(
        lead=lead,
        kind="orientation" if first else "liste_attente",
        to_status=lead.status,
        author="matcher " + matcher.MATCHER_VERSION,
        note="repli : seulement des programmes à distance" if result.distance_forcee else "",
    )


def current_orientation(lead):
    """The orientation in effect: the one the person chose, else the first proposal."""
    orientations = list(
        lead.orientations.where(models.Orientation.outcome.in_(["proposee", "acceptee"])).order_by(
            models.Orientation.rank
        )
    )
    chosen = [o for o in orientations if o.outcome == "acceptee"]
    return chosen[0] if chosen else (orientations[0] if orientations else None)


def choose(lead, orientation_id):
    """The person switches to an alternative: recorded, history kept."""
    with models.write_transaction():
        target = lead.orientations.where(models.Orientation.id == orientation_id).first()
        current = current_orientation(lead)
        if target is None or current is None or target.id == current.id:
            return False
        current.outcome = "refusee"
        current.outcome_reason = "autre_choix"
        current.save()
        target.outcome = "acceptee"
        target.save()
        lead.association = target.programme.association_id
        lead.updated_at = models.now()
        lead.save()
        models.Evenement.create(
            lead=lead,
            kind="choix_alternative",
            author="personne",
            note=f"{current.programme.slug} -> {target.programme.slug}",
        )
    return True
