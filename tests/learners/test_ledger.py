"""The competence ledger: append-only evidence, derived levels, blocks, signals once per change."""

import pytest
from django.core.exceptions import ValidationError

from courses.frameworks_io import FrameworkFileError, serialise
from courses.models import CompetenceCrosswalk
from courses.services import import_frameworks
from learners import queries, services
from learners.models import LedgerEntry, LedgerIsAppendOnly
from learners.signals import competence_changed, module_completed, track_completed
from tests.learners.factories import competence, level, make_framework, make_module, make_track

SOURCE = LedgerEntry.Source


def record(learner, framework, code, rank, source=SOURCE.ASSESSMENT, **extra):
    return services.record_evidence(
        learner, competence(framework, code), level(framework, rank), source, **extra
    )


@pytest.fixture
def framework(db):
    return make_framework()


@pytest.fixture
def heard(db):
    """Every signal learners sends, as (signal name, learner, subject, level)."""
    calls = []

    def listen(name):
        def receiver(sender, learner, **kwargs):
            subject = kwargs.get("competence") or kwargs.get("module") or kwargs.get("track")
            calls.append((name, learner.pk, subject.pk, getattr(kwargs.get("level"), "rank", None)))

        return receiver

    receivers = {
        competence_changed: listen("competence_changed"),
        module_completed: listen("module_completed"),
        track_completed: listen("track_completed"),
    }
    for signal, receiver in receivers.items():
        signal.connect(receiver, weak=False)
    yield calls
    for signal, receiver in receivers.items():
        signal.disconnect(receiver)


# --- Append-only -----------------------------------------------------------------


def test_a_ledger_entry_cannot_be_changed_once_recorded(camille, framework):
    entry = record(camille, framework, "B1.1", 1)
    entry.level = level(framework, 3)
    with pytest.raises(LedgerIsAppendOnly):
        entry.save()
    entry.refresh_from_db()
    assert entry.level.rank == 1


def test_a_ledger_entry_cannot_be_deleted(camille, framework):
    entry = record(camille, framework, "B1.1", 1)
    with pytest.raises(LedgerIsAppendOnly):
        entry.delete()
    assert LedgerEntry.objects.filter(pk=entry.pk).exists()


def test_the_ledger_refuses_bulk_updates_and_deletes(camille, framework):
    record(camille, framework, "B1.1", 1)
    with pytest.raises(LedgerIsAppendOnly):
        LedgerEntry.objects.filter(learner=camille).update(comment="rewritten")
    with pytest.raises(LedgerIsAppendOnly):
        LedgerEntry.objects.all().delete()
    assert LedgerEntry.objects.get().comment == ""


def test_an_account_with_evidence_cannot_be_deleted_only_erased(camille, framework):
    from django.db.models import ProtectedError

    record(camille, framework, "B1.1", 1)
    with pytest.raises(ProtectedError):
        camille.delete()


def test_evidence_at_a_level_of_another_framework_is_refused(camille, framework):
    other = make_framework(code="AUTRE")
    with pytest.raises(ValueError):
        services.record_evidence(
            camille, competence(framework, "B1.1"), level(other, 1), SOURCE.ASSESSMENT
        )
    entry = LedgerEntry(
        learner=camille, competence=competence(framework, "B1.1"), level=level(other, 1)
    )
    with pytest.raises(ValidationError):
        entry.clean()
    assert not LedgerEntry.objects.exists()


# --- Derived levels and blocks ---------------------------------------------------


def test_the_level_on_a_competence_is_the_highest_in_the_ledger(camille, dominique, framework):
    record(camille, framework, "B1.1", 1, SOURCE.POSITIONING)
    record(camille, framework, "B1.1", 3, SOURCE.TRAINER, validated_by=None)
    record(camille, framework, "B1.1", 2, SOURCE.SUBMISSION)
    assert queries.level_of(camille, competence(framework, "B1.1")).rank == 3
    assert queries.level_of(dominique, competence(framework, "B1.1")) is None
    assert queries.derived_ranks(camille) == {competence(framework, "B1.1").pk: 3}


