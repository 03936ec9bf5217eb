"""The follow-up link /suivi/<token> against a real database (SQLite, and PostgreSQL with
scripts/test-postgres.sh): the confirmation e-mail at submit, the page, every action
(GET shows, POST with CSRF acts, PRG), the export's completeness, the erasure leaving
nothing personal (every table's text columns, the mail folder, the SQLite file's bytes),
the lost link, and junk at the forms."""

import datetime as dt
import html
import json
import re

import pytest
from helpers import (
    CSRF_RE,
    HX,
    MENTOR_STEPS,
    PARENT_STEP,
    YOUTH_STEPS,
    answer_link_requests,
    arrived,
    submit,
    walk,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from peewee import CharField, TextField

import models
from domain import dates, phones
from mail import outbox
from models import Evenement, Lead, Message, Note, Utilisateur
from services import catalogue, demandes, suivi

EMAIL = "ines.martin@example.org"
PARENT_EMAIL = "samia.parent@example.org"
PERSONAL = ("Inès", "Martin", EMAIL, "+33612345678", "06 12 34 56 78", PARENT_EMAIL, "Samia")
LINK_RE = re.compile(r"http://127\.0\.0\.1:5000(/suivi/[A-Za-z0-9_-]{43})")


# --- Helpers ------------------------------------------------------------------------------------
def send_youth(client, steps=YOUTH_STEPS):
    walk(client, "jeune", steps)
    assert submit(client, "jeune").status_code == 303
    with models.db.connection_context():
        return Lead.select().order_by(Lead.id.desc()).get()


def under_15_steps(parent_email=PARENT_EMAIL):
    parent = dict(PARENT_STEP[1], parent_email=parent_email)
    return [("age", {"age": "13"}), *YOUTH_STEPS[1:], ("parent", parent)]


def staff(association_id, email="equipe@example.org"):
    return Utilisateur.create(email=email, role="membre", association=association_id)


def page_url(lead):
    return f"/suivi/{lead.suivi_token}"


def csrf_of(client, url):
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)
    return CSRF_RE.search(response.get_data(as_text=True)).group(1)


def text(response):
    # Jinja escapes the apostrophe (&#39;): read as a person does.
    return html.unescape(response.get_data(as_text=True))


def fresh(lead):
    with models.db.connection_context():
        return Lead.get_by_id(lead.id)


def make_late(lead, days=30):
    """The promised delay passed: the lead reached its association `days` ago."""
    with models.db.connection_context():
        past = models.now() - dt.timedelta(days=days)
        arrived(lead, past, created_at=past)


def messages(**where):
    """The e-mails (or, with channel="sms", the SMS: test_sms.py) matching `where`."""
    where.setdefault("channel", outbox.EMAIL)
    with models.db.connection_context():
        query = Message.select().order_by(Message.id)
        for name, value in where.items():
            query = query.where(getattr(Message, name) == value)
        return list(query)


# --- Confirmation at submit ---------------------------------------------------------------------
def test_submit_sends_the_confirmation_with_the_link(client):
    lead = send_youth(client)
    (mail,) = messages(kind="confirmation")
    assert mail.to == EMAIL and mail.lead_id == lead.id
    assert mail.subject == f"Votre demande {lead.reference} est enregistrée"
    assert LINK_RE.search(mail.body).group(1) == page_url(lead)
    with models.db.connection_context():
        association = lead.association
    assert association.nom in mail.body
    assert (
        f"{association.nom} vous recontacte sous {association.delai_recontact} jours" in mail.body
    )
    assert association.telephone and phones.display(association.telephone) in mail.body
    result = text(client.get(f"/jeune/resultat/{lead.reference}"))
    assert f"Un e-mail de confirmation vous a été envoyé à <strong>{EMAIL}</strong>" in result
    assert lead.suivi_token not in result  # the link is in the e-mail, not on a shared screen


