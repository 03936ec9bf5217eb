"""What the lead page's status block shows: the actions lifecycle.py offers for the
lead's status, their forms, and the lead's binômes. No routes here (views.espace.actions
has them); views.espace.demandes.render_lead reads `status_context`."""

from flask_login import current_user

from domain import lifecycle
from forms import espace as espace_forms
from models import Binome, Lead


def status_context(lead, action_form=None, action_code="", stale_message=""):
    """The status block's variables. `action_form`/`action_code`: a form sent back with
    its errors (422); `stale_message`: why an action was refused (409)."""
    offered = lifecycle.actions_for(lead.status)
    sans_suite = action_form if action_code == "classer_sans_suite" else None
    binomes = binomes_of(lead)
    return {
        "lead_actions": offered,
        "sans_suite_form": sans_suite or espace_forms.SansSuiteForm(formdata=None),
        "sans_suite_open": sans_suite is not None,
        "action_errors": action_form if action_form is not None and action_form.errors else None,
        "stale_message": stale_message,
        "binomes": binomes,
        "current_binome": next((b for b in binomes if b.ended_at is None), None),
    }


def binomes_of(lead):
    """The lead's binômes formed by the user's association, the latest first, each with
    its partner's reference and name (one query). A partner no longer at the
    association is shown by reference only."""
    partner = Lead.alias()
    if lead.kind == "jeune":
        mine, theirs = Binome.jeune, Binome.mentor
    else:
        mine, theirs = Binome.mentor, Binome.jeune
    rows = (
        Binome.select(
            Binome,
            partner.reference.alias("partner_reference"),
            partner.prenom.alias("partner_prenom"),
            partner.nom.alias("partner_nom"),
            partner.association.alias("partner_association"),
        )
        .join(partner, on=(theirs == partner.id))
        .where((mine == lead.id) & (Binome.association == current_user.association_id))
        .order_by(Binome.started_at.desc(), Binome.id.desc())
        .objects()
    )
    binomes = list(rows)
    for binome in binomes:
        binome.partner_ours = binome.partner_association == current_user.association_id
    return binomes
