"""The demo tracks are real course content: these tests keep them coherent.

Pages are checked through what `seed_demo` built; quizzes and the positioning
test are checked in the JSON, because the assessment engine that will load them
does not exist yet and must not inherit broken questions.
"""

import json
import re
from pathlib import Path

import pytest
from django.conf import settings

from courses.models import Competence, Framework, LessonPage, Level, ModulePage, TrackPage

TRACKS = {
    "parcours-facilitateurs.json": {"slug": "piloter-un-tiers-lieu", "framework": "RS5142"},
    "parcours-agents-publics.json": {
        "slug": "sensibilisation-agents-publics",
        "framework": "SENS-AP",
    },
}
FRAMEWORK_FILES = {
    "RS5142": "rs5142-piloter-un-tiers-lieu.json",
    "SENS-AP": "sensibilisation-agents-publics.json",
}
QUESTION_TYPES = {
    "single_choice",
    "multiple_choice",
    "true_false",
    "short_answer",
    "numeric",
    "ordering",
    "open",
}
# Rich text the lessons may use: the editor's features, and no media blocks.
ALLOWED_TAGS = {"p", "ul", "ol", "li", "strong", "em", "h3", "h4"}
ALLOWED_BLOCKS = {"heading", "paragraph", "callout", "case_study", "activity"}
SLUG = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")


def read_json(*parts: str) -> dict:
    return json.loads(Path(settings.CAMPUS_DATA_DIR, *parts).read_text(encoding="utf-8"))


def track_data(name: str) -> dict:
    return read_json("demo", name)


def framework_data(code: str) -> dict:
    return read_json("referentiels", FRAMEWORK_FILES[code])


def competence_codes(code: str) -> set[str]:
    return {c["code"] for block in framework_data(code)["blocks"] for c in block["competences"]}


def level_codes(code: str) -> set[str]:
    return {level["code"] for level in framework_data(code)["levels"]}


def all_questions(data: dict):
    for module in data["modules"]:
        for question in module["quiz"]["questions"]:
            yield module, question


def html_strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from html_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from html_strings(item)


def words(value) -> int:
    return sum(len(re.sub(r"<[^>]+>", " ", text).split()) for text in html_strings(value))


# --- The pages seed_demo builds ------------------------------------------------


def test_both_demo_tracks_are_live_with_every_module_of_their_file(demo):
    for name, expected in TRACKS.items():
        data = track_data(name)
        track = TrackPage.objects.live().get(slug=expected["slug"])
        assert track.framework.code == expected["framework"]
        assert track.audience == data["audience"]
        assert [m.slug for m in track.modules()] == [m["slug"] for m in data["modules"]]
    assert TrackPage.objects.get(slug="piloter-un-tiers-lieu").modules().count() >= 8
    assert TrackPage.objects.get(slug="sensibilisation-agents-publics").modules().count() == 4


@pytest.mark.parametrize("code", ["RS5142", "SENS-AP"])
def test_every_competence_of_the_framework_is_targeted_by_a_live_module(demo, code):
    framework = Framework.objects.filter(code=code).latest_versions().get()
    competences = Competence.objects.of_framework(framework)
    assert competences.count() == len(competence_codes(code))
    untargeted = [
        c.code for c in competences if not ModulePage.objects.live().for_competence(c).exists()
    ]
    assert untargeted == []


def test_agent_modules_are_online_and_last_twenty_minutes_at_most(demo):
    track = TrackPage.objects.get(slug="sensibilisation-agents-publics")
    for module in track.modules():
        assert module.duration_minutes <= 20, module.slug
        assert module.format == "en_ligne", module.slug


def test_every_live_module_has_lessons_targets_and_a_level_of_its_framework(demo):
    for module in ModulePage.objects.live().specific():
        framework = TrackPage.objects.parent_of(module).get().framework
        assert module.lessons().exists(), module.slug
        assert module.targets.exists(), module.slug
        assert module.level is not None and module.level.framework == framework, module.slug
        for target in module.targets.select_related("competence__block", "target_level"):
            assert target.competence.block.framework == framework, module.slug
            assert target.target_level.framework == framework, module.slug


