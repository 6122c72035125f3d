"""Every URL of the project, requested by every persona, answers what the table says.

The table is the declared access policy: one entry per route of the resolver
(Wagtail's page-serving catch-all is expanded into one page of each type), with
the status each persona gets on GET. A new URL without an entry fails
`test_every_url_pattern_has_an_entry_in_the_matrix`, so whoever adds a view
decides who may reach it. Wagtail's own admin and document views are left to
Wagtail's tests; the admin views this project registers through hooks are in.

A redirect is written as the path it leads to (the query string is not
compared): LOGIN is allauth's login page, ADMIN_LOGIN Wagtail's, and
ADMIN_REFUSED the admin dashboard where Wagtail sends a user whose access it
refuses inside the admin.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from certification.models import BulkIssue, Certificate
from courses.models import Framework
from learners.feedback import funder_token
from learners.models import LedgerEntry, Submission, User

PERSONAS = (
    "anonymous",
    "camille",  # facilitator, holds the certificate, the attempt and the open answer
    "dominique",  # another facilitator, not enrolled
    "sophie",  # public agent of Hélène's organisation
    "karim",  # trainer owning the module Camille answered
    "lea",  # trainer owning another module of the same track
    "helene",  # manager of Sophie's organisation
    "marc",  # manager of another organisation
    "staff",  # superuser of the operating team
)
GROUPS = {
    "learners": ("camille", "dominique", "sophie", "helene", "marc"),
    "trainers": ("karim", "lea"),
    "managers": ("helene", "marc"),
    "signed_in": PERSONAS[1:],
}

LOGIN = "/comptes/login/"
ADMIN_LOGIN = "/cms-admin/login/"
ADMIN_REFUSED = "/cms-admin/"
DASHBOARD = "/moi/parcours/"
CONFIRM_IDENTITY = "/moi/donnees/confirmer/"

PROJECT_APPS = {"config", "courses", "learners", "certification"}

Expected = int | str | Callable


def expect(default: Expected, **overrides: Expected) -> dict[str, Expected]:
    """Each persona's expected answer; a person's override beats a group's."""
    table = dict.fromkeys(PERSONAS, default)
    for name, value in overrides.items():
        if name in GROUPS:
            table.update(dict.fromkeys(GROUPS[name], value))
    for name, value in overrides.items():
        if name not in GROUPS:
            assert name in PERSONAS, name
            table[name] = value
    return table


@dataclass
class Route:
    url: Callable  # world -> str, or world -> {label: url} for the page-serving catch-all
    expected: dict[str, Expected]
    why: str = ""
    optional: bool = False  # present only in some configurations (DEBUG)
    extra: dict = field(default_factory=dict)


def public(**overrides) -> dict[str, Expected]:
    return expect(200, **overrides)


def members_only(default: Expected = 200, **overrides) -> dict[str, Expected]:
    return expect(default, anonymous=LOGIN, **overrides)


def staff_only_404() -> dict[str, Expected]:
    return expect(404, anonymous=LOGIN, staff=200)


def admin_view(staff: Expected = 200) -> dict[str, Expected]:
    # Trainers have Wagtail admin access but not these permissions: Wagtail turns
    # the PermissionDenied into a redirect to its dashboard. Others are sent to log in.
    return expect(ADMIN_LOGIN, trainers=ADMIN_REFUSED, staff=staff)


def post_only() -> dict[str, Expected]:
    return members_only(405)


def r(name: str, *args, **kwargs) -> Callable:
    """A URL reversed with world attributes: r("x", "@certificate.pk")."""

    def build(world):
        def resolve(value):
            if isinstance(value, str) and value.startswith("@"):
                target = world
                for part in value[1:].split("."):
                    target = getattr(target, part)
                return target
            return value

        return reverse(
            name,
            args=[resolve(a) for a in args],
            kwargs={k: resolve(v) for k, v in kwargs.items()},
        )

    return build


