"""demandes.py against a real database (SQLite, and PostgreSQL with
scripts/test-postgres.sh): statuses and their timeline, stale pages, hand-over with its
e-mails in the same transaction, pairs and private notes."""

import pytest
from helpers import (
    MENTOR_ANSWERS,
    PERSONAL,
    YOUTH_ANSWERS,
    YOUTH_STEPS,
    fresh,
    submit,
    submitted_lead,
    walk,
)

import models
from domain import lifecycle, phones
from domain.lifecycle import TransitionError
from mail import outbox
from models import Binome, Evenement, Lead, Message, Note, Orientation, Utilisateur
from services import accounts, demandes, drafts
from services.demandes import NotAtAssociation, StaleLead


def new_lead(kind="jeune", **changes):
    return submitted_lead(
        kind, dict(YOUTH_ANSWERS if kind == "jeune" else MENTOR_ANSWERS, **changes)
    )


def staff(association, email=None, **fields):
    association_id = association if isinstance(association, int) else association.id
    return Utilisateur.create(
        email=email or f"staff{Utilisateur.select().count()}@example.org",
        role="membre",
        association=association_id,
        **fields,
    )


def events(lead, kind=None):
    query = Evenement.select().where(Evenement.lead == lead.id)
    if kind:
        query = query.where(Evenement.kind == kind)
    return list(query.order_by(Evenement.id))


# --- change_status -------------------------------------------------------------------------------
def test_each_transition_writes_its_timeline_entry(db):
    lead = new_lead()
    assert lead.association_id is not None and lead.version == 1
    member = staff(lead.association_id, "claire@example.org")
    steps = [
        ("contactee", "", "", "contacter"),
        ("en_attente", "", "Cherche un mentor", "mettre_en_attente"),
        ("sans_suite", "autre", "A déménagé", "classer_sans_suite"),
        ("contactee", "", "", "rouvrir"),
        ("sans_suite", "injoignable", "", "classer_sans_suite"),
        ("contactee", "", "", "rouvrir"),
    ]
    before = lead.status
    for version, (to, reason, note, kind) in enumerate(steps, start=lead.version):
        returned = demandes.change_status(lead, to, member, reason, note, expected_version=version)
        assert returned.status == lead.status == to  # the caller's object follows
        stored = fresh(lead)
        assert (stored.status, stored.version) == (to, version + 1)
        last = events(lead)[-1]
        assert (last.kind, last.from_status, last.to_status) == (kind, before, to)
        assert (last.author, last.motif, last.note) == ("claire@example.org", reason, note)
        before = to
    assert [e.kind for e in events(lead)][0] == "orientation"


def test_first_contact_is_the_first_move_out_of_nouvelle(db):
    lead = new_lead()
    assert lead.first_contact_at is None
    demandes.change_status(lead, "contactee", "claire@example.org")
    first = fresh(lead).first_contact_at
    assert first is not None
    demandes.change_status(lead, "en_attente", "claire@example.org")
    assert fresh(lead).first_contact_at == first
    # Classing a duplicate without a call is an answer too.
    other = new_lead()
    demandes.change_status(other, "sans_suite", "claire@example.org", "doublon")
    assert fresh(other).first_contact_at is not None


@pytest.mark.parametrize(
    "to, reason, note, message",
    [
        ("terminee", "", "", "ne peut pas passer"),
        ("en_attente", "", "", "ne peut pas passer"),
        ("nouvelle", "", "", "déjà"),
        ("perdue", "", "", "n'existe pas"),
        ("sans_suite", "", "", "Choisissez un motif"),
        ("sans_suite", "autre", " ", "Précisez"),
        ("binome_forme", "", "", "former le binôme"),
    ],
)
def test_refused_transitions_write_nothing(db, to, reason, note, message):
    lead = new_lead()
    with pytest.raises(TransitionError, match=message):
        demandes.change_status(lead, to, "claire@example.org", reason, note)
    stored = fresh(lead)
    assert (stored.status, stored.version, stored.first_contact_at) == ("nouvelle", 1, None)
    assert [e.kind for e in events(lead)] == ["orientation"]


def test_an_action_from_a_stale_page_is_refused(db):
    lead = new_lead()
    page_version = lead.version
    demandes.change_status(lead, "contactee", "a@example.org", expected_version=page_version)
    with pytest.raises(StaleLead):
        demandes.change_status(
            lead, "sans_suite", "b@example.org", "doublon", expected_version=page_version
        )
    stored = fresh(lead)
    assert (stored.status, stored.version) == ("contactee", page_version + 1)
    assert [e.kind for e in events(lead)] == ["orientation", "contacter"]
    # A version sent by a form is a string; a deleted lead is stale too.
    demandes.change_status(lead, "en_attente", "a@example.org", expected_version=str(2))
    Lead.delete().where(Lead.id == lead.id).execute()
    with pytest.raises(StaleLead):
        demandes.change_status(lead, "contactee", "a@example.org")


