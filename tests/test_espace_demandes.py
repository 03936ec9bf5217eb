"""The inbox, a lead's page, notes, the selection and the CSV export of the espace
association: access control on every route, filters, search, pagination, htmx, the
number of queries per page, the CSV read back."""

import csv
import datetime as dt
import io
from urllib.parse import quote

import pytest
from helpers import (
    CSRF_RE,
    HX,
    MENTOR_STEPS,
    YOUTH_STEPS,
    counted_queries,
    csrf_token,
    log_in,
    submit,
    walk,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import models
from domain import workdays
from services import demandes as actions
from services import exports, inbox

LOGIN = "/espace/connexion"


@pytest.fixture
def people(app):
    """Two associations with a staff member each, and an admin."""
    first, second = list(models.Association.select().order_by(models.Association.id).limit(2))
    return {
        "a": first,
        "b": second,
        "staff_a": models.Utilisateur.create(
            email="membre-a@example.org", role="membre", association=first
        ),
        "staff_b": models.Utilisateur.create(
            email="membre-b@example.org", role="responsable", association=second
        ),
        "admin": models.Utilisateur.create(email="admin@example.org", role="admin"),
    }


def sent_lead(client, association, parcours="jeune"):
    """A lead sent through the questionnaire (as a visitor would), routed to `association`."""
    steps = YOUTH_STEPS if parcours == "jeune" else MENTOR_STEPS
    walk(client, parcours, steps)
    response = submit(client, parcours)
    assert response.status_code == 303
    reference = response.headers["Location"].rsplit("/", 1)[1]
    lead = models.Lead.get(models.Lead.reference == reference)
    models.Lead.update(association=association).where(models.Lead.id == lead.id).execute()
    return models.Lead.get_by_id(lead.id)


def make_lead(association, number, **fields):
    values = dict(
        reference=f"J-T{number:04d}",
        kind="jeune",
        suivi_token=f"token-{number}",
        answers={},
        association=association,
        prenom=f"Prénom{number}",
        nom="Durand",
        email=f"p{number}@example.org",
        telephone=f"+3361234{number:04d}",
        besoin="orientation",
        departement="69",
    )
    values.update(fields)
    # Arrived when created, its promised day then fixed (the one due rule).
    values.setdefault("routed_at", values.get("created_at") or models.now())
    values.setdefault("due_on", workdays.due_day(values["routed_at"], association.delai_recontact))
    return models.Lead.create(**values)


def many_leads(association, count, prefix="X"):
    """`count` leads in bulk: every status, both kinds, four départements, 60 days."""
    start = models.now() - dt.timedelta(days=60)
    statuses = list(inbox.STATUS_LABELS)
    rows = [
        dict(
            reference=f"{prefix}-{i:05d}",
            kind="jeune" if i % 2 else "mentor",
            status=statuses[i % len(statuses)],
            suivi_token=f"{prefix}-token-{i}",
            answers="{}",
            association=association.id,
            prenom=f"Prénom{i}",
            nom="Lefèvre",
            email=f"{prefix}{i}@example.org",
            telephone=f"+336{i:08d}",
            besoin="orientation" if i % 3 else "emploi,scolarite",
            departement=("69", "75", "13", "33")[i % 4],
            created_at=start + dt.timedelta(minutes=5 * i),
            routed_at=start + dt.timedelta(minutes=5 * i),
            due_on=workdays.due_day(
                start + dt.timedelta(minutes=5 * i), association.delai_recontact
            ),
        )
        for i in range(count)
    ]
    with models.db.atomic():
        for batch in range(0, count, 500):
            models.Lead.insert_many(rows[batch : batch + 500]).execute()


def token_of(client, url):
    page = client.get(url)
    assert page.status_code == 200
    return CSRF_RE.search(page.get_data(as_text=True)).group(1)


def body(response):
    return response.get_data(as_text=True)


# --- Access control: every route, every role --------------------------------------------


def routes(reference):
    return [
        ("get", "/espace/"),
        ("get", f"/espace/demandes/{reference}"),
        ("post", f"/espace/demandes/{reference}/notes"),
        ("post", "/espace/demandes/selection"),
        ("post", "/espace/export.csv"),
    ]


def test_anonymous_visitors_go_to_the_login_page(client, people):
    lead = make_lead(people["a"], 1)
    for method, url in routes(lead.reference):
        response = getattr(client, method)(url, data={"demande": f"{lead.reference}:0"})
        if method == "post":
            # No session, no CSRF token: refused before the guard, never a page of data.
            assert response.status_code in (302, 400), url
        else:
            assert response.status_code == 302, url
            assert response.headers["Location"].startswith(LOGIN), url


def test_staff_of_another_association_get_404_everywhere(client, people):
    lead = make_lead(people["a"], 1)
    log_in(client, people["staff_b"])
    token = csrf_token(client)
    for method, url in routes(lead.reference)[1:]:
        data = {"csrf_token": token, "demande": f"{lead.reference}:0", "text": "une note"}
        response = getattr(client, method)(url, data=data)
        if url.startswith("/espace/demandes/J"):
            assert response.status_code == 404, url
        else:  # lists and exports of B: the lead of A is never in them
            assert lead.reference not in body(response), url
            assert "Prénom1" not in body(response), url
    assert body(client.get("/espace/")).count("J-T0001") == 0
    assert models.Note.select().count() == 0
    assert models.Lead.get_by_id(lead.id).status == "nouvelle"


def test_unknown_references_are_404(client, people):
    log_in(client, people["staff_a"])
    token = csrf_token(client)
    assert client.get("/espace/demandes/J-ZZZZZ").status_code == 404
    assert client.get("/espace/demandes/" + "x" * 300).status_code == 404
    note = client.post("/espace/demandes/J-ZZZZZ/notes", data={"csrf_token": token, "text": "a"})
    assert note.status_code == 404


def test_admin_gets_404_on_staff_routes(client, people):
    lead = make_lead(people["a"], 1)
    log_in(client, people["admin"])
    for method, url in routes(lead.reference):
        assert getattr(client, method)(url).status_code in (404, 400), url
    assert client.get("/espace/").status_code == 404
    assert client.get(f"/espace/demandes/{lead.reference}").status_code == 404
    assert export_filtered(client).status_code == 404


def test_staff_of_the_association_open_every_route(client, people):
    lead = make_lead(people["a"], 1)
    log_in(client, people["staff_a"])
    assert client.get("/espace/").status_code == 200
    assert client.get(f"/espace/demandes/{lead.reference}").status_code == 200
    assert export_filtered(client).status_code == 200
    token = csrf_token(client)
    note = client.post(
        f"/espace/demandes/{lead.reference}/notes", data={"csrf_token": token, "text": "Rappel"}
    )
    assert note.status_code == 303


def test_a_handed_over_lead_leaves_the_old_inbox(client, people):
    lead = make_lead(people["a"], 1)
    log_in(client, people["staff_a"])
    assert client.get(f"/espace/demandes/{lead.reference}").status_code == 200
    models.Lead.update(association=people["b"]).where(models.Lead.id == lead.id).execute()
    assert client.get(f"/espace/demandes/{lead.reference}").status_code == 404
    assert lead.reference not in body(client.get("/espace/?statut=toutes"))


# --- The inbox ----------------------------------------------------------------------------


def test_inbox_lists_oldest_first_with_tabs_counts_and_badges(client, people):
    now = models.now()
    make_lead(people["a"], 1, created_at=now - dt.timedelta(days=2))
    make_lead(people["a"], 2, created_at=now - dt.timedelta(days=20))
    make_lead(people["a"], 3, status="contactee", created_at=now - dt.timedelta(days=30))
    make_lead(people["b"], 4)
    log_in(client, people["staff_a"])
    page = body(client.get("/espace/"))
    assert page.index("J-T0002") < page.index("J-T0001")  # oldest waiting first
    assert "J-T0003" not in page  # the default tab: nouvelles
    assert "J-T0004" not in page  # another association's
    assert 'Nouvelle <span class="inbox-tabs__count">(2)</span>' in page
    assert 'Contactée <span class="inbox-tabs__count">(1)</span>' in page
    assert 'Toutes <span class="inbox-tabs__count">(3)</span>' in page
    assert "En attente depuis 20 jours" in page
    assert page.count("badge--late") == 1  # 20 days late, not 2 days (delay ≥ 2 days)
    everything = body(client.get("/espace/?statut=toutes"))
    assert all(f"J-T000{i}" in everything for i in (1, 2, 3))


def test_filters_kind_besoin_departement_and_late(client, people):
    now = models.now()
    make_lead(people["a"], 1, departement="75", created_at=now - dt.timedelta(days=30))
    make_lead(people["a"], 2, kind="mentor", reference="M-T0002", besoin="emploi,scolarite")
    make_lead(people["a"], 3, besoin="emploi")
    make_lead(people["a"], 4, besoin="scolarite", created_at=now - dt.timedelta(days=30))
    log_in(client, people["staff_a"])

    def listed(query):
        page = body(client.get("/espace/?" + query))
        return {ref for ref in ("J-T0001", "M-T0002", "J-T0003", "J-T0004") if ref in page}

    assert listed("type=mentor") == {"M-T0002"}
    assert listed("type=jeune") == {"J-T0001", "J-T0003", "J-T0004"}
    assert listed("besoin=scolarite") == {"M-T0002", "J-T0004"}
    assert listed("besoin=emploi") == {"M-T0002", "J-T0003"}
    assert listed("departement=75") == {"J-T0001"}
    assert listed("retard=1") == {"J-T0001", "J-T0004"}
    assert listed("retard=1&besoin=scolarite") == {"J-T0004"}
    # The tabs count under the other filters.
    assert 'Toutes <span class="inbox-tabs__count">(1)</span>' in body(
        client.get("/espace/?departement=75")
    )


def test_late_agrees_with_the_one_due_rule(client, people):
    """A lead is late in the inbox (flag and filter) exactly when its promised day is over."""
    today = workdays.paris_day(models.now())
    for number, days in enumerate((-1, 0, 1, 2, 7, 30), start=1):
        make_lead(people["a"], number, due_on=today - dt.timedelta(days=days))
    log_in(client, people["staff_a"])
    late = body(client.get("/espace/?retard=1"))
    assert {n for n in range(1, 7) if f"J-T{n:04d}" in late} == {3, 4, 5, 6}
    assert body(client.get("/espace/")).count("badge--late") == 4


def test_a_lead_handed_over_today_is_not_late_at_its_new_association(client, people):
    """Created 30 days ago, handed over today: its new association's clock starts today,
    in the inbox, the operator's late list and the reminders alike."""
    old = models.now() - dt.timedelta(days=30)
    lead = make_lead(people["b"], 1, created_at=old)
    assert inbox.is_late(lead.status, lead.due_on, workdays.paris_day(models.now()))
    with models.write_transaction():
        row = models.Lead.get_by_id(lead.id)
        actions.route(row, people["a"], 5)
        row.save()
    log_in(client, people["staff_a"])
    assert "badge--late" not in body(client.get("/espace/"))
    assert "J-T0001" not in body(client.get("/espace/?retard=1"))
    log_in(client, people["admin"])
    assert "J-T0001" not in body(client.get("/admin/retards"))


@pytest.mark.parametrize(
    "query",
    ["Prénom7", "prénom7", "durand", "Prénom7 Durand", "J-T0007", "j-t0007", "P7@EXAMPLE.ORG"],
)
def test_search_by_name_reference_email(client, people, query):
    make_lead(people["a"], 7)
    make_lead(people["a"], 8, nom="Martin")
    log_in(client, people["staff_a"])
    page = body(client.get("/espace/", query_string={"q": query}))
    assert "J-T0007" in page
    if query not in ("durand",):
        assert "J-T0008" not in page


@pytest.mark.parametrize("query", ["06 12 34 00 07", "+33612340007", "06.12.34.00.07"])
def test_search_by_phone_whatever_its_writing(client, people, query):
    make_lead(people["a"], 7)
    make_lead(people["a"], 8)
    log_in(client, people["staff_a"])
    page = body(client.get("/espace/", query_string={"q": query}))
    assert "J-T0007" in page
    assert "J-T0008" not in page


def test_search_wildcards_are_literal(client, people):
    make_lead(people["a"], 7)
    log_in(client, people["staff_a"])
    assert "J-T0007" not in body(client.get("/espace/", query_string={"q": "%"}))
    assert "J-T0007" not in body(client.get("/espace/", query_string={"q": "_"}))


def test_pagination_25_and_50(client, people):
    many_leads(people["a"], 120)
    log_in(client, people["staff_a"])
    first = body(client.get("/espace/?statut=toutes"))
    assert first.count('class="inbox-item"') == 25
    assert "Page 1 sur 5" in first
    assert "X-00000" in first and "X-00025" not in first
    second = body(client.get("/espace/?statut=toutes&page=2"))
    assert "X-00025" in second and "X-00000" not in second
    fifty = body(client.get("/espace/?statut=toutes&par_page=50&page=3"))
    assert fifty.count('class="inbox-item"') == 20
    assert "Page 3 sur 3" in fifty
    # Past the last page: the last page.
    assert "Page 3 sur 3" in body(client.get("/espace/?statut=toutes&par_page=50&page=99"))
    # Links keep the filters.
    assert "statut=toutes" in first[first.index("Page suivante") - 200 :]


def test_bad_filters_get_a_french_message_and_400(client, people):
    make_lead(people["a"], 1)
    log_in(client, people["staff_a"])
    for query in ("statut=perdu", "type=chat", "besoin=x", "par_page=1000", "page=-1", "retard=2"):
        response = client.get("/espace/?" + query)
        assert response.status_code == 400, query
        assert "Il y a un problème" in body(response), query
        assert "J-T0001" in body(response), query  # the rest of the inbox still shows
    assert export_filtered(client, statut="perdu").status_code == 400


def test_htmx_gets_the_region_a_browser_the_page(client, people):
    make_lead(people["a"], 1)
    log_in(client, people["staff_a"])
    full = body(client.get("/espace/?type=jeune"))
    partial = body(client.get("/espace/?type=jeune", headers=HX))
    assert full.startswith("<!doctype html>")
    assert not partial.startswith("<!doctype html>") and "<html" not in partial
    assert 'id="liste"' in partial and "J-T0001" in partial
    # Focus goes to the number of results after a swap, never on a full page.
    assert 'id="resultats" tabindex="-1" autofocus' in partial
    selected = body(
        client.get("/espace/?type=jeune", headers={"HX-Request": "true", "HX-Request-Type": "full"})
    )
    assert (
        selected.startswith("<!doctype html>")
        and 'id="resultats" tabindex="-1" autofocus' in selected
    )
    assert "autofocus" not in full
    # The filter form updates the list in place and the URL.
    assert 'data-hx-get="/espace/"' in full and 'data-hx-target="#liste"' in full
    assert 'data-hx-push-url="true"' in full


def test_inbox_runs_a_fixed_number_of_queries_with_10000_leads(client, people):
    many_leads(people["a"], 10_000)
    many_leads(people["b"], 200, prefix="Y")
    log_in(client, people["staff_a"])
    counts = {}
    for query in (
        "",
        "statut=toutes",
        "statut=toutes&par_page=50&page=7",
        "retard=1&type=jeune",
        "q=Prénom42",
        "besoin=emploi&departement=69",
        "tri=-statut&statut=toutes",
        "q=Lefèvre&tri=-arrivee",
        "tri=echeance",
    ):
        with counted_queries() as statements:
            response = client.get("/espace/?" + query)
        assert response.status_code == 200
        counts[query] = len(statements)
    # The user, the association, the tab counts, the départements, the rows.
    assert set(counts.values()) == {5}, counts
    assert body(client.get("/espace/?statut=toutes&par_page=50")).count('class="inbox-item"') == 50


def test_lead_page_runs_a_fixed_number_of_queries(client, people):
    lead = sent_lead(client, people["a"])
    log_in(client, people["staff_a"])
    with counted_queries() as few:
        client.get(f"/espace/demandes/{lead.reference}")
    for i in range(30):
        models.Note.create(
            lead=lead, association=people["a"], author=people["staff_a"], text=f"n{i}"
        )
        models.Evenement.create(lead=lead, kind="statut", to_status="contactee")
    with counted_queries() as many:
        page = client.get(f"/espace/demandes/{lead.reference}")
    assert body(page).count('class="notes__item"') == 30
    assert len(many) == len(few)


# --- The lead's page ----------------------------------------------------------------------


def test_lead_page_answers_contacts_reasons_timeline(client, people):
    lead = sent_lead(client, people["a"])
    log_in(client, people["staff_a"])
    page = body(client.get(f"/espace/demandes/{lead.reference}"))
    assert "Je ne sais pas quelle orientation choisir" in page  # the besoin, in words
    assert "Au lycée général ou technologique" in page
    assert "Lyon (69003)" in page
    assert 'href="tel:+33612345678"' in page
    assert 'href="sms:+33612345678"' in page
    assert 'href="mailto:ines.martin@example.org"' in page
    orientation = next(o for o in lead.orientations if o.rank == 1)
    for reason in orientation.reasons:
        assert reason.replace("'", "&#39;") in page
    assert "Orientée par la plateforme" in page


def test_a_mentor_page_shows_its_answers(client, people):
    lead = sent_lead(client, people["a"], parcours="mentor")
    log_in(client, people["staff_a"])
    page = body(client.get(f"/espace/demandes/{lead.reference}"))
    assert "Candidature (mentor)" in page
    assert "Développeuse" in page
    assert 'href="tel:+33123456789"' in page
    assert "sms:" not in page  # a fixed line takes no SMS


def test_the_new_association_never_sees_the_old_ones_notes(client, people):
    lead = make_lead(people["a"], 1)
    models.Evenement.create(lead=lead, kind="orientation", author="matcher")
    models.Evenement.create(lead=lead, kind="statut", to_status="contactee", note="Secret de A")
    models.Note.create(lead=lead, association=people["a"], text="Note privée de A")
    models.Evenement.create(
        lead=lead, kind="transfert", motif="pas_de_mentor", note="Texte libre de A"
    )
    models.Evenement.create(lead=lead, kind="orientation", note="repli : à distance")
    models.Lead.update(association=people["b"]).where(models.Lead.id == lead.id).execute()
    log_in(client, people["staff_b"])
    page = body(client.get(f"/espace/demandes/{lead.reference}"))
    assert "Note privée de A" not in page
    assert "Secret de A" not in page
    assert "Texte libre de A" not in page
    # The events themselves stay, with their coded reason; what came after is shown.
    assert "Statut : Contactée" in page
    assert "Confiée à une autre association, motif : Pas de mentor disponible" in page
    assert "repli : à distance" in page
    # Association A, which handed it over, sees its own notes no more (404).
    log_in(client, people["staff_a"])
    assert client.get(f"/espace/demandes/{lead.reference}").status_code == 404


def test_add_a_note_prg_and_htmx(client, people):
    lead = make_lead(people["a"], 1)
    log_in(client, people["staff_a"])
    url = f"/espace/demandes/{lead.reference}"
    token = token_of(client, url)
    response = client.post(url + "/notes", data={"csrf_token": token, "text": "  Rappeler lundi "})
    assert response.status_code == 303
    assert response.headers["Location"].startswith(url)
    note = models.Note.get()
    assert (note.text, note.association_id, note.author_id) == (
        "Rappeler lundi",
        people["a"].id,
        people["staff_a"].id,
    )
    page = body(client.get(response.headers["Location"]))
    assert "Rappeler lundi" in page and "Note ajoutée." in page
    partial = client.post(
        url + "/notes",
        data={"csrf_token": token, "text": "Deux"},
        headers=HX,
        follow_redirects=True,
    )
    assert 'id="notes-titre" tabindex="-1" autofocus' in body(partial)
    assert models.Note.select().count() == 2


def test_note_errors_are_french_422(client, people):
    lead = make_lead(people["a"], 1)
    log_in(client, people["staff_a"])
    url = f"/espace/demandes/{lead.reference}"
    token = token_of(client, url)
    empty = client.post(url + "/notes", data={"csrf_token": token, "text": "   "})
    assert empty.status_code == 422
    assert "Écrivez la note avant de l&#39;ajouter" in body(empty)
    long = client.post(url + "/notes", data={"csrf_token": token, "text": "a" * 2001})
    # One message for a note too long, wherever a note is written (domain/lifecycle.py).
    assert long.status_code == 422 and "Écrivez une note de 2000 caractères au plus" in body(long)
    no_token = client.post(url + "/notes", data={"text": "sans jeton"})
    assert no_token.status_code == 400
    assert models.Note.select().count() == 0


# --- The selection ------------------------------------------------------------------------


def test_mark_the_selection_contacted_with_version_check(client, people):
    first, second = make_lead(people["a"], 1), make_lead(people["a"], 2)
    other = make_lead(people["b"], 3)
    log_in(client, people["staff_a"])
    token = csrf_token(client)
    models.Lead.update(version=5).where(models.Lead.id == second.id).execute()  # moved since
    response = client.post(
        "/espace/demandes/selection",
        data={
            "csrf_token": token,
            "action": "contacter",
            "retour": "type=jeune&evil=1",
            "demande": ["J-T0001:0", "J-T0002:0", "J-T0003:0"],
        },
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/espace/?type=jeune"
    assert models.Lead.get_by_id(first.id).status == "contactee"
    assert models.Lead.get_by_id(first.id).first_contact_at is not None
    assert models.Lead.get_by_id(first.id).version == 1
    assert models.Lead.get_by_id(second.id).status == "nouvelle"  # stale: not applied
    assert models.Lead.get_by_id(other.id).status == "nouvelle"  # not ours: untouched
    event = models.Evenement.get(models.Evenement.lead == first.id)
    assert (event.from_status, event.to_status) == ("nouvelle", "contactee")
    page = body(client.get("/espace/"))
    assert "Marquées comme contactées : J-T0001." in page
    assert "J-T0002" in page and "avaient changé" in page
    assert "J-T0003" not in page


def test_empty_selection_says_so(client, people):
    log_in(client, people["staff_a"])
    token = csrf_token(client)
    response = client.post("/espace/demandes/selection", data={"csrf_token": token})
    assert response.status_code == 303
    page = body(client.get("/espace/"))
    assert (
        '<div class="notice notice--erreur" role="alert"><p>Cochez au moins une personne '
        "contactée.</p></div>" in page
    )


# --- CSV export ---------------------------------------------------------------------------


def export_filtered(client, **query):
    """The inbox's export button: a POST of the filters in the query string."""
    token = csrf_token(client)
    return client.post(
        "/espace/export.csv", query_string=query, data={"csrf_token": token, "portee": "filtre"}
    )


def read_csv(response):
    raw = response.get_data()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 byte-order mark
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))


