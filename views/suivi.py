"""The private follow-up pages, /suivi/<token>: no account, the link is the key.

A GET only shows; each action has a page of its own that asks for confirmation, and its
POST (CSRF) acts then redirects (303). A wrong, old or erased link gets the kind 404.
The link never leaves the site: the Referer only to our own pages (same-origin: over
HTTPS Flask-WTF's CSRF check needs it on the forms' POST), no cache, no index, no log
(log_redaction.py).
"""

import json

from flask import Blueprint, Response, current_app, redirect, request, url_for
from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, ValidationError

from domain import dates, email_typos, lifecycle
from domain import vocabulary as V
from domain.suivi_wording import wording
from forms.questionnaire import email_field, phone_field, strip
from mail import outbox, sms
from services import demandes, link_requests, suivi
from views.rendering import page_title, private, render

bp = Blueprint("suivi", __name__, url_prefix="/suivi")

# Notices after an action (PRG: the page it redirects to says what was done).
DONE = {
    "arret": "C'est noté : votre {noun} est close. Merci de nous avoir prévenus.",
    "coordonnees": "C'est noté : nous utiliserons désormais vos nouvelles coordonnées.",
}


# Every page here, the lost link's included, as a secret link's (rendering.private).
bp.after_request(private)


class ConfirmForm(FlaskForm):
    """Only the CSRF token, and the version of the lead the page showed."""

    version = HiddenField(filters=[strip])

    def expected_version(self):
        return int(self.version.data) if self.version.data.isdigit() else None


def optional_reason(form, field):
    if field.data not in ("", *V.MOTIF_ARRET.codes):
        raise ValidationError("Choisissez un motif dans la liste, ou aucun")


class StopForm(ConfirmForm):
    # The reason is optional: no answer is one, anything else must be of the list.
    motif = RadioField(
        "Pourquoi ? (facultatif)",
        choices=V.MOTIF_ARRET.choices(),
        validate_choice=False,
        default="",
        validators=[optional_reason],
    )


class LostLinkForm(FlaskForm):
    """An e-mail address, or (when SMS are on) the mobile number given in the demande."""

    email = email_field("Adresse e-mail")
    telephone = phone_field("Ou numéro de téléphone portable")

    def validate(self, extra_validators=None):
        valid = super().validate(extra_validators)
        if valid and not (self.email.data or self.telephone.data):
            self.email.errors.append(
                "Indiquez votre adresse e-mail ou votre numéro de téléphone portable"
                if sms_on()
                else "Indiquez votre adresse e-mail"
            )
            return False
        return valid


def sms_on():
    return sms.current_settings().enabled


def title(heading, errors=False):
    return page_title(heading, errors=errors)


def not_found():
    return render("suivi/introuvable.html", status=404, title=title("Lien de suivi introuvable"))


# --- The page -----------------------------------------------------------------------------------
@bp.get("/<secret:token>")
def page(token):
    lead = suivi.by_token(token)
    if lead is None:
        return not_found()
    association = lead.association
    return render(
        "suivi/page.html",
        lead=lead,
        token=token,
        association=association,
        # Handed over to nobody (the waiting list): the first association's contact stays.
        previous=None if association else demandes.previous_association(lead),
        noun=V.PARCOURS.label(lead.kind, "nom"),
        status_sentence=suivi.status_sentence(lead),
        timeline=suivi.timeline(lead),
        can_say_not_contacted=suivi.can_say_not_contacted(lead),
        can_stop=suivi.can_stop(lead),
        words=wording(lead.kind),
        done=done_notice(lead, request.args.get("fait", "")),
        title=title(f"Votre {V.PARCOURS.label(lead.kind, 'nom')} {lead.reference}"),
    )