def test_module_prerequisites_are_live_modules_of_the_same_track(demo):
    for name in TRACKS:
        for module_data in track_data(name)["modules"]:
            module = ModulePage.objects.get(slug=module_data["slug"])
            assert set(module.prerequisite_modules.live().values_list("slug", flat=True)) == set(
                module_data["prerequisites"]
            )


def test_quiz_questions_name_only_competences_the_live_module_targets(demo):
    for name, expected in TRACKS.items():
        levels = set(
            Level.objects.filter(framework__code=expected["framework"]).values_list(
                "code", flat=True
            )
        )
        for module_data, question in all_questions(track_data(name)):
            module = ModulePage.objects.live().get(slug=module_data["slug"])
            targeted = set(module.targets.values_list("competence__code", flat=True))
            assert question["competence"] in targeted, (module.slug, question["text"])
            assert question["level"] in levels, (module.slug, question["text"])


def test_every_track_module_and_lesson_page_renders_its_content(demo, client):
    pages = [
        *TrackPage.objects.live(),
        *ModulePage.objects.live(),
        *LessonPage.objects.live(),
    ]
    assert len(pages) > 30
    for page in pages:
        response = client.get(page.url)
        assert response.status_code == 200, page.url
    # The blocks reach the page, not only the database.
    lesson = LessonPage.objects.live().get(slug="principes-des-lieux-partages")
    content = client.get(lesson.url).content.decode()
    assert "La Fabrique du Bocage" in content
    assert 'class="callout"' in content


# --- The JSON itself ----------------------------------------------------------


def test_slugs_are_unique_across_both_tracks():
    slugs = []
    for name in TRACKS:
        data = track_data(name)
        slugs.append(data["slug"])
        for module in data["modules"]:
            slugs.append(module["slug"])
            slugs.extend(lesson["slug"] for lesson in module["lessons"])
    assert all(SLUG.fullmatch(slug) for slug in slugs)
    assert len(slugs) == len(set(slugs))


@pytest.mark.parametrize("name", list(TRACKS))
def test_every_prerequisite_is_an_earlier_module_of_the_same_file(name):
    # seed_demo fails with a KeyError on an unknown slug; this says which module is wrong.
    seen: set[str] = set()
    for module in track_data(name)["modules"]:
        assert set(module["prerequisites"]) <= seen, module["slug"]
        seen.add(module["slug"])


@pytest.mark.parametrize("name", list(TRACKS))
def test_targets_and_levels_use_codes_of_the_track_framework(name):
    data = track_data(name)
    competences = competence_codes(data["framework"])
    levels = level_codes(data["framework"])
    for module in data["modules"]:
        assert module["level"] in levels, module["slug"]
        assert module["format"] in {"en_ligne", "presentiel", "hybride"}, module["slug"]
        assert module["targets"], module["slug"]
        for target in module["targets"]:
            assert target["competence"] in competences, module["slug"]
            assert target["level"] in levels, module["slug"]


@pytest.mark.parametrize("name", list(TRACKS))
def test_every_question_is_well_formed_for_its_type(name):
    for module, question in all_questions(track_data(name)):
        where = (module["slug"], question["text"])
        assert question["type"] in QUESTION_TYPES, where
        assert question["text"].strip() and question["explanation"].strip(), where
        kind = question["type"]
        if kind in {"single_choice", "multiple_choice", "true_false"}:
            options = question["options"]
            correct = sum(option["correct"] for option in options)
            assert all(option["text"] and option["feedback"] for option in options), where
            assert correct >= 1 if kind == "multiple_choice" else correct == 1, where
            if kind == "true_false":
                assert [option["text"] for option in options] == ["Vrai", "Faux"], where
            else:
                assert len(options) >= 3, where
        elif kind == "short_answer":
            assert question["accepted_answers"], where
        elif kind == "numeric":
            assert isinstance(question["answer"], (int, float)), where
            assert question["tolerance"] >= 0, where
        elif kind == "ordering":
            assert len(question["items"]) >= 3, where
            assert len(set(question["items"])) == len(question["items"]), where


