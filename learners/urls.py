from django.urls import path

from learners import views

app_name = "learners"

urlpatterns = [
    path("parcours/", views.dashboard, name="dashboard"),
    path("profil/", views.profile, name="profile"),
    path("inscription/<int:page_id>/", views.enrol, name="enrol"),
    path("desinscription/<int:page_id>/", views.leave, name="leave"),
    path("lecons/<int:lesson_id>/terminee/", views.lesson_done, name="lesson_done"),
    path("apprenants/", views.trainer_learners, name="trainer_learners"),
    path("apprenants/<int:learner_id>/", views.learner_file, name="learner_file"),
    path("donnees/", views.my_data, name="my_data"),
    path("donnees/export.zip", views.export_data, name="export_data"),
    path("donnees/supprimer/", views.erase_account, name="erase_account"),
]