def test_a_block_is_validated_when_every_competence_reaches_the_target(camille, framework):
    b1 = competence(framework, "B1.1").block
    record(camille, framework, "B1.1", 2)
    assert not queries.block_validated(camille, b1)
    record(camille, framework, "B1.2", 1)
    assert not queries.block_validated(camille, b1)  # target is rank 2
    record(camille, framework, "B1.2", 3)
    assert queries.block_validated(camille, b1)
    assert [b.code for b in queries.validated_blocks(camille, framework)] == ["B1"]


def test_the_competence_map_shows_every_block_and_the_level_reached(camille, framework):
    record(camille, framework, "B2.1", 2)
    (fmap,) = queries.competence_map(camille, [framework])
    assert [b.block.code for b in fmap.blocks] == ["B1", "B2"]
    b1, b2 = fmap.blocks
    assert [c.level for c in b1.competences] == [None, None]
    assert b2.competences[0].level == level(framework, 2)
    assert b2.validated and not b1.validated


def test_evidence_on_an_old_competence_carries_over_through_a_crosswalk(camille, framework):
    new = make_framework(code="TEST", version="2")
    CompetenceCrosswalk.objects.create(
        source=competence(framework, "B1.1"), target=competence(new, "B1.1")
    )
    record(camille, framework, "B1.1", 2)
    assert queries.level_of(camille, competence(new, "B1.1")) == level(new, 2)
    assert queries.level_of(camille, competence(new, "B1.2")) is None


def test_direct_evidence_on_the_new_competence_wins_when_it_is_higher(camille, framework):
    new = make_framework(code="TEST", version="2")
    CompetenceCrosswalk.objects.create(
        source=competence(framework, "B1.1"), target=competence(new, "B1.1")
    )
    record(camille, framework, "B1.1", 1)
    record(camille, new, "B1.1", 3)
    assert queries.level_of(camille, competence(new, "B1.1")).rank == 3


# --- Signals: once per actual change, after commit --------------------------------


