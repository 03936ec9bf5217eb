"""The questionnaire engine's views, the same for both parcours.

Every step has its own URL and renders a full page or, for htmx, the <main>
region. Where the person stands comes from the Journey walker, never from a
stored "current step".
"""

import datetime as dt
import json
import secrets

from flask import Blueprint, abort, current_app, redirect, request, session, url_for

import models
from domain import email_typos, phones
from domain.journeys import CHECK, PARCOURS, Journey
from forms.questionnaire import FORMS, ConsentForm
from services import catalogue, demandes, drafts, suivi
from views import public, rendering
from views.rendering import is_partial, render, render_html, respond
from web.csrf import csrf_token

bp = Blueprint("questionnaire", __name__)

PARCOURS_RULE = "<any(jeune, mentor):parcours>"
RETURN_ARG = "retour"  # set by the "Modifier" links of the check page
ASKED_ARG = "depuis"  # the page asked for, when it sent the person back to an earlier one
MAX_REMEMBERED_LEADS = 10
# Rendered question pages kept per worker (see cached_step_page): a few per step.
MAX_CACHED_PAGES = 1024
# Stands for the session's CSRF token in a cached page; random, so no answer holds it.
CSRF_PLACEHOLDER = f"csrf-{secrets.token_hex(16)}"
# Fields whose stored values are choices among codes, never typed text.
CHOICE_FIELDS = {"RadioField", "SelectMultipleField", "Checkbox", "CSRFTokenField"}


# Answers and contact details of minors.
bp.after_request(rendering.no_store)


def draft_token(parcours):
    return session.get("drafts", {}).get(parcours)


def load_draft(parcours):
    return drafts.get_draft(
        draft_token(parcours), parcours, current_app.config["DRAFT_MAX_AGE_HOURS"]
    )


def open_draft(parcours):
    """The draft being filled in; a submitted one means a fresh start."""
    draft = load_draft(parcours)
    return None if draft is None or draft.lead_id else draft


def remember_draft(parcours, draft):
    drafts = dict(session.get("drafts", {}))
    drafts[parcours] = draft.token
    session["drafts"] = drafts
    session.permanent = True


def remember_lead(lead):
    refs = [r for r in session.get("leads", []) if r != lead.reference]
    session["leads"] = (refs + [lead.reference])[-MAX_REMEMBERED_LEADS:]


def step_url(parcours, name, returning=False):
    if name == CHECK:
        return url_for("questionnaire.verifier", parcours=parcours)
    args = {RETURN_ARG: CHECK} if returning else {}
    return url_for("questionnaire.step", parcours=parcours, etape=name, **args)


def back_url(journey, name, returning):
    if returning:
        return step_url(journey.parcours.name, CHECK)
    previous = journey.previous(name)
    if previous is None:
        return url_for("public.accueil")
    return step_url(journey.parcours.name, previous)


def page_title(parcours, heading, errors=False):
    return rendering.page_title(heading, parcours.title, errors=errors)


@bp.get(f"/{PARCOURS_RULE}")
@bp.get(f"/{PARCOURS_RULE}/")
def start(parcours):
    """/jeune and /mentor, as people type them: the first question."""
    return redirect(step_url(parcours, PARCOURS[parcours].steps[0].name))


