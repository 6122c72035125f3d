"""Read-side compositions: progress, derived competence levels, dashboards.

Nothing here writes. Every level, block validation and percentage is computed
from the rows that are the truth (lessons done, completions, ledger entries),
in a fixed number of queries whatever the number of enrolments.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import reduce
from operator import or_

from django.db.models import Exists, Max, OuterRef, Q, QuerySet, Subquery
from wagtail.models import Page

from courses.models import (
    Audience,
    Block,
    Competence,
    CompetenceCrosswalk,
    Framework,
    LessonPage,
    Level,
    ModulePage,
    TrackPage,
)
from learners.models import (
    Attempt,
    Enrolment,
    LedgerEntry,
    LessonProgress,
    ModuleCompletion,
    Submission,
    TrackCompletion,
    User,
)

# --- Evidence still to be written --------------------------------------------------


def evidence_pending(
    learner: User, modules: Iterable[ModulePage] | None = None, *, answers: bool = True
) -> bool:
    """Whether evidence from these modules (of any, by default) is still to come: a
    passed quiz's ledger evidence, or an open answer no trainer has graded yet.

    The task writing a quiz's evidence runs after the submission's commit
    (`attempt_outcome_recorded` follows), a trainer grades an open answer days later
    (`submission_graded` follows); until then the learner's levels lack what they prove.
    Without `answers`, only quiz evidence counts (what block awards wait for: their
    levels follow the ledger, which a grading writes to with its own signal).
    """
    pending = Attempt.objects.quizzes().outcome_unrecorded().filter(learner=learner)
    ungraded = Submission.objects.pending().filter(learner=learner)
    if modules is not None:
        modules = modules if isinstance(modules, QuerySet) else list(modules)
        pending = pending.filter(module__in=modules)
        ungraded = ungraded.filter(module__in=modules)
    return pending.exists() or (answers and ungraded.exists())


def answers_to_rework(learner: User, module_id: int) -> bool:
    """Whether the learner's latest passed attempt at the module's quiz has an open
    answer a trainer sent back for rework: the module is not passed yet. A later pass
    settles an earlier one's rework, whatever questions it drew (a question drawn at
    random may not come back, an author may have removed it); a failed retake does not."""
    latest = (
        Attempt.objects.quizzes()
        .filter(learner=learner, module_id=module_id, submitted_at__isnull=False, passed=True)
        .order_by("-submitted_at", "-pk")
        .values("pk")[:1]
    )
    return Submission.objects.filter(
        attempt_id=Subquery(latest), status=Submission.Status.REWORK
    ).exists()


# --- Progress --------------------------------------------------------------------


def suggested_tracks(learner: User) -> list[TrackPage]:
    """The live tracks meant for the learner's audience: what an empty dashboard offers
    (the catalogue lists modules, and a new public agent would not find her track)."""
    audience = (
        Audience.PUBLIC_AGENTS if learner.role == User.Role.PUBLIC_AGENT else Audience.FACILITATORS
    )
    return list(TrackPage.objects.live().public().filter(audience=audience).order_by("path")[:5])


@dataclass
class ModuleProgress:
    module: ModulePage
    lessons: list[LessonPage]
    done_ids: set[int]
    completed: bool
    enrolment: Enrolment | None = None

    @property
    def lessons_total(self) -> int:
        return len(self.lessons)

    @property
    def lessons_done(self) -> int:
        return sum(1 for lesson in self.lessons if lesson.pk in self.done_ids)

    @property
    def percent(self) -> int:
        if not self.lessons:
            return 100 if self.completed else 0
        return round(100 * self.lessons_done / len(self.lessons))

    @property
    def next_lesson(self) -> LessonPage | None:
        return next((lesson for lesson in self.lessons if lesson.pk not in self.done_ids), None)

    def around(self, lesson: LessonPage) -> tuple[LessonPage | None, LessonPage | None]:
        """The lessons before and after `lesson` in the module's order."""
        ids = [each.pk for each in self.lessons]
        if lesson.pk not in ids:
            return None, None
        at = ids.index(lesson.pk)
        before = self.lessons[at - 1] if at > 0 else None
        after = self.lessons[at + 1] if at + 1 < len(self.lessons) else None
        return before, after

    def next_lesson_after(self, lesson: LessonPage) -> LessonPage | None:
        """The first lesson still to do after `lesson`, else the first one before it: a
        learner who did the second lesson first is sent on, not back to the first."""
        ids = [each.pk for each in self.lessons]
        at = ids.index(lesson.pk) if lesson.pk in ids else -1
        later = [each for each in self.lessons[at + 1 :] if each.pk not in self.done_ids]
        return later[0] if later else self.next_lesson

    def lesson_states(self) -> list[tuple[LessonPage, bool]]:
        return [(lesson, lesson.pk in self.done_ids) for lesson in self.lessons]


