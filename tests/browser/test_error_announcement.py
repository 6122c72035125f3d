"""A failed submit is announced: the focus lands on the error summary, which a screen
reader then reads, and the title says « Erreur » (RGAA 8.6, 11.10)."""

from django.conf import settings
from django.test import Client
from django.utils import translation

from learners.models import InvitationBatch


def title_prefix() -> str:
    with translation.override("fr"):
        return translation.gettext("Error:")


def signed_in(page, live_server, user) -> None:
    """The person's session in the browser, without going through the sign-in form."""
    client = Client()
    client.force_login(user)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]
    )


def focused_id(page) -> str | None:
    return page.evaluate("document.activeElement && document.activeElement.id")


def test_a_failed_agent_sign_up_focuses_the_summary_and_says_error_in_the_title(page, db):
    page.goto("/agents/inscription/")
    title = page.title()
    assert focused_id(page) != "error-summary"
    page.click("[data-testid=agent-signup-submit]")
    page.wait_for_selector("#error-summary")
    page.wait_for_function(
        "document.activeElement && document.activeElement.id === 'error-summary'"
    )
    assert page.title() == f"{title_prefix()} {title}"
    assert page.title().startswith(title_prefix()) and title_prefix().startswith(
        ("Erreur", "Error")
    )


def test_a_wrong_password_focuses_the_summary_of_the_sign_in_page(page, camille):
    page.goto("/comptes/login/")
    page.fill("#id_login", camille.email)
    page.fill("#id_password", "pas le bon mot de passe")
    page.click("form[action='/comptes/login/'] [type=submit]")
    page.wait_for_selector("[data-error-summary]")
    page.wait_for_function(
        "document.activeElement && document.activeElement.id === 'error-summary'"
    )
    assert page.title().startswith(f"{title_prefix()} ")


def test_a_finished_task_says_so_and_links_to_its_result_without_reloading(
    page, live_server, helene
):
    batch = InvitationBatch.objects.create(
        organisation=helene.organisation, invited_by=helene, total=2, sent=1
    )
    signed_in(page, live_server, helene)
    page.goto(f"/organisation/invitations/{batch.pk}/")
    box = page.locator("[data-testid=invitation-progress]")
    assert box.locator("p[aria-live=polite]").get_attribute("aria-atomic") == "true"
    assert box.locator("[data-testid=invitation-progress-refresh]").is_visible()
    # Said only where the script runs: it is what updates the page.
    assert box.locator("[data-field=updating]").is_visible()
    page.evaluate("window.notReloaded = true")

    InvitationBatch.objects.filter(pk=batch.pk).update(sent=2, status=InvitationBatch.Status.DONE)
    result = box.locator("[data-field=result] a")
    result.wait_for(state="visible")
    assert box.locator("[data-field=done]").text_content() == "2"
    assert box.locator("[data-field=status]").text_content() == box.get_attribute(
        "data-finished-text"
    )
    assert not box.locator("[data-testid=invitation-progress-refresh]").is_visible()
    assert not box.locator("[data-field=updating]").is_visible()
    assert page.evaluate("window.notReloaded") is True
