"""An organisation's manager sees their own agents' names, progress and attestations — no more."""

import pytest
from allauth.account.models import EmailAddress
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from certification.models import Award, Certificate
from learners.models import LessonProgress, User
from tests.certification.conftest import complete_module
from tests.learners.factories import make_module, make_track

DASHBOARD = "/organisation/"
EXPORT = "/organisation/agents.csv"


@pytest.fixture
def earn(django_capture_on_commit_callbacks):
    """Complete a module as the learner's clicks would, running what waits for the commit."""

    def complete(learner, module):
        with django_capture_on_commit_callbacks(execute=True):
            complete_module(learner, module)

    return complete


def rows_of(response) -> dict[int, dict]:
    return {
        agent.pk: {
            "name": agent.name,
            "progress": agent.progress,
            "kinds": sorted(c.award.kind for c in agent.attestations),
        }
        for agent in response.context["agents"]
    }


def test_a_manager_sees_the_progress_and_attestation_of_their_agents(
    client, setting, earn, helene, sophie, marc
):
    earn(sophie, setting.basics)
    client.force_login(helene)
    rows = rows_of(client.get(DASHBOARD))
    assert rows[sophie.pk] == {"name": "Sophie Lefèvre", "progress": 50, "kinds": ["module"]}
    assert marc.pk not in rows

    earn(sophie, setting.advanced)
    rows = rows_of(client.get(DASHBOARD))
    assert rows[sophie.pk]["progress"] == 100
    assert Award.Kind.AWARENESS in rows[sophie.pk]["kinds"]


def test_a_module_withdrawn_from_the_track_counts_no_more_in_her_progress(
    client, setting, earn, helene, sophie
):
    earn(sophie, setting.basics)
    # Past its expiry, a module is unpublished alone: its lessons stay live.
    setting.advanced.unpublish()
    client.force_login(helene)

    assert rows_of(client.get(DASHBOARD))[sophie.pk]["progress"] == 100


def test_the_manager_page_shows_names_progress_and_attestations_only(
    client, setting, earn, helene, sophie
):
    sophie.job_title = "Chargée de mission"
    sophie.save()
    earn(sophie, setting.basics)
    earn(sophie, setting.advanced)
    client.force_login(helene)
    page = client.get(DASHBOARD).content.decode()
    assert "Sophie Lefèvre" in page
    assert sophie.email not in page
    assert "Chargée de mission" not in page
    exported = client.get(EXPORT).content.decode("utf-8-sig")
    assert sophie.email not in exported


def test_a_member_with_no_name_is_shown_by_the_address_invited_never_by_her_own(
    client, setting, helene, sophie
):
    from learners import invitations
    from learners.models import Invitation

    User.objects.filter(pk=sophie.pk).update(full_name="", email="perso.prive@example.net")
    batch = invitations.invite(
        helene, [invitations.InviteRow(line=2, email="s.lefevre@mairie.fr", full_name="")]
    )
    Invitation.objects.filter(batch=batch).update(accepted_by=sophie, accepted_at=timezone.now())
    client.force_login(helene)

    page = client.get(DASHBOARD).content.decode()
    exported = client.get(EXPORT).content.decode("utf-8-sig")

    assert rows_of(client.get(DASHBOARD))[sophie.pk]["name"] == "s.lefevre@mairie.fr"
    for shown in (page, exported):
        assert "perso.prive" not in shown
    Invitation.objects.update(accepted_by=None)
    assert rows_of(client.get(DASHBOARD))[sophie.pk]["name"] == "Agent sans nom renseigné"


def test_only_managers_reach_the_manager_pages_and_each_sees_only_their_organisation(
    client, setting, earn, helene, sophie, marc, camille, staff
):
    earn(sophie, setting.basics)
    for person in (sophie, camille, staff):  # an agent, a facilitator, the operating team
        client.force_login(person)
        assert client.get(DASHBOARD).status_code == 404
        assert client.get(EXPORT).status_code == 404
    client.force_login(marc)
    assert sophie.pk not in rows_of(client.get(DASHBOARD))
    assert "Sophie" not in client.get(EXPORT).content.decode("utf-8-sig")
    remove = reverse("organisations:remove_member", args=[sophie.pk])
    assert client.get(remove).status_code == 404
    assert client.post(remove).status_code == 404
    client.logout()
    assert client.get(DASHBOARD).status_code == 302  # to the login page


def confirmed_agents(organisation, count: int, names: list[str] = ()) -> list[User]:
    """`count` agents of `organisation` whose addresses are confirmed, in two queries,
    named « Agent 000 »… unless `names` are given."""
    names = list(names) or [f"Agent {i:03}" for i in range(count)]
    people = User.objects.bulk_create(
        User(
            email=f"agent{i}@example.org",
            full_name=name,
            role=User.Role.PUBLIC_AGENT,
            organisation=organisation,
        )
        for i, name in enumerate(names)
    )
    EmailAddress.objects.bulk_create(
        EmailAddress(user=p, email=p.email, verified=True, primary=True) for p in people
    )
    return people


