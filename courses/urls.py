from django.urls import path

from courses import views

app_name = "courses"

urlpatterns: list = [
    path("catalogue/", views.catalogue_page, name="catalogue"),
]
