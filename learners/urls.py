from django.urls import path

from learners import (
    accommodation_views,
    assessment_views,
    attendance_views,
    quality_views,
    session_views,
    views,
)

app_name = "learners"

urlpatterns = [
    path("parcours/", views.dashboard, name="dashboard"),
    path("profil/", views.profile, name="profile"),
    path("inscription/<pk:page_id>/", views.enrol, name="enrol"),
    path("desinscription/<pk:page_id>/", views.leave, name="leave"),
    path("lecons/<pk:lesson_id>/terminee/", views.lesson_done, name="lesson_done"),
    path("apprenants/", views.trainer_learners, name="trainer_learners"),
    path("apprenants/<pk:learner_id>/", views.learner_file, name="learner_file"),
    path("donnees/", views.my_data, name="my_data"),
    path("donnees/export.zip", views.export_data, name="export_data"),
    path("donnees/supprimer/", views.erase_account, name="erase_account"),
    path("donnees/confirmer/", views.confirm_identity, name="confirm_identity"),
    # Assessments (learners/assessment_views.py)
    path("modules/<pk:module_id>/quiz/", assessment_views.quiz_start, name="quiz_start"),
    path("quiz/<pk:attempt_id>/", assessment_views.quiz_take, name="quiz_take"),
    path("quiz/<pk:attempt_id>/resultat/", assessment_views.quiz_result, name="quiz_result"),
    path(
        "parcours/<pk:track_id>/positionnement/",
        assessment_views.positioning,
        name="positioning",
    ),
    path(
        "modules/<pk:module_id>/satisfaction/",
        assessment_views.satisfaction,
        name="satisfaction",
    ),
    path(
        "modules/<pk:module_id>/resultats/",
        assessment_views.module_results,
        name="module_results",
    ),
    path("evaluations/", assessment_views.grading_queue, name="grading_queue"),
    path("evaluations/<pk:submission_id>/", assessment_views.grade, name="grade"),
    path(
        "evaluations/<pk:submission_id>/piece/",
        assessment_views.submission_file,
        name="submission_file",
    ),
]

# Training sessions (learners/session_views.py)
urlpatterns += [
    path("sessions/<pk:session_id>/place/", session_views.take_seat, name="take_seat"),
    path("places/<pk:seat_id>/annuler/", session_views.cancel_seat, name="cancel_seat"),
]

# Accommodation requests (learners/accommodation_views.py)
urlpatterns += [
    path(
        "amenagement/<pk:track_id>/",
        accommodation_views.accommodation,
        name="accommodation",
    ),
]

# « À froid » satisfaction and feedback (learners/quality_views.py)
urlpatterns += [
    path(
        "satisfaction-a-froid/<str:token>/",
        quality_views.cold_survey,
        name="cold_survey",
    ),
    path(
        "retours/formateur/<pk:session_id>/",
        quality_views.trainer_feedback,
        name="trainer_feedback",
    ),
    path(
        "retours/financeur/<str:signed>/",
        quality_views.funder_feedback,
        name="funder_feedback",
    ),
]

# Attendance (émargement) and online activity (learners/attendance_views.py)
urlpatterns += [
    path("emargement/", attendance_views.sign_with_code, name="attendance_sign"),
    path("emargement/<str:token>/", attendance_views.sign_with_link, name="attendance_link"),
    path("formateur/sessions/", attendance_views.trainer_sessions, name="trainer_sessions"),
    path(
        "formateur/sessions/<pk:session_id>/emargement/",
        attendance_views.session_attendance,
        name="session_attendance",
    ),
    path(
        "formateur/sessions/<pk:session_id>/activite.csv",
        attendance_views.session_activity_csv,
        name="session_activity_csv",
    ),
]