@pytest.mark.parametrize("agents", [5, 500])
def test_the_manager_page_costs_the_same_queries_for_5_or_500_agents(
    client, setting, helene, agents, django_assert_max_num_queries
):
    people = confirmed_agents(helene.organisation, agents)
    lesson = setting.basics.lessons().first()
    LessonProgress.objects.bulk_create(LessonProgress(learner=p, lesson=lesson) for p in people)
    Certificate.objects.bulk_create(
        Certificate(learner=p, award=setting.awareness_award, context={"holder": {"name": "x"}})
        for p in people
    )
    client.force_login(helene)
    with django_assert_max_num_queries(12):
        response = client.get(DASHBOARD)
    assert response.status_code == 200
    rows = rows_of(response)
    assert len(rows) == min(agents + 1, 50)  # a page at a time
    assert response.context["page_obj"].paginator.count == agents + 1
    assert {row["progress"] for pk, row in rows.items() if pk != helene.pk} == {50}
    with django_assert_max_num_queries(12):
        exported = client.get(EXPORT)
    assert exported.status_code == 200
    assert len(exported.content.decode("utf-8-sig").splitlines()) == agents + 2  # everyone


def test_a_manager_finds_an_agent_by_name_and_pages_through_the_others(client, helene):
    confirmed_agents(helene.organisation, 120)
    client.force_login(helene)

    third = client.get(DASHBOARD, {"page": 3})
    assert [row["name"] for row in rows_of(third).values()][:2] == ["Agent 100", "Agent 101"]
    assert "page 3 sur 3" in third.content.decode()
    assert client.get(DASHBOARD, {"page": "x"}).status_code == 200

    found = client.get(DASHBOARD, {"nom": "agent 07"})
    assert [row["name"] for row in rows_of(found).values()] == [f"Agent 07{i}" for i in range(10)]
    assert "10 membres dont le nom contient « agent 07 »" in found.content.decode()

    nobody = client.get(DASHBOARD, {"nom": "Zoé"})
    assert rows_of(nobody) == {}
    assert 'data-testid="agents-none-found"' in nobody.content.decode()


def test_a_manager_finds_an_agent_whatever_the_accents_and_capitals_typed(client, helene):
    confirmed_agents(
        helene.organisation, 4, ["Éloïse Lefèvre", "Benoît Cœur", "Zoé Martin", "Awa N’Guessan"]
    )
    client.force_login(helene)

    def found(typed: str) -> list[str]:
        return [row["name"] for row in rows_of(client.get(DASHBOARD, {"nom": typed})).values()]

    assert found("eloise lefevre") == ["Éloïse Lefèvre"]
    assert found("LEFÈVRE") == ["Éloïse Lefèvre"]
    assert found("coeur") == found("Cœur") == ["Benoît Cœur"]
    assert found("zoe") == ["Zoé Martin"]
    # Typed exactly as stored, a name is found whatever its letters fold to.
    assert found("N’Guessan") == found("n’guessan") == ["Awa N’Guessan"]
    assert found("50%") == []  # typed characters are text, never patterns


def test_the_demo_manager_sees_the_demo_agent_and_her_attestation(
    client, db, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo", verbosity=0)
    manager = User.objects.get(email="referente@example.org")
    agent = User.objects.get(email="agent@example.org")
    client.force_login(manager)
    rows = rows_of(client.get(DASHBOARD))
    assert rows[agent.pk]["progress"] == 100
    assert Award.Kind.AWARENESS in rows[agent.pk]["kinds"]


def test_someone_who_named_the_organisation_at_sign_up_is_listed_once_the_address_is_confirmed(
    client, helene, organisation
):
    response = client.post(
        "/agents/inscription/",
        {"full_name": "Intrus", "email": "intrus@example.org", "organisation": organisation.pk},
    )
    assert response.status_code == 302
    intrus = User.objects.get(email="intrus@example.org")
    client.force_login(helene)
    assert intrus.pk not in rows_of(client.get(DASHBOARD))

    EmailAddress.objects.filter(user=intrus).update(verified=True)
    assert intrus.pk in rows_of(client.get(DASHBOARD))


def test_the_manager_page_counts_members_and_says_the_manager_is_one(client, helene, sophie):
    client.force_login(helene)
    page = client.get(DASHBOARD)
    assert "no-store" in page["Cache-Control"]
    assert "2 membres, vous compris·e" in page.content.decode()


def test_the_manager_sees_the_awareness_training_s_attestations_not_the_agent_s_others(
    client, setting, earn, helene, sophie
):
    other_track = make_track(setting.framework, "Piloter, approfondi (test)")
    elsewhere = make_module(other_track, "Ailleurs", lessons=1, targets=[("B1.1", 2)])
    Award.objects.create(
        kind=Award.Kind.MODULE, title="Attestation — Ailleurs", criteria="x", module=elsewhere
    )
    earn(sophie, elsewhere)
    earn(sophie, setting.basics)
    assert Certificate.objects.filter(learner=sophie, award__module=elsewhere).exists()

    client.force_login(helene)
    assert rows_of(client.get(DASHBOARD))[sophie.pk]["kinds"] == ["module"]
    exported = client.get(EXPORT).content.decode("utf-8-sig")
    assert "Attestation — Les bases" in exported
    assert "Ailleurs" not in exported


def test_an_agent_who_finished_one_of_two_awareness_tracks_has_finished_her_training(
    client, setting, earn, helene, sophie
):
    second = make_track(setting.framework, "Sensibiliser, autre version (test)")
    make_module(second, "Découvrir", lessons=2, targets=[("B1.1", 1)])
    Award.objects.create(
        kind=Award.Kind.AWARENESS, title="Sensibilisation (autre)", criteria="x", track=second
    )
    earn(sophie, setting.basics)
    earn(sophie, setting.advanced)
    client.force_login(helene)
    assert rows_of(client.get(DASHBOARD))[sophie.pk]["progress"] == 100
