"""The manager's CSV export reads like the page it exports: in the manager's language."""

import csv
import io

import pytest
from django.utils import timezone

from tests.certification.conftest import complete_module

EXPORT = "/organisation/agents.csv"


@pytest.fixture
def earn(django_capture_on_commit_callbacks):
    """Complete a module as the learner's clicks would, running what waits for the commit."""

    def complete(learner, module):
        with django_capture_on_commit_callbacks(execute=True):
            complete_module(learner, module)

    return complete


def exported(client) -> tuple[list[str], list[dict[str, str]]]:
    response = client.get(EXPORT)
    assert response["Content-Type"].startswith("text/csv")
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")  # what French spreadsheets need to read UTF-8
    reader = csv.DictReader(io.StringIO(text.removeprefix("\ufeff")), delimiter=";")
    rows = list(reader)
    return list(reader.fieldnames), rows


def test_a_french_manager_exports_french_headings_and_french_dates(
    client, setting, earn, helene, sophie
):
    earn(sophie, setting.basics)
    earn(sophie, setting.advanced)
    client.force_login(helene)
    headings, rows = exported(client)
    assert headings == [
        "Nom",
        "Progression de la sensibilisation (%)",
        "Attestations",
        "Délivré le",
    ]
    sophie_row = next(row for row in rows if row["Nom"] == "Sophie Lefèvre")
    assert sophie_row["Progression de la sensibilisation (%)"] == "100"
    titles = sophie_row["Attestations"].split(" | ")
    assert setting.awareness_award.title in titles
    today = timezone.localdate().strftime("%d/%m/%Y")
    assert sophie_row["Délivré le"].split(" | ") == [today] * len(titles)


def test_an_english_manager_exports_english_headings_and_english_dates(
    client, setting, earn, helene, sophie, settings
):
    earn(sophie, setting.basics)
    earn(sophie, setting.advanced)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(helene)
    headings, rows = exported(client)
    assert headings == ["Name", "Awareness progress (%)", "Attestations", "Issued on"]
    sophie_row = next(row for row in rows if row["Name"] == "Sophie Lefèvre")
    assert sophie_row["Issued on"].split(" | ")[0] == timezone.localdate().strftime("%m/%d/%Y")


@pytest.mark.parametrize("name", ['=HYPERLINK("http://evil.example")', "+1+1", "@SUM(A1)", "-2+3"])
def test_the_translated_export_still_never_hands_a_spreadsheet_a_formula(
    client, helene, sophie, name
):
    sophie.full_name = name
    sophie.save(update_fields=["full_name"])
    client.force_login(helene)
    _, rows = exported(client)
    names = [row["Nom"] for row in rows]
    assert "'" + name in names
    assert name not in names
