"""Demo accounts and organisation, all with the password `campus-demo`."""

from allauth.account.models import EmailAddress
from django.db import transaction

from learners.models import Organisation, User

DEMO_PASSWORD = "campus-demo"  # noqa: S105 - documented demo password, never used in production
DEMO_ORGANISATION = "Communauté de communes du Pays de Démo"

DEMO_ACCOUNTS = [
    {
        "email": "facilitatrice@example.org",
        "full_name": "Camille Martin",
        "role": User.Role.FACILITATOR,
        "description": "facilitatrice (apprenante)",
    },
    {
        "email": "formateur@example.org",
        "full_name": "Karim Benali",
        "role": User.Role.TRAINER,
        "description": "formateur",
    },
    {
        "email": "agent@example.org",
        "full_name": "Sophie Lefèvre",
        "role": User.Role.PUBLIC_AGENT,
        "job_title": "Chargée de mission développement local",
        "organisation": True,
        "description": f"agente publique, membre de « {DEMO_ORGANISATION} »",
    },
    {
        "email": "referente@example.org",
        "full_name": "Hélène Moreau",
        "role": User.Role.PUBLIC_AGENT,
        "job_title": "Directrice générale des services",
        "organisation": True,
        "manager": True,
        "description": f"référente de « {DEMO_ORGANISATION} »",
    },
    {
        "email": "admin@example.org",
        "full_name": "Équipe Campus",
        "role": User.Role.FACILITATOR,
        "staff": True,
        "description": "équipe de la plateforme (superutilisateur)",
    },
]


@transaction.atomic
def seed() -> int:
    created = 0
    organisation, org_created = Organisation.objects.get_or_create(
        name=DEMO_ORGANISATION,
        defaults={
            "kind": Organisation.Kind.EPCI,
            "departement": "23",
            "region": "75",
        },
    )
    created += org_created
    for account in DEMO_ACCOUNTS:
        if User.objects.filter(email=account["email"]).exists():
            continue
        user = User.objects.create_user(
            email=account["email"],
            password=DEMO_PASSWORD,
            full_name=account["full_name"],
            role=account["role"],
            job_title=account.get("job_title", ""),
            organisation=organisation if account.get("organisation") else None,
            is_organisation_manager=account.get("manager", False),
            is_staff=account.get("staff", False),
            is_superuser=account.get("staff", False),
        )
        # Demo accounts log in straight away: their address counts as confirmed.
        EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
        created += 1
    return created