ROUTES: dict[str, Route] = {
    # --- Site pages and infrastructure ------------------------------------------------
    "healthz": Route(r("healthz"), public()),
    "set_language": Route(r("set_language"), expect("/"), "GET changes nothing, goes home"),
    "accessibility": Route(r("accessibility"), public()),
    "legal_notice": Route(r("legal_notice"), public()),
    "privacy": Route(r("privacy"), public()),
    # --- allauth ---------------------------------------------------------------------
    "account_login": Route(r("account_login"), expect(DASHBOARD, anonymous=200)),
    "account_logout": Route(r("account_logout"), expect(200, anonymous="/")),
    "account_inactive": Route(r("account_inactive"), public()),
    "account_signup": Route(r("account_signup"), expect(DASHBOARD, anonymous=200)),
    "account_reauthenticate": Route(r("account_reauthenticate"), members_only()),
    # Behind « confirm it's you » (learners/guarded_account_urls.py): force_login is
    # a sign-in of long ago.
    "account_email": Route(r("account_email"), members_only(CONFIRM_IDENTITY)),
    "account_email_verification_sent": Route(r("account_email_verification_sent"), public()),
    "account_change_password": Route(r("account_change_password"), members_only()),
    "account_set_password": Route(
        r("account_set_password"),
        members_only(CONFIRM_IDENTITY),
        "confirmed first, then sent to change it: everyone here has a password already",
    ),
    "account_reset_password": Route(r("account_reset_password"), public()),
    "account_confirm_login_code": Route(
        r("account_confirm_login_code"),
        expect(DASHBOARD, anonymous="/comptes/login/code/"),
        "no code pending",
    ),
    "account_confirm_email": Route(
        r("account_confirm_email", "bad-key"), public(), "allauth's « invalid link » page"
    ),
    "account_reset_password_from_key_done": Route(
        r("account_reset_password_from_key_done"), public()
    ),
    "account_reset_password_from_key": Route(
        r("account_reset_password_from_key", uidb36="1", key="bad-key"),
        public(),
        "allauth's « bad token » page",
    ),
    "account_reset_password_done": Route(r("account_reset_password_done"), public()),
    "account_request_login_code": Route(
        r("account_request_login_code"), expect(DASHBOARD, anonymous=200)
    ),
    # --- Catalogue and frameworks -------------------------------------------------------
    "courses:catalogue": Route(r("courses:catalogue"), public()),
    "courses:framework": Route(r("courses:framework", "@framework.code"), public()),
    "courses:framework_version": Route(
        r("courses:framework_version", "@framework.code", "@framework.version"), public()
    ),
    # --- Certificates -------------------------------------------------------------------
    "certification:certificate_pdf": Route(
        r("certification:certificate_pdf", "@certificate.pk"),
        expect(404, anonymous=LOGIN, camille=200, staff=200),
        "the holder and staff only; others learn nothing",
    ),
    "certification:openbadges_credential": Route(
        r("certification:openbadges_credential", "@certificate.pk"),
        expect(404, anonymous=LOGIN, camille=200, staff=200),
    ),
    "certification:bulk_progress": Route(
        r("certification:bulk_progress", "@bulk.pk"), staff_only_404()
    ),
    "certification:bulk_progress_json": Route(
        r("certification:bulk_progress_json", "@bulk.pk"), staff_only_404()
    ),
    "certification:organisation_dashboard": Route(
        r("certification:organisation_dashboard"), members_only(404, managers=200)
    ),
    "certification:organisation_export": Route(
        r("certification:organisation_export"), members_only(404, managers=200)
    ),
    "certification:territory_dashboard": Route(
        r("certification:territory_dashboard"), expect(404, staff=200), "404 even to anonymous"
    ),
    "certification:territory_export": Route(
        r("certification:territory_export"), expect(404, staff=200)
    ),
    "certification:territory_months_export": Route(
        r("certification:territory_months_export"), expect(404, staff=200)
    ),
    "certification:verify_form": Route(r("certification:verify_form"), public()),
    "certification:verify": Route(
        r("certification:verify", "@certificate.code"), public(), "holding the code is enough"
    ),
    "certification:verify_json": Route(
        r("certification:verify_json", "@certificate.code"), public()
    ),
    "certification:openbadges_issuer": Route(r("certification:openbadges_issuer"), public()),
    "certification:openbadges_jwks": Route(r("certification:openbadges_jwks"), public()),
    "certification:well_known_jwks": Route(r("certification:well_known_jwks"), public()),
    "certification:openbadges_key": Route(r("certification:openbadges_key", "@kid"), public()),
    "certification:openbadges_status": Route(
        r("certification:openbadges_status", "@certificate.code"), public()
    ),
    # --- Learner's own pages ------------------------------------------------------------
    "learners:dashboard": Route(r("learners:dashboard"), members_only()),
    "learners:profile": Route(r("learners:profile"), members_only()),
    "learners:my_data": Route(r("learners:my_data"), members_only()),
    # A sign-in of long ago (force_login) confirms its identity first: one's own data.
    "learners:export_data": Route(r("learners:export_data"), members_only(CONFIRM_IDENTITY)),
    "learners:confirm_identity": Route(r("learners:confirm_identity"), members_only()),
    "learners:erase_account": Route(r("learners:erase_account"), members_only()),
    "learners:enrol": Route(r("learners:enrol", "@track.pk"), post_only()),
    "learners:leave": Route(r("learners:leave", "@track.pk"), post_only()),
    "learners:lesson_done": Route(r("learners:lesson_done", "@lesson.pk"), post_only()),
    "learners:satisfaction": Route(r("learners:satisfaction", "@module.pk"), post_only()),
    "learners:quiz_start": Route(r("learners:quiz_start", "@module.pk"), members_only()),
    "learners:quiz_take": Route(
        r("learners:quiz_take", "@attempt.pk"),
        members_only(404, camille=r("learners:quiz_result", "@attempt.pk")),
        "Camille's attempt, submitted: she is sent to its result, others get a 404",
    ),
    "learners:quiz_result": Route(
        r("learners:quiz_result", "@attempt.pk"), members_only(404, camille=200)
    ),
    "learners:positioning": Route(
        r("learners:positioning", "@track.pk"),
        members_only(lambda world: world.track.url),
        "the track has no positioning test: back to the track",
    ),
    # --- Trainers -----------------------------------------------------------------------
    "learners:trainer_learners": Route(
        r("learners:trainer_learners"), members_only(404, trainers=200, staff=200)
    ),
    "learners:learner_file": Route(
        r("learners:learner_file", "@attempt.learner_id"),
        members_only(404, trainers=200),
        "Camille is enrolled in the track of both trainers' modules; staff use the admin",
    ),
    "learners:module_results": Route(
        r("learners:module_results", "@module.pk"), members_only(404, karim=200)
    ),
    "learners:grading_queue": Route(
        r("learners:grading_queue"), members_only(404, trainers=200, staff=200)
    ),
    "learners:grade": Route(
        r("learners:grade", "@submission.pk"),
        members_only(404, karim=200, staff=200),
        "the module's owner, and the team's graders (a module whose owner left)",
    ),
    "learners:submission_file": Route(
        r("learners:submission_file", "@submission.pk"),
        members_only(404, camille=200, karim=200, staff=200),
        "the learner who sent it, the module's owner and the team's graders",
    ),
    # --- Agents and organisation managers ----------------------------------------------
    "organisations:agent_signup": Route(
        r("organisations:agent_signup"), expect(DASHBOARD, anonymous=200)
    ),
    "organisations:accept_invitation": Route(
        r("organisations:accept_invitation", "@invitation.token"),
        public(),
        "GET only shows the invitation; the token is the capability",
    ),
    "organisations:leave": Route(
        r("organisations:leave"), members_only(404, sophie=200, managers=200)
    ),
    "organisations:answer_proposal": Route(
        r("organisations:answer_proposal"),
        post_only(),
        "POST answers only the person's own proposal, and nothing without one",
    ),
    "organisations:invite": Route(r("organisations:invite"), members_only(404, managers=200)),
    "organisations:batch_progress": Route(
        r("organisations:batch_progress", "@batch.pk"), members_only(404, helene=200)
    ),
    "organisations:batch_progress_json": Route(
        r("organisations:batch_progress_json", "@batch.pk"), members_only(404, helene=200)
    ),
    "organisations:pending_invitations": Route(
        r("organisations:pending_invitations"), members_only(404, managers=200)
    ),
    "organisations:withdraw_invitation": Route(
        r("organisations:withdraw_invitation", "@invitation.pk"),
        expect(405),
        "POST only, refused before the sign-in check; the POST is the manager's of the "
        "invitation's organisation",
    ),
    "organisations:remove_member": Route(
        r("organisations:remove_member", "@sophie.pk"), members_only(404, helene=200)
    ),
    # --- Benchmark (bench/load.py) ---------------------------------------------------------
    "bench_baseline": Route(
        lambda w: "/bench/baseline/", public(), "only with BENCH_BASELINE_VIEW", optional=True
    ),
    # --- Accommodation requests (Qualiopi 26) -------------------------------------------
    "learners:accommodation": Route(
        r("learners:accommodation", "@track.pk"),
        members_only(),
        "anyone signed in may ask; the page lists only the visitor's own requests",
    ),
    # POST only, behind the admin's sign-in; the POST itself needs the model's permission
    # (tests/learners/test_mail_delivery.py).
    "learners_undelivered_mail:resend": Route(
        r("learners_undelivered_mail:resend", 1), expect(ADMIN_LOGIN, trainers=405, staff=405)
    ),
    # Wagtail's user admin, with the team flag (learners/wagtail_users.py).
    "wagtailusers_users:add": Route(r("wagtailusers_users:add"), admin_view()),
    "wagtailusers_users:edit": Route(
        r("wagtailusers_users:edit", "@certificate.learner_id"), admin_view()
    ),
    # Erases the account instead of deleting it (the confirmation page here).
    "wagtailusers_users:delete": Route(
        r("wagtailusers_users:delete", "@certificate.learner_id"), admin_view()
    ),
    "learners_accommodation:index": Route(r("learners_accommodation:index"), admin_view()),
    "learners_accommodation:index_results": Route(
        r("learners_accommodation:index_results"), admin_view()
    ),
    "learners_accommodation:edit": Route(
        r("learners_accommodation:edit", "@accommodation.pk"), admin_view()
    ),
    # --- Qualiopi evidence packs of sessions (staff who manage certificates) ------------
    "certification:evidence_progress": Route(
        r("certification:evidence_progress", "@evidence_pack.pk"), staff_only_404()
    ),
    "certification:evidence_progress_json": Route(
        r("certification:evidence_progress_json", "@evidence_pack.pk"), staff_only_404()
    ),
    "certification:evidence_download": Route(
        r("certification:evidence_download", "@evidence_pack.pk"),
        staff_only_404(),
        "every learner's results are in it",
    ),
    "certification:evidence_rebuild": Route(
        r("certification:evidence_rebuild", "@evidence_pack.pk"), post_only()
    ),
    "certification_evidence_packs": Route(r("certification_evidence_packs"), admin_view()),
    "certification_evidence_request": Route(
        r("certification_evidence_request", "@evidence_pack.session_id"), admin_view()
    ),
    # --- Training sessions (learners/session_views.py, learners/wagtail_hooks.py) ---------
    "learners:take_seat": Route(r("learners:take_seat", "@training_session.pk"), post_only()),
    "learners:cancel_seat": Route(
        r("learners:cancel_seat", "@seat.pk"), post_only(), "POST answers 404 but to Camille"
    ),
    "wagtailsnippets_learners_trainingsession:add": Route(
        r("wagtailsnippets_learners_trainingsession:add"), admin_view()
    ),
    "wagtailsnippets_learners_trainingsession:edit": Route(
        r("wagtailsnippets_learners_trainingsession:edit", "@training_session.pk"), admin_view()
    ),
    "wagtailsnippets_learners_trainingsession:inspect": Route(
        r("wagtailsnippets_learners_trainingsession:inspect", "@training_session.pk"),
        admin_view(),
    ),
    # The seat tools on a session's page (learners/seat_admin.py): forms, POST only;
    # cancelling a place asks first (GET).
    "learners_session_give_place": Route(
        r("learners_session_give_place", "@training_session.pk"), admin_view(staff=405)
    ),
    "learners_seat_give": Route(r("learners_seat_give", "@seat.pk"), admin_view(staff=405)),
    "learners_seat_withdraw": Route(r("learners_seat_withdraw", "@seat.pk"), admin_view()),
    # Refused once attendance is recorded (learners/session_admin.py): this one has none.
    "wagtailsnippets_learners_trainingsession:delete": Route(
        r("wagtailsnippets_learners_trainingsession:delete", "@training_session.pk"),
        admin_view(),
    ),
    # --- Satisfaction « à froid », feedback, results, improvement log (Qualiopi 30, 32) -----
    "learners:cold_survey": Route(
        r("learners:cold_survey", "@cold_survey.token"), public(), "the token is the capability"
    ),
    "learners:trainer_feedback": Route(
        r("learners:trainer_feedback", "@training_session.pk"),
        members_only(404, trainers=200),
        "both trainers author a module of the session's track",
    ),
    "learners:funder_feedback": Route(
        lambda w: reverse("learners:funder_feedback", args=[funder_token(w.training_session)]),
        public(),
        "the signed link is the capability",
    ),
    "learners_quality_results": Route(r("learners_quality_results"), admin_view()),
    "learners_quality_results_csv": Route(r("learners_quality_results_csv"), admin_view()),
    "wagtailsnippets_learners_improvementaction:list": Route(
        r("wagtailsnippets_learners_improvementaction:list"), admin_view()
    ),
    "wagtailsnippets_learners_improvementaction:list_results": Route(
        r("wagtailsnippets_learners_improvementaction:list_results"), admin_view()
    ),
    "wagtailsnippets_learners_improvementaction:add": Route(
        r("wagtailsnippets_learners_improvementaction:add"), admin_view()
    ),
    # --- Attendance (émargement) and online activity ---------------------------------------
    "learners:attendance_sign": Route(r("learners:attendance_sign"), members_only()),
    "learners:attendance_link": Route(
        r("learners:attendance_link", "@attendance_token"),
        public(),
        "the seat's token is the capability; GET only shows who would sign",
    ),
    "learners:trainer_sessions": Route(
        r("learners:trainer_sessions"), members_only(404, trainers=200, staff=200)
    ),
    "learners:session_attendance": Route(
        r("learners:session_attendance", "@attended_session.pk"),
        members_only(404, karim=200, staff=200),
        "the session's trainers and staff; Léa trains another module of the track",
    ),
    "learners:session_activity_csv": Route(
        r("learners:session_activity_csv", "@attended_session.pk"),
        members_only(404, karim=200, staff=200),
    ),
    "certification:attendance_sheet": Route(
        r("certification:attendance_sheet", "@attended_session.pk"),
        members_only(404, karim=200, staff=200),
    ),
    # --- Public API ---------------------------------------------------------------------
    "api:api-root": Route(lambda w: "/api/", expect(404), "no docs page"),
    "api:openapi-json": Route(lambda w: "/api/openapi.json", public()),
    "api:list_frameworks": Route(lambda w: "/api/frameworks", public()),
    "api:get_framework": Route(lambda w: f"/api/frameworks/{w.framework.code}", public()),
    "api:list_modules": Route(lambda w: "/api/modules", public()),
    # --- Project views inside the Wagtail admin ------------------------------------------
    "certification_revoke": Route(r("certification_revoke", "@certificate.pk"), admin_view()),
    "certification_reissue": Route(r("certification_reissue", "@certificate.pk"), admin_view()),
    "certification_restore": Route(
        r("certification_restore", "@certificate.pk"),
        admin_view(staff=404),
        "only a revoked certificate's award is given back: the world's is valid",
    ),
    "certification_regenerate": Route(
        r("certification_regenerate", "@certificate.pk"), admin_view()
    ),
    "certification_award_bulk": Route(
        r("certification_award_bulk", "@award.pk", "issue"), admin_view()
    ),
    "certification_session_bulk": Route(
        r("certification_session_bulk", "@training_session.pk"), admin_view()
    ),
    "courses_framework_import": Route(r("courses_framework_import"), admin_view()),
    "courses_framework_new_version": Route(
        r("courses_framework_new_version", "@framework.pk"), admin_view()
    ),
    "certification_award:index": Route(r("certification_award:index"), admin_view()),
    "certification_award:index_results": Route(
        r("certification_award:index_results"), admin_view()
    ),
    "certification_certificate:index": Route(r("certification_certificate:index"), admin_view()),
    "certification_certificate:index_results": Route(
        r("certification_certificate:index_results"), admin_view()
    ),
    # Its own view (the status as a verifier is told it), Wagtail's permission check.
    "certification_certificate:inspect": Route(
        r("certification_certificate:inspect", "@certificate.pk"), admin_view()
    ),
    "certification_certificate:edit": Route(
        r("certification_certificate:edit", "@certificate.pk"),
        expect(
            ADMIN_LOGIN,
            trainers=r("certification_certificate:inspect", "@certificate.pk"),
            staff=r("certification_certificate:inspect", "@certificate.pk"),
        ),
        "editing is inspecting; the inspect view checks permissions itself",
    ),
    "courses_framework:index": Route(r("courses_framework:index"), admin_view()),
    # Deleting refuses, with a message, what records depend on (courses/wagtail_hooks.py);
    # a GET asks for confirmation.
    "courses_framework:delete": Route(r("courses_framework:delete", "@framework.pk"), admin_view()),
    "courses_level:delete": Route(
        lambda w: reverse("courses_level:delete", args=[w.framework.levels.first().pk]),
        admin_view(),
    ),
    "courses_block:delete": Route(
        lambda w: reverse("courses_block:delete", args=[w.framework.blocks.first().pk]),
        admin_view(),
    ),
    "courses_competence:delete": Route(
        lambda w: reverse("courses_competence:delete", args=[w.framework.competences().first().pk]),
        admin_view(),
    ),
    "courses_crosswalk:delete": Route(
        lambda w: reverse("courses_crosswalk:delete", args=[999_999]),
        expect(ADMIN_LOGIN, trainers=404, staff=404),
        "the world has no crosswalk: an unknown one, not found before the permission check",
    ),
    "courses_framework:index_results": Route(r("courses_framework:index_results"), admin_view()),
    # --- Wagtail page serving ------------------------------------------------------------
    "wagtailcore_login": Route(lambda w: "/_util/login/", public(), "private pages' login"),
    "wagtailcore_authenticate_with_password": Route(
        lambda w: f"/_util/authenticate_with_password/999999/{w.module.pk}/",
        expect(404),
        "no such restriction",
    ),
    "wagtail_serve": Route(
        lambda w: {
            "home": w.home.url,
            "catalogue": w.catalogue.url,
            "track": w.track.url,
            "module": w.module.url,
            "lesson": w.lesson.url,
        },
        public(),
        "live public pages: anyone reads them",
    ),
    # Only with DEBUG (the embedded default): uploads are served under unguessable
    # names; an unknown name is a 404.
    "^media/(?P<path>.*)$": Route(
        lambda w: "/media/submissions/2000/01/00000000000000000000000000000000.pdf",
        expect(404),
        optional=True,
    ),
}


