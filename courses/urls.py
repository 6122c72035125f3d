from django.urls import path

from courses import views

app_name = "courses"

urlpatterns: list = [
    path("catalogue/", views.catalogue_page, name="catalogue"),
    path("referentiels/<str:code>/", views.framework_page, name="framework"),
    path(
        "referentiels/<str:code>/<str:version>/",
        views.framework_page,
        name="framework_version",
    ),
]
