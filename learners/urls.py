from django.urls import path

from learners import views

app_name = "learners"

urlpatterns = [
    path("parcours/", views.dashboard, name="dashboard"),
    path("profil/", views.profile, name="profile"),
]
