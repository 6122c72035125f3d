from django.urls import path

from certification import views

app_name = "certification"

urlpatterns: list = [
    # Holder and staff downloads.
    path("certificats/<int:pk>/pdf/", views.certificate_pdf, name="certificate_pdf"),
    # Staff bulk issuance: progress page and the JSON it polls.
    path("certificats/lots/<int:pk>/", views.bulk_progress, name="bulk_progress"),
    path("certificats/lots/<int:pk>.json", views.bulk_progress_json, name="bulk_progress_json"),
]