@dataclass
class TrackProgress:
    enrolment: Enrolment | None
    track: TrackPage
    modules: list[ModuleProgress]
    # Whether the track's completion is recorded (TrackCompletion): what its
    # attestations were issued on, which a module added since does not undo.
    recorded: bool = False

    @property
    def lessons_total(self) -> int:
        return sum(len(m.lessons) for m in self.modules)

    @property
    def lessons_done(self) -> int:
        return sum(m.lessons_done for m in self.modules)

    @property
    def percent(self) -> int:
        if not self.lessons_total:
            return 100 if self.completed else 0
        return round(100 * self.lessons_done / self.lessons_total)

    @property
    def completed(self) -> bool:
        return self.recorded

    @property
    def next_lesson(self) -> LessonPage | None:
        return next((m.next_lesson for m in self.modules if m.next_lesson), None)


def _children_query(parents: Iterable[Page], generations: int) -> Q:
    return reduce(
        or_,
        (Q(path__startswith=p.path, depth=p.depth + generations) for p in parents),
        Q(pk__in=[]),
    )


def _parent_path(page: Page) -> str:
    return page.path[: -Page.steplen]


def modules_progress(
    learner: User,
    modules: list[ModulePage],
    lessons: Iterable[LessonPage] | None = None,
    done_ids: set[int] | None = None,
    completed_ids: set[int] | None = None,
) -> list[ModuleProgress]:
    """Progress in each of `modules`, in three queries at most (fewer when given)."""
    if lessons is None:
        lessons = (
            LessonPage.objects.live()
            .filter(_children_query(modules, 1))
            .defer_streamfields()
            .order_by("path")
        )
    by_module: dict[str, list[LessonPage]] = {}
    for lesson in lessons:
        by_module.setdefault(_parent_path(lesson), []).append(lesson)
    if done_ids is None:
        done_ids = set(
            LessonProgress.objects.filter(
                learner=learner,
                lesson__in=[lesson for group in by_module.values() for lesson in group],
            ).values_list("lesson_id", flat=True)
        )
    if completed_ids is None:
        completed_ids = set(
            ModuleCompletion.objects.filter(learner=learner, module__in=modules).values_list(
                "module_id", flat=True
            )
        )
    return [
        ModuleProgress(
            module=module,
            lessons=by_module.get(module.path, []),
            done_ids=done_ids,
            completed=module.pk in completed_ids,
        )
        for module in modules
    ]


def module_progress(learner: User, module: ModulePage, lessons=None) -> ModuleProgress:
    return modules_progress(learner, [module], lessons=lessons)[0]


def track_progress(learner: User, track: TrackPage, modules=None) -> TrackProgress:
    modules = list(modules if modules is not None else track.modules())
    return TrackProgress(
        enrolment=None,
        track=track,
        modules=modules_progress(learner, modules),
        recorded=TrackCompletion.objects.filter(learner=learner, track=track).exists(),
    )