def test_a_mentor_gets_the_confirmation_of_a_candidature(client):
    walk(client, "mentor", MENTOR_STEPS)
    assert submit(client, "mentor").status_code == 303
    with models.db.connection_context():
        lead = Lead.get(Lead.kind == "mentor")
    (mail,) = messages(kind="confirmation")
    assert mail.to == "paul.durand@example.org"
    assert mail.subject == f"Votre candidature {lead.reference} est enregistrée"
    assert page_url(lead) in mail.body
    body = text(client.get(page_url(lead)))
    assert f"Votre candidature {lead.reference}" in body
    assert f"Votre candidature est arrivée chez {lead.association.nom} le" in body


def test_without_an_e_mail_the_result_page_shows_the_link(client):
    contact = dict(YOUTH_STEPS[-1][1], email="", contact_pref="sms")
    lead = send_youth(client, [*YOUTH_STEPS[:-1], ("coordonnees", contact)])
    assert messages(kind="confirmation") == []
    result = text(client.get(f"/jeune/resultat/{lead.reference}"))
    assert f"http://127.0.0.1:5000{page_url(lead)}" in result
    assert "Un SMS avec ce lien vous a été envoyé au" in result  # what was sent (test_sms.py)


def test_under_15_the_parent_gets_a_copy(client):
    lead = send_youth(client, under_15_steps())
    (mine,) = messages(kind="confirmation")
    (parent,) = messages(kind="confirmation_parent")
    assert mine.to == EMAIL and parent.to == PARENT_EMAIL
    # The parent's own e-mail: its subject, why they get it, how to object.
    assert parent.subject == f"Votre enfant Inès a fait une demande de mentorat ({lead.reference})"
    assert "Votre enfant Inès a fait une demande de mentorat" in parent.body
    assert "Vous n'êtes pas d'accord ? Supprimez la demande" in parent.body
    assert f"{page_url(lead)}/supprimer" in parent.body
    assert "Votre enfant" not in mine.body and "moins de 15 ans" not in mine.body
    # The result page says it was sent, and to whom.
    result = text(client.get(f"/jeune/resultat/{lead.reference}"))
    assert (
        "Comme vous avez moins de 15 ans, une copie de votre demande a été envoyée à votre "
        f"parent ou représentant légal, à <strong>{PARENT_EMAIL}</strong>" in result
    )


def test_15_to_17_no_parent_is_asked_nor_told(client):
    walk(client, "jeune", YOUTH_STEPS[:1])
    assert client.get("/jeune/parent").status_code != 200  # not a step of theirs
    lead = send_youth(client, [("age", {"age": "16"}), *YOUTH_STEPS[1:]])
    assert lead.age == 16
    assert messages(kind="confirmation_parent") == []
    result = text(client.get(f"/jeune/resultat/{lead.reference}"))
    assert "parent" not in result.lower()


def test_under_15_the_parent_page_says_why_first(client):
    walk(client, "jeune", under_15_steps()[:-1])
    page = text(client.get("/jeune/parent"))
    heading = page.index("Votre parent ou représentant légal</h1>")
    intro = page.index("Comme vous avez moins de 15 ans, votre parent ou représentant légal doit")
    first_field = page.index('name="parent_prenom"')
    assert heading < intro < first_field


def test_the_waiting_list_wording_without_an_association(client):
    # A commune no programme of the demo catalogue covers locally: force the waiting list
    # by deactivating every programme.
    with models.db.connection_context():
        models.Programme.update(actif=False, updated_at=models.now()).execute()
    lead = send_youth(client)
    assert lead.association_id is None
    (mail,) = messages(kind="confirmation")
    assert "liste d'attente" in mail.body and "sous 10 jours ouvrés" in mail.body
    assert page_url(lead) in mail.body
    assert "liste d'attente" in text(client.get(page_url(lead)))