# --- orient and submit ---------------------------------------------------------------------------
def test_submit_orients_and_tells_the_staff(client):
    """Through the questionnaire: submit calls orient, which writes the orientations, the
    timeline entry and the staff's « Nouvelle demande » without the person's data."""
    with models.db.connection_context():
        probe = new_lead()
        staff(probe.association_id, "equipe@example.org")
        staff(probe.association_id, "parti@example.org", actif=False)
    walk(client, "jeune", YOUTH_STEPS)
    assert submit(client, "jeune").status_code == 303
    with models.db.connection_context():
        lead = Lead.select().where(Lead.id != probe.id).get()
        assert lead.association_id == probe.association_id and lead.version == 1
        assert Orientation.select().where(Orientation.lead == lead).count() >= 1
        assert [e.kind for e in events(lead)] == ["orientation"]
        # The person's own confirmation (suivi.py) is the other message of the lead.
        (message,) = Message.select().where(
            (Message.lead == lead) & (Message.kind == "nouvelle_demande")
        )
    assert message.to == "equipe@example.org"
    assert message.subject == f"Nouvelle demande {lead.reference}"
    assert f"http://127.0.0.1:5000/espace/demandes/{lead.reference}" in message.body
    assert not any(word in message.body for word in PERSONAL)


def test_orient_again_expires_the_previous_proposals(db):
    lead = new_lead()
    first_run = {o.id for o in demandes.orientations_of(lead)}
    result = demandes.orient(lead, by="operateur@example.org")
    assert result.proposals
    rows = demandes.orientations_of(lead)
    assert {o.outcome for o in rows if o.id in first_run} == {"expiree"}
    live = [o for o in rows if o.outcome in demandes.LIVE_OUTCOMES]
    assert len(live) == len(result.proposals)
    assert fresh(lead).version == 2
    assert events(lead)[-1].author == "operateur@example.org"


def test_orient_with_a_stale_version_or_unknown_pick(db):
    lead = new_lead()
    with pytest.raises(StaleLead):
        demandes.orient(lead, expected_version=0)
    with pytest.raises(TransitionError, match="associations proposées"):
        demandes.orient(lead, programme_id=-1)
    assert fresh(lead).version == 1


# --- hand_over -----------------------------------------------------------------------------------
def test_hand_over_to_the_next_association_with_both_e_mails(app, db):
    app.config["PUBLIC_URL"] = "https://1jeune1mentor.example.fr/"
    lead = new_lead()
    old = lead.association_id
    demandes.change_status(lead, "contactee", "claire@example.org")
    old_orientation = demandes.current_orientation(demandes.orientations_of(lead))
    alternative = next(o for o in demandes.orientations_of(lead) if o.rank == 2)
    new = alternative.programme.association_id
    staff(new, "accueil@example.org")
    staff(old, "ancienne@example.org")
    first_routed = lead.routed_at
    with app.app_context():
        demandes.hand_over(lead, "claire@example.org", "pas_de_mentor", expected_version=2)
    stored = fresh(lead)
    assert stored.association_id == new and stored.association_id != old
    assert (stored.status, stored.version, stored.first_contact_at) == ("nouvelle", 3, None)
    # The new association's delay runs from the hand-over.
    assert stored.routed_at > first_routed >= lead.created_at
    assert Orientation.get_by_id(old_orientation.id).outcome == "transferee"
    assert Orientation.get_by_id(old_orientation.id).outcome_reason == "pas_de_mentor"
    (transfer,) = events(lead, "transfert")
    assert (transfer.from_status, transfer.to_status, transfer.motif) == (
        "contactee",
        "nouvelle",
        "pas_de_mentor",
    )
    assert events(lead)[-1].kind == "orientation"
    association = models.Association.get_by_id(new)
    team, person = (
        Message.select()
        .where((Message.lead == lead) & (Message.channel == "email"))
        .order_by(Message.kind)
    )
    assert team.to == "accueil@example.org"
    assert team.subject == f"Nouvelle demande {lead.reference}"
    assert f"https://1jeune1mentor.example.fr/espace/demandes/{lead.reference}" in team.body
    assert not any(word in team.body for word in PERSONAL)
    assert person.to == "ines.martin@example.org"
    assert person.subject == f"Votre demande {lead.reference} est confiée à {association.nom}"
    assert association.email in person.body and association.nom in person.body
    if association.telephone.startswith("+33"):  # shown the French way (issue 15 §6)
        assert association.telephone not in person.body
        assert phones.display(association.telephone) in person.body
    # She chose SMS: the notice by SMS too, with the short link.
    (notice,) = Message.select().where((Message.lead == lead) & (Message.channel == "sms"))
    assert notice.kind == "transfert" and f"/s/{lead.suivi_token}" in notice.body