def missing_prerequisites(learner: User, page: TrackPage | ModulePage) -> list[ModulePage]:
    """Prerequisite modules the learner has not completed, in tree order.

    For a track, only prerequisites outside the track count: the ones inside
    are met by following the track in order.
    """
    if isinstance(page, TrackPage):
        prerequisites = ModulePage.objects.filter(
            unlocks__in=ModulePage.objects.live().child_of(page)
        ).exclude(path__startswith=page.path)
    else:
        # Previews and revisions hold the relation in memory, as a list.
        prerequisites = page.live_prerequisites()
    return list(
        prerequisites.live()
        .exclude(completions__learner=learner)
        .distinct()
        .order_by("path")
        .only("id", "title", "path", "depth", "url_path")
    )


def covering_enrolment(learner: User, module: ModulePage) -> Enrolment | None:
    """The active enrolment that gives access to `module`, the direct one first."""
    if module.pk is None:
        return None  # a module previewed before its first save: nobody follows it yet
    enrolments = (
        Enrolment.objects.active()
        .for_learner(learner)
        .covering_module(module)
        .select_related("track")
    )
    return min(enrolments, key=lambda e: e.module_id is None, default=None)


def covering_enrolment_in(context, learner: User, module: ModulePage) -> Enrolment | None:
    """covering_enrolment, looked up once per template render: the module page's
    enrol button and quiz box both ask for it."""
    remembered = context.render_context.setdefault("learners:covering_enrolments", {})
    key = (learner.pk, module.pk)
    if key not in remembered:
        remembered[key] = covering_enrolment(learner, module)
    return remembered[key]


# --- Competence ledger -----------------------------------------------------------


def derived_ranks(learner: User) -> dict[int, int]:
    """The learner's level rank on every competence with evidence, by competence id.

    A competence's level is the highest level in the ledger. Evidence on an old
    competence also counts for the competences a crosswalk maps it to (one hop,
    level matched by rank and capped at the new framework's top level).
    """
    ranks = LedgerEntry.objects.for_learner(learner).best_ranks()
    if not ranks:
        return {}
    direct = dict(ranks)
    carried = (
        CompetenceCrosswalk.objects.filter(source_id__in=direct)
        .values("source_id", "target_id")
        .annotate(top=Max("target__block__framework__levels__rank"))
        .values_list("source_id", "target_id", "top")
    )
    for source_id, target_id, top in carried:
        rank = min(direct[source_id], top or 0)
        if rank > ranks.get(target_id, 0):
            ranks[target_id] = rank
    return ranks


def _level_with_rank(levels: list[Level], rank: int | None) -> Level | None:
    if not rank:
        return None
    candidates = [level for level in levels if level.rank <= rank]
    return max(candidates, key=lambda level: level.rank, default=None)


def level_of(learner: User, competence: Competence) -> Level | None:
    rank = derived_ranks(learner).get(competence.pk)
    levels = list(Level.objects.filter(framework_id=competence.block.framework_id))
    return _level_with_rank(levels, rank)


@dataclass
class CompetenceState:
    competence: Competence
    level: Level | None
    target_rank: int

    @property
    def rank(self) -> int:
        return self.level.rank if self.level else 0

    @property
    def reached(self) -> bool:
        return self.rank >= self.target_rank


@dataclass
class BlockState:
    block: Block
    competences: list[CompetenceState] = field(default_factory=list)

    @property
    def validated(self) -> bool:
        return bool(self.competences) and all(c.reached for c in self.competences)

    @property
    def reached_count(self) -> int:
        return sum(1 for c in self.competences if c.reached)


@dataclass
class FrameworkMap:
    framework: Framework
    levels: list[Level]
    blocks: list[BlockState]

    @property
    def target_level(self) -> Level | None:
        return _level_with_rank(self.levels, self.framework.target_level_rank)

    @property
    def max_rank(self) -> int:
        return max((level.rank for level in self.levels), default=0)


