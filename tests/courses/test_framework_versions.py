import pytest
from django.core.exceptions import ValidationError

from courses.frameworks_io import serialise
from courses.models import Competence, CompetenceCrosswalk, Framework
from courses.models.frameworks import crosswalk_sources
from courses.services import declare_crosswalk, new_version
from tests.courses.factories import make_framework


def codes(competences) -> set[tuple[str, str]]:
    return {
        (c.block.framework.version, c.code) for c in competences.select_related("block__framework")
    }


def test_a_new_version_is_a_draft_copy_and_leaves_the_old_one_untouched(db):
    old = make_framework()
    before = serialise(old)

    new = new_version(old, "2026")

    old.refresh_from_db()
    assert old.status == Framework.Status.PUBLISHED
    assert serialise(old) == before
    assert new.status == Framework.Status.DRAFT
    assert new.previous_version == old
    assert {**serialise(new), "version": "2025"} == before
    # The old version's rows are still the ones modules and evidence point at.
    assert set(Competence.objects.of_framework(old).values_list("pk", flat=True)).isdisjoint(
        Competence.objects.of_framework(new).values_list("pk", flat=True)
    )


def test_editing_the_new_version_does_not_change_the_old_one(db):
    old = make_framework()
    new = new_version(old, "2026")
    Competence.objects.of_framework(new).filter(code="B1.1").update(title="Reformulée")
    assert Competence.objects.of_framework(old).get(code="B1.1").title == "Compétence B1.1"


def test_a_new_version_declares_identity_crosswalks_for_every_competence(db):
    old = make_framework()
    new = new_version(old, "2026")
    pairs = set(
        CompetenceCrosswalk.objects.values_list(
            "source__code", "target__code", "target__block__framework"
        )
    )
    assert pairs == {(code, code, new.pk) for code in ("B1.1", "B1.2", "B2.1", "B2.2")}


def test_a_version_that_exists_already_or_is_malformed_is_refused(db):
    old = make_framework()
    with pytest.raises(ValidationError):
        new_version(old, "2025")
    with pytest.raises(ValidationError):
        new_version(old, "2026 bis")
    with pytest.raises(ValidationError):
        new_version(old, "  ")
    assert Framework.objects.count() == 1


def test_evidence_on_an_older_version_counts_for_the_newer_one_through_crosswalks(db):
    v2025 = make_framework()
    v2026 = new_version(v2025, "2026")
    v2027 = new_version(v2026, "2027")
    newest = Competence.objects.of_framework(v2027).get(code="B1.1")

    assert codes(Competence.objects.counting_for(newest)) == {
        ("2025", "B1.1"),
        ("2026", "B1.1"),
        ("2027", "B1.1"),
    }
    # Crosswalks point forward only: new evidence does not rewrite old certifications.
    oldest = Competence.objects.of_framework(v2025).get(code="B1.1")
    assert codes(oldest.counting_competences()) == {("2025", "B1.1")}


def test_a_declared_crosswalk_carries_evidence_from_a_renamed_code(db):
    old = make_framework()
    new = new_version(old, "2026")
    merged = Competence.objects.of_framework(new).get(code="B2.1")

    crosswalk, created = declare_crosswalk(old, "B2.2", new, "B2.1")
    _, created_again = declare_crosswalk(old, "B2.2", new, "B2.1")

    assert created and not created_again
    assert str(crosswalk) == "B2.2 → B2.1"
    assert codes(Competence.objects.counting_for(merged)) == {
        ("2025", "B2.1"),
        ("2025", "B2.2"),
        ("2026", "B2.1"),
    }


def test_a_crosswalk_to_an_unknown_code_or_to_itself_is_refused(db):
    old = make_framework()
    new = new_version(old, "2026")
    with pytest.raises(ValidationError):
        declare_crosswalk(old, "B9.9", new, "B1.1")
    with pytest.raises(ValidationError):
        declare_crosswalk(new, "B1.1", new, "B1.1")


def test_crosswalk_sources_answers_for_many_competences_in_one_query_per_generation(
    db, django_assert_num_queries
):
    v2025 = make_framework()
    v2026 = new_version(v2025, "2026")
    v2027 = new_version(v2026, "2027")
    newest = list(Competence.objects.of_framework(v2027))

    # Two generations back, and one more query to find there is nothing older.
    with django_assert_num_queries(3):
        sources = crosswalk_sources([c.pk for c in newest])

    assert all(len(found) == 3 for found in sources.values())


def test_a_cycle_of_crosswalks_terminates(db):
    old = make_framework()
    new = new_version(old, "2026")
    declare_crosswalk(new, "B1.1", old, "B1.1")  # a mistake an operator could make
    competence = Competence.objects.of_framework(new).get(code="B1.1")
    assert codes(Competence.objects.counting_for(competence)) == {
        ("2025", "B1.1"),
        ("2026", "B1.1"),
    }


def test_a_competence_code_is_unique_across_the_blocks_of_a_framework(db):
    framework = make_framework()
    duplicate = Competence(
        block=framework.blocks.get(code="B2"), code="B1.1", title="Doublon", order=9
    )
    with pytest.raises(ValidationError) as error:
        duplicate.full_clean()
    assert "code" in error.value.message_dict
