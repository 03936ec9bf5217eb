"""The inbox of an association's staff: which leads, in which order, with which counts.

No Flask here: the views parse the URL into `Filters`, this module turns them into a
fixed number of SQL queries whatever the number of leads (tab counts, départements, one
page of rows), and the CSV export reuses the same WHERE clause.

Leads listed are the ones currently routed to the association (`Lead.association`):
a lead handed over leaves the old association's inbox at once.
"""

import dataclasses
import datetime as dt
import re

from peewee import JOIN, Case, Value, fn

import models
from domain import lifecycle, phones, workdays
from domain import vocabulary as V
from services import demandes

# --- Codes and labels: vocabulary.py ---------------------------------------------------------

STATUS_LABELS = V.STATUT.labels()
# "Demande (jeune)", "Candidature (mentor)": the staff's words (docs/contenu.md).
KIND_LABELS = {
    term.code: f"{term.say('nom').capitalize()} ({term.label.lower()})" for term in V.PARCOURS
}
BESOIN_LABELS = V.BESOIN.labels()
CONTACT_PREF_LABELS = V.CONTACT_PREF.labels()
# The tab that shows every status; the inbox opens on the leads nobody has answered yet.
ALL = "toutes"
DEFAULT_STATUS = lifecycle.INITIAL
TABS = (ALL, *STATUS_LABELS)
PAGE_SIZES = (25, 50)
SEARCH_MAX = 100
# The desktop table's sortable columns (?tri=, "-" first for the other way): the column's
# label and what it orders by; arrival, oldest first, by default.
SORTS = {"arrivee": "Arrivée", "echeance": "À rappeler au plus tard", "statut": "Statut"}
DEFAULT_SORT = "arrivee"
MINOR_AGE = 18


def default_status(q):
    """The tab a URL without `statut` shows: a search looks in every status (a person who
    calls is found whatever became of their demande); otherwise the new leads."""
    return ALL if q else DEFAULT_STATUS


def status_label(code):
    return V.STATUT.label(code)


def besoin_labels(codes):
    """A mentor's besoins are stored comma-joined; a youth's is one code."""
    return [V.BESOIN.label(code) for code in codes.split(",") if code]


# --- Filters ---------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Filters:
    """What the staff asked for, already validated (see views.espace.inbox)."""

    status: str = DEFAULT_STATUS  # a code of STATUS_LABELS, or ALL
    kind: str = ""  # "" | "jeune" | "mentor"
    besoin: str = ""
    departement: str = ""
    late: bool = False
    q: str = ""
    sort: str = DEFAULT_SORT  # a key of SORTS, "-" before it for the other way
    page: int = 1
    per_page: int = PAGE_SIZES[0]

    def as_dict(self):
        """The non-default filters, as recorded with an export (no page)."""
        defaults = Filters()
        return {
            field.name: getattr(self, field.name)
            for field in dataclasses.fields(self)
            if field.name not in ("page", "per_page", "sort")
            and getattr(self, field.name) != getattr(defaults, field.name)
        }


def where_clause(association_id, filters, today, with_status=True):
    """The condition on Lead for `filters`; without the status when counting the tabs."""
    Lead = models.Lead
    condition = Lead.association == association_id
    if with_status and filters.status != ALL:
        condition &= Lead.status == filters.status
    if filters.kind:
        condition &= Lead.kind == filters.kind
    if filters.besoin:
        # ",orientation,emploi," holds ",emploi,": exact codes, never a prefix of another.
        padded = Value(",").concat(Lead.besoin).concat(",")
        condition &= padded.contains(f",{filters.besoin},")
    if filters.departement:
        condition &= Lead.departement == filters.departement
    if filters.late:
        condition &= demandes.late(today)
    if filters.q:
        condition &= search_clause(filters.q)
    return condition


REFERENCE_RE = re.compile(V.REFERENCE_PATTERN)


def search_clause(text):
    """A reference, an e-mail address or a phone number: that one exactly (a reference
    through its unique index); anything else: part of the first or last name."""
    Lead = models.Lead
    text = text.strip()[:SEARCH_MAX]
    lowered = text.lower()
    if REFERENCE_RE.fullmatch(text.upper()):
        return Lead.reference == text.upper()
    if "@" in text:
        return fn.LOWER(Lead.email) == lowered
    # Numbers are stored in E.164: "06 12 34 56 78" and "+33612345678" find the same lead.
    number = phones.canonical(text)
    if number:
        return Lead.telephone == number
    return (
        fn.LOWER(Lead.prenom).contains(lowered)
        | fn.LOWER(Lead.nom).contains(lowered)
        | fn.LOWER(Lead.prenom.concat(" ").concat(Lead.nom)).contains(lowered)
    )


