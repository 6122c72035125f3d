"""The accessibility statement dates its last review as the reader's language writes dates."""

REVIEWED_ON_ISO = "2026-11-23"


def test_the_review_date_reads_as_a_french_date(client, db):
    html = client.get("/accessibilite/").content.decode()
    assert "revue pour la dernière fois le 23 novembre 2026." in html
    assert REVIEWED_ON_ISO not in html


def test_the_review_date_reads_as_an_english_date(client, db, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = client.get("/accessibilite/").content.decode()
    assert "Statement last reviewed on Nov. 23, 2026." in html
    assert REVIEWED_ON_ISO not in html