@bp.route(f"/{PARCOURS_RULE}/<etape>", methods=["GET", "POST"])
def step(parcours, etape):
    parcours = PARCOURS[parcours]
    step = parcours.step(etape)
    if step is None:
        abort(404)
    draft = open_draft(parcours.name)
    journey = Journey(parcours, draft.answers if draft else {})
    if not journey.can_visit(etape):
        return redirect(landing_url(journey, etape), 303)
    if step.exit:
        if request.method == "POST":
            abort(405, valid_methods=["GET", "HEAD"])
        return render_exit(journey, step)

    form_class = FORMS[parcours.name][etape]
    returning = request.args.get(RETURN_ARG) == CHECK
    if request.method != "POST":  # GET, or HEAD which answers as GET does
        return cached_step_page(journey, step, form_class, returning)

    csrf_token()  # the session's signed token, reused: the form would sign a new one
    form = form_class()
    if not form.validate():
        return render_step(journey, step, form, returning, status=422)
    if form.needs_choice:
        return render_step(journey, step, form, returning)

    draft = drafts.save_step(
        draft_token(parcours.name),
        parcours.name,
        etape,
        form.answers(),
        current_app.config["DRAFT_MAX_AGE_HOURS"],
        seen=draft,
    )
    remember_draft(parcours.name, draft)
    journey = Journey(parcours, draft.answers)
    # From a "Modifier" link: back to the check page once nothing is missing.
    target = journey.first_url_step if returning else journey.following(etape)
    return redirect(step_url(parcours.name, target, returning and target != CHECK), 303)


def landing_url(journey, asked):
    """Where a page the person cannot see yet sends them; a question says why."""
    target = journey.first_url_step
    if target == CHECK or journey.parcours.step(target).exit:
        return step_url(journey.parcours.name, target)
    return url_for(
        "questionnaire.step", parcours=journey.parcours.name, etape=target, **{ASKED_ARG: asked}
    )


def sent_back(journey, step):
    """Why this question is shown instead of the page asked for (ASKED_ARG): "expiree"
    when no answer is known (a fresh browser, or answers past their lifetime), "ordre"
    when earlier questions still wait. None on a plain visit or a junk argument."""
    asked = request.args.get(ASKED_ARG)
    if asked == step.name or (asked != CHECK and journey.parcours.step(asked) is None):
        return None
    return "ordre" if journey.answers else "expiree"


def cached_step_page(journey, step, form_class, returning):
    """The question page as a GET shows it, rendered once per worker for the same inputs.

    Without errors, the page is a function of the step, its stored answers, where the
    journey stands (progress, back link, sent back), full page or htmx region, and the
    demo flag: rendering it (forms, Jinja macros) costs most of a step, so it is kept,
    with a placeholder where the session's CSRF token goes. Only pages holding no typed
    text are kept (a first visit, or answers that are all choices among codes): no
    personal data stays in memory.
    """
    stored = journey.answers.get(step.name)
    key = (
        journey.parcours.name,
        step.name,
        json.dumps(stored, sort_keys=True),
        returning,
        is_partial(),
        journey.progress(step.name),
        returning or journey.previous(step.name),  # what back_url is made of
        sent_back(journey, step),
        # The only settings the step templates read (public.demo_instance, step.html).
        public.demo_instance()["demo"],
        current_app.config["DRAFT_MAX_AGE_HOURS"],
    )
    token = csrf_token()  # first: a form built below takes the same one
    pages = current_app.extensions.setdefault("step_pages", {})
    html = pages.get(key)
    if html is None:
        form = form_class(data=form_class.form_data(stored) if stored else None)
        html = step_html(journey, step, form, returning, csrf_token=lambda: CSRF_PLACEHOLDER)
        if stored is None or all(f.type in CHOICE_FIELDS for f in form):
            if len(pages) >= MAX_CACHED_PAGES:
                pages.clear()
            pages[key] = html
    return respond(html.replace(CSRF_PLACEHOLDER, token))


def render_step(journey, step, form, returning, status=200):
    return respond(step_html(journey, step, form, returning), status)


def step_html(journey, step, form, returning, **context):
    parcours = journey.parcours
    errors = bool(form.errors)
    template = "questionnaire/commune.html" if step.name == "commune" else "questionnaire/step.html"
    return render_html(
        template,
        parcours=parcours,
        step=step,
        form=form,
        title=page_title(parcours, step.question, errors),
        back_url=back_url(journey, step.name, returning),
        action=step_url(parcours.name, step.name, returning),
        progress=journey.progress(step.name),
        sent_back=sent_back(journey, step),
        **context,
    )