def test_competence_changed_is_sent_once_when_the_level_rises(
    camille, framework, heard, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        record(camille, framework, "B1.1", 2)
    assert heard == [("competence_changed", camille.pk, competence(framework, "B1.1").pk, 2)]


def test_no_signal_for_evidence_that_changes_nothing(
    camille, framework, heard, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        record(camille, framework, "B1.1", 3)
    heard.clear()
    with django_capture_on_commit_callbacks(execute=True):
        record(camille, framework, "B1.1", 3)  # same level again
        record(camille, framework, "B1.1", 1)  # lower level
    assert heard == []


def test_signals_wait_for_the_commit_and_vanish_with_a_rollback(
    camille, framework, heard, django_capture_on_commit_callbacks
):
    from django.db import transaction

    class Abort(Exception):
        pass

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(Abort),
        transaction.atomic(),
    ):
        record(camille, framework, "B1.1", 2)
        assert heard == []  # not before the commit
        raise Abort
    assert callbacks == []
    assert heard == []
    assert not LedgerEntry.objects.exists()


def test_a_crosswalk_announces_the_new_competence_too(
    camille, framework, heard, django_capture_on_commit_callbacks
):
    new = make_framework(code="TEST", version="2")
    CompetenceCrosswalk.objects.create(
        source=competence(framework, "B1.1"), target=competence(new, "B1.1")
    )
    with django_capture_on_commit_callbacks(execute=True):
        record(camille, framework, "B1.1", 2)
    assert sorted(heard) == sorted(
        [
            ("competence_changed", camille.pk, competence(framework, "B1.1").pk, 2),
            ("competence_changed", camille.pk, competence(new, "B1.1").pk, 2),
        ]
    )


def test_module_and_track_completed_are_sent_once_each(
    camille, journey, heard, django_capture_on_commit_callbacks
):
    services.enrol(camille, journey.track)
    with django_capture_on_commit_callbacks(execute=True):
        for module in (journey.basics, journey.advanced, journey.closing):
            for lesson in module.lessons():
                services.mark_lesson_done(camille, lesson)
                services.mark_lesson_done(camille, lesson)  # a double click
        services.refresh_completion(camille, journey.closing)
    assert heard == [
        ("module_completed", camille.pk, journey.basics.pk, None),
        ("module_completed", camille.pk, journey.advanced.pk, None),
        ("module_completed", camille.pk, journey.closing.pk, None),
        ("track_completed", camille.pk, journey.track.pk, None),
    ]


def test_progress_that_completes_nothing_sends_nothing(
    camille, journey, heard, django_capture_on_commit_callbacks
):
    services.enrol(camille, journey.track)
    with django_capture_on_commit_callbacks(execute=True):
        services.mark_lesson_done(camille, journey.basics.lessons().first())
    assert heard == []


# --- Levels that evidence points to ---------------------------------------------


def swapped_first_two_levels(framework) -> dict:
    data = serialise(framework)
    first, second = data["levels"][:2]
    first["rank"], second["rank"] = 2, 1
    data["levels"][:2] = [second, first]
    return data


def test_a_level_reached_by_a_learner_keeps_its_rank_on_a_reimport(camille, framework):
    record(camille, framework, "B1.1", 1)
    data = swapped_first_two_levels(framework)

    with pytest.raises(FrameworkFileError) as error:
        import_frameworks([data])

    [problem] = error.value.problems
    assert level(framework, 1).code in problem.message
    assert "version" in problem.message
    assert list(framework.levels.values_list("rank", flat=True)) == [1, 2, 3]
    assert level(framework, 1).code == data["levels"][1]["code"]


def test_levels_no_record_points_to_may_still_swap_ranks(camille, framework):
    record(camille, framework, "B1.1", 3)
    data = swapped_first_two_levels(framework)

    import_frameworks([data])

    assert [(lv.rank, lv.code) for lv in framework.levels.all()][:2] == [
        (1, data["levels"][0]["code"]),
        (2, data["levels"][1]["code"]),
    ]


def test_the_admin_refuses_to_move_a_level_that_evidence_points_to(camille, framework):
    record(camille, framework, "B1.1", 3)
    # Rank 1: nobody reached it, and the framework targets rank 2 (which stays put).
    reached, free = level(framework, 3), level(framework, 1)
    reached.rank = 9
    with pytest.raises(ValidationError):
        reached.full_clean()
    reached.rank, reached.framework = 3, make_framework(code="AUTRE")
    with pytest.raises(ValidationError):
        reached.full_clean()

    free.rank = 7
    free.full_clean()
    reached.refresh_from_db()
    reached.label = "Expertise"
    reached.full_clean()


def test_a_level_only_modules_target_may_still_move(camille, framework):
    # A module aiming at a level is authoring, not anybody's record.
    track = make_track(framework, "Parcours")
    make_module(track, "Les bases", lessons=1, targets=[("B1.1", 1)])
    data = swapped_first_two_levels(framework)

    import_frameworks([data])

    assert level(framework, 1).code == data["levels"][0]["code"]


# --- Retractions -----------------------------------------------------------------


def test_a_retracted_entry_no_longer_counts_and_both_stay_on_record(camille, karim, framework):
    kept = record(camille, framework, "B1.1", 1)
    wrong = record(camille, framework, "B1.1", 3)
    assert queries.derived_ranks(camille)[wrong.competence_id] == 3

    retraction = services.retract_evidence(wrong, karim, "Validée par erreur.")

    assert queries.derived_ranks(camille)[wrong.competence_id] == 1
    assert set(LedgerEntry.objects.standing()) == {kept}
    assert LedgerEntry.objects.count() == 3
    assert (retraction.retracts, retraction.validated_by) == (wrong, karim)


def test_an_entry_is_retracted_once_and_a_retraction_never(camille, karim, framework):
    entry = record(camille, framework, "B1.1", 2)
    retraction = services.retract_evidence(entry, karim, "Erreur.")
    with pytest.raises(ValueError):
        services.retract_evidence(entry, karim, "Encore.")
    with pytest.raises(ValueError):
        services.retract_evidence(retraction, karim, "Annuler le retrait.")
    assert LedgerEntry.objects.count() == 2


def test_the_database_refuses_a_retraction_that_names_no_entry(camille, framework):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.create(
            learner=camille,
            competence=competence(framework, "B1.1"),
            level=level(framework, 1),
            source=SOURCE.RETRACTION,
        )


def test_a_retraction_must_name_evidence_of_the_same_learner_and_competence(
    camille, dominique, framework
):
    other = record(dominique, framework, "B1.1", 2)
    retraction = LedgerEntry(
        learner=camille,
        competence=competence(framework, "B1.1"),
        level=level(framework, 2),
        source=SOURCE.RETRACTION,
        retracts=other,
    )
    with pytest.raises(ValidationError) as refused:
        retraction.clean()
    assert "retracts" in refused.value.message_dict
