from django.urls import path

from certification import (
    attendance_views,
    evidence_views,
    organisation_views,
    territory_views,
    verification_views,
    views,
)

app_name = "certification"

urlpatterns: list = [
    # Holder and staff downloads.
    path("certificats/<pk:pk>/pdf/", views.certificate_pdf, name="certificate_pdf"),
    # Staff bulk issuance: progress page and the JSON it polls.
    path("certificats/lots/<pk:pk>/", views.bulk_progress, name="bulk_progress"),
    path("certificats/lots/<pk:pk>.json", views.bulk_progress_json, name="bulk_progress_json"),
    # Staff's Qualiopi evidence pack of a session: progress, its JSON, the ZIP, rebuild.
    path("dossiers-de-preuves/<pk:pk>/", evidence_views.progress, name="evidence_progress"),
    path(
        "dossiers-de-preuves/<pk:pk>.json",
        evidence_views.progress_json,
        name="evidence_progress_json",
    ),
    path("dossiers-de-preuves/<pk:pk>/zip/", evidence_views.download, name="evidence_download"),
    path(
        "dossiers-de-preuves/<pk:pk>/reconstruire/",
        evidence_views.rebuild,
        name="evidence_rebuild",
    ),
    # Organisation managers' view of their agents; staff's territory dashboard.
    path("organisation/", organisation_views.dashboard, name="organisation_dashboard"),
    path("organisation/agents.csv", organisation_views.export_csv, name="organisation_export"),
    path("territoires/", territory_views.dashboard, name="territory_dashboard"),
    path("territoires/territoires.csv", territory_views.export_csv, name="territory_export"),
    path("territoires/mois.csv", territory_views.export_months_csv, name="territory_months_export"),
    # Public verification: the QR code printed on each PDF reverses "certification:verify".
    path("verify/", verification_views.verify_form, name="verify_form"),
    path(
        "verify/<str:code>.json",
        verification_views.verify,
        {"as_json": True},
        name="verify_json",
    ),
    path("verify/<str:code>/", verification_views.verify, name="verify"),
    # Open Badges 3.0: the holder's signed credential, the issuer, its keys, statuses.
    path(
        "certificats/<pk:pk>/openbadge.jwt",
        verification_views.openbadges_credential,
        name="openbadges_credential",
    ),
    path("openbadges/issuer", verification_views.openbadges_issuer, name="openbadges_issuer"),
    path("openbadges/jwks.json", verification_views.openbadges_jwks, name="openbadges_jwks"),
    path(".well-known/jwks.json", verification_views.openbadges_jwks, name="well_known_jwks"),
    path("openbadges/keys/<str:kid>", verification_views.openbadges_key, name="openbadges_key"),
    path(
        "openbadges/status/<str:code>",
        verification_views.openbadges_status,
        name="openbadges_status",
    ),
]

# A session's attendance sheet, next to the trainer's émargement page under /moi/.
urlpatterns += [
    path(
        "moi/formateur/sessions/<pk:session_id>/feuille.pdf",
        attendance_views.attendance_sheet_pdf,
        name="attendance_sheet",
    ),
]