# --- The page --------------------------------------------------------------------------------


@dataclasses.dataclass
class Row:
    """One line of the inbox."""

    id: int
    reference: str
    kind: str
    status: str
    prenom: str
    nom: str
    besoin: str
    departement: str
    commune: str
    created_at: dt.datetime
    version: int
    due_on: dt.date | None
    waiting_days: int
    late: bool
    age: int | None = None
    contact_pref: str = ""

    @property
    def minor(self):
        return self.age is not None and self.age < MINOR_AGE

    @property
    def contact_pref_label(self):
        return CONTACT_PREF_LABELS.get(self.contact_pref, "")

    @property
    def status_label(self):
        return status_label(self.status)

    @property
    def besoins(self):
        return besoin_labels(self.besoin)


@dataclasses.dataclass
class Page:
    filters: Filters
    rows: list
    counts: dict  # status code -> count, ALL -> total, under every filter but the status
    total: int  # rows under every filter
    departements: list  # the départements of the association's leads, for the filter

    @property
    def pages(self):
        return max(1, -(-self.total // self.filters.per_page))

    @property
    def first(self):
        return (self.filters.page - 1) * self.filters.per_page + 1 if self.rows else 0

    @property
    def last(self):
        return self.first + len(self.rows) - 1 if self.rows else 0


def status_counts(association_id, filters, today):
    """One GROUP BY for every tab."""
    Lead = models.Lead
    query = (
        Lead.select(Lead.status, fn.COUNT(Lead.id).alias("n"))
        .where(where_clause(association_id, filters, today, with_status=False))
        .group_by(Lead.status)
        .tuples()
    )
    counts = dict.fromkeys(STATUS_LABELS, 0)
    counts.update(dict(query))
    counts[ALL] = sum(counts.values())
    return counts


def departements_query(association_id):
    """Read from the (association, departement) index alone (migration 0007)."""
    Lead = models.Lead
    return (
        Lead.select(Lead.departement)
        .where((Lead.association == association_id) & (Lead.departement != ""))
        .distinct()
        .order_by(Lead.departement)
        .tuples()
    )


def departements_of(association_id):
    return [code for (code,) in departements_query(association_id)]


def rows_query(association_id, filters, today):
    """The leads under `filters`, oldest waiting first, with their commune's name (one
    join, no query per row). The answers (JSON) are not read: the list needs none."""
    Lead, Commune = models.Lead, models.Commune
    return (
        Lead.select(
            Lead.id,
            Lead.reference,
            Lead.kind,
            Lead.status,
            Lead.prenom,
            Lead.nom,
            Lead.besoin,
            Lead.departement,
            Lead.created_at,
            Lead.routed_at,
            Lead.due_on,
            Lead.version,
            Lead.email,
            Lead.telephone,
            Lead.contact_pref,
            Lead.age,
            Lead.situation,
            Lead.first_contact_at,
            Commune.nom.alias("commune_nom"),
        )
        .join(Commune, JOIN.LEFT_OUTER, on=(Lead.commune == Commune.insee))
        .where(where_clause(association_id, filters, today))
        .order_by(*order_of(filters.sort))
    )


def order_of(sort):
    """ORDER BY for a key of SORTS ("-" first: descending); the id breaks ties."""
    Lead = models.Lead
    descending = sort.startswith("-")
    key = sort.lstrip("-")
    if key == "statut":  # the lifecycle's order, not the alphabet's
        column = Case(Lead.status, [(code, i) for i, code in enumerate(STATUS_LABELS)], 99)
        columns = [column, Lead.created_at]
    elif key == "echeance":  # the promised day (Lead.due_on), none last
        columns = [Lead.due_on.is_null(), Lead.due_on, Lead.created_at]
    else:
        columns = [Lead.created_at]
    columns.append(Lead.id)
    return [c.desc() for c in columns] if descending else columns


def waiting_days(routed_at, today):
    """Days since the lead reached this association (a hand-over starts again)."""
    return max(0, (today - workdays.paris_day(routed_at)).days)


def is_late(status, due_on, today):
    """Still "nouvelle" after its promised day (demandes.late says the same in SQL)."""
    return status == lifecycle.INITIAL and workdays.is_late(due_on, today)


def to_row(record, today):
    created = record["created_at"]
    return Row(
        id=record["id"],
        reference=record["reference"],
        kind=record["kind"],
        status=record["status"],
        prenom=record["prenom"],
        nom=record["nom"],
        besoin=record["besoin"],
        departement=record["departement"],
        commune=record["commune_nom"] or "",
        created_at=created,
        version=record["version"],
        due_on=record["due_on"],
        waiting_days=waiting_days(record["routed_at"] or created, today),
        late=is_late(record["status"], record["due_on"], today),
        age=record["age"],
        contact_pref=record["contact_pref"] or "",
    )


def page(association, filters, today=None):
    """The inbox page for `filters`: three queries, whatever the number of leads."""
    today = today or workdays.paris_day(models.now())
    counts = status_counts(association.id, filters, today)
    total = counts.get(filters.status, 0)
    last_page = max(1, -(-total // filters.per_page))
    filters = dataclasses.replace(filters, page=min(max(filters.page, 1), last_page))
    query = rows_query(association.id, filters, today).paginate(filters.page, filters.per_page)
    rows = [to_row(record, today) for record in query.dicts()]
    return Page(
        filters=filters,
        rows=rows,
        counts=counts,
        total=total,
        departements=departements_of(association.id),
    )


def by_references(association_id, references):
    """The association's leads among `references` (a selection), in inbox order."""
    Lead = models.Lead
    return (
        Lead.select()
        .where((Lead.association == association_id) & Lead.reference.in_(list(references)))
        .order_by(Lead.created_at, Lead.id)
    )


# --- Leads handed over ("Transmises") --------------------------------------------------------


@dataclasses.dataclass
class HandedOver:
    """A read-only trace of a lead the association handed over: the reference only, no
    personal data (the lead is another association's now)."""

    reference: str
    kind: str
    at: dt.datetime
    to: str  # the association it went to, "" for the waiting list
    motif: str  # vocabulary.MOTIF_TRANSFERT's label


HANDED_OVER_SHOWN = 200


def handed_over(association_id):
    """The leads this association handed over, the latest first: three queries."""
    Orientation, Programme, Lead = models.Orientation, models.Programme, models.Lead
    mine = list(
        Orientation.select(
            Orientation.lead,
            Orientation.created_at,
            Orientation.outcome_reason,
            Lead.reference,
            Lead.kind,
        )
        .join(Programme)
        .switch(Orientation)
        .join(Lead)
        .where((Programme.association == association_id) & (Orientation.outcome == "transferee"))
        .order_by(Orientation.created_at.desc(), Orientation.id.desc())
        .limit(HANDED_OVER_SHOWN)
        .objects()
    )
    if not mine:
        return []
    lead_ids = [row.lead_id for row in mine]
    later = list(
        Orientation.select(
            Orientation.lead,
            Orientation.created_at,
            Orientation.rank,
            Orientation.outcome,
            models.Association.nom,
        )
        .join(Programme)
        .join(models.Association)
        .where(Orientation.lead.in_(lead_ids))
        .order_by(Orientation.created_at, Orientation.id)
        .objects()
    )
    Evenement = models.Evenement
    transfers = list(
        Evenement.select(Evenement.lead, Evenement.at)
        .where(Evenement.lead.in_(lead_ids) & (Evenement.kind == lifecycle.HAND_OVER.code))
        .order_by(Evenement.at, Evenement.id)
        .tuples()
    )
    traces = []
    for row in mine:
        at = next(
            (t for lead, t in transfers if lead == row.lead_id and t >= row.created_at),
            row.created_at,
        )
        after = [o for o in later if o.lead_id == row.lead_id and o.created_at >= at]
        after.sort(key=lambda o: (o.created_at, o.outcome != "acceptee", o.rank))
        traces.append(
            HandedOver(
                reference=row.reference,
                kind=row.kind,
                at=at,
                to=after[0].nom if after else "",
                motif=V.MOTIF_TRANSFERT.label(row.outcome_reason)
                if row.outcome_reason in V.MOTIF_TRANSFERT
                else row.outcome_reason,
            )
        )
    return traces
