import json
from pathlib import Path

import pytest
from django.conf import settings
from django.core import signing
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from courses.admin_views import PAYLOAD_SALT
from courses.assessments import stream_data
from courses.authoring import ensure_authoring_setup
from courses.frameworks_io import serialise
from courses.models import Competence, Framework
from tests.courses.factories import make_catalogue_page, make_framework, make_module, make_track

RS5142 = Path(settings.CAMPUS_DATA_DIR) / "referentiels" / "rs5142-piloter-un-tiers-lieu.json"
IMPORT_URL = "/cms-admin/frameworks/import/"
FRAMEWORK_ADMIN_URLS = [
    "/cms-admin/frameworks/",
    "/cms-admin/frameworks/new/",
    "/cms-admin/competences/",
    "/cms-admin/blocks/",
    "/cms-admin/levels/",
    "/cms-admin/crosswalks/",
    IMPORT_URL,
]


@pytest.fixture
def trainer(db, karim):
    """Karim as the trainers' group makes him: he reaches the admin to author pages."""
    ensure_authoring_setup()
    karim.refresh_from_db()
    assert karim.has_perm("wagtailadmin.access_admin")
    return karim


def upload(name: str, content: bytes) -> dict:
    return {"file": SimpleUploadedFile(name, content)}


def test_the_import_url_is_the_named_admin_route():
    assert reverse("courses_framework_import") == IMPORT_URL


@pytest.mark.parametrize("url", FRAMEWORK_ADMIN_URLS)
def test_a_trainer_cannot_reach_the_framework_admin_or_the_import(client, trainer, url):
    client.force_login(trainer)
    response = client.get(url)
    assert response.status_code == 403 or (response.status_code, response.url) == (
        302,
        "/cms-admin/",
    )


def test_a_trainer_cannot_post_an_import_nor_start_a_new_version(client, trainer):
    framework = make_framework()
    client.force_login(trainer)
    new_version_url = reverse("courses_framework_new_version", args=[framework.pk])
    payload = _payload("rs5142.json", RS5142.read_text())

    # Wagtail turns a refusal inside its admin into a redirect to the dashboard.
    for response in (
        client.post(IMPORT_URL, upload("rs.json", RS5142.read_bytes())),
        client.post(IMPORT_URL, {"payload": payload}),
        client.post(new_version_url, {"version": "2026"}),
    ):
        assert (response.status_code, response.url) == (302, "/cms-admin/")
    assert list(Framework.objects.values_list("version", flat=True)) == ["2025"]


def test_the_frameworks_menu_and_its_import_item_are_for_staff_only(client, trainer, staff):
    client.force_login(staff)
    staff_home = client.get("/cms-admin/").content.decode()
    client.force_login(trainer)
    trainer_home = client.get("/cms-admin/").content.decode()
    assert IMPORT_URL in staff_home
    assert "/cms-admin/frameworks/" in staff_home
    assert IMPORT_URL not in trainer_home
    assert "/cms-admin/frameworks/" not in trainer_home


def test_staff_list_search_and_filter_frameworks_and_competences(client, staff):
    make_framework("RS5142")
    make_framework("SENS-AP", blocks={"S1": ("S1.1",)}, status=Framework.Status.DRAFT)
    client.force_login(staff)

    listing = client.get("/cms-admin/frameworks/", {"q": "SENS"})
    assert listing.status_code == 200
    assert [f.code for f in listing.context["object_list"]] == ["SENS-AP"]
    drafts = client.get("/cms-admin/frameworks/", {"status": "draft"})
    assert [f.code for f in drafts.context["object_list"]] == ["SENS-AP"]

    sens = Framework.objects.get(code="SENS-AP")
    competences = client.get("/cms-admin/competences/", {"block__framework": sens.pk})
    assert competences.status_code == 200
    assert [c.code for c in competences.context["object_list"]] == ["S1.1"]
    searched = client.get("/cms-admin/competences/", {"q": "B2.1"})
    assert [c.code for c in searched.context["object_list"]] == ["B2.1"]


