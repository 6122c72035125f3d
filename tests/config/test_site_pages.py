import pytest

PUBLIC_PAGES = ["/", "/catalogue/", "/accessibilite/", "/mentions-legales/", "/confidentialite/"]


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_every_public_page_answers_in_french_with_landmarks(client, demo, path):
    response = client.get(path)
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="fr">' in html
    for landmark in ('role="banner"', 'role="main"', 'role="contentinfo"', 'class="skip-link"'):
        assert landmark in html
    assert "Accessibilité : partiellement conforme" in html


def test_an_unknown_page_gets_the_french_404_page(client, demo):
    response = client.get("/cette-page-n-existe-pas/")
    assert response.status_code == 404
    assert "Page introuvable" in response.content.decode()