def test_export_the_filtered_inbox(client, people):
    make_lead(people["a"], 1, prenom='=HYPERLINK("http://x")', nom="+Nom", email="@x.org")
    make_lead(
        people["a"], 2, kind="mentor", reference="M-T0002", nom="-1+2", besoin="emploi,scolarite"
    )
    make_lead(people["a"], 3, status="contactee", nom="\tTab")
    make_lead(people["b"], 4)
    log_in(client, people["staff_a"])
    response = export_filtered(client, statut="toutes")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store"
    rows = read_csv(response)
    header, lines = rows[0], rows[1:]
    assert header == [title for title, _ in exports.COLUMNS]
    assert [line[0] for line in lines] == ["J-T0001", "M-T0002", "J-T0003"]
    by_ref = {line[0]: dict(zip(header, line, strict=True)) for line in lines}
    assert by_ref["J-T0001"]["Prénom"] == '\'=HYPERLINK("http://x")'
    assert by_ref["J-T0001"]["Nom"] == "'+Nom"
    assert by_ref["J-T0001"]["E-mail"] == "'@x.org"
    assert by_ref["M-T0002"]["Nom"] == "'-1+2"
    assert by_ref["J-T0003"]["Nom"] == "'\tTab"
    assert by_ref["J-T0001"]["Téléphone"] == "06 12 34 00 01"
    assert by_ref["J-T0001"]["Statut"] == "Nouvelle"
    assert by_ref["J-T0003"]["Statut"] == "Contactée"
    assert by_ref["M-T0002"]["Besoin"] == "Stage, alternance ou premier emploi, Scolarité"
    export = models.Export.get()
    assert (export.utilisateur_id, export.association_id, export.rows) == (
        people["staff_a"].id,
        people["a"].id,
        3,
    )
    assert export.filters == {"status": "toutes"}