def test_hand_over_never_returns_to_an_association_and_ends_on_the_waiting_list(db):
    lead = new_lead()
    seen = [lead.association_id]
    while True:
        lead = demandes.hand_over(lead, "claire@example.org", "hors_territoire")
        if lead.association_id is None:
            break
        assert lead.association_id not in seen
        seen.append(lead.association_id)
    assert len(seen) >= 2
    stored = fresh(lead)
    assert stored.waiting_list and stored.status == "nouvelle"
    assert events(lead)[-1].kind == "liste_attente"
    transferred = [o for o in demandes.orientations_of(lead) if o.outcome == "transferee"]
    assert [o.programme.association_id for o in transferred] != []
    assert {o.programme.association_id for o in transferred} == set(seen)
    with pytest.raises(TransitionError, match="aucune association"):
        demandes.hand_over(lead, "claire@example.org", "hors_territoire")


def test_hand_over_to_the_staff_pick(db):
    lead = new_lead()
    # What the matcher would propose without this association: pick its last proposal.
    old = lead.association_id
    proposals = demandes.hand_over_proposals(lead)
    assert proposals and old not in {p.association_id for p in proposals}
    assert fresh(lead).version == 1  # nothing written
    pick = proposals[-1]
    demandes.hand_over(lead, "claire@example.org", "hors_criteres", programme_id=pick.programme_id)
    assert fresh(lead).association_id == pick.association_id
    chosen = demandes.current_orientation(demandes.orientations_of(lead))
    assert (chosen.programme_id, chosen.outcome) == (pick.programme_id, "acceptee")


def test_hand_over_refusals(db):
    lead = new_lead()
    with pytest.raises(TransitionError, match="Précisez"):
        demandes.hand_over(lead, "claire@example.org", "autre")
    with pytest.raises(TransitionError, match="dans la liste"):
        demandes.hand_over(lead, "claire@example.org", "doublon")
    with pytest.raises(StaleLead):
        demandes.hand_over(lead, "claire@example.org", "hors_territoire", expected_version=7)
    assert fresh(lead).version == 1
    assert Orientation.select().where(Orientation.outcome == "transferee").count() == 0


def test_hand_over_and_its_e_mails_roll_back_together(db, monkeypatch):
    """A failure after the first e-mail is queued undoes the e-mail, the orientations and
    the lead: nothing half-done (fault injected by wrapping the real outbox.queue)."""
    lead = new_lead()
    alternative = next(o for o in demandes.orientations_of(lead) if o.rank == 2)
    staff(alternative.programme.association_id, "accueil@example.org")
    queued = []
    real_queue = outbox.queue

    def queue_then_fail(*args, **kwargs):
        queued.append(real_queue(*args, **kwargs))
        if len(queued) == 2:
            raise RuntimeError("le serveur tombe")
        return queued[-1]

    monkeypatch.setattr(outbox, "queue", queue_then_fail)
    before = [(o.id, o.outcome) for o in demandes.orientations_of(lead)]
    with pytest.raises(RuntimeError):
        demandes.hand_over(lead, "claire@example.org", "pas_de_mentor")
    assert len(queued) == 2  # both were written inside the transaction...
    assert Message.select().count() == 0  # ...and both are gone
    stored = fresh(lead)
    assert (stored.association_id, stored.version) == (lead.association_id, 1)
    assert [(o.id, o.outcome) for o in demandes.orientations_of(lead)] == before
    assert events(lead, "transfert") == []


def test_the_person_cannot_choose_an_expired_proposal(db):
    lead = new_lead()
    old_alternative = next(o for o in demandes.orientations_of(lead) if o.rank == 2)
    demandes.hand_over(lead, "claire@example.org", "hors_territoire")
    assert drafts.choose(fresh(lead), old_alternative.id) is False


# --- Pairs ---------------------------------------------------------------------------------------
def pair_ready():
    jeune, mentor = new_lead("jeune"), new_lead("mentor")
    Lead.update(association=jeune.association_id).where(Lead.id == mentor.id).execute()
    for lead in (jeune, mentor):
        demandes.change_status(lead, "contactee", "claire@example.org")
    demandes.change_status(mentor, "en_attente", "claire@example.org")
    return fresh(jeune), fresh(mentor)