@pytest.mark.parametrize("name", list(TRACKS))
def test_every_quiz_has_four_to_six_questions_and_a_pass_mark(name):
    for module in track_data(name)["modules"]:
        quiz = module["quiz"]
        assert 4 <= len(quiz["questions"]) <= 6, module["slug"]
        assert 0 < quiz["pass_mark"] <= 100, module["slug"]


def test_facilitator_quizzes_mix_question_types():
    for module in track_data("parcours-facilitateurs.json")["modules"]:
        assert len({q["type"] for q in module["quiz"]["questions"]}) >= 3, module["slug"]


def test_only_the_narrative_module_asks_an_open_question_on_block_four():
    data = track_data("parcours-facilitateurs.json")
    open_questions = [(m, q) for m, q in all_questions(data) if q["type"] == "open"]
    assert len(open_questions) == 1
    module, question = open_questions[0]
    assert question["competence"].startswith("B4.")
    assert all(t["competence"].startswith("B4.") for t in module["targets"])
    agent_types = {q["type"] for _, q in all_questions(track_data("parcours-agents-publics.json"))}
    assert "open" not in agent_types


def test_facilitator_modules_last_one_to_three_hours_and_mix_formats():
    modules = track_data("parcours-facilitateurs.json")["modules"]
    assert all(60 <= m["duration_minutes"] <= 180 for m in modules)
    assert {m["format"] for m in modules} == {"en_ligne", "presentiel", "hybride"}
    assert any(m["prerequisites"] for m in modules)


def test_the_positioning_test_covers_the_four_blocks_of_rs5142():
    data = track_data("parcours-facilitateurs.json")
    questions = data["positioning"]["questions"]
    assert 6 <= len(questions) <= 8
    assert data["positioning"]["self_assessment_prompt"].strip()
    competences = competence_codes("RS5142")
    assert all(q["competence"] in competences for q in questions)
    assert {q["competence"].split(".")[0] for q in questions} == {"B1", "B2", "B3", "B4"}


@pytest.mark.parametrize("name", list(TRACKS))
def test_lessons_are_written_with_text_blocks_and_key_points(name):
    agents = name == "parcours-agents-publics.json"
    for module in track_data(name)["modules"]:
        assert 2 <= len(module["lessons"]) <= 3, module["slug"]
        for lesson in module["lessons"]:
            types = [block["type"] for block in lesson["body"]]
            assert set(types) <= ALLOWED_BLOCKS, lesson["slug"]
            assert "callout" in types, lesson["slug"]
            if not agents:
                assert 300 <= words(lesson["body"]) <= 600, lesson["slug"]
            else:
                assert lesson["estimated_minutes"] <= 8, lesson["slug"]


@pytest.mark.parametrize("name", list(TRACKS))
def test_rich_text_uses_only_the_editor_tags(name):
    tags = set()
    for text in html_strings(track_data(name)):
        tags |= {tag.lower() for tag in re.findall(r"</?([a-zA-Z][a-zA-Z0-9]*)", text)}
    assert tags <= ALLOWED_TAGS


def test_the_agents_quizzes_can_be_taken_again_as_their_track_says(demo):
    from courses.models import ModulePage, TrackPage

    track = TrackPage.objects.get(slug="sensibilisation-agents-publics")
    assert "autant de fois que nécessaire" in track.evaluation_terms
    modules = ModulePage.objects.child_of(track)
    assert modules.exists()
    assert all(module.quiz_max_attempts is None for module in modules)
