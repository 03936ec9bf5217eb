import pytest

from domain import matcher
from domain import vocabulary as V
from forms import questionnaire


def test_every_vocabulary_has_unique_codes_and_a_label():
    for name, vocab in V.VOCABS.items():
        assert vocab.name == name
        assert vocab.codes, name
        assert len(set(vocab.codes)) == len(vocab.codes), name
        for term in vocab:
            assert term.label.strip(), (name, term.code)
            assert not term.label[0].islower(), (name, term.code)  # sentence case


def test_label_and_forms():
    assert V.label("statut", "en_attente") == "En attente d'un binôme"
    assert V.label("besoin", "emploi") == "Stage, alternance ou premier emploi"
    assert V.label("besoin", "emploi", "question") == (
        "Je cherche un stage, une alternance, un premier emploi"
    )
    # A form a term does not have falls back to its label.
    assert V.label("contact_pref", "sms", "phrase") == "SMS"
    # A mentor's besoins, as Lead.besoin stores them, or a list.
    assert V.label("besoin", "scolarite,orientation") == "Scolarité, Orientation"
    assert V.label("public", ["qpv", "rural"]) == "Quartier prioritaire (QPV), Commune rurale"
    # Old data shows its code rather than failing; an unknown vocabulary fails loudly.
    assert V.label("statut", "perdue") == "perdue"
    with pytest.raises(KeyError, match="statuts"):
        V.label("statuts", "nouvelle")


def test_content_md_wording_of_the_back_office():
    assert [label for _, label in V.STATUT.choices()] == [
        "Nouvelle",
        "Contactée",
        "En attente d'un binôme",
        "Binôme formé",
        "Terminée",
        "Sans suite",
    ]
    assert len(V.MOTIF_SANS_SUITE.codes) == 8
    # The staff's four reasons of docs/contenu.md, and the platform's own (tick's hand-over).
    assert len(V.MOTIF_TRANSFERT.choices(exclude=V.AUTOMATIC_MOTIFS)) == 4
    assert set(V.AUTOMATIC_MOTIFS) <= set(V.MOTIF_TRANSFERT.codes)
    # "autre (préciser)" is the only reason that needs a note, in both lists.
    for vocab in (V.MOTIF_SANS_SUITE, V.MOTIF_TRANSFERT):
        assert [t.code for t in vocab if t.needs_note] == ["autre"]
    assert set(V.RESULTAT_ORIENTATION.codes) == {
        "proposee",
        "acceptee",
        "refusee",
        "expiree",
        "transferee",
    }
    assert set(V.ROLE.codes) == {"responsable", "membre", "admin"}


def test_the_questionnaire_matcher_and_catalogue_read_the_same_codes():
    besoins = [code for code, _ in questionnaire.BESOINS]
    assert besoins == list(matcher.BESOINS) == list(V.BESOIN.codes)
    assert [code for code, _ in questionnaire.SITUATIONS_PARTICULIERES] == list(V.PUBLICS_DECLARES)
    assert "rural" in matcher.PUBLICS and "rural" not in V.PUBLICS_DECLARES
    assert set(V.PUBLICS_DECLARES) >= questionnaire.SENSITIVE
    # The questionnaire's wording is the exact one of docs/contenu.md.
    assert dict(questionnaire.BESOINS)["scolarite"] == "J'ai des difficultés à l'école"
    assert matcher.BESOIN_LABELS["emploi"] == "stage, alternance ou premier emploi"
    assert "autre" not in matcher.SECTEUR_LABELS


def test_adding_a_term_is_one_edit():
    """A new besoin appears in the matcher's allow-list and the forms' choices, which are
    derived from the vocabulary (checked on a fresh Vocab, as the modules read it once)."""
    vocab = V.Vocab("besoin", [*V.BESOIN, V.T("sport", "Sport", question="Je veux du sport")])
    assert vocab.codes[-1] == "sport"
    assert vocab.choices("question")[-1] == ("sport", "Je veux du sport")
    assert vocab.labels("phrase")["sport"] == "Sport"
    with pytest.raises(ValueError):
        V.Vocab("x", [V.T("a", "A"), V.T("a", "B")])


def test_the_label_template_filter(app):
    with app.app_context():
        render = app.jinja_env.from_string
        assert render('{{ s|label("statut") }}').render(s="binome_forme") == "Binôme formé"
        assert (
            render('{{ b|label("besoin", "question") }}').render(b="scolarite")
            == "J&#39;ai des difficultés à l&#39;école"
        )


def test_a_new_reference_reads_as_one_and_staff_labels_come_from_the_vocabulary():
    """The reference's shape and the role labels are written once, in vocabulary.py."""
    from forms.espace import ROLE_LABELS
    from services import drafts, inbox

    for kind in V.REFERENCE_PREFIX:
        assert inbox.REFERENCE_RE.fullmatch(drafts.new_reference(kind))
    assert {code: V.ROLE.label(code) for code in V.ROLE.codes} == ROLE_LABELS