# --- The page -----------------------------------------------------------------------------------
def test_the_page_shows_status_timeline_and_contact_without_staff_notes(client):
    lead = send_youth(client)
    with models.db.connection_context():
        member = staff(lead.association_id, "conseillere@example.org")
        demandes.change_status(lead, "contactee", member, note="Note privée : rappeler mardi")
        association = lead.association
    response = client.get(page_url(lead))
    body = text(response)
    assert response.status_code == 200
    assert f"Votre demande {lead.reference}" in body
    assert "Où en est votre demande" in body and "Statut :" not in body
    assert f"{association.nom} vous a contacté·e le" in body
    assert "Vous avez été contacté·e" in body  # the timeline
    assert "Note privée" not in body and "conseillere@example.org" not in body
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cache-Control"] == "no-store"
    assert "noindex" in response.headers["X-Robots-Tag"]
    assert '<meta name="robots" content="noindex, nofollow">' in body
    # Not offered: the delay has not passed and the lead is no longer nouvelle.
    assert "pas-recontacte" not in body


@pytest.mark.parametrize(
    "token",
    [
        "x",
        "A" * 43,  # the shape of a token, not one
        "../../etc/passwd",
        "%00",
        "lien-perdu-pas",
        "é" * 43,
    ],
)
def test_a_wrong_token_gets_the_kind_404(client, token):
    for suffix in ("", "/pas-recontacte", "/arreter", "/supprimer", "/mes-donnees.json"):
        response = client.get(f"/suivi/{token}{suffix}")
        assert response.status_code == 404, suffix
        assert "Lien de suivi introuvable" in text(response)
        assert "/suivi/lien-perdu" in text(response)


# --- « Je n'ai pas été recontacté·e » -----------------------------------------------------------
def test_not_contacted_before_the_delay_is_not_offered_and_refused(client):
    lead = send_youth(client)
    assert "pas-recontacte" not in text(client.get(page_url(lead)))
    url = page_url(lead) + "/pas-recontacte"
    page = client.get(url)
    assert page.status_code == 409 and "pas encore possible" in text(page)
    token = CSRF_RE.search(text(client.get(page_url(lead) + "/supprimer"))).group(1)
    response = client.post(url, data={"csrf_token": token, "version": "1"})
    assert response.status_code == 409 and "pas encore possible" in text(response)
    assert fresh(lead).association_id == lead.association_id


def test_not_contacted_hands_over_and_tells_everyone(client):
    lead = send_youth(client)
    with models.db.connection_context():
        staff(lead.association_id, "ancienne@example.org")
    make_late(lead)
    assert "pas-recontacte" in text(client.get(page_url(lead)))
    url = page_url(lead) + "/pas-recontacte"
    page = client.get(url)
    # Checked before promising: the page names the association that will take it.
    with models.db.connection_context():
        promised = demandes.next_association(fresh(lead))
    assert promised is not None and promised.id != lead.association_id
    assert page.status_code == 200
    assert (
        f"Nous pouvons confier votre demande à une autre association : {promised.nom}, qui "
        f"vous recontacte sous {promised.delai_recontact} jours ouvrés." in text(page)
    )
    assert f"Confier ma demande à {promised.nom}</button>" in text(page)
    assert fresh(lead).association_id == lead.association_id  # GET only shows
    # Without the CSRF token: refused, nothing done.
    assert client.post(url, data={"version": "1"}).status_code == 400
    assert fresh(lead).association_id == lead.association_id
    token = CSRF_RE.search(text(page)).group(1)
    response = client.post(url, data={"csrf_token": token, "version": str(fresh(lead).version)})
    assert response.status_code == 303
    assert response.headers["Location"] == page_url(lead) + "?fait=transfert"
    after = fresh(lead)
    assert after.association_id not in (None, lead.association_id)
    assert after.status == "nouvelle"
    with models.db.connection_context():
        (event,) = Evenement.select().where(
            (Evenement.lead == lead.id) & (Evenement.kind == "transfert")
        )
        new_name = after.association.nom
    assert event.author == "personne"
    assert event.motif == "sans_reponse"  # not « Autre »
    assert after.association_id == promised.id
    (old_notice,) = messages(kind="demande_reprise")
    assert old_notice.to == "ancienne@example.org" and lead.reference in old_notice.body
    assert not any(word in old_notice.body for word in PERSONAL)
    assert "historique" not in old_notice.body  # it leaves their espace: nothing false
    assert "n'apparaît plus dans votre espace association" in old_notice.body
    (person,) = messages(kind="transfert")
    assert person.to == EMAIL and new_name in person.subject
    assert page_url(lead) in person.body  # the same follow-up link
    body = text(client.get(response.headers["Location"]))
    assert f"C'est fait : votre demande est confiée à {new_name}." in body
    assert f"Votre demande a été confiée à {new_name} le" in body
    assert "Statut :" not in body  # the person's words, not the back office's
    assert "Vous nous avez signalé ne pas avoir été recontacté·e" in body
    # Once handed over, the new delay runs: not offered again at once.
    assert "pas-recontacte" not in body


