"""Seed a national-size population on PostgreSQL for the load benchmark.

    python -m bench.population            # BENCH_SCALE=0.1 for a quick, smaller run

1. Drops and creates the throw-away database `campus_bench`, migrates it and
   loads the demo (real pages, frameworks, awards, certificates).
2. Adds the benchmark's own learners: one whose dashboard, module and lesson
   pages are measured, and learners holding open quiz attempts for the
   submission benchmark (their session cookies and CSRF secrets go to
   var/bench/, for wrk).
3. Copies that database as `campus_bench_demo` (the « demo data » side of the
   query-count comparison).
4. Bulk-inserts the population with PostgreSQL COPY: 1,000 modules with their
   lessons (tree paths built directly), 100,000 learners, 1,000,000 lesson
   progress rows, 200,000 submitted attempts with their answers, 50,000
   certificates; then ANALYZE.

Foreign keys are not checked row by row during the COPY (session_replication_role
= replica): every id written is taken from rows this script just read or wrote.
"""

import copy
import json
import random
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from datetime import timedelta

import psycopg

from bench.environment import (
    ATTEMPTS,
    DEMO_DB,
    FIXTURES,
    LARGE_DB,
    ROOT,
    VAR,
    database_url,
    django_env,
    scale,
    setup_django,
)

SIZES = {
    "modules": 1_000,
    "learners": 100_000,
    "lesson_progress": 1_000_000,
    "attempts": 200_000,
    "certificates": 50_000,
}
LESSONS_PER_MODULE = 4
# A track as trainers build them: about a dozen modules (the demo's have 4 and 10).
MODULES_PER_TRACK = 12
ORGANISATIONS = 500
FACILITATOR_SHARE = 0.3
# Open attempts consumed by the submission benchmark and the 2-minute hold, with room to
# spare: the hold alone submitted 16,349 at 136 req/s, and faster submission takes more.
OPEN_ATTEMPTS = 60_000
QUIZ_LEARNERS = 100
# Every bulk account shares one unusable hash: hashing 100,000 passwords would
# measure PBKDF2, not the platform.
UNUSABLE_PASSWORD = "!bench-unusable-password"  # noqa: S105 (not a password: unusable)

timings: dict[str, float] = {}


@contextmanager
def timed(label: str):
    started = time.perf_counter()
    yield
    timings[label] = round(time.perf_counter() - started, 1)
    print(f"  {label:<28} {timings[label]:>7.1f} s", flush=True)


def sized(name: str) -> int:
    return max(1, round(SIZES[name] * scale()))


# --- 1. A fresh database with the demo -------------------------------------------------


def recreate(*names: str) -> None:
    with psycopg.connect(database_url("postgres"), autocommit=True) as admin:
        for name in names:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{names[0]}"')


def manage(*args: str) -> None:
    subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=django_env(LARGE_DB), check=True
    )


