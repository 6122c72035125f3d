"""A background task's progress is read where it stands, and announced only at each
quarter done and at the end: not every two seconds while the figures move."""

from learners.models import InvitationBatch
from tests.browser.test_error_announcement import signed_in

# The page polls every two seconds: a figure waited for has been through one poll.
POLL_MS = 6_000


def test_progress_is_announced_at_each_quarter_and_at_the_end_only(page, live_server, helene):
    batch = InvitationBatch.objects.create(
        organisation=helene.organisation, invited_by=helene, total=8, sent=0
    )
    signed_in(page, live_server, helene)
    page.goto(f"/organisation/invitations/{batch.pk}/")
    box = page.locator("[data-testid=invitation-progress]")
    counts = box.locator("[data-field=counts]")
    announcement = box.locator("[data-field=announcement]")
    # The figures are no live region, nor inside one; the announcer is, and starts silent.
    assert counts.evaluate("p => p.closest('[aria-live]') === null")
    assert announcement.get_attribute("aria-live") == "polite"
    assert announcement.text_content() == ""

    def sent(number: int) -> None:
        InvitationBatch.objects.filter(pk=batch.pk).update(sent=number)
        page.wait_for_function(
            f"() => document.querySelector('[data-testid=invitation-progress] "
            f"[data-field=done]').textContent === '{number}'",
            timeout=POLL_MS,
        )

    sent(1)  # 12 %: the figures move, nothing is said
    assert announcement.text_content() == ""
    sent(2)  # a quarter
    said = announcement.text_content()
    assert said.startswith("2 / 8 · ")
    sent(3)  # still the first quarter done: the last announcement stands
    assert announcement.text_content() == said
    sent(6)  # three quarters, the half skipped over said once
    assert announcement.text_content().startswith("6 / 8 · ")

    InvitationBatch.objects.filter(pk=batch.pk).update(sent=8, status=InvitationBatch.Status.DONE)
    box.locator("[data-field=result] a").wait_for(state="visible", timeout=POLL_MS)
    end = announcement.text_content()
    assert end.startswith("8 / 8 · " + box.get_attribute("data-finished-text"))
    assert end.endswith(box.locator("[data-field=result] a").text_content())


def following_a_batch(page, live_server, helene):
    """Hélène on her invitation batch's progress page, the script polling."""
    batch = InvitationBatch.objects.create(
        organisation=helene.organisation, invited_by=helene, total=8, sent=0
    )
    signed_in(page, live_server, helene)
    page.goto(f"/organisation/invitations/{batch.pk}/")
    box = page.locator("[data-testid=invitation-progress]")
    box.locator("[data-field=updating]").wait_for(state="visible", timeout=POLL_MS)
    return box


def announced(page, text: str) -> None:
    page.wait_for_function(
        "text => document.querySelector('[data-testid=invitation-progress] "
        "[data-field=announcement]').textContent === text",
        arg=text,
        timeout=POLL_MS,
    )


def test_progress_signed_out_meanwhile_stops_and_says_so(page, live_server, helene):
    box = following_a_batch(page, live_server, helene)

    page.context.clear_cookies()  # the session ended: the JSON answers with the sign-in page

    stopped = box.get_attribute("data-stopped-text")
    announced(page, stopped)
    assert stopped.startswith("Plus mis à jour : vous avez été déconnecté")
    assert box.locator("[data-field=status]").text_content() == stopped
    assert not box.locator("[data-field=updating]").is_visible()  # it no longer does


def test_progress_no_longer_the_readers_to_follow_stops_and_says_so(page, live_server, helene):
    box = following_a_batch(page, live_server, helene)

    type(helene).objects.filter(pk=helene.pk).update(is_organisation_manager=False)  # a 404 now

    gone = box.get_attribute("data-gone-text")
    announced(page, gone)
    assert gone.startswith("Plus mis à jour : cette tâche")
    assert box.locator("[data-field=status]").text_content() == gone
