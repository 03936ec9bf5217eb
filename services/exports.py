"""The CSV export of an association's leads, as French Excel and LibreOffice open it:
UTF-8 with a byte-order mark, ";" between cells, one row per lead. Columns are
documented in docs/export-csv.md; keep both in step.
"""

import csv
import io

from domain import phones
from services import inbox

# A cell starting with one of these is read as a formula by spreadsheets (CSV injection):
# it is prefixed with an apostrophe, which they show as text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value):
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _date(value):
    return value.strftime("%Y-%m-%d %H:%M") if value else ""


COLUMNS = [
    ("Référence", lambda r: r["reference"]),
    ("Type", lambda r: inbox.KIND_LABELS.get(r["kind"], r["kind"])),
    ("Statut", lambda r: inbox.status_label(r["status"])),
    ("Reçue le (UTC)", lambda r: _date(r["created_at"])),
    ("Premier contact le (UTC)", lambda r: _date(r["first_contact_at"])),
    ("Prénom", lambda r: r["prenom"]),
    ("Nom", lambda r: r["nom"]),
    ("E-mail", lambda r: r["email"]),
    ("Téléphone", lambda r: phones.display(r["telephone"])),
    ("Préférence de contact", lambda r: inbox.CONTACT_PREF_LABELS.get(r["contact_pref"], "")),
    ("Âge", lambda r: "" if r["age"] is None else r["age"]),
    ("Besoin", lambda r: ", ".join(inbox.besoin_labels(r["besoin"]))),
    ("Commune", lambda r: r["commune_nom"] or ""),
    ("Département", lambda r: r["departement"]),
]


def write_csv(records):
    """The file's text (BOM included) and its number of rows, header excluded."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow([title for title, _ in COLUMNS])
    count = 0
    for record in records:
        writer.writerow([neutralise(cell(record)) for _, cell in COLUMNS])
        count += 1
    return buffer.getvalue(), count