def copy_as_demo() -> None:
    from django.db import connections

    connections.close_all()
    with psycopg.connect(database_url("postgres"), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{DEMO_DB}" TEMPLATE "{LARGE_DB}"')


# --- 2. The benchmark's own learners ----------------------------------------------------


def correct_answers(questions: list[dict]) -> dict[str, list[str]]:
    """Form fields that answer every automatically scored question right."""
    from learners.assessments import item_field

    fields: dict[str, list[str]] = {}
    for question in questions:
        base, kind = f"q-{question['id']}", question["type"]
        if kind in ("single_choice", "true_false", "multiple_choice"):
            fields[base] = [o["key"] for o in question["options"] if o["correct"]]
        elif kind == "numeric":
            fields[base] = [str(question["answer"])]
        elif kind == "short_answer":
            fields[base] = [question["accepted_answers"][0]]
        elif kind == "ordering":
            ranked = sorted(question["items"], key=lambda item: int(item["key"]))
            for position, item in enumerate(ranked, start=1):
                fields[item_field(base, item)] = [str(position)]
        else:
            fields[base] = ["Une réponse rédigée pour le banc d'essai."]
    return fields


def new_session(user) -> str:
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    from learners.account_sessions import SessionStore

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return session.session_key


def bench_learners() -> dict:
    """The learners wrk signs in as, and what it needs to request their pages."""
    from urllib.parse import urlencode

    from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH
    from django.utils.crypto import get_random_string
    from wagtail.models import Site

    from certification.models import Certificate
    from courses.models import Audience, ModulePage, TrackPage
    from learners import assessments
    from learners.models import Attempt, Enrolment, LessonProgress, User

    site = Site.objects.get(is_default_site=True)
    track = TrackPage.objects.filter(audience=Audience.FACILITATORS).order_by("path").first()
    modules = list(ModulePage.objects.live().child_of(track).order_by("path"))
    module = next(m for m in modules if m.has_quiz and not m.prerequisite_modules.exists())
    lesson = module.lessons().first()

    # The measured learner: a track, lessons done in three modules, a quiz passed.
    learner = User.objects.create_user(
        email="bench-learner@example.org",
        password=None,
        full_name="Apprenante du banc d'essai",
        role=User.Role.FACILITATOR,
    )
    Enrolment.objects.create(learner=learner, track=track)
    for done in modules[:3]:
        for each in done.lessons():
            LessonProgress.objects.create(learner=learner, lesson=each)
    attempt = assessments.start_attempt(learner, module)
    answers, _uploads, errors = assessments.answers_from_form(
        attempt, _query_dict(correct_answers(attempt.questions)), {}
    )
    assert not errors, errors
    assessments.submit_attempt(attempt, answers)

    # Quiz takers: every open attempt carries the same frozen questions, so one
    # form body answers them all.
    takers = User.objects.bulk_create(
        User(
            email=f"bench-quiz-{n}@example.org",
            password=UNUSABLE_PASSWORD,
            full_name=f"Candidat {n}",
            role=User.Role.FACILITATOR,
        )
        for n in range(QUIZ_LEARNERS)
    )
    Enrolment.objects.bulk_create(Enrolment(learner=taker, track=track) for taker in takers)
    template = assessments.start_attempt(takers[0], module)
    per_taker = -(-OPEN_ATTEMPTS // QUIZ_LEARNERS)
    Attempt.objects.bulk_create(
        (
            Attempt(
                learner=taker,
                module=module,
                number=number,
                questions=template.questions,
                pass_mark=template.pass_mark,
                feedback_policy=template.feedback_policy,
                deadline=None,
            )
            for number in range(1, per_taker + 1)
            for taker in takers
            if (taker, number) != (takers[0], 1)
        ),
        batch_size=2_000,
    )
    credentials = {}
    for taker in takers:
        credentials[taker.pk] = (new_session(taker), get_random_string(32, CSRF_ALLOWED_CHARS))
    assert len(credentials[takers[0].pk][1]) == CSRF_SECRET_LENGTH
    open_attempts = list(
        Attempt.objects.filter(learner__in=takers, status=Attempt.Status.IN_PROGRESS)
        .order_by("number", "learner_id")
        .values_list("pk", "learner_id")
    )
    # The first few are kept for counting queries; wrk cycles through the rest.
    reserved, for_wrk = open_attempts[:6], open_attempts[6:]
    VAR.mkdir(parents=True, exist_ok=True)
    with ATTEMPTS.open("w") as out:
        for pk, learner_id in for_wrk:
            session, csrf = credentials[learner_id]
            out.write(f"{pk},{session},{csrf}\n")

    level = module.level.code if module.level else ""
    catalogue_filters = {"audience": Audience.FACILITATORS, "format": module.format}
    if level:
        catalogue_filters["level"] = level
    catalogue_filters["sort"] = "title"
    certificate = Certificate.objects.valid().order_by("pk").first()
    return {
        "urls": {
            "baseline": "/bench/baseline/",
            "catalogue": "/catalogue/?" + urlencode(catalogue_filters),
            "module": module.relative_url(site),
            "lesson": lesson.relative_url(site),
            "dashboard": "/moi/parcours/",
            "quiz_submission": "/moi/quiz/{attempt}/",
            "verification": f"/verify/{certificate.code}/",
        },
        "learner_session": new_session(learner),
        "quiz_body": urlencode(correct_answers(template.questions), doseq=True),
        "reserved_attempts": [
            {"attempt": pk, "session": credentials[lid][0], "csrf": credentials[lid][1]}
            for pk, lid in reserved
        ],
        "open_attempts_for_wrk": len(for_wrk),
    }


def _query_dict(fields: dict[str, list[str]]):
    from django.http import QueryDict

    data = QueryDict(mutable=True)
    for name, values in fields.items():
        data.setlist(name, values)
    return data


# --- 4. The population, by COPY --------------------------------------------------------


class Copier:
    """COPY rows into tables through the Django connection's psycopg cursor."""

    def __init__(self):
        from django.db import connection

        self.connection = connection
        self.cursor = connection.cursor().cursor

    def rows(self, table: str, columns: list[str], rows) -> int:
        count = 0
        statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
        with self.cursor.copy(statement) as copy_:
            for row in rows:
                copy_.write_row(row)
                count += 1
        return count

    def instances(self, model, instances, *, with_pk: bool = True) -> int:
        """COPY model instances (their own table only, as multi-table inheritance stores them)."""
        fields = [f for f in model._meta.local_concrete_fields if with_pk or not f.primary_key]
        return self.rows(
            model._meta.db_table,
            [f.column for f in fields],
            (
                [f.get_db_prep_save(getattr(i, f.attname), self.connection) for f in fields]
                for i in instances
            ),
        )

    def next_id(self, table: str) -> int:
        self.cursor.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {table}")  # noqa: S608
        return self.cursor.fetchone()[0]

    def sync_sequence(self, table: str) -> None:
        self.cursor.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"  # noqa: S608
        )


def add_modules(copier: Copier, count: int) -> dict[int, dict]:
    """Tracks of MODULES_PER_TRACK modules, each with its lessons, cloned from the demo's.

    The demo's own tracks are left as they are. Returns, per new track id, its
    audience and the ids of its modules (with their quiz's template module) and lessons.
    """
    from django.contrib.contenttypes.models import ContentType
    from django.utils import timezone
    from wagtail.models import Page

    from courses.models import (
        Audience,
        CatalogPage,
        LessonPage,
        ModuleCompetence,
        ModulePage,
        TrackPage,
    )

    now = timezone.now()
    catalogue = CatalogPage.objects.get()
    templates = {track.audience: track for track in TrackPage.objects.order_by("path")}
    modules_of = {
        audience: list(ModulePage.objects.child_of(track).order_by("path"))
        for audience, track in templates.items()
    }
    lessons_of = {
        module.pk: list(LessonPage.objects.child_of(module).order_by("path"))
        for modules in modules_of.values()
        for module in modules
    }
    by_track: dict[int, dict] = {}
    rows: dict[type, list] = {TrackPage: [], ModulePage: [], LessonPage: []}
    mapping, targets = [], []
    next_id = copier.next_id("wagtailcore_page")

    def clone(source, parent, step, slug, numchild):
        nonlocal next_id
        page = copy.copy(source)
        _place(page, next_id, parent, step, slug, now)
        page.numchild = numchild
        next_id += 1
        rows[type(source)].append(page)
        mapping.append((page.pk, source.pk))
        return page

    tracks = -(-count // MODULES_PER_TRACK)
    for t in range(tracks):
        facilitators = t == 0 or (t > 1 and t % 10 < FACILITATOR_SHARE * 10)
        audience = Audience.FACILITATORS if facilitators else Audience.PUBLIC_AGENTS
        size = min(MODULES_PER_TRACK, count - t * MODULES_PER_TRACK)
        source = templates[audience]
        track = clone(source, catalogue, catalogue.numchild + t + 1, f"{source.slug}-{t + 1}", size)
        track.title = track.draft_title = f"{source.title} · {t + 1}"
        info = {"audience": audience, "modules": [], "lessons": [], "quiz_modules": {}}
        for m in range(size):
            template = modules_of[audience][m % len(modules_of[audience])]
            module = clone(template, track, m + 1, template.slug, LESSONS_PER_MODULE)
            info["modules"].append(module.pk)
            if template.has_quiz:
                info["quiz_modules"][module.pk] = template.pk
            for target in template.targets.all():
                targets.append(
                    (target.sort_order, module.pk, target.competence_id, target.target_level_id)
                )
            for k in range(LESSONS_PER_MODULE):
                lesson = lessons_of[template.pk][k % len(lessons_of[template.pk])]
                info["lessons"].append(clone(lesson, module, k + 1, f"{lesson.slug}-{k + 1}", 0).pk)
        by_track[track.pk] = info
    Page.objects.filter(pk=catalogue.pk).update(numchild=catalogue.numchild + tracks)

    copier.instances(Page, [page for pages in rows.values() for page in pages])
    for model, pages in rows.items():
        copier.instances(model, pages)
    copier.sync_sequence("wagtailcore_page")
    copier.rows(
        ModuleCompetence._meta.db_table,
        ["sort_order", "module_id", "competence_id", "target_level_id"],
        targets,
    )
    # Search entries copied from each page's model, so that catalogue searches
    # run over 1,000 modules as they would in production.
    copier.cursor.execute("CREATE TEMP TABLE bench_page_map (page_id int, template_id int)")
    copier.rows("bench_page_map", ["page_id", "template_id"], mapping)
    types = [ContentType.objects.get_for_model(m).pk for m in rows]
    copier.cursor.execute(
        """
        INSERT INTO wagtailsearch_indexentry
            (content_type_id, object_id, title_norm, autocomplete, title, body, title_text,
             body_text)
        SELECT e.content_type_id, m.page_id::text, e.title_norm, e.autocomplete, e.title,
               e.body, p.title, e.body_text
        FROM bench_page_map m
        JOIN wagtailcore_page p ON p.id = m.page_id
        JOIN wagtailsearch_indexentry e
          ON e.object_id = m.template_id::text AND e.content_type_id = ANY(%s)
        """,
        [types],
    )
    return by_track


def _place(page, page_id, parent, step, slug, now) -> None:
    page.id = page.pk = page_id
    page.page_ptr_id = page_id
    page.depth = parent.depth + 1
    page.path = type(page)._get_path(parent.path, page.depth, step)
    page.slug = slug
    page.url_path = f"{parent.url_path}{slug}/"
    page.translation_key = uuid.uuid4()
    page.live, page.has_unpublished_changes = True, False
    page.latest_revision_id = page.live_revision_id = None
    page.latest_revision_created_at = None
    page.first_published_at = page.last_published_at = now
    page.locked, page.locked_at, page.locked_by_id = False, None, None


def add_learners(copier: Copier, count: int, by_track: dict[int, dict]) -> list[tuple]:
    """Organisations, learners and their track enrolments; (id, track id) per learner."""
    from django.utils import timezone

    from courses.models import Audience
    from learners.models import Enrolment, Organisation, User

    now = timezone.now()
    first_org = copier.next_id(Organisation._meta.db_table)
    organisations = [
        Organisation(
            id=first_org + n,
            name=f"Collectivité du banc d'essai {n}",
            departement=f"{1 + n % 95:02d}",
            created_at=now,
        )
        for n in range(ORGANISATIONS)
    ]
    for organisation in organisations:
        for field in Organisation._meta.local_concrete_fields:
            if getattr(organisation, field.attname) is None and not field.null:
                setattr(organisation, field.attname, field.get_default())
    copier.instances(Organisation, organisations)
    copier.sync_sequence(Organisation._meta.db_table)

    tracks: dict[str, list[int]] = {}
    for track_id, info in by_track.items():
        tracks.setdefault(info["audience"], []).append(track_id)
    first = copier.next_id(User._meta.db_table)
    learners = []
    columns = [
        "id", "password", "is_superuser", "first_name", "last_name", "is_staff", "is_active",
        "date_joined", "email", "full_name", "role", "job_title", "organisation_id",
        "is_organisation_manager",
    ]  # fmt: skip

    def rows():
        for n in range(count):
            pk = first + n
            facilitator = n % 10 < FACILITATOR_SHARE * 10
            audience = Audience.FACILITATORS if facilitator else Audience.PUBLIC_AGENTS
            # A run too small for both audiences (BENCH_SCALE=0.01) shares the tracks it has.
            choices = tracks.get(audience) or next(iter(tracks.values()))
            learners.append((pk, choices[(n // 10) % len(choices)]))
            yield (
                pk, UNUSABLE_PASSWORD, False, "Prénom", f"Nom {n}", False, True,
                now - timedelta(days=n % 365), f"learner-{n}@bench.example.org",
                f"Prénom Nom {n}",
                User.Role.FACILITATOR if facilitator else User.Role.PUBLIC_AGENT,
                "" if facilitator else "Chargée de mission",
                None if facilitator else first_org + n % ORGANISATIONS,
                not facilitator and n % 200 == 1,
            )  # fmt: skip

    copier.rows(User._meta.db_table, columns, rows())
    copier.sync_sequence(User._meta.db_table)
    copier.rows(
        Enrolment._meta.db_table,
        ["learner_id", "track_id", "module_id", "enrolled_at"],
        ((pk, track_id, None, now - timedelta(days=pk % 300)) for pk, track_id in learners),
    )
    return learners


def add_progress(copier: Copier, count: int, learners, by_track) -> int:
    from django.utils import timezone

    from learners.models import LessonProgress

    now = timezone.now()
    per_learner = max(1, count // len(learners))
    rng = random.Random(9)

    def rows():
        for pk, track_id in learners:
            lessons = by_track[track_id]["lessons"]
            for lesson_id in rng.sample(lessons, min(per_learner, len(lessons))):
                yield pk, lesson_id, now - timedelta(minutes=rng.randrange(500_000))

    return copier.rows(
        LessonProgress._meta.db_table, ["learner_id", "lesson_id", "done_at"], rows()
    )


def add_attempts(copier: Copier, count: int, learners, by_track) -> int:
    """Two submitted attempts per learner on one module: failed, then passed."""
    from django.utils import timezone

    from courses.models import ModulePage
    from learners import assessments, scoring
    from learners.models import Attempt, AttemptAnswer

    now = timezone.now()
    rng = random.Random(11)
    frozen = {}  # per template module: questions JSON, answers and scores of both attempts
    for info in by_track.values():
        for template_id in set(info["quiz_modules"].values()):
            module = ModulePage.objects.get(pk=template_id)
            questions = assessments._resolve(
                assessments.draw_questions(
                    module.quiz, module.quiz_questions_per_competence, False, random.Random(1)
                ),
                [t.competence for t in module.targets.select_related("competence__block")],
            )
            right = correct_answers(questions)
            outcomes = []
            for passed in (False, True):
                answers = []
                for position, question in enumerate(questions):
                    base = f"q-{question['id']}"
                    value = right.get(base, [""])
                    answer = value if question["type"] == "multiple_choice" else value[0]
                    if not passed:
                        answer = [] if question["type"] == "multiple_choice" else ""
                    score = scoring.score(question, answer)
                    answers.append((question["id"], position, json.dumps(answer), score))
                scores = [a[3] for a in answers if a[3] is not None]
                outcomes.append((answers, scoring.percent(scores)))
            frozen[template_id] = (json.dumps(questions), module, outcomes)

    first = copier.next_id(Attempt._meta.db_table)
    answer_rows = []
    columns = [
        "id", "learner_id", "kind", "module_id", "number", "questions", "pass_mark",
        "feedback_policy", "started_at", "submitted_at", "status", "score", "passed",
        "competence_scores", "self_assessment", "outcome_recorded_at",
    ]  # fmt: skip
    per_learner = 2
    chosen = learners[: max(1, count // per_learner)]

    def rows():
        pk = first
        for learner_id, track_id in chosen:
            quiz_modules = by_track[track_id]["quiz_modules"]
            module_id = rng.choice(list(quiz_modules))
            questions, module, outcomes = frozen[quiz_modules[module_id]]
            started = now - timedelta(days=rng.randrange(1, 365))
            for number, (answers, score) in enumerate(outcomes, start=1):
                submitted = started + timedelta(days=number - 1, minutes=12)
                passed = score >= module.quiz_pass_mark
                yield (
                    pk, learner_id, Attempt.Kind.QUIZ, module_id, number, questions,
                    module.quiz_pass_mark, module.quiz_feedback, submitted - timedelta(minutes=12),
                    submitted, Attempt.Status.SUBMITTED, score, passed, "{}", "{}",
                    submitted if passed else None,
                )  # fmt: skip
                answer_rows.append((pk, answers))
                pk += 1

    written = copier.rows(Attempt._meta.db_table, columns, rows())
    copier.sync_sequence(Attempt._meta.db_table)
    copier.rows(
        AttemptAnswer._meta.db_table,
        ["attempt_id", "question_id", "position", "answer", "score"],
        ((attempt_id, *answer) for attempt_id, answers in answer_rows for answer in answers),
    )
    return written


def add_certificates(copier: Copier, count: int, learners) -> int:
    """Issued certificates with their frozen context, awaiting a PDF as after a bulk issue."""
    from django.utils import timezone

    from certification.models import Certificate, new_verification_code
    from learners.models import User

    now = timezone.now()
    templates = {}
    for certificate in Certificate.objects.valid().select_related("learner").order_by("pk"):
        templates.setdefault(certificate.learner.role, certificate)
    holders = [pk for pk, _track in learners[:count]]
    roles = dict(User.objects.filter(pk__in=holders).values_list("pk", "role"))

    columns = [
        "award_id", "learner_id", "code", "context", "issued_at", "expires_at", "status",
        "revocation_reason", "pdf", "pdf_sha256", "earlier_pdf_sha256", "render_enqueued_at",
    ]  # fmt: skip

    def rows():
        for n, (learner_id, _track_id) in enumerate(learners[:count]):
            template = templates.get(roles[learner_id]) or next(iter(templates.values()))
            context = copy.deepcopy(template.context)
            if isinstance(context.get("holder"), dict):
                context["holder"]["name"] = f"Prénom Nom {n}"
            issued = now - timedelta(days=n % 700)
            validity = template.expires_at - template.issued_at if template.expires_at else None
            yield (
                template.award_id, learner_id, new_verification_code(), json.dumps(context),
                issued, issued + validity if validity else None, Certificate.Status.VALID,
                "", "", "", "[]", issued,
            )  # fmt: skip

    return copier.rows(Certificate._meta.db_table, columns, rows())


def populate() -> None:
    from django.db import connection, transaction

    copier = Copier()
    with transaction.atomic():
        copier.cursor.execute("SET LOCAL session_replication_role = replica")
        with timed("modules and lessons"):
            by_track = add_modules(copier, sized("modules"))
        with timed("learners and enrolments"):
            learners = add_learners(copier, sized("learners"), by_track)
        with timed("lesson progress"):
            add_progress(copier, sized("lesson_progress"), learners, by_track)
        with timed("attempts and answers"):
            add_attempts(copier, sized("attempts"), learners, by_track)
        with timed("certificates"):
            add_certificates(copier, sized("certificates"), learners)
    with timed("analyze"), connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def main() -> None:
    started = time.perf_counter()
    print(f"Seeding {LARGE_DB} at scale {scale():g}:", flush=True)
    with timed("create and migrate"):
        recreate(LARGE_DB, DEMO_DB)
        manage("migrate", "--no-input", "-v0")
    with timed("demo (seed_demo)"):
        manage("seed_demo")
    setup_django(LARGE_DB)
    with timed("benchmark learners"):
        fixtures = bench_learners()
    with timed(f"copy as {DEMO_DB}"):
        copy_as_demo()
    populate()
    timings["total"] = round(time.perf_counter() - started, 1)
    fixtures["seeding"] = {
        "scale": scale(),
        "sizes": {name: sized(name) for name in SIZES},
        "seconds": timings,
    }
    FIXTURES.write_text(json.dumps(fixtures, indent=2))
    print(f"  {'total':<28} {timings['total']:>7.1f} s")


if __name__ == "__main__":
    main()