# --- The resolver and the table agree ------------------------------------------------------


def _walk(patterns, prefix="", namespace=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern):
            route = prefix + str(pattern.pattern)
            yield (namespace + pattern.name if pattern.name else route), route, pattern


def project_routes() -> dict[str, str]:
    """Route key (namespaced name, or the pattern when unnamed) -> pattern, of every
    URL the project answers, minus Wagtail's own admin and document views."""
    routes = {}
    for key, route, pattern in _walk(get_resolver().url_patterns):
        if route.startswith("documents/"):
            continue
        if route.startswith("cms-admin/"):
            module = getattr(pattern.callback, "__module__", "") or ""
            if module.split(".")[0] not in PROJECT_APPS:
                continue
        routes[key] = route
    return routes


def test_every_url_pattern_has_an_entry_in_the_matrix():
    routes = project_routes()
    missing = sorted(f"{key}  ({route})" for key, route in routes.items() if key not in ROUTES)
    stale = sorted(key for key, entry in ROUTES.items() if key not in routes and not entry.optional)
    assert missing == [], "URL patterns with no entry in the permission matrix"
    assert stale == [], "matrix entries for URL patterns that no longer exist"


# --- Each persona gets what the table says -------------------------------------------------


def _answer(response):
    if response.status_code in (301, 302):
        return urlsplit(response["Location"]).path
    return response.status_code