def test_export_uses_the_inbox_filters(client, people):
    make_lead(people["a"], 1)
    make_lead(people["a"], 2, kind="mentor", reference="M-T0002")
    log_in(client, people["staff_a"])
    rows = read_csv(export_filtered(client, type="mentor"))
    assert [line[0] for line in rows[1:]] == ["M-T0002"]
    assert models.Export.get().filters == {"kind": "mentor"}
    # The inbox's export button carries its filters.
    assert 'action="/espace/export.csv?type=mentor"' in body(client.get("/espace/?type=mentor"))


def test_an_export_record_keeps_no_search_text(client, people):
    """The search is personal data (a name, an address, a number in any spelling) that
    the person's erasure could not find again in every form: the record says only that
    there was one."""
    make_lead(people["a"], 1)
    log_in(client, people["staff_a"])
    for search in ("06 12 34 56 78", "Martin", "jeune@exemple.fr"):
        assert export_filtered(client, q=search).status_code == 200
    recorded = [e.filters for e in models.Export.select().order_by(models.Export.id)]
    # A search looks in every status (inbox.default_status): the record says so.
    assert recorded == [{"q": "[recherche]", "status": "toutes"}] * 3


def test_a_get_or_head_exports_and_records_nothing(client, people):
    """Another site can make a browser GET a URL: the export is a POST with its token."""
    make_lead(people["a"], 1)
    log_in(client, people["staff_a"])
    for method in ("get", "head"):
        response = getattr(client, method)("/espace/export.csv?statut=toutes")
        assert response.status_code == 405
        assert "GET" not in response.headers["Allow"]
    no_token = client.post("/espace/export.csv", data={"portee": "filtre"})
    assert no_token.status_code == 400
    assert models.Export.select().count() == 0
    assert not models.SecurityEvent.select().where(models.SecurityEvent.kind == "export").exists()
    export_filtered(client)
    assert models.Export.select().count() == 1
    entry = models.SecurityEvent.get(models.SecurityEvent.kind == "export")
    assert (entry.utilisateur_id, entry.details) == (
        people["staff_a"].id,
        {"lignes": 1, "association": people["a"].id},
    )