def competence_map(
    learner: User, frameworks: Iterable[Framework], ranks: dict[int, int] | None = None
) -> list[FrameworkMap]:
    """Each framework's blocks and competences with the learner's derived levels."""
    frameworks = list(frameworks)
    if not frameworks:
        return []
    if ranks is None:
        ranks = derived_ranks(learner)
    levels: dict[int, list[Level]] = {f.pk: [] for f in frameworks}
    for level in Level.objects.filter(framework__in=frameworks).order_by("rank"):
        levels[level.framework_id].append(level)
    blocks: dict[int, BlockState] = {}
    competences = (
        Competence.objects.filter(block__framework__in=frameworks)
        .select_related("block")
        .order_by("block__framework_id", "block__order", "block__code", "order", "code")
    )
    by_framework = {f.pk: f for f in frameworks}
    for competence in competences:
        block = competence.block
        framework = by_framework[block.framework_id]
        state = blocks.setdefault(block.pk, BlockState(block=block))
        state.competences.append(
            CompetenceState(
                competence=competence,
                level=_level_with_rank(levels[framework.pk], ranks.get(competence.pk)),
                target_rank=framework.target_level_rank,
            )
        )
    return [
        FrameworkMap(
            framework=framework,
            levels=levels[framework.pk],
            blocks=[b for b in blocks.values() if b.block.framework_id == framework.pk],
        )
        for framework in frameworks
    ]


def block_validated(learner: User, block: Block) -> bool:
    """True when every competence of the block reaches the framework's target level."""
    (framework_map,) = competence_map(learner, [block.framework])
    return any(b.block.pk == block.pk and b.validated for b in framework_map.blocks)


def validated_blocks(learner: User, framework: Framework) -> list[Block]:
    (framework_map,) = competence_map(learner, [framework])
    return [b.block for b in framework_map.blocks if b.validated]


# --- Dashboard -------------------------------------------------------------------


@dataclass
class LearningPath:
    tracks: list[TrackProgress]
    modules: list[ModuleProgress]
    resume: LessonPage | None
    frameworks: list[FrameworkMap]

    @property
    def is_empty(self) -> bool:
        return not self.tracks and not self.modules


def learning_path(learner: User) -> LearningPath:
    """Everything « Mon parcours » shows, in a number of queries that does not grow."""
    enrolments = list(
        Enrolment.objects.active()
        .for_learner(learner)
        .select_related("track", "module")
        .annotate(
            track_completed=Exists(
                TrackCompletion.objects.filter(learner=learner, track=OuterRef("track"))
            )
        )
        .order_by("enrolled_at", "pk")
    )
    track_enrolments = [e for e in enrolments if e.track_id]
    direct_modules = [e.module for e in enrolments if e.module_id]
    tracks = [e.track for e in track_enrolments]

    track_modules: list[ModulePage] = []
    if tracks:
        track_modules = list(
            ModulePage.objects.live()
            .filter(_children_query(tracks, 1))
            # The dashboard never reads a module's quiz or objectives.
            .defer_streamfields()
            .defer("objectives")
            .order_by("path")
        )
    all_modules = track_modules + direct_modules
    lessons: list[LessonPage] = []
    done_at: dict[int, object] = {}
    completed_ids: set[int] = set()
    if all_modules:
        lessons = list(
            LessonPage.objects.live()
            .filter(_children_query(tracks, 2) | _children_query(direct_modules, 1))
            .defer_streamfields()
            .order_by("path")
        )
        done_at = dict(
            LessonProgress.objects.filter(learner=learner).values_list("lesson_id", "done_at")
        )
        completed_ids = set(
            ModuleCompletion.objects.filter(learner=learner).values_list("module_id", flat=True)
        )
    progress = {
        p.module.pk: p
        for p in modules_progress(
            learner,
            all_modules,
            lessons=lessons,
            done_ids=set(done_at),
            completed_ids=completed_ids,
        )
    }
    track_rows = [
        TrackProgress(
            enrolment=enrolment,
            track=enrolment.track,
            modules=[
                progress[m.pk]
                for m in track_modules
                if _parent_path(m) == enrolment.track.path and m.pk in progress
            ],
            recorded=enrolment.track_completed,
        )
        for enrolment in track_enrolments
    ]
    module_rows = []
    for enrolment in enrolments:
        if enrolment.module_id:
            row = progress[enrolment.module_id]
            module_rows.append(
                ModuleProgress(
                    module=row.module,
                    lessons=row.lessons,
                    done_ids=row.done_ids,
                    completed=row.completed,
                    enrolment=enrolment,
                )
            )

    # Subqueries, not joins: OR-ing three joined relations multiplied the rows by
    # every module targeting the same competences (5,000 rows before DISTINCT at
    # 1,000 modules, bench/load.py), so the dashboard slowed as the catalogue grew.
    frameworks = Framework.objects.filter(
        Q(pk__in=[track.framework_id for track in tracks if track.framework_id])
        | Q(
            pk__in=Block.objects.filter(
                competences__module_targets__module__in=direct_modules
            ).values("framework_id")
        )
        | Q(
            pk__in=Block.objects.filter(competences__ledger_entries__learner=learner).values(
                "framework_id"
            )
        )
    )
    return LearningPath(
        tracks=track_rows,
        modules=module_rows,
        resume=_resume(track_rows, module_rows, lessons, done_at),
        frameworks=competence_map(learner, frameworks.order_by("code", "-version")),
    )


