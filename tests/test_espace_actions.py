"""The lead page's actions (issue 6 §3): each change of status and its timeline entry,
PRG and htmx, a stale page (409), a bad reason or note (422), binômes ranked by fit,
the hand-over (the new association sees the lead, the old one gets 404, e-mails queued),
junk at every action form. Both backends (scripts/test-postgres.sh)."""

import re

import pytest
from helpers import CSRF_RE, HX, MENTOR_ANSWERS, YOUTH_ANSWERS, fresh, log_in, submitted_lead
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import models
from models import Binome, Evenement, Lead, Message
from services import demandes, drafts

# Boursier only: the demande goes to the association these tests act as.
YOUTH = dict(YOUTH_ANSWERS, situations_particulieres=["boursier"])


def new_lead(kind="jeune", association=None, **changes):
    """A lead as submitted (oriented by the matcher), moved to `association` if given."""
    answers = dict(YOUTH if kind == "jeune" else MENTOR_ANSWERS, **changes)
    lead = submitted_lead(kind, answers)
    if association is not None:
        Lead.update(association=association).where(Lead.id == lead.id).execute()
    return fresh(lead)


def staff_of(association_id, email):
    return models.Utilisateur.create(email=email, role="membre", association=association_id)


@pytest.fixture
def setting(client):
    """A youth's demande at its proposed association, its staff, another association's."""
    with models.db.connection_context():
        lead = new_lead()
        other = (
            models.Association.select()
            .where(models.Association.id != lead.association_id)
            .order_by(models.Association.id)
            .first()
        )
        return {
            "lead": lead,
            "staff": staff_of(lead.association_id, "claire@example.org"),
            "other_staff": staff_of(other.id, "autre@example.org"),
        }


def body(response):
    return response.get_data(as_text=True)


def token(client, url):
    page = client.get(url)
    assert page.status_code == 200, page.status_code
    return CSRF_RE.search(body(page)).group(1)


def page_of(lead):
    return f"/espace/demandes/{lead.reference}"


def act(client, lead, code, version=None, headers=None, **data):
    url = page_of(lead)
    data = dict(data, csrf_token=token(client, url))
    data.setdefault("version", str(fresh(lead).version if version is None else version))
    return client.post(f"{url}/actions/{code}", data=data, headers=headers or {})


def kinds(lead):
    return [
        e.kind for e in Evenement.select().where(Evenement.lead == lead.id).order_by(Evenement.id)
    ]


# --- Changes of status ---------------------------------------------------------------------


def test_each_action_moves_the_status_and_writes_its_timeline_entry(client, setting):
    lead = setting["lead"]
    log_in(client, setting["staff"])
    page = body(client.get(page_of(lead)))
    assert "J&#39;ai contacté cette personne" in page
    assert "Confier à une autre association" in page
    assert "Rouvrir" not in page

    steps = [
        ("contacter", {}, "contactee", "Personne contactée"),
        ("mettre_en_attente", {}, "en_attente", "En attente d&#39;un binôme"),
        (
            "classer_sans_suite",
            {"motif": "injoignable", "note": "Trois appels"},
            "sans_suite",
            "Classée sans suite, motif : Injoignable malgré plusieurs essais",
        ),
        ("rouvrir", {}, "contactee", "Rouverte"),
    ]
    for code, data, status, timeline in steps:
        response = act(client, lead, code, **data)
        assert response.status_code == 303, (code, body(response))
        assert response.headers["Location"] == page_of(lead) + "?action=faite#statut"
        stored = fresh(lead)
        assert stored.status == status
        assert kinds(lead)[-1] == code
        shown = body(client.get(response.headers["Location"]))
        assert timeline in shown
    assert fresh(lead).first_contact_at is not None
    event = Evenement.get((Evenement.lead == lead.id) & (Evenement.kind == "classer_sans_suite"))
    assert (event.motif, event.note, event.author) == (
        "injoignable",
        "Trois appels",
        "claire@example.org",
    )