def test_export_the_selection_only_ours(client, people):
    make_lead(people["a"], 1)
    make_lead(people["a"], 2)
    make_lead(people["b"], 3)
    log_in(client, people["staff_a"])
    token = csrf_token(client)
    response = client.post(
        "/espace/export.csv",
        data={"csrf_token": token, "demande": ["J-T0002:0", "J-T0003:0", "J-T0002:0"]},
    )
    rows = read_csv(response)
    assert [line[0] for line in rows[1:]] == ["J-T0002"]
    export = models.Export.get()
    assert export.rows == 1


def test_neutralise():
    for text in ("=1+1", "+33", "-2", "@SUM(A1)", "\tx", "\rx"):
        assert exports.neutralise(text) == "'" + text
    for text in ("Inès", "06 12", "", "a=b"):
        assert exports.neutralise(text) == text
    assert exports.neutralise(None) == ""


# --- Junk ---------------------------------------------------------------------------------

JUNK = st.text(st.characters(codec="utf-8"), max_size=120)
KEYS = st.sampled_from(
    ["statut", "type", "besoin", "departement", "retard", "q", "page", "par_page", "x"]
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(args=st.lists(st.tuples(KEYS, JUNK), max_size=6))
def test_junk_at_the_filter_form_never_500(client, people, args):
    log_in(client, people["staff_a"])
    response = client.get("/espace/", query_string=args)
    assert response.status_code in (200, 400)
    assert client.get("/espace/", query_string=args, headers=HX).status_code in (200, 400)
    token = csrf_token(client)
    export = client.post(
        "/espace/export.csv", query_string=args, data={"csrf_token": token, "portee": "filtre"}
    )
    assert export.status_code in (200, 400)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=JUNK, extra=st.dictionaries(JUNK, JUNK, max_size=3))