def _resolve_expected(expected: Expected, world):
    return expected(world) if callable(expected) else expected


@pytest.mark.parametrize("persona", PERSONAS)
def test_each_persona_gets_what_the_matrix_declares_on_every_url(
    client, world, personas, persona, settings
):
    settings.VERIFY_LOOKUPS_PER_MINUTE = 10_000
    if persona != "anonymous":
        client.force_login(personas[persona])
    present = project_routes()
    mismatches = []
    for key, entry in ROUTES.items():
        if key not in present:
            continue
        urls = entry.url(world)
        for label, url in urls.items() if isinstance(urls, dict) else [(key, urls)]:
            expected = _resolve_expected(entry.expected[persona], world)
            got = _answer(client.get(url))
            if got != expected:
                mismatches.append(f"{label} GET {url}: expected {expected!r}, got {got!r}")
    assert mismatches == []


# --- POST: nobody acts on someone else's data ---------------------------------------------


def test_another_learner_cannot_submit_answers_to_camilles_attempt(client, world, dominique):
    client.force_login(dominique)
    response = client.post(reverse("learners:quiz_take", args=[world.attempt.pk]), {"x": "1"})
    assert response.status_code == 404


def test_a_trainer_cannot_grade_an_answer_in_another_trainers_module(client, world, lea, camille):
    level = world.framework.levels.get(rank=3)
    for person in (lea, camille):
        client.force_login(person)
        response = client.post(
            reverse("learners:grade", args=[world.submission.pk]),
            {"decision": "validated", "level": level.pk, "comment": "ok"},
        )
        assert response.status_code == 404
    world.submission.refresh_from_db()
    assert world.submission.status == Submission.Status.PENDING


