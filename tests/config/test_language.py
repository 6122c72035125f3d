def test_the_interface_is_french_even_when_the_browser_asks_for_english(client, demo):
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert '<html lang="fr">' in response.content.decode()


def test_a_visitor_switches_to_english_and_back_from_any_page(client, demo):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/accessibilite/"})
    assert response.status_code == 302
    assert response.url == "/accessibilite/"
    assert '<html lang="en">' in client.get("/accessibilite/").content.decode()
    client.post("/i18n/setlang/", {"language": "fr", "next": "/"})
    assert '<html lang="fr">' in client.get("/").content.decode()