def test_junk_at_the_note_form_never_500(client, people, text, extra):
    lead = models.Lead.get_or_none(models.Lead.reference == "J-T0001") or make_lead(people["a"], 1)
    log_in(client, people["staff_a"])
    token = token_of(client, f"/espace/demandes/{lead.reference}")
    data = dict(extra, csrf_token=token, text=text)
    response = client.post(f"/espace/demandes/{lead.reference}/notes", data=data)
    assert response.status_code in (303, 422)
    selection = client.post(
        "/espace/demandes/selection", data={"csrf_token": token, "demande": [text], "retour": text}
    )
    assert selection.status_code == 303
    exported = client.post("/espace/export.csv", data={"csrf_token": token, "demande": [text]})
    assert exported.status_code in (200, 303)
    # 308: a "/" in the text makes a double slash, which Werkzeug redirects to a single one.
    assert client.get("/espace/demandes/" + quote(text, safe="")).status_code in (200, 308, 404)


def test_a_lead_arrived_today_says_so_rather_than_zero_days(client, people):
    lead = make_lead(people["a"], 1)
    log_in(client, people["staff_a"])
    for url in ("/espace/", f"/espace/demandes/{lead.reference}"):
        page = body(client.get(url))
        assert "Arrivée aujourd'hui" in page and "depuis 0 jour" not in page, url