def render_exit(journey, step):
    programmes = []
    if step.name == "moins-de-11-ans":
        programmes = catalogue.for_youngest()
    return render(
        f"questionnaire/sortie-{step.name}.html",
        parcours=journey.parcours,
        step=step,
        title=page_title(journey.parcours, step.question),
        back_url=back_url(journey, step.name, False),
        programmes=programmes,
    )


@bp.route(f"/{PARCOURS_RULE}/{CHECK}", methods=["GET", "POST"])
def verifier(parcours):
    parcours = PARCOURS[parcours]
    draft = load_draft(parcours.name)
    if draft is not None and draft.lead_id:
        # Double tap, replay or a second tab: the demande already exists.
        remember_lead(draft.lead)
        return redirect(result_url(draft.lead), 303)
    journey = Journey(parcours, draft.answers if draft else {})
    if not journey.is_complete:
        return redirect(landing_url(journey, CHECK), 303)

    form = ConsentForm()
    if request.method != "POST":  # GET or HEAD
        return render_check(journey, form, stale=first_invalid_step(journey))
    if not form.validate():
        return render_check(journey, form, status=422)
    trap = form.reference_dossier_interne.data
    if drafts.sent_by_a_robot(draft, trap, current_app.config["MIN_FILL_SECONDS"]):
        # An ordinary-looking answer; nothing is created, nobody is e-mailed.
        return redirect(url_for("questionnaire.envoyee", parcours=parcours.name), 303)
    try:
        lead = drafts.submit(
            draft.token, first_invalid_step, current_app.config["SENT_AGAIN_HOURS"]
        )
    except drafts.InvalidDraft:
        # Only a change made meanwhile (another tab, the communes file) gets here.
        return redirect(url_for("questionnaire.verifier", parcours=parcours.name), 303)
    if lead.sent_again and lead.reference not in session.get("leads", []):
        # Another browser's demande: its result page, without its secret link nor the
        # change of association (sent_again).
        linked = [r for r in session.get("sent_again", []) if r != lead.reference]
        session["sent_again"] = (linked + [lead.reference])[-MAX_REMEMBERED_LEADS:]
    remember_lead(lead)
    return redirect(result_url(lead), 303)


@bp.get(f"/{PARCOURS_RULE}/envoyee")
def envoyee(parcours):
    """What a robot's sending gets (verifier): a thank-you page, nothing else."""
    parcours = PARCOURS[parcours]
    return render(
        "questionnaire/envoyee.html",
        parcours=parcours,
        title=page_title(parcours, f"Votre {parcours.noun} est bien envoyée"),
    )


def first_invalid_step(journey):
    """Re-validate every step from the stored answers before anything is created."""
    for step in journey.completed:
        answers = journey.answers[step.name]
        form = FORMS[journey.parcours.name][step.name].from_answers(answers)
        if not form.validate() or not form.designates(answers):
            return step.name
    return None


def summary_rows(journey):
    rows = []
    for step in journey.completed:
        form_class = FORMS[journey.parcours.name][step.name]
        url = step_url(journey.parcours.name, step.name, returning=True)
        for label, value in form_class.summary(journey.answers[step.name]):
            rows.append({"label": label, "value": value, "url": url, "question": step.question})
    return rows


def render_check(journey, form, status=200, stale=None):
    heading = f"Vérifiez vos réponses avant d'envoyer votre {journey.parcours.noun}"
    return render(
        "questionnaire/verifier.html",
        status=status,
        parcours=journey.parcours,
        form=form,
        rows=summary_rows(journey),
        email_hint=email_hint(journey),
        title=page_title(journey.parcours, heading, bool(form.errors or stale)),
        heading=heading,
        stale=stale
        and {
            "question": journey.parcours.step(stale).question,
            "url": step_url(journey.parcours.name, stale, returning=True),
        },
        back_url=back_url(journey, CHECK, False),
    )


