"""The exports of an association's leads: CSV as French Excel and LibreOffice open it
(UTF-8 with a byte-order mark, ";" between cells, one row per lead) and XLSX with typed
cells (text for codes such as « 01 », dates as dates, ages as numbers). One list of
columns for both, documented in docs/export-csv.md; keep both in step.
"""

import csv
import io

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from domain import phones, workdays
from services import inbox

# A cell starting with one of these is read as a formula by spreadsheets (CSV injection):
# it is prefixed with an apostrophe, which they show as text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value):
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


DATE_FORMAT = "%d/%m/%Y %H:%M"  # French time, as staff read it: 08/12/2026 02:10
XLSX_DATE_FORMAT = "dd/mm/yyyy hh:mm"


def _paris(value):
    """A stored (naive UTC) instant as a naive French local time, or None."""
    return workdays.to_paris(value).replace(tzinfo=None) if value else None


def _date(value):
    local = _paris(value)
    return local.strftime(DATE_FORMAT) if local else ""


COLUMNS = [
    ("Référence", lambda r: r["reference"]),
    ("Type", lambda r: inbox.KIND_LABELS.get(r["kind"], r["kind"])),
    ("Statut", lambda r: inbox.status_label(r["status"])),
    ("Reçue le", lambda r: _date(r["created_at"])),
    ("Premier contact le", lambda r: _date(r["first_contact_at"])),
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


# The XLSX cells' types, by column title (the others are text, never read as a number).
XLSX_DATES = {"Reçue le": "created_at", "Premier contact le": "first_contact_at"}
XLSX_NUMBERS = {"Âge"}


def write_xlsx(records, title="Demandes"):
    """The workbook's bytes and its number of rows, header excluded: one sheet, the same
    columns as the CSV; dates are dates (French time), ages numbers, every other cell a
    string (a code « 01 » stays « 01 », a formula is never one)."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title)
    sheet.append([title for title, _ in COLUMNS])
    count = 0
    for record in records:
        sheet.append([xlsx_cell(sheet, title, cell, record) for title, cell in COLUMNS])
        count += 1
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue(), count


def xlsx_cell(sheet, title, cell, record):
    if title in XLSX_DATES:
        value = _paris(record[XLSX_DATES[title]])
        written = WriteOnlyCell(sheet, value=value)
        written.number_format = XLSX_DATE_FORMAT
        return written
    value = cell(record)
    if title in XLSX_NUMBERS and isinstance(value, int):
        return value
    written = WriteOnlyCell(sheet, value="" if value is None else str(value))
    written.data_type = "s"  # a string, whatever it looks like (« =1+1 », « 01 »)
    return written