# --- Indexes ------------------------------------------------------------------------------


def test_migration_0007_indexes_the_departements_of_an_association(app):
    names = {index.name for index in models.db.get_indexes("lead")}
    assert "lead_association_id_departement" in names
    assert "lead_association_id_status_created_at" in names


@pytest.mark.sqlite_only
def test_the_departement_list_reads_the_index_only(app, people):
    many_leads(people["a"], 300)
    sql, params = inbox.departements_query(people["a"].id).sql()
    plan = " ".join(str(row) for row in models.db.execute_sql("EXPLAIN QUERY PLAN " + sql, params))
    assert "COVERING INDEX lead_association_id_departement" in plan, plan


def test_a_reference_search_uses_the_reference_alone():
    clause = inbox.search_clause(" j-7k3q9 ")
    sql, params = models.Lead.select().where(clause).sql()
    assert params == ["J-7K3Q9"] and "LIKE" not in sql


def test_after_a_real_hand_over_the_new_association_sees_the_lead_not_the_old_notes(client, app):
    """Through core's demandes.hand_over: the matcher re-runs without the first association."""
    walk(client, "jeune", YOUTH_STEPS)
    reference = submit(client, "jeune").headers["Location"].rsplit("/", 1)[1]
    lead = models.Lead.get(models.Lead.reference == reference)
    first = lead.association_id
    old = models.Utilisateur.create(email="x@example.org", role="membre", association=first)
    actions.change_status(lead, "contactee", by=old)
    actions.add_note(lead, first, old, "Note privée de l'ancienne")
    actions.hand_over(lead, old, "pas_de_mentor", note="Texte libre de l'ancienne")
    lead = models.Lead.get_by_id(lead.id)
    assert lead.association_id not in (None, first)
    new = models.Utilisateur.create(
        email="y@example.org", role="membre", association=lead.association_id
    )
    log_in(client, new)
    page = body(client.get(f"/espace/demandes/{reference}"))
    assert "Note privée de l&#39;ancienne" not in page and "Note privée" not in page
    assert "Texte libre" not in page
    # Who acted at the old association is theirs too: its staff's e-mail is not shown.
    assert "x@example.org" not in page
    assert "motif : Pas de mentor disponible en ce moment" in page
    programme = models.Programme.get_by_id(
        models.Orientation.get(
            (models.Orientation.lead == lead.id) & (models.Orientation.outcome == "proposee")
        ).programme_id
    )
    assert programme.association_id == lead.association_id
    assert f"Programme proposé : {programme.nom}" in page.replace("&#39;", "'")
    assert reference in body(client.get("/espace/"))  # back to "nouvelle", in the new inbox
    log_in(client, old)
    assert client.get(f"/espace/demandes/{reference}").status_code == 404
    assert reference not in body(client.get("/espace/?statut=toutes"))


