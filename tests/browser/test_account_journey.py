import re

from django.core import mail

from learners.models import User

PASSWORD = "un-tiers-lieu-au-bocage"
CONFIRMATION_LINK = re.compile(r"https?://\S+/comptes/confirm-email/\S+/")


def sign_up(page, email: str, full_name: str) -> None:
    page.goto("/comptes/signup/")
    page.fill("#id_email", email)
    page.fill("#id_full_name", full_name)
    page.check("input[name=role][value=public_agent]")
    page.fill("#id_password1", PASSWORD)
    page.fill("#id_password2", PASSWORD)
    page.click("form[action='/comptes/signup/'] [type=submit]")
    page.wait_for_url(re.compile(r"/comptes/confirm-email/$"))


def switch_language(page, code: str) -> None:
    page.click(f"form.language-switch button[name=language][value={code}]")
    page.wait_for_selector(f"html[lang={code}]")


def test_a_public_agent_signs_up_confirms_logs_in_and_switches_language(page, log_in):
    sign_up(page, "nadia@example.org", "Nadia Haddad")
    user = User.objects.get(email="nadia@example.org")
    assert (user.full_name, user.role) == ("Nadia Haddad", User.Role.PUBLIC_AGENT)

    # The confirmation mail went to the locmem outbox, shared with the live server thread.
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["nadia@example.org"]
    link = CONFIRMATION_LINK.search(mail.outbox[0].body).group(0)
    page.goto(link)
    page.click("form[action^='/comptes/confirm-email/'] [type=submit]")
    page.wait_for_load_state()
    assert user.emailaddress_set.get().verified

    # Confirmation may log the person in; start again from a browser that knows nobody.
    page.context.clear_cookies()
    page.goto("/moi/parcours/")
    assert "/comptes/login/" in page.url

    log_in(page, "nadia@example.org", PASSWORD)
    assert "Nadia Haddad" in page.inner_text("main")
    assert page.get_attribute("html", "lang") == "fr"

    switch_language(page, "en")
    assert page.url.endswith("/moi/parcours/")
    assert "My learning path" in page.inner_text("main h1")

    switch_language(page, "fr")
    assert page.url.endswith("/moi/parcours/")