def test_staff_preview_an_import_then_apply_it(client, staff):
    client.force_login(staff)

    preview = client.post(IMPORT_URL, upload("rs5142.json", RS5142.read_bytes()))

    assert preview.status_code == 200
    assert not Framework.objects.exists()  # a preview writes nothing
    report = preview.context["report"]
    assert {row["kind"]: row["create"] for row in report.counts()} == {
        "framework": 1,
        "level": 4,
        "block": 4,
        "competence": 17,
    }
    html = preview.content.decode()
    assert 'id="import-preview"' in html
    assert "B4.4" in html  # the list, not only the counts
    payload = preview.context["payload"]
    assert f'value="{payload}"' in html

    applied = client.post(IMPORT_URL, {"payload": payload})

    assert applied.status_code == 302
    assert applied.url == reverse("courses_framework:index")
    framework = Framework.objects.get(code="RS5142")
    assert framework.competences().count() == 17


def test_a_preview_of_a_changed_framework_lists_updates_and_what_the_file_leaves_out(client, staff):
    client.force_login(staff)
    client.post(IMPORT_URL, {"payload": _payload("rs5142.json", RS5142.read_text())})
    csv = (
        "framework,version,framework_title,block_code,block_title,competence_code,competence_title\n"
        "RS5142,2025,Piloter un tiers-lieu,B1,Positionnement dans la dynamique tiers-lieu,"
        "B1.1,Principes reformulés\n"
    )

    preview = client.post(IMPORT_URL, upload("maj.csv", csv.encode()))

    report = preview.context["report"]
    assert [(c.kind, c.code, c.fields) for c in report.of("update")] == [
        ("competence", "B1.1", ("title",))
    ]
    assert len(report.of("keep")) == 3 + 16  # blocks B2-B4 and the other competences
    assert Competence.objects.get(code="B1.1").title != "Principes reformulés"
    html = preview.content.decode()
    assert '<th scope="row">Compétence</th>' in html and '<th scope="row">Bloc</th>' in html
    assert "compétence <strong>RS5142 2025</strong> <code>B1.1</code> (titre)" in html
    assert "(title)" not in html and ">competence<" not in html


def test_an_invalid_upload_lists_every_problem_and_changes_nothing(client, staff):
    client.force_login(staff)
    broken = (
        RS5142.read_text().replace('"code": "B2"', '"code": "B1"').replace('"rank": 2', '"rank": 7')
    )

    response = client.post(IMPORT_URL, upload("rs5142.json", broken.encode()))

    assert response.status_code == 200
    paths = {problem.path for problem in response.context["problems"]}
    assert paths == {"blocks[1].code", "levels[1].rank"}
    assert "payload" not in response.context
    html = response.content.decode()
    assert 'id="import-problems"' in html
    assert "blocks[1].code" in html and "levels[1].rank" in html
    assert not Framework.objects.exists()


def test_a_tampered_or_stale_payload_is_refused_and_changes_nothing(client, staff):
    client.force_login(staff)
    tampered = _payload("rs5142.json", RS5142.read_text())[:-3] + "abc"

    response = client.post(IMPORT_URL, {"payload": tampered})

    assert response.status_code == 302
    assert response.url == IMPORT_URL
    assert not Framework.objects.exists()


def test_applying_a_preview_rechecks_the_file_against_what_is_stored_now(client, staff):
    client.force_login(staff)
    csv = (
        "framework,version,framework_title,block_code,block_title,competence_code,competence_title\n"
        "RS5142,2025,Piloter un tiers-lieu,B1,Positionnement,B1.1,Principes\n"
    )
    client.post(IMPORT_URL, {"payload": _payload("rs5142.json", RS5142.read_text())})
    payload = client.post(IMPORT_URL, upload("maj.csv", csv.encode())).context["payload"]
    Framework.objects.get(code="RS5142").blocks.all().delete()
    Framework.objects.all().delete()  # someone removed the framework meanwhile

    response = client.post(IMPORT_URL, {"payload": payload})

    assert response.status_code == 200
    assert [problem.field for problem in response.context["problems"]] == ["framework"]
    assert not Framework.objects.exists()


def test_staff_start_a_new_version_from_the_admin(client, staff):
    framework = make_framework()
    before = serialise(framework)
    client.force_login(staff)
    url = reverse("courses_framework_new_version", args=[framework.pk])

    assert client.get(url).status_code == 200
    refused = client.post(url, {"version": "2025"})
    response = client.post(url, {"version": "2026"})

    assert refused.status_code == 200 and refused.context["form"].errors["version"]
    new = Framework.objects.get(code="RS5142", version="2026")
    assert response.status_code == 302
    assert response.url == reverse("courses_framework:edit", args=[new.pk])
    assert serialise(framework) == before