def test_nul_bytes_and_control_characters_never_reach_the_database(client, people):
    """PostgreSQL refuses NUL in text with an error: every input is checked before."""
    lead = make_lead(people["a"], 1)
    log_in(client, people["staff_a"])
    token = csrf_token(client)
    assert client.get("/espace/demandes/J-T%000001").status_code == 404
    assert client.get("/espace/demandes/J-T0001%0A").status_code == 404
    note = client.post(
        f"/espace/demandes/{lead.reference}/notes", data={"csrf_token": token, "text": "a\x00b"}
    )
    assert note.status_code == 422 and "caractères non valides" in body(note)
    kept = client.post(
        f"/espace/demandes/{lead.reference}/notes",
        data={"csrf_token": token, "text": "ligne 1\r\nligne 2\tfin"},
    )
    assert kept.status_code == 303
    exported = client.post(
        "/espace/export.csv", data={"csrf_token": token, "demande": ["J-T0001\x00:0", "J-T0001:0"]}
    )
    assert [line[0] for line in read_csv(exported)[1:]] == ["J-T0001"]
    selection = client.post(
        "/espace/demandes/selection",
        data={"csrf_token": token, "demande": ["J\x00:0", "J-T0001:٣", "J-T0001:0"]},
    )
    assert selection.status_code == 303
    assert models.Lead.get_by_id(lead.id).status == "contactee"
    assert client.get("/espace/?q=a%00b").status_code == 400
