"""Issue 16 §5: exports that open right. Times in French time (08/12/2026 02:10), the XLSX
beside the CSV with typed cells (a département « 01 » stays text, a formula stays text,
dates are dates, ages numbers), both read back: openpyxl, and LibreOffice headless
(Debian's libreoffice-calc-nogui) when it is installed."""

import csv
import datetime as dt
import io
import shutil
import subprocess

import openpyxl
import pytest
from helpers import csrf_token, log_in

import models
from services import exports


@pytest.fixture
def staff(app):
    association = models.Association.select().order_by(models.Association.id).first()
    user = models.Utilisateur.create(
        email="membre@example.org",
        role="membre",
        association=association,
        password_hash="argon2-hash-for-the-test",
    )
    # 8 December 2026, 01:10 UTC: 02:10 in Paris (winter time).
    models.Lead.create(
        reference="J-X0001",
        kind="jeune",
        suivi_token="token-x1",
        answers={},
        association=association,
        prenom="=1+1",
        nom="Perrin",
        email="x1@example.org",
        telephone="+33612345678",
        besoin="orientation",
        departement="01",
        age=12,
        created_at=dt.datetime(2026, 12, 8, 1, 10),
    )
    return user


def exported(client, fmt):
    """The export of every lead, as the inbox's button posts it (CSRF, filters in the URL)."""
    token = csrf_token(client, "/espace/")
    return client.post(
        f"/espace/export.{fmt}?statut=toutes", data={"csrf_token": token, "portee": "filtre"}
    )


def test_the_csv_gives_french_time(client, staff):
    log_in(client, staff)
    text = exported(client, "csv").get_data().decode("utf-8-sig")
    header, line = list(csv.reader(io.StringIO(text), delimiter=";"))
    row = dict(zip(header, line, strict=True))
    assert row["Reçue le"] == "08/12/2026 02:10"
    assert not any("UTC" in title for title in header)


def read_xlsx(data):
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    header, *rows = list(sheet.iter_rows(values_only=True))
    return [dict(zip(header, row, strict=True)) for row in rows]


def test_the_xlsx_has_typed_cells(client, staff):
    log_in(client, staff)
    response = exported(client, "xlsx")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/vnd.openxmlformats")
    assert 'filename="demandes-' in response.headers["Content-Disposition"]
    (row,) = read_xlsx(response.get_data())
    assert row["Département"] == "01"  # text, never the number 1
    assert row["Reçue le"] == dt.datetime(2026, 12, 8, 2, 10)  # a date, French time
    assert row["Âge"] == 12
    assert row["Prénom"] == "=1+1"  # a string cell: never a formula, nothing to escape
    assert row["Téléphone"] == "06 12 34 56 78"
    assert models.Export.select().count() == 1
    # The ticked selection too.
    page = client.get("/espace/?statut=toutes").get_data(as_text=True)
    assert 'formaction="/espace/export.xlsx"' in page
    assert 'action="/espace/export.xlsx?statut=toutes"' in page


def test_both_columns_match(staff):
    titles = [title for title, _ in exports.COLUMNS]
    assert set(exports.XLSX_DATES) <= set(titles) and set(exports.XLSX_NUMBERS) <= set(titles)


@pytest.mark.skipif(
    not shutil.which("soffice"), reason="LibreOffice (libreoffice-calc-nogui) absent"
)
def test_libreoffice_reads_the_xlsx_back(client, staff, tmp_path):
    log_in(client, staff)
    (tmp_path / "demandes.xlsx").write_bytes(exported(client, "xlsx").get_data())
    subprocess.run(
        [
            "soffice",
            f"-env:UserInstallation=file://{tmp_path}/profile",
            "--headless",
            "--convert-to",
            "csv:Text - txt - csv (StarCalc):59,34,76,1",
            "--outdir",
            str(tmp_path),
            str(tmp_path / "demandes.xlsx"),
        ],
        check=True,
        timeout=180,
        capture_output=True,
    )
    text = (tmp_path / "demandes.csv").read_text(encoding="utf-8")
    header, line = list(csv.reader(io.StringIO(text), delimiter=";"))
    row = dict(zip(header, line, strict=True))
    assert row["Département"] == "01"
    assert row["Reçue le"] == "08/12/2026 02:10"
    assert row["Prénom"] == "=1+1"  # text, not computed (2)
    assert row["Âge"] == "12"