def test_with_htmx_the_main_region_comes_back_focused_on_the_status(client, setting):
    lead = setting["lead"]
    log_in(client, setting["staff"])
    response = act(client, lead, "contacter", headers=HX)
    assert response.status_code == 303
    swapped = client.get(response.headers["Location"], headers=HX)
    html = body(swapped)
    assert "<html" not in html and '<main id="main"' in html
    assert '<h2 id="statut-titre" tabindex="-1" autofocus>Statut : Contactée</h2>' in html
    assert 'id="historique"' in html and "Personne contactée" in html
    assert html.count("autofocus") == 1
    assert "C&#39;est noté : vous avez contacté cette personne." in html
    # Without htmx the same URL is a full page.
    assert "<html" in body(client.get(page_of(lead)))


def test_a_stale_page_gets_409_and_nothing_is_overwritten(client, setting):
    lead = setting["lead"]
    log_in(client, setting["staff"])
    shown = fresh(lead).version
    demandes.change_status(lead, "contactee", "collegue@example.org")  # meanwhile
    before = kinds(lead)
    response = act(client, lead, "classer_sans_suite", version=shown, motif="doublon")
    assert response.status_code == 409
    html = body(response)
    assert "Cette demande a changé depuis l&#39;affichage de la page" in html
    assert "Statut : Contactée" in html  # the page as it is now
    assert (fresh(lead).status, kinds(lead)) == ("contactee", before)
    # A version that is no number: treated as a stale page too.
    assert act(client, lead, "mettre_en_attente", version="x\x00").status_code == 409
    assert fresh(lead).status == "contactee"


def test_the_person_chose_another_association_meanwhile(client, setting):
    lead = setting["lead"]
    log_in(client, setting["staff"])
    url = page_of(lead)
    csrf = token(client, url)
    version = fresh(lead).version
    alternative = next(o for o in fresh(lead).orientations if o.rank == 2)
    assert drafts.choose(fresh(lead), alternative.id)  # on the result page, meanwhile
    assert fresh(lead).association_id != setting["staff"].association_id
    response = client.post(
        url + "/actions/contacter", data={"csrf_token": csrf, "version": str(version)}
    )
    assert response.status_code == 409  # was ours: a kind message, nothing done
    assert "n&#39;est plus confiée à votre association" in body(response)
    assert "Inès" not in body(response)
    assert fresh(lead).status == "nouvelle"
    assert client.get(url).status_code == 404  # and its page is no longer readable


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "Choisissez un motif"),
        ({"motif": "perdu"}, "Choisissez un motif dans la liste"),
        ({"motif": "autre"}, "Précisez le motif dans la note."),
        ({"motif": "autre", "note": "   "}, "Précisez le motif dans la note."),
        ({"motif": "doublon", "note": "x" * 2001}, "2000 caractères au plus"),
        ({"motif": "doublon", "note": "a\x00b"}, "caractères non valides"),
    ],
)
def test_a_bad_reason_or_note_gets_422_and_saves_nothing(client, setting, data, message):
    lead = setting["lead"]
    log_in(client, setting["staff"])
    before = kinds(lead)
    response = act(client, lead, "classer_sans_suite", **data)
    assert response.status_code == 422
    html = body(response)
    assert 'class="error-summary"' in html and message in html
    assert '<details class="status-actions__details" open>' in html
    assert (fresh(lead).status, kinds(lead)) == ("nouvelle", before)


def test_an_action_the_status_does_not_offer(client, setting):
    lead = setting["lead"]
    log_in(client, setting["staff"])
    assert act(client, lead, "rouvrir").status_code == 409  # still "nouvelle"
    assert act(client, lead, "former_binome").status_code == 404  # its own page
    assert act(client, lead, "transfert").status_code == 404
    assert act(client, lead, "inconnue").status_code == 404
    assert fresh(lead).status == "nouvelle"


def test_another_association_and_anonymous_visitors(client, setting):
    lead = setting["lead"]
    url = page_of(lead)
    csrf = token(client, "/espace/connexion")
    for path in ("/actions/contacter", "/binome", "/confier"):
        response = client.post(url + path, data={"csrf_token": csrf, "version": "0"})
        assert response.status_code == 302 and "/espace/connexion" in response.headers["Location"]
    log_in(client, setting["other_staff"])
    for path in ("/actions/contacter", "/binome", "/confier"):
        assert client.post(url + path, data={"csrf_token": csrf, "version": "0"}).status_code == 404
    for path in ("/binome", "/confier"):
        assert client.get(url + path).status_code == 404
    assert fresh(lead).status == "nouvelle"