def test_not_contacted_never_returns_to_an_association(client):
    """Asked again and again: a new association each time, then the waiting list, which
    the person is told by e-mail."""
    lead = send_youth(client)
    tried = {lead.association_id}
    for _ in range(20):
        make_late(lead)
        with models.db.connection_context():
            suivi.say_not_contacted(Lead.get_by_id(lead.id))
            row = Lead.get_by_id(lead.id)
        if row.association_id is None:
            break
        assert row.association_id not in tried
        tried.add(row.association_id)
    assert row.association_id is None and row.waiting_list and len(tried) >= 2
    (mail,) = messages(kind="liste_attente")
    assert mail.to == EMAIL and page_url(lead) in mail.body
    assert "liste d'attente" in mail.subject
    with models.db.connection_context():
        assert not suivi.can_say_not_contacted(row)  # nobody left to hand it to
    body = text(client.get(page_url(lead) + "?fait=transfert"))
    assert "Aucune autre association ne peut reprendre votre demande" in body
    assert "pas-recontacte" not in body


def test_not_contacted_with_nobody_left_says_so_first_and_keeps_the_first_contact(client):
    lead = send_youth(client)
    with models.db.connection_context():
        first = lead.association
        # Only the first association's programmes stay open: nobody can take it over.
        models.Programme.update(actif=False).where(
            models.Programme.association != first.id
        ).execute()
    catalogue.invalidate()
    make_late(lead)
    url = page_url(lead) + "/pas-recontacte"
    page = text(client.get(url))
    assert "Aucune autre association de notre liste ne peut reprendre votre demande" in page
    assert "Mettre ma demande sur la liste d'attente</button>" in page
    assert "Nous pouvons confier" not in page
    token = CSRF_RE.search(page).group(1)
    response = client.post(url, data={"csrf_token": token, "version": str(fresh(lead).version)})
    assert response.status_code == 303
    body = text(client.get(response.headers["Location"]))
    assert "elle est sur notre liste d'attente" in body
    # The first association's contact stays, said as it is.
    assert f"Contacter {first.nom}</h2>" in body
    assert f"Votre demande n'est plus chez {first.nom}" in body
    assert "Confiée à une autre association" not in body
    assert "Vous nous avez signalé ne pas avoir été recontacté·e" in body
    assert "Inscrite sur la liste d'attente" in body
    # She chose SMS: the waiting list by SMS too, as well as by e-mail.
    (notice,) = messages(kind="liste_attente", channel="sms")
    assert f"{lead.reference} est sur liste d'attente" in notice.body
    assert len(messages(kind="liste_attente")) == 1


