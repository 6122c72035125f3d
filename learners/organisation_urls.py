"""Public agents' entry and organisation managers' pages (outside /moi/)."""

from django.urls import path

from learners import organisation_views as views

app_name = "organisations"

urlpatterns = [
    path("agents/inscription/", views.agent_signup, name="agent_signup"),
    path("agents/invitation/<str:token>/", views.accept_invitation, name="accept_invitation"),
    path("moi/organisation/quitter/", views.leave_organisation, name="leave"),
    path("moi/organisation/proposee/", views.answer_proposal, name="answer_proposal"),
    path("organisation/inviter/", views.invite, name="invite"),
    path(
        "organisation/invitations/en-attente/",
        views.pending_invitations,
        name="pending_invitations",
    ),
    path(
        "organisation/invitations/en-attente/<pk:pk>/retirer/",
        views.withdraw_invitation,
        name="withdraw_invitation",
    ),
    path("organisation/invitations/<pk:pk>/", views.batch_progress, name="batch_progress"),
    path(
        "organisation/invitations/<pk:pk>.json",
        views.batch_progress_json,
        name="batch_progress_json",
    ),
    path("organisation/agents/<pk:pk>/retirer/", views.remove_member, name="remove_member"),
]