# --- Binômes -------------------------------------------------------------------------------


def ready_to_pair(setting, mentors=2):
    """The youth contacted, and `mentors` mentors of its association contacted."""
    lead = setting["lead"]
    demandes.change_status(lead, "contactee", "claire@example.org")
    found = []
    for number in range(mentors):
        mentor = new_lead("mentor", lead.association_id, prenom=f"Paul{number}")
        demandes.change_status(mentor, "contactee", "claire@example.org")
        found.append(fresh(mentor))
    return fresh(lead), found


def test_form_a_pair_from_the_youths_page_ranked_with_reasons(client, setting):
    far = new_lead(
        "mentor",
        setting["lead"].association_id,
        commune="75056",
        code_postal="75011",
        modalite="presentiel",
        prenom="Loin",
    )
    demandes.change_status(far, "contactee", "claire@example.org")
    jeune, (near, _) = ready_to_pair(setting)
    log_in(client, setting["staff"])
    page = client.get(page_of(jeune) + "/binome")
    html = body(page)
    assert page.status_code == 200
    assert html.index("Paul0 Durand") < html.index("Loin Durand")  # the closest first
    assert "Même besoin : Orientation" in html
    assert "Même commune : Lyon" in html
    assert "Le mentor souhaite accompagner des lycéen·nes" in html
    csrf = CSRF_RE.search(html).group(1)
    response = client.post(
        page_of(jeune) + "/binome",
        data={
            "csrf_token": csrf,
            "version": str(jeune.version),
            "partenaire": f"{near.reference}:{near.version}",
        },
    )
    assert response.status_code == 303
    binome = Binome.get()
    assert (binome.jeune_id, binome.mentor_id, binome.ended_at) == (jeune.id, near.id, None)
    assert {fresh(jeune).status, fresh(near).status} == {"binome_forme"}
    assert kinds(jeune)[-1] == kinds(near)[-1] == "former_binome"
    youth_page = body(client.get(response.headers["Location"]))
    assert f'En binôme avec <a href="/espace/demandes/{near.reference}">Paul0 Durand' in youth_page
    mentor_page = body(client.get(page_of(near)))
    assert 'id="binomes-titre"' in mentor_page and "en cours" in mentor_page
    # « Terminer l'accompagnement » ends the pair, both leads with it.
    assert act(client, jeune, "terminer").status_code == 303
    assert Binome.get_by_id(binome.id).ended_at is not None
    assert {fresh(jeune).status, fresh(near).status} == {"terminee"}
    assert "terminé le" in body(client.get(page_of(near)))


def test_from_a_mentors_page_pick_a_youth(client, setting):
    jeune, (mentor, _) = ready_to_pair(setting)
    log_in(client, setting["staff"])
    html = body(client.get(page_of(mentor) + "/binome"))
    assert f"{jeune.reference}:{jeune.version}" in html
    values = re.findall(r'name="partenaire" type="radio" value="([^"]+)"', html)
    assert values and all(value.startswith("J-") for value in values)  # youths only
    response = client.post(
        page_of(mentor) + "/binome",
        data={
            "csrf_token": CSRF_RE.search(html).group(1),
            "version": str(mentor.version),
            "partenaire": f"{jeune.reference}:{jeune.version}",
        },
    )
    assert response.status_code == 303
    assert Binome.get().mentor_id == mentor.id


def test_pair_form_errors_stale_partner_and_no_candidate(client, setting):
    jeune, (mentor, _) = ready_to_pair(setting)
    log_in(client, setting["staff"])
    url = page_of(jeune) + "/binome"
    csrf = token(client, url)
    empty = client.post(url, data={"csrf_token": csrf, "version": str(jeune.version)})
    assert empty.status_code == 422
    assert "Choisissez la personne avec qui former le binôme" in body(empty)
    stale = client.post(
        url,
        data={
            "csrf_token": csrf,
            "version": str(jeune.version),
            "partenaire": f"{mentor.reference}:{mentor.version + 5}",
        },
    )
    assert stale.status_code == 409
    elsewhere = new_lead("mentor", setting["other_staff"].association_id)
    foreign = client.post(
        url,
        data={
            "csrf_token": csrf,
            "version": str(jeune.version),
            "partenaire": f"{elsewhere.reference}:{elsewhere.version}",
        },
    )
    assert foreign.status_code == 409
    assert elsewhere.reference not in body(client.get(url))
    assert Binome.select().count() == 0
    # A youth not contacted yet: the page says so, and offers no form.
    waiting = new_lead("jeune", jeune.association_id)
    html = body(client.get(page_of(waiting) + "/binome"))
    assert (
        "ne peut pas former de binôme" in html
        and '<form method="post" action="/espace/demandes' not in html
    )


