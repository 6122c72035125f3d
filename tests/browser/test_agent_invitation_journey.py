"""A manager invites an agent, who joins, completes the awareness track and is attested.

Tasks run in-process in tests: the invitation email is in Django's outbox by the
time the batch page shows. For speed, the agent does the first lesson through
the interface and the rest of the track through the services.
"""

import re

from django.core import mail

from courses.models import ModulePage, TrackPage
from learners import demo_assessments, services
from learners.models import Enrolment, User

DEMO_PASSWORD = "campus-demo"
MANAGER = "referente@example.org"
NEW_AGENT = "nouvelle.agente@example.org"
AWARENESS_TRACK = "sensibilisation-agents-publics"
INVITATION_LINK = re.compile(r"/agents/invitation/[^/\s]+/")


def complete_track(agent: User, track: TrackPage) -> None:
    """Every lesson and quiz of the track, module by module (prerequisites come first)."""
    for module in ModulePage.objects.live().child_of(track).order_by("path"):
        for lesson in module.lessons():
            services.mark_lesson_done(agent, lesson)
        demo_assessments.pass_quiz(agent, module)


def test_a_manager_invites_an_agent_who_completes_the_awareness_track(
    demo, new_page, log_in, mailoutbox
):
    manager_user = User.objects.get(email=MANAGER)
    track = TrackPage.objects.get(slug=AWARENESS_TRACK)
    first_lesson = ModulePage.objects.live().child_of(track).order_by("path").first().lessons()[0]

    manager = new_page()
    log_in(manager, MANAGER, DEMO_PASSWORD)
    manager.goto("/organisation/")
    manager.click("[data-testid=invite-link]")
    form = manager.locator("[data-testid=invite-form]")
    form.locator("textarea[name=emails]").fill(NEW_AGENT)
    form.locator("[data-testid=invite-submit]").click()
    manager.wait_for_load_state()

    (message,) = [m for m in mail.outbox if NEW_AGENT in m.to]
    link = INVITATION_LINK.search(message.body)
    assert link, message.body

    agent = new_page()
    agent.goto(link.group(0))
    agent.click("[data-testid=accept-invitation]")
    agent.wait_for_url("**/moi/parcours/")
    agent_user = User.objects.get(email=NEW_AGENT)
    assert agent_user.organisation_id == manager_user.organisation_id

    agent.goto(track.url)
    agent.click("#enrol-button")
    agent.wait_for_selector("[data-testid=leave]")
    assert Enrolment.objects.active().filter(learner=agent_user, track=track).exists()
    agent.goto(first_lesson.url)
    agent.click("#mark-lesson-done")
    agent.wait_for_load_state()
    assert first_lesson.pk in set(agent_user.lesson_progress.values_list("lesson_id", flat=True))
    complete_track(agent_user, track)

    agent.goto("/moi/parcours/")
    assert (
        agent.locator(
            "[data-testid=track-enrolment] [data-testid=progress-percent]"
        ).first.inner_text()
        == "100 %"
    )
    # Invited by her address alone: her attestations wait for a name to print, and
    # her dashboard says where to give it.
    agent.click("[data-testid=certificates-need-a-name] a")
    agent.fill("#id_full_name", "Nouvelle Agente")
    agent.click("main form button.button[type=submit]")
    agent.wait_for_load_state()
    agent.goto("/moi/parcours/")
    assert agent.locator("[data-testid=certificates-need-a-name]").count() == 0

    manager.goto("/organisation/")
    row = manager.locator(f"[data-testid=agent-row][data-agent='{agent_user.pk}']")
    assert row.locator("[data-testid=agent-progress]").inner_text() == "100 %"
    # Completing the track also earns the completion and end-of-training certificates.
    kinds = row.locator("[data-testid=agent-attestation]").evaluate_all(
        "els => els.map(el => el.dataset.kind)"
    )
    assert "awareness" in kinds, kinds
    awareness = row.locator("[data-testid=agent-attestation][data-kind=awareness]")
    assert "sensibilisation" in awareness.inner_text()