def test_nobody_records_a_validation_for_a_learner_outside_their_modules(
    client, world, karim, camille, dominique
):
    competence = world.module.targets.first().competence
    level = world.framework.levels.get(rank=3)
    url = reverse("learners:learner_file", args=[dominique.pk])  # enrolled in nothing
    data = {"competence": competence.pk, "level": level.pk, "comment": "Vu en atelier."}
    for person in (karim, camille):
        client.force_login(person)
        assert client.get(url).status_code == 404
        assert client.post(url, data).status_code == 404
    client.force_login(camille)  # a learner posting on her own file is no trainer either
    assert client.post(reverse("learners:learner_file", args=[camille.pk]), data).status_code == 404
    assert not LedgerEntry.objects.filter(source=LedgerEntry.Source.TRAINER).exists()


def test_a_manager_cannot_remove_another_organisations_agent(client, world, marc, sophie):
    client.force_login(marc)
    response = client.post(reverse("organisations:remove_member", args=[sophie.pk]))
    assert response.status_code == 404
    sophie.refresh_from_db()
    assert sophie.organisation_id == world.batch.organisation_id


def test_a_manager_cannot_withdraw_another_organisations_invitation(client, world, marc, sophie):
    client.force_login(sophie)  # a member, not the manager
    url = reverse("organisations:withdraw_invitation", args=[world.invitation.pk])
    assert client.post(url).status_code == 404
    client.force_login(marc)
    assert client.post(url).status_code == 404
    world.invitation.refresh_from_db()
    assert world.invitation.withdrawn_at is None