def test_the_promised_date_speaks_to_the_person_and_turns_past(client):
    lead = send_youth(client)
    with models.db.connection_context():
        lead = Lead.get_by_id(lead.id)
        name = lead.association.nom
        due = lead.due_on
        before = suivi.status_sentence(lead)
        # A later change of the association's delay moves no promised date.
        models.Association.update(delai_recontact=30).where(
            models.Association.id == lead.association_id
        ).execute()
        lead = Lead.get_by_id(lead.id)
        assert suivi.status_sentence(lead) == before
        on_time = suivi.arrival_sentence(lead, name, "demande", on=due)
        late = suivi.arrival_sentence(lead, name, "demande", on=due + dt.timedelta(days=1))
    arrived = dates.day(lead.routed_at)
    assert on_time == (
        f"Votre demande est arrivée chez {name} le {arrived}. {name} doit vous recontacter "
        f"au plus tard le {dates.day(due)}."
    )
    assert late.endswith(f"{name} devait vous recontacter au plus tard le {dates.day(due)}.")
    body = text(client.get(page_url(lead)))
    assert before in body and "Statut :" not in body


def test_a_mentor_reads_a_mentor_s_sentences(client):
    walk(client, "mentor", MENTOR_STEPS)
    assert submit(client, "mentor").status_code == 303
    with models.db.connection_context():
        lead = Lead.get(Lead.kind == "mentor")
    make_late(lead)
    pages = [
        text(client.get(page_url(lead) + path)) for path in ("", "/arreter", "/pas-recontacte")
    ]
    assert "Je ne souhaite plus devenir mentor</a>" in pages[0]
    assert "Je ne souhaite plus devenir mentor</h1>" in pages[1]
    assert "Clore ma candidature</button>" in pages[1]
    assert "Confier ma candidature à " in pages[2] or "Mettre ma candidature sur" in pages[2]
    for page in pages:
        assert "accompagné·e" not in page and "votre demande" not in page.lower(), page[:300]


def test_lost_link_is_linked_from_home_result_and_footer(client):
    home = text(client.get("/"))
    assert home.count('href="/suivi/lien-perdu"') == 2  # the page's own, and the footer's
    assert 'href="/suivi/lien-perdu"' in text(client.get("/mentions-legales"))
    lead = send_youth(client)
    result = text(client.get(f"/jeune/resultat/{lead.reference}"))
    assert result.count('href="/suivi/lien-perdu"') == 2


# --- « Je ne souhaite plus être accompagné·e » --------------------------------------------------
@pytest.mark.parametrize("motif", ["", "plus_le_temps", "autre_solution"])
def test_stop_with_an_optional_reason(client, motif):
    lead = send_youth(client)
    url = page_url(lead) + "/arreter"
    page = client.get(url)
    assert page.status_code == 200 and "J'ai trouvé une autre solution" in text(page)
    assert fresh(lead).status == "nouvelle"
    token = CSRF_RE.search(text(page)).group(1)
    data = {"csrf_token": token, **({"motif": motif} if motif else {})}
    response = client.post(url, data=data)
    assert response.status_code == 303 and response.headers["Location"].endswith("?fait=arret")
    assert fresh(lead).status == "sans_suite"
    # The person stopping is no call back by the association.
    assert fresh(lead).first_contact_at is None
    with models.db.connection_context():
        event = Evenement.get(
            (Evenement.lead == lead.id) & (Evenement.kind == "classer_sans_suite")
        )
    assert event.author == "personne"
    assert event.motif == ("autre_solution" if motif == "autre_solution" else "plus_interesse")
    if motif == "plus_le_temps":
        assert "Je n'ai plus le temps" in event.note
    body = text(client.get(response.headers["Location"]))
    assert "votre demande est close" in body and "Statut :" not in body
    # Closed: no longer offered, a second POST is refused kindly.
    assert "/arreter" not in body
    again = client.post(url, data={"csrf_token": token})
    assert again.status_code == 409 and "déjà close" in text(again)


