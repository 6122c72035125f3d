"""Durations read as people write them: « 1 heure », « 140 heures », « 2,5 heures »."""

from decimal import Decimal

import pytest
from bs4 import BeautifulSoup

from tests.learners.factories import make_framework, make_track


@pytest.mark.parametrize(
    ("hours", "shown"),
    [
        (Decimal("1.0"), "1 heure"),
        (Decimal("140.0"), "140 heures"),
        (Decimal("1.5"), "1,5 heure"),
        (Decimal("2.5"), "2,5 heures"),
    ],
)
def test_a_track_page_gives_its_duration_without_a_trailing_zero(client, db, hours, shown):
    track = make_track(make_framework(), "Parcours (test)")
    track.duration_hours = hours
    track.save_revision().publish()

    page = BeautifulSoup(client.get(track.url).content, "html.parser")

    sheet = page.select_one("dl.course-sheet")
    labels = [dt.text for dt in sheet.select("dt")]
    assert sheet.select("dd")[labels.index("Durée")].text == shown