def done_notice(lead, done):
    """What the action really did, read from the lead as it is now."""
    noun = V.PARCOURS.label(lead.kind, "nom")
    if done == "transfert" and lead.association_id is None:
        return (
            f"Aucune autre association ne peut reprendre votre {noun} pour le moment : elle "
            "est sur notre liste d'attente. Nous revenons vers vous dès qu'une association "
            "peut vous accompagner."
        )
    if done == "transfert":
        return f"C'est fait : votre {noun} est confiée à {lead.association.nom}."
    return DONE[done].format(noun=noun) if done in DONE else None


def back(token, done=None):
    args = {"fait": done} if done else {}
    return redirect(url_for("suivi.page", token=token, **args), 303)


# --- « Je n'ai pas été recontacté·e » -----------------------------------------------------------
@bp.route("/<secret:token>/pas-recontacte", methods=["GET", "POST"])
def pas_recontacte(token):
    lead = suivi.by_token(token)
    if lead is None:
        return not_found()
    form = ConfirmForm()
    refusal = None
    if request.method == "POST" and form.validate():
        try:
            suivi.say_not_contacted(lead, form.expected_version())
            return back(token, "transfert")
        except (suivi.NotAllowed, demandes.StaleLead, lifecycle.TransitionError) as error:
            refusal = getattr(error, "message", "Votre dossier a changé entre-temps.")
    allowed = suivi.can_say_not_contacted(lead)
    if not allowed and refusal is None:
        refusal = (
            "Ce n'est pas encore possible : "
            f"{lead.association.nom if lead.association else 'l’association'} a jusqu'au "
            f"{dates.day(suivi.due_date(lead))} pour vous recontacter."
            if suivi.due_date(lead)
            else f"Votre {V.PARCOURS.label(lead.kind, 'nom')} n'est confiée à aucune association "
            "pour le moment."
        )
    return render(
        "suivi/pas-recontacte.html",
        status=409 if refusal else 200,
        lead=lead,
        token=token,
        form=form,
        refusal=refusal,
        association=lead.association,
        # Checked before promising: who would take it, or the waiting list.
        next_association=None if refusal else demandes.next_association(lead),
        told_by=suivi.told_by(lead),
        noun=V.PARCOURS.label(lead.kind, "nom"),
        title=title(wording(lead.kind)["not_contacted"]),
    )


# --- « Je ne souhaite plus être accompagné·e » --------------------------------------------------
@bp.route("/<secret:token>/arreter", methods=["GET", "POST"])
def arreter(token):
    lead = suivi.by_token(token)
    if lead is None:
        return not_found()
    form = StopForm()
    refusal = (
        None
        if suivi.can_stop(lead)
        else f"Votre {V.PARCOURS.label(lead.kind, 'nom')} est déjà close."
    )
    status = 409 if refusal else 200
    if request.method == "POST" and refusal is None:
        if form.validate():
            try:
                suivi.stop(lead, form.motif.data or "")
                return back(token, "arret")
            except (suivi.NotAllowed, demandes.StaleLead, lifecycle.TransitionError) as error:
                refusal, status = getattr(error, "message", "Votre dossier a changé."), 409
        else:
            status = 422
    words = wording(lead.kind)
    return render(
        "suivi/arreter.html",
        status=status,
        lead=lead,
        token=token,
        form=form,
        refusal=refusal,
        words=words,
        noun=V.PARCOURS.label(lead.kind, "nom"),
        title=title(words["stop"], errors=bool(form.errors)),
    )


# --- Correcting one's e-mail or phone ----------------------------------------------------------
class ContactForm(FlaskForm):
    email = email_field("Nouvelle adresse e-mail")
    telephone = phone_field("Nouveau numéro de téléphone")

    def validate(self, extra_validators=None):
        valid = super().validate(extra_validators)
        if valid and not (self.email.data or self.telephone.data):
            self.email.errors.append("Indiquez une nouvelle adresse e-mail ou un nouveau numéro")
            return False
        return valid