def test_a_manager_sees_only_their_own_organisations_agents(client, world, marc, sophie):
    client.force_login(marc)
    assert sophie.full_name not in client.get(reverse("certification:organisation_dashboard")).text
    assert (
        sophie.full_name
        not in client.get(reverse("certification:organisation_export")).content.decode()
    )


def test_a_profile_form_cannot_promote_its_author(client, world, camille):
    client.force_login(camille)
    response = client.post(
        reverse("learners:profile"),
        {
            "full_name": "Camille Martin",
            "job_title": "Animatrice",
            "role": User.Role.TRAINER,
            "is_staff": "on",
            "is_superuser": "on",
            "is_organisation_manager": "on",
            "organisation": world.batch.organisation_id,
        },
    )
    assert response.status_code == 302
    camille.refresh_from_db()
    assert camille.job_title == "Animatrice"
    assert (camille.role, camille.is_staff, camille.is_superuser) == (
        User.Role.FACILITATOR,
        False,
        False,
    )
    assert (camille.is_organisation_manager, camille.organisation_id) == (False, None)


@pytest.mark.parametrize("persona", ["camille", "karim"])
def test_admin_actions_on_certificates_refuse_non_staff_and_change_nothing(
    client, world, personas, persona
):
    client.force_login(personas[persona])
    pk = world.certificate.pk
    for name, data in (
        ("certification_revoke", {"reason": "Fraude"}),
        ("certification_reissue", {}),
        ("certification_restore", {}),
        ("certification_regenerate", {}),
    ):
        response = client.post(reverse(name, args=[pk]), data)
        assert response.status_code == 302
        assert urlsplit(response["Location"]).path in (ADMIN_LOGIN, ADMIN_REFUSED)
    response = client.post(reverse("certification_award_bulk", args=[world.award.pk, "issue"]))
    assert urlsplit(response["Location"]).path in (ADMIN_LOGIN, ADMIN_REFUSED)
    certificate = Certificate.objects.get(pk=pk)
    assert certificate.status == Certificate.Status.VALID
    assert certificate.pdf_sha256 == world.certificate.pdf_sha256
    assert Certificate.objects.count() == 1
    assert BulkIssue.objects.count() == 1  # the world's own


@pytest.mark.parametrize("persona", ["camille", "karim"])
def test_framework_admin_actions_refuse_non_staff_and_change_nothing(
    client, world, personas, persona
):
    client.force_login(personas[persona])
    response = client.post(
        reverse("courses_framework_new_version", args=[world.framework.pk]), {"version": "2"}
    )
    assert urlsplit(response["Location"]).path in (ADMIN_LOGIN, ADMIN_REFUSED)
    response = client.post(reverse("courses_framework_import"), {"payload": "forged"})
    assert urlsplit(response["Location"]).path in (ADMIN_LOGIN, ADMIN_REFUSED)
    assert Framework.objects.count() == 1


def test_the_verification_pdf_check_needs_a_csrf_token(world):
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        reverse("certification:verify", args=[world.certificate.code]), {"pdf": ""}
    )
    assert response.status_code == 403