def _payload(name: str, content: str) -> str:
    return signing.dumps({"name": name, "content": content}, salt=PAYLOAD_SALT, compress=True)


@pytest.mark.parametrize("prefix", ["frameworks", "levels", "blocks", "competences", "crosswalks"])
def test_staff_open_the_add_form_of_every_framework_viewset(client, staff, prefix):
    client.force_login(staff)
    assert client.get(f"/cms-admin/{prefix}/new/").status_code == 200


def test_the_framework_listing_offers_a_new_version_and_the_edit_form_opens(client, staff):
    framework = make_framework()
    client.force_login(staff)
    listing = client.get("/cms-admin/frameworks/").content.decode()
    assert reverse("courses_framework_new_version", args=[framework.pk]) in listing
    assert client.get(reverse("courses_framework:edit", args=[framework.pk])).status_code == 200


def test_the_admin_refuses_a_competence_code_used_elsewhere_in_the_framework(client, staff):
    framework = make_framework()
    client.force_login(staff)
    response = client.post(
        "/cms-admin/competences/new/",
        {
            "block": framework.blocks.get(code="B2").pk,
            "code": "B1.1",
            "title": "Doublon",
            "order": 3,
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors["code"]
    assert Competence.objects.filter(code="B1.1").count() == 1


def _edit_framework(client, framework, **changes):
    data = {
        "code": framework.code,
        "version": framework.version,
        "title": framework.title,
        "status": framework.status,
        "kind": "",
        "awarding_body": "",
        "note": "",
        "target_level_rank": framework.target_level_rank,
        "previous_version": "",
        "sources": "[]",
        "specialisations": "[]",
        **changes,
    }
    return client.post(reverse("courses_framework:edit", args=[framework.pk]), data)


@pytest.mark.parametrize("field", ["sources", "specialisations"])
@pytest.mark.parametrize(
    "value",
    [
        '{"x": 1}',
        '"text"',
        "3",
        '["ok", ""]',
        '["ok", 2]',
        '["avec \\u0000 NUL"]',
        "[" + "9" * 5000 + "]",
        "[" * 10_000,
    ],
    ids=["object", "text", "number", "empty", "number item", "NUL", "huge number", "deep"],
)
def test_the_framework_form_refuses_sources_that_are_not_a_list_of_texts(
    client, staff, field, value
):
    framework = make_framework()
    client.force_login(staff)

    response = _edit_framework(client, framework, **{field: value})

    assert response.status_code == 200
    assert response.context["form"].errors[field]
    framework.refresh_from_db()
    assert (framework.sources, framework.specialisations) == ([], [])


def test_the_framework_form_keeps_a_list_of_texts_trimmed(client, staff):
    framework = make_framework()
    client.force_login(staff)

    response = _edit_framework(
        client, framework, sources='[" France compétences "]', specialisations='["Animation"]'
    )

    assert response.status_code == 302
    framework.refresh_from_db()
    assert (framework.sources, framework.specialisations) == (
        ["France compétences"],
        ["Animation"],
    )


@pytest.mark.parametrize(
    "content",
    [
        RS5142.read_text().replace('"title": "Piloter', '"title": "\\u0000Piloter', 1),
        '{"code": "RS5142", "target_level": ' + "9" * 5000 + "}",
        "[" * 100_000,
    ],
    ids=["NUL", "5000-digit number", "deep nesting"],
)
def test_a_file_the_database_or_python_would_choke_on_is_listed_as_a_problem(
    client, staff, content
):
    client.force_login(staff)

    response = client.post(IMPORT_URL, upload("rs5142.json", content.encode()))

    assert response.status_code == 200
    assert len(response.context["problems"]) == 1
    assert "payload" not in response.context
    assert not Framework.objects.exists()


def test_staff_apply_a_file_that_swaps_two_levels(client, staff):
    client.force_login(staff)
    client.post(IMPORT_URL, {"payload": _payload("rs5142.json", RS5142.read_text())})
    data = json.loads(RS5142.read_text())
    first, second = data["levels"][:2]
    first["rank"], second["rank"] = 2, 1
    data["levels"][:2] = [second, first]

    preview = client.post(IMPORT_URL, upload("rs5142.json", json.dumps(data).encode()))
    response = client.post(IMPORT_URL, {"payload": preview.context["payload"]})

    assert response.status_code == 302
    framework = Framework.objects.get(code="RS5142")
    assert list(framework.levels.values_list("code", flat=True)[:2]) == ["appliquer", "decouvrir"]


# --- Codes that questions name ------------------------------------------------------------


def _competence_form(competence: Competence, code: str) -> dict:
    return {
        "block": str(competence.block_id),
        "code": code,
        "title": competence.title,
        "description": "",
        "external_uri": "",
        "order": str(competence.order),
    }


def test_a_competence_code_modules_use_cannot_be_renamed_but_an_unused_one_can(client, staff):
    track = make_track(make_catalogue_page(), make_framework())
    make_module(track, "Gouvernance partagée", competences=("B1.1",))
    used = track.framework.competences().get(code="B1.1")
    unused = track.framework.competences().exclude(code="B1.1").first()
    client.force_login(staff)

    refused = client.post(
        reverse("courses_competence:edit", args=[used.pk]), _competence_form(used, "B1.1a")
    )
    renamed = client.post(
        reverse("courses_competence:edit", args=[unused.pk]), _competence_form(unused, "X9.9")
    )

    assert refused.status_code == 200
    assert refused.context["form"].errors["code"] == [
        "Des modules, des questions ou des traces d'apprenant·es utilisent déjà ce code : il ne "
        "peut plus changer. Créez une nouvelle version du référentiel pour le renommer."
    ]
    assert Competence.objects.get(pk=used.pk).code == "B1.1"
    assert renamed.status_code == 302
    assert Competence.objects.get(pk=unused.pk).code == "X9.9"


def _renaming_refused(client, level) -> str:
    """The error staff get when they give `level` a new code, or "" when it is accepted."""
    form = {
        "framework": str(level.framework_id),
        "rank": str(level.rank),
        "code": "renomme",
        "label": level.label,
        "descriptor": "",
    }
    response = client.post(reverse("courses_level:edit", args=[level.pk]), form)
    return " ".join(response.context["form"].errors["code"]) if response.status_code == 200 else ""


def test_a_level_code_a_module_targets_cannot_be_renamed(client, staff):
    track = make_track(make_catalogue_page(), make_framework())
    module = make_module(track, "Gouvernance partagée", competences=("B1.1",))
    client.force_login(staff)

    refused = _renaming_refused(client, module.targets.get().target_level)

    assert "il ne peut plus changer" in refused


def test_a_level_code_only_a_quiz_question_names_cannot_be_renamed(client, staff):
    track = make_track(make_catalogue_page(), make_framework())
    module = make_module(track, "Gouvernance partagée", competences=("B1.1",))
    asked = track.framework.levels.exclude(pk=module.targets.get().target_level_id).first()
    question = {"type": "numeric", "competence": "B1.1", "level": asked.code}
    question |= {"text": "Combien ?", "answer": 3, "tolerance": 0}
    module.quiz = stream_data([question])
    module.save_revision().publish()
    client.force_login(staff)

    refused = _renaming_refused(client, asked)

    assert "il ne peut plus changer" in refused


def test_a_framework_cannot_be_its_own_previous_version_nor_close_a_loop(client, staff):
    first = make_framework()
    second = make_framework(code="RS5142-B")
    second.previous_version = first
    second.save()
    client.force_login(staff)

    itself = _edit_framework(client, first, previous_version=str(first.pk))
    loop = _edit_framework(client, first, previous_version=str(second.pk))

    for response in (itself, loop):
        assert response.status_code == 200
        assert "ne peut pas venir après" in " ".join(
            response.context["form"].errors["previous_version"]
        )
    first.refresh_from_db()
    assert first.previous_version is None


def test_the_target_level_cannot_move_away_from_the_rank_its_framework_targets(client, staff):
    framework = make_framework()
    target = framework.target_level
    client.force_login(staff)
    form = {
        "framework": str(framework.pk),
        "rank": "9",
        "code": target.code,
        "label": target.label,
        "descriptor": "",
    }

    response = client.post(reverse("courses_level:edit", args=[target.pk]), form)

    assert response.status_code == 200
    assert "niveau visé" in " ".join(response.context["form"].errors["rank"])
    target.refresh_from_db()
    assert target.rank == framework.target_level_rank
    other = framework.levels.exclude(pk=target.pk).last()
    form |= {"rank": "9", "code": other.code, "label": other.label}
    assert client.post(reverse("courses_level:edit", args=[other.pk]), form).status_code == 302