@bp.route("/<secret:token>/coordonnees", methods=["GET", "POST"])
def coordonnees(token):
    lead = suivi.by_token(token)
    if lead is None:
        return not_found()
    form = ContactForm()
    status, sent = 200, None
    if request.method == "POST":
        if not sms_on():
            form.telephone.data = ""
        if form.validate():
            sent = suivi.ask_contact_change(lead, form.email.data, form.telephone.data)
        else:
            status = 422
    return render(
        "suivi/coordonnees.html",
        status=status,
        lead=lead,
        token=token,
        form=form,
        sent=sent,
        sms_on=sms_on(),
        hint=email_typos.suggestion(form.email.data or "") if request.method == "POST" else None,
        noun=V.PARCOURS.label(lead.kind, "nom"),
        title=title("Corriger mon e-mail ou mon téléphone", errors=bool(form.errors)),
    )


@bp.route("/coordonnees/<secret:code>", methods=["GET", "POST"])
def confirmer_coordonnees(code):
    """The link sent to the new address or number (one secret: the signed code names
    the lead)."""
    form = ConfirmForm()
    refusal = None if suivi.lead_of_change(code) else suivi.EXPIRED_CHANGE
    if request.method == "POST" and refusal is None and form.validate():
        try:
            lead = suivi.confirm_contact_change(code)
            return back(lead.suivi_token, "coordonnees")
        except suivi.NotAllowed as error:
            refusal = error.message
    return render(
        "suivi/confirmer-coordonnees.html",
        status=409 if refusal else 200,
        code=code,
        form=form,
        refusal=refusal,
        title=title("Confirmer mes nouvelles coordonnées"),
    )


# --- My data ------------------------------------------------------------------------------------
@bp.get("/<secret:token>/mes-donnees.json")
def mes_donnees(token):
    lead = suivi.by_token(token)
    if lead is None:
        return not_found()
    data = json.dumps(suivi.export(lead), ensure_ascii=False, indent=2)
    response = Response(data + "\n", mimetype="application/json")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="mes-donnees-{lead.reference}.json"'
    )
    return response


@bp.route("/<secret:token>/supprimer", methods=["GET", "POST"])
def supprimer(token):
    lead = suivi.by_token(token)
    if lead is None:
        return not_found()
    form = ConfirmForm()
    if request.method == "POST" and form.validate():
        settings = outbox.settings_from(current_app.config, current_app.instance_path)
        suivi.erase(lead, settings.mail_dir)
        return redirect(url_for("suivi.supprimees"), 303)
    return render(
        "suivi/supprimer.html",
        lead=lead,
        token=token,
        form=form,
        noun=V.PARCOURS.label(lead.kind, "nom"),
        title=title("Supprimer mes données"),
    )


@bp.get("/donnees-supprimees")
def supprimees():
    return render("suivi/supprimees.html", title=title("Vos données sont supprimées"))


# --- « J'ai perdu mon lien » --------------------------------------------------------------------
@bp.route("/lien-perdu", methods=["GET", "POST"])
def lien_perdu():
    form = LostLinkForm()
    status = 200
    if request.method == "POST":
        if not sms_on():
            form.telephone.data = ""  # the field is not shown
        if form.validate():
            by_sms = not form.email.data
            # Answered by `tick`: this page does the same work for any address or number.
            link_requests.ask(link_requests.LOST_LINK, form.email.data or form.telephone.data)
            # The same answer whether the address or number is known or not: no one
            # learns who sent a demande by typing their address.
            return redirect(url_for("suivi.lien_envoye", sms="1" if by_sms else None), 303)
        status = 422
    return render(
        "suivi/lien-perdu.html",
        status=status,
        form=form,
        sms_on=sms_on(),
        title=title("J'ai perdu mon lien de suivi", errors=bool(form.errors)),
    )


@bp.get("/lien-perdu/envoye")
def lien_envoye():
    by_sms = request.args.get("sms") == "1" and sms_on()
    heading = "Regardez vos SMS" if by_sms else "Vérifiez votre messagerie"
    return render("suivi/lien-envoye.html", by_sms=by_sms, heading=heading, title=title(heading))