def test_the_candidate_list_runs_a_fixed_number_of_queries(client, setting):
    from helpers import counted_queries

    jeune, _ = ready_to_pair(setting, mentors=2)
    log_in(client, setting["staff"])
    url = page_of(jeune) + "/binome"
    client.get(url)
    with counted_queries() as few:
        client.get(url)
    for number in range(12):
        mentor = new_lead("mentor", jeune.association_id, prenom=f"Autre{number}")
        Lead.update(status="en_attente").where(Lead.id == mentor.id).execute()
    with counted_queries() as many:
        html = body(client.get(url))
    assert html.count('class="radio__input"') == 14
    assert len(many) == len(few)


# --- Hand-over -----------------------------------------------------------------------------


def test_hand_over_new_association_sees_it_old_gets_404_emails_queued(client, setting):
    lead = setting["lead"]
    old = lead.association_id
    log_in(client, setting["staff"])
    url = page_of(lead) + "/confier"
    page = client.get(url)
    html = body(page)
    assert page.status_code == 200
    proposals = demandes.hand_over_proposals(lead)
    assert proposals
    first = proposals[0]
    assert first.programme.association_nom.replace("'", "&#39;") in html
    assert f'value="{first.programme_id}" checked' in html  # the matcher's first
    csrf = CSRF_RE.search(html).group(1)
    refused = client.post(url, data={"csrf_token": csrf, "version": str(lead.version)})
    assert refused.status_code == 422 and "Choisissez un motif" in body(refused)
    no_note = client.post(
        url,
        data={
            "csrf_token": csrf,
            "version": str(lead.version),
            "programme": str(first.programme_id),
            "motif": "autre",
        },
    )
    assert no_note.status_code == 422 and "Précisez le motif dans la note." in body(no_note)
    assert fresh(lead).association_id == old
    new_staff = staff_of(first.association_id, "nouvelle@example.org")
    before = Message.select().count()
    response = client.post(
        url,
        data={
            "csrf_token": csrf,
            "version": str(lead.version),
            "programme": str(first.programme_id),
            "motif": "pas_de_mentor",
            "note": "Plus de mentor à Lyon",
        },
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/espace/"
    inbox = body(client.get("/espace/"))
    assert f"La demande {lead.reference} est confiée à" in inbox
    assert client.get(page_of(lead)).status_code == 404
    stored = fresh(lead)
    assert stored.association_id == first.association_id != old
    assert (stored.status, kinds(lead)[-2:]) == ("nouvelle", ["transfert", "orientation"])
    queued = list(Message.select().where(Message.id > before))
    by_kind = {m.kind: m for m in queued}
    assert by_kind["transfert"].to == "ines.martin@example.org"
    told = by_kind["nouvelle_demande"]
    assert told.to == "nouvelle@example.org" and lead.reference in told.subject
    assert "Inès" not in told.body and "Martin" not in told.body  # no personal data
    # The new association's staff open it, without the old one's note.
    log_in(client, new_staff)
    page = body(client.get(page_of(lead)))
    assert "Confiée à une autre association, motif : Pas de mentor disponible" in page
    assert "Plus de mentor à Lyon" not in page


def test_staff_are_never_offered_the_platform_only_reason(client, setting):
    lead = setting["lead"]
    log_in(client, setting["staff"])
    url = page_of(lead) + "/confier"
    html = body(client.get(url))
    assert 'value="sans_reponse"' not in html and 'value="pas_de_mentor"' in html
    response = client.post(
        url,
        data={
            "csrf_token": CSRF_RE.search(html).group(1),
            "version": str(lead.version),
            "motif": "sans_reponse",
        },
    )
    assert response.status_code == 422 and "Choisissez un motif dans la liste" in body(response)
    assert fresh(lead).association_id == lead.association_id


def test_no_proposal_left_says_so_and_offers_no_form(client, setting):
    lead = setting["lead"]
    log_in(client, setting["staff"])
    models.Programme.update(actif=False).where(
        models.Programme.association != lead.association_id
    ).execute()
    from services import catalogue

    catalogue.invalidate()
    html = body(client.get(page_of(lead) + "/confier"))
    assert "Aucune autre association ne peut accueillir cette demande" in html
    assert "Confier la demande</button>" not in html
    csrf = CSRF_RE.search(html).group(1)
    response = client.post(
        page_of(lead) + "/confier",
        data={"csrf_token": csrf, "version": str(lead.version), "motif": "pas_de_mentor"},
    )
    assert response.status_code == 409
    assert fresh(lead).association_id == lead.association_id


# --- Junk ------------------------------------------------------------------------------------

JUNK = st.text(st.characters(codec="utf-8"), max_size=30) | st.sampled_from(
    ["", "0", "-1", "99999999999", "autre", "injoignable", "J-XXXX:1", "1"]
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    code=st.sampled_from(["contacter", "classer_sans_suite", "rouvrir", "mettre_en_attente"]),
    version=JUNK,
    motif=JUNK,
    note=JUNK,
)
def test_junk_at_the_status_actions_never_500(client, setting, code, version, motif, note):
    lead = setting["lead"]
    log_in(client, setting["staff"])
    response = act(client, lead, code, version=version, motif=motif, note=note)
    assert response.status_code in (303, 409, 422), response.status_code


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    path=st.sampled_from(["/binome", "/confier"]),
    version=JUNK,
    partenaire=JUNK,
    programme=JUNK,
    motif=JUNK,
)
def test_junk_at_the_pair_and_hand_over_forms_never_500(
    client, setting, path, version, partenaire, programme, motif
):
    lead = setting["lead"]
    log_in(client, setting["staff"])
    url = page_of(lead) + path
    data = {
        "csrf_token": token(client, page_of(lead)),
        "version": version,
        "partenaire": partenaire,
        "programme": programme,
        "motif": motif,
    }
    response = client.post(url, data=data)
    assert response.status_code in (303, 409, 422), (response.status_code, body(response)[:300])