def _resume(tracks, modules, lessons, done_at) -> LessonPage | None:
    """The next lesson where the learner left off: after the lesson done most recently."""
    rows = [*tracks, *modules]
    if done_at:
        lessons_by_id = {lesson.pk: lesson for lesson in lessons}
        latest = [
            pk for pk in sorted(done_at, key=done_at.get, reverse=True) if pk in lessons_by_id
        ]
        if latest:
            path = lessons_by_id[latest[0]].path
            rows.sort(key=lambda row: not _holds(row, path))
    return next((row.next_lesson for row in rows if row.next_lesson), None)


def _holds(row: TrackProgress | ModuleProgress, lesson_path: str) -> bool:
    page = row.track if isinstance(row, TrackProgress) else row.module
    return lesson_path.startswith(page.path)


# --- Trainers --------------------------------------------------------------------


def learners_of(trainer: User) -> QuerySet[User]:
    """People actively enrolled in one of the trainer's modules (or its track), the
    trainer excepted: nobody validates their own competences."""
    enrolments = Enrolment.objects.active().in_modules_owned_by(trainer)
    return (
        User.objects.filter(enrolments__in=enrolments, erased_at__isnull=True)
        .exclude(pk=trainer.pk)
        .distinct()
        .order_by("full_name", "email")
    )


def trainer_modules_for(trainer: User, learner: User) -> list[ModulePage]:
    """The trainer's live modules that the learner follows, in tree order."""
    enrolments = list(
        Enrolment.objects.active()
        .for_learner(learner)
        .in_modules_owned_by(trainer)
        .select_related("track", "module")
    )
    query = _children_query([e.track for e in enrolments if e.track_id], 1) | Q(
        pk__in=[e.module_id for e in enrolments if e.module_id]
    )
    return list(ModulePage.objects.live().filter(query, owner=trainer).order_by("path"))


def positionings_for_trainer(learner: User, modules: Iterable[ModulePage]) -> list[Attempt]:
    """The learner's finished positioning tests on the tracks of `modules` (a trainer's)."""
    track_paths = {_parent_path(module) for module in modules}
    if not track_paths:
        return []
    return list(
        Attempt.objects.positionings()
        .finished()
        .filter(learner=learner, track__path__in=track_paths)
        .select_related("track")
        .order_by("submitted_at", "pk")
    )


def trainer_competences(trainer: User, modules: Iterable[ModulePage] | None = None):
    """Competences the trainer's modules target: the ones they may validate."""
    competences = Competence.objects.filter(module_targets__module__owner=trainer)
    if modules is not None:
        competences = competences.filter(module_targets__module__in=list(modules))
    return competences.select_related("block").distinct().order_by("block__order", "order")