def test_stop_refuses_a_reason_off_the_list(client):
    lead = send_youth(client)
    url = page_url(lead) + "/arreter"
    token = csrf_of(client, url)
    response = client.post(url, data={"csrf_token": token, "motif": "injoignable"})
    assert response.status_code == 422
    assert "Choisissez un motif dans la liste" in text(response)
    assert fresh(lead).status == "nouvelle"
    assert client.post(url, data={"motif": "autre"}).status_code == 400  # no CSRF
    assert fresh(lead).status == "nouvelle"


# --- Export -------------------------------------------------------------------------------------
def test_the_export_holds_every_answer_event_and_e_mail(client):
    lead = send_youth(client, under_15_steps())
    with models.db.connection_context():
        member = staff(lead.association_id, "conseillere@example.org")
        demandes.change_status(lead, "contactee", member, note="Note privée du staff")
        # To her address but of no lead: typed addresses prove nothing (test_suivi_privacy).
        outbox.queue(EMAIL, "Un autre e-mail", "Texte pour Inès", "divers")
        lead = Lead.get_by_id(lead.id)
        event_count = Evenement.select().where(Evenement.lead == lead.id).count()
        about = list(
            Message.select().where((Message.lead == lead.id) & (Message.channel == "email"))
        )
        texts = list(Message.select().where((Message.lead == lead.id) & (Message.channel == "sms")))
    response = client.get(page_url(lead) + "/mes-donnees.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert "attachment" in response.headers["Content-Disposition"]
    data = json.loads(text(response))
    assert data["reponses"] == lead.answers  # every answer, the parent's included
    assert data["reponses"]["parent_email"] == PARENT_EMAIL
    assert data["coordonnees"]["email"] == EMAIL
    assert len(data["evenements"]) == event_count >= 2
    assert {e["evenement"] for e in data["evenements"]} >= {"Personne contactée"}
    assert len(data["emails"]) == len(about) == 2  # the two confirmations, not the other one
    # She chose SMS: the confirmation by SMS too, listed apart.
    assert [(m["destinataire"], m["texte"]) for m in data["sms"]] == [
        ("+33612345678", texts[0].body)
    ]
    assert "Texte pour Inès" not in text(response)
    assert {m["objet"] for m in data["emails"]} == {m.subject for m in about}
    assert {m["texte"] for m in data["emails"]} == {m.body for m in about}
    raw = text(response)
    assert "Note privée du staff" not in raw and "conseillere@example.org" not in raw
    assert "equipe" not in raw or "l'équipe de l'association" in raw


# --- Erasure ------------------------------------------------------------------------------------
def personal_traces(needles):
    """Every (table, column, needle) whose text holds one of `needles`, in every table but
    the reference data (communes, catalogue: « Saint-Martin » is a commune's name)."""
    found = []
    reference = (models.Commune, models.Localite, models.Association, models.Programme)
    for model in (m for m in models.MODELS if m not in reference):
        columns = [f for f in model._meta.sorted_fields if isinstance(f, CharField | TextField)]
        for row in model.select(*([model._meta.primary_key, *columns])).dicts():
            for column in columns:
                value = str(row.get(column.name) or "")
                for needle in needles:
                    if needle.lower() in value.lower():
                        found.append((model.__name__, column.name, needle))
    return found


def test_erasure_leaves_nothing_personal(app, client):
    lead = send_youth(client, under_15_steps())
    with models.db.connection_context():
        member = staff(lead.association_id, "conseillere@example.org")
        demandes.change_status(lead, "contactee", member, note="Appelé Inès au 06 12 34 56 78")
        demandes.add_note(lead, lead.association_id, member, "Inès Martin préfère le mardi")
        # A staff export after a search: only that there was one is kept (no address).
        models.Export.create(
            utilisateur=member,
            association=lead.association_id,
            rows=1,
            filters={"q": "[recherche]"},
        )
        assert personal_traces(PERSONAL)  # the check can fail
    # The outbox sends: .eml files of the confirmation (and the parent's copy).
    settings_ = outbox.settings_from(app.config, app.instance_path)
    with app.app_context(), models.db.connection_context():
        outbox.send_due(settings_)
    mail_dir = settings_.mail_dir
    assert any(EMAIL.encode() in p.read_bytes() for p in mail_dir.glob("*.eml"))
    url = page_url(lead) + "/supprimer"
    page = client.get(url)
    assert "seront effacées définitivement. L'association en sera informée." in text(page)
    assert fresh(lead).prenom == "Inès"  # GET only shows
    assert client.post(url, data={}).status_code == 400  # no CSRF
    token = CSRF_RE.search(text(page)).group(1)
    response = client.post(url, data={"csrf_token": token})
    assert (
        response.status_code == 303 and response.headers["Location"] == "/suivi/donnees-supprimees"
    )
    assert "Vos données sont supprimées" in text(client.get(response.headers["Location"]))
    with models.db.connection_context():
        assert personal_traces(PERSONAL) == []
        row = Lead.get_by_id(lead.id)
        assert (row.kind, row.departement, row.besoin) == ("jeune", "69", lead.besoin)
        assert row.status == "sans_suite" and row.answers == {} and suivi.is_erased(row)
        assert row.first_contact_at is not None  # staff had called: still counted
        assert Note.select().where(Note.lead == lead.id).count() == 0
        assert models.Draft.select().where(models.Draft.lead == lead.id).count() == 0
        (notice,) = Message.select().where(Message.kind == "donnees_supprimees")
    assert notice.to == "conseillere@example.org" and lead.reference in notice.body
    for path in mail_dir.glob("*.eml"):
        data = path.read_bytes().lower()
        assert not any(word.lower().encode() in data for word in PERSONAL if "@" in word)
        assert lead.suivi_token.encode().lower() not in data
    # The old link: the kind 404, for every page of it.
    for suffix in ("", "/supprimer", "/mes-donnees.json"):
        gone = client.get(page_url(lead) + suffix)
        assert gone.status_code == 404 and "Lien de suivi introuvable" in text(gone)


@pytest.mark.sqlite_only
def test_erasure_is_gone_from_the_database_file(app, client, db_path):
    lead = send_youth(client)
    token = csrf_of(client, page_url(lead) + "/supprimer")
    with models.db.connection_context():
        models.db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    files = [db_path, db_path.with_name(db_path.name + "-wal")]
    assert EMAIL.encode() in b"".join(p.read_bytes() for p in files if p.exists())
    assert client.post(page_url(lead) + "/supprimer", data={"csrf_token": token}).status_code == 303
    models.db.close_all()  # the last connection closed checkpoints the WAL
    raw = b"".join(p.read_bytes() for p in files if p.exists())
    for word in (EMAIL, "ines.martin", "+33612345678", lead.suivi_token):
        assert word.encode() not in raw, word
        assert word.encode("utf-16-le") not in raw, word


# --- « J'ai perdu mon lien » --------------------------------------------------------------------
def test_lost_link_same_answer_and_a_limit(client):
    lead = send_youth(client)
    url = "/suivi/lien-perdu"
    page = client.get(url)
    assert page.status_code == 200
    token = CSRF_RE.search(text(page)).group(1)
    answers = []
    for address in ("Ines.Martin@example.org", "personne@example.org"):
        response = client.post(url, data={"csrf_token": token, "email": address})
        assert response.status_code == 303
        answers.append(text(client.get(response.headers["Location"])))
    assert answers[0] == answers[1]
    answer_link_requests(client.application)
    assert "Si cette adresse correspond à une demande, vous recevrez le lien" in answers[0]
    (sent,) = messages(kind=suivi.LINK_KIND)
    assert sent.to == EMAIL and page_url(lead) in sent.body
    assert messages(to="personne@example.org") == []
    for _ in range(suivi.LINK_LIMIT_PER_HOUR + 2):
        response = client.post(url, data={"csrf_token": token, "email": EMAIL})
        assert response.status_code == 303
    answer_link_requests(client.application)
    assert len(messages(kind=suivi.LINK_KIND)) == suivi.LINK_LIMIT_PER_HOUR
    # An hour later, the link can be asked again.
    with models.db.connection_context():
        later = models.now() + dt.timedelta(hours=1, minutes=1)
        assert suivi.resend_links(EMAIL, now=later) == 1


def test_lost_link_for_a_parent(client):
    lead = send_youth(client, under_15_steps())
    assert suivi.resend_links(PARENT_EMAIL.upper()) == 1
    (sent,) = messages(kind=suivi.LINK_KIND)
    assert sent.to == PARENT_EMAIL and page_url(lead) in sent.body
    # An address that only appears inside another answer is no parent's.
    assert suivi.resend_links("martin@example.org") == 0


def test_lost_link_form_errors_and_csrf(client):
    url = "/suivi/lien-perdu"
    token = csrf_of(client, url)
    for junk in ("", "pas-une-adresse", "a@b@c"):
        response = client.post(url, data={"csrf_token": token, "email": junk})
        assert response.status_code == 422
        assert "Il y a un problème" in text(response)
    assert client.post(url, data={"email": EMAIL}).status_code == 400
    assert messages(kind=suivi.LINK_KIND) == []


# --- Junk ---------------------------------------------------------------------------------------
JUNK = st.dictionaries(
    st.sampled_from(["csrf_token", "email", "telephone", "motif", "version", "x"]),
    st.one_of(st.text(max_size=80), st.sampled_from(["autre", "", "0", "-1", "9" * 30])),
    max_size=4,
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=JUNK, target=st.sampled_from(["arreter", "pas-recontacte", "supprimer", "lien"]))
def test_junk_at_the_forms_never_500(client, data, target):
    with models.db.connection_context():
        lead = Lead.select().order_by(Lead.id.desc()).first()
    if lead is None or suivi.is_erased(lead):
        lead = send_youth(client)
    url = "/suivi/lien-perdu" if target == "lien" else f"{page_url(lead)}/{target}"
    token = csrf_of(client, "/suivi/lien-perdu")  # one token per session
    posted = dict(data)
    if "csrf_token" in posted:
        posted["csrf_token"] = token
    for headers in ({}, HX):
        response = client.post(url, data=posted, headers=headers)
        assert response.status_code in (303, 400, 404, 409, 422), (
            url,
            posted,
            text(response)[:500],
        )


def test_htmx_fragments_focus_their_heading(client):
    lead = send_youth(client)
    for suffix in ("", "/supprimer", "/arreter"):
        response = client.get(page_url(lead) + suffix, headers=HX)
        body = text(response)
        assert "<html" not in body and "<main" in body
        assert re.search(r"<h1[^>]*tabindex=\"-1\" autofocus", body), suffix
        assert response.headers["Referrer-Policy"] == "same-origin"


def test_erasing_a_youth_in_a_pair_ends_the_pair(db, tmp_path):
    from test_demandes import pair_ready

    jeune, mentor = pair_ready()
    binome = demandes.form_pair(jeune, mentor, "claire@example.org", jeune.association_id)
    jeune = Lead.get_by_id(jeune.id)
    assert suivi.status_sentence(jeune).startswith("Vous êtes en binôme avec un mentor depuis le")
    assert suivi.erase(jeune, tmp_path) is True
    assert suivi.erase(Lead.get_by_id(jeune.id), tmp_path) is False  # already erased
    assert models.Binome.get_by_id(binome.id).ended_at is not None
    assert Lead.get_by_id(jeune.id).status == "terminee"
    assert Lead.get_by_id(mentor.id).status == "terminee"
    assert Lead.get_by_id(mentor.id).prenom == "Paul"  # the mentor's data is the mentor's