def email_hint(journey):
    """« Vouliez-vous dire …@gmail.com ? » and where to correct it, or None."""
    answers = journey.answers.get("coordonnees") or {}
    meant = email_typos.suggestion(answers.get("email", ""))
    if meant is None:
        return None
    return {"meant": meant, "url": step_url(journey.parcours.name, "coordonnees", returning=True)}


def result_url(lead):
    return url_for("questionnaire.resultat", parcours=lead.kind, reference=lead.reference)


def visible_lead(parcours, reference):
    """Only the browser that sent a demande sees its result page."""
    if reference not in session.get("leads", []):
        abort(404)
    lead = models.Lead.get_or_none(
        (models.Lead.reference == reference) & (models.Lead.kind == parcours)
    )
    if lead is None:
        abort(404)
    return lead


@bp.get(f"/{PARCOURS_RULE}/resultat/<reference>")
def resultat(parcours, reference):
    return render_result(visible_lead(parcours, reference))


def sent_again(lead):
    """This browser sent the same person's demande again and was linked to a first one
    sent elsewhere (drafts.submit): whoever typed that e-mail or phone may not be them."""
    return lead.reference in session.get("sent_again", [])


def render_result(lead, status=200):
    parcours = PARCOURS[lead.kind]
    orientations = drafts.orientations_of(lead)
    current = drafts.current_orientation(orientations)
    # Only the latest run of the matcher: a hand-over expired the earlier proposals.
    live = [o for o in orientations if o.outcome in demandes.LIVE_OUTCOMES]
    alternatives = [o for o in live if o is not current]
    return render(
        "questionnaire/resultat.html",
        status=status,
        parcours=parcours,
        lead=lead,
        current=current,
        alternatives=alternatives,
        changes_left=0 if sent_again(lead) else drafts.changes_left(lead),
        max_changes=drafts.MAX_CHANGES,
        suivi_link=None if sent_again(lead) else suivi.link(lead),
        sent_again=sent_again(lead),
        sent=suivi.confirmations_sent(lead),
        told_by=suivi.told_by(lead),
        can_sms_link=suivi.can_send_link_by_sms(lead),
        sms_notice=sms_notice(lead, request.args.get("sms")),
        title=page_title(parcours, f"Votre {parcours.noun} est bien enregistrée"),
    )


def sms_notice(lead, asked):
    """After « M'envoyer ce lien par SMS »: what really happened, read from the outbox."""
    if asked is None:
        return None
    recent = models.now() - dt.timedelta(minutes=10)
    if asked == "1" and suivi.link_sms_sent_since(lead, recent):
        return f"C'est envoyé : le lien arrive par SMS au {phones.display(lead.telephone)}."
    return (
        "Nous n'avons pas pu envoyer de SMS à ce numéro pour le moment (trop d'envois "
        "aujourd'hui) : notez le lien ci-dessous."
    )


@bp.post(f"/{PARCOURS_RULE}/resultat/<reference>/sms")
def envoyer_lien_sms(parcours, reference):
    """« M'envoyer ce lien par SMS » (a POST form, CSRF): then back to the result page."""
    lead = visible_lead(parcours, reference)
    sent = suivi.send_link_by_sms(lead) is not None
    return redirect(result_url(lead) + ("?sms=1" if sent else "?sms=0"), 303)


@bp.post(f"/{PARCOURS_RULE}/resultat/<reference>/choisir")
def choisir(parcours, reference):
    lead = visible_lead(parcours, reference)
    if sent_again(lead):
        abort(404)
    # None for anything but an integer (werkzeug catches int()'s ValueError).
    orientation_id = request.form.get("orientation", type=int)
    try:
        chosen = orientation_id is not None and drafts.choose(lead, orientation_id)
    except drafts.TooManyChanges:
        # The result page says why nothing changed; htmx swaps it like any answer.
        return render_result(lead, status=409)
    if not chosen:
        abort(400)
    return redirect(result_url(lead), 303)