def test_form_and_end_a_pair(db):
    jeune, mentor = pair_ready()
    association = jeune.association
    binome = demandes.form_pair(
        jeune,
        mentor,
        "claire@example.org",
        association,
        jeune_version=jeune.version,
        mentor_version=mentor.version,
    )
    assert (binome.jeune_id, binome.mentor_id, binome.ended_at) == (jeune.id, mentor.id, None)
    assert {fresh(jeune).status, fresh(mentor).status} == {"binome_forme"}
    assert events(jeune)[-1].kind == events(mentor)[-1].kind == "former_binome"
    assert events(jeune)[-1].note == f"avec {mentor.reference}"
    assert demandes.open_binome(mentor).id == binome.id
    # Neither can be paired twice.
    other = new_lead("mentor")
    Lead.update(association=association.id, status="en_attente").where(
        Lead.id == other.id
    ).execute()
    with pytest.raises(TransitionError):
        demandes.form_pair(jeune, other, "claire@example.org", association)
    demandes.end_pair(binome, "claire@example.org")
    assert Binome.get_by_id(binome.id).ended_at is not None
    assert {fresh(jeune).status, fresh(mentor).status} == {"terminee"}
    assert events(mentor)[-1].kind == "terminer"
    with pytest.raises(TransitionError, match="déjà terminé"):
        demandes.end_pair(binome, "claire@example.org")


def test_terminating_a_lead_ends_its_pair(db):
    jeune, mentor = pair_ready()
    binome = demandes.form_pair(jeune, mentor, "claire@example.org", jeune.association_id)
    demandes.change_status(jeune, "terminee", "claire@example.org")
    assert Binome.get_by_id(binome.id).ended_at is not None
    assert {fresh(jeune).status, fresh(mentor).status} == {"terminee"}
    # Re-opened, the youth can be paired again.
    demandes.change_status(jeune, "contactee", "claire@example.org")
    assert demandes.open_binome(jeune) is None


def test_pairs_across_associations_kinds_or_statuses_are_refused(db):
    jeune, mentor = pair_ready()
    elsewhere = (
        models.Association.select().where(models.Association.id != jeune.association_id).first()
    )
    with pytest.raises(NotAtAssociation):
        demandes.form_pair(jeune, mentor, "claire@example.org", elsewhere)
    with pytest.raises(TransitionError, match="un mentor"):
        demandes.form_pair(mentor, jeune, "claire@example.org", jeune.association_id)
    waiting = new_lead("jeune")
    Lead.update(association=jeune.association_id).where(Lead.id == waiting.id).execute()
    with pytest.raises(TransitionError, match="Nouvelle"):  # not contacted yet
        demandes.form_pair(waiting, mentor, "claire@example.org", jeune.association_id)
    with pytest.raises(StaleLead):
        demandes.form_pair(
            jeune, mentor, "claire@example.org", jeune.association_id, mentor_version=0
        )
    assert Binome.select().count() == 0
    assert fresh(mentor).status == "en_attente"


# --- Notes ---------------------------------------------------------------------------------------
def test_notes_are_private_to_the_association(db):
    lead = new_lead()
    member = staff(lead.association_id, "claire@example.org")
    note = demandes.add_note(lead, lead.association_id, member, "  Rappeler lundi  ")
    assert (note.text, note.author_id) == ("Rappeler lundi", member.id)
    with pytest.raises(TransitionError, match="Écrivez votre note"):
        demandes.add_note(lead, lead.association_id, member, "   ")
    with pytest.raises(TransitionError, match="au plus"):
        demandes.add_note(lead, lead.association_id, member, "x" * (lifecycle.NOTE_MAX + 1))
    old = lead.association_id
    demandes.hand_over(lead, member, "hors_territoire")
    new = fresh(lead).association_id
    # The old association can no longer write, the new one does not read the old notes.
    with pytest.raises(NotAtAssociation):
        demandes.add_note(lead, old, member, "Encore une chose")
    assert demandes.notes_of(lead, new) == []
    assert [n.text for n in demandes.notes_of(lead, old)] == ["Rappeler lundi"]
    assert Note.select().count() == 1


def test_the_author_is_the_staff_member_behind_the_session(db):

    lead = new_lead()
    member = staff(lead.association_id, "claire@example.org")
    session_user = accounts.load_user(f"{member.id}:0")
    demandes.change_status(lead, "contactee", session_user)
    assert events(lead)[-1].author == "claire@example.org"
    note = demandes.add_note(lead, lead.association_id, session_user, "Vu au téléphone")
    assert note.author_id == member.id
    with pytest.raises(TransitionError, match="ne demande pas de motif"):
        demandes.change_status(lead, "en_attente", session_user, reason="doublon")


def test_the_person_choosing_an_alternative_tells_its_staff(db):
    lead = new_lead()
    alternative = next(o for o in demandes.orientations_of(lead) if o.rank == 2)
    staff(alternative.programme.association_id, "accueil@example.org")
    assert drafts.choose(lead, alternative.id) is True
    stored = fresh(lead)
    assert stored.association_id == alternative.programme.association_id
    assert stored.version == 2 and stored.routed_at >= lead.routed_at
    (message,) = Message.select().where(Message.lead == lead)
    assert (message.to, message.subject) == (
        "accueil@example.org",
        f"Nouvelle demande {lead.reference}",
    )