def test_hand_over_without_a_pick_goes_to_the_matchers_first(client, setting):
    lead = setting["lead"]
    log_in(client, setting["staff"])
    first = demandes.hand_over_proposals(lead)[0]
    url = page_of(lead) + "/confier"
    response = client.post(
        url,
        data={
            "csrf_token": token(client, url),
            "version": str(lead.version),
            "motif": "hors_criteres",
        },
    )
    assert response.status_code == 303
    assert fresh(lead).association_id == first.association_id
    stale = client.post(
        url, data={"csrf_token": token(client, "/espace/"), "version": "0", "motif": "autre"}
    )
    assert stale.status_code == 409  # handed over: said kindly, nothing done


def test_hand_over_from_a_stale_page_gets_409(client, setting):
    lead = setting["lead"]
    log_in(client, setting["staff"])
    url = page_of(lead) + "/confier"
    csrf = token(client, url)
    shown = fresh(lead).version
    demandes.change_status(lead, "contactee", "collegue@example.org")
    response = client.post(
        url, data={"csrf_token": csrf, "version": str(shown), "motif": "hors_territoire"}
    )
    assert response.status_code == 409
    assert "Rien n&#39;a été modifié" in body(response)
    assert fresh(lead).association_id == lead.association_id
    assert kinds(lead)[-1] == "contacter"


def test_a_stale_page_with_a_bad_reason_is_stale_first(client, setting):
    """A form sent back with its errors shows the version it carries: a stale page must
    get 409, never a 422 whose form would then carry the new version."""
    lead = setting["lead"]
    log_in(client, setting["staff"])
    shown = fresh(lead).version
    demandes.change_status(lead, "contactee", "collegue@example.org")
    response = act(client, lead, "classer_sans_suite", version=shown, motif="autre")
    assert response.status_code == 409
