"""The public JSON API: frameworks, modules filtered like the catalogue, and its schema."""

import pytest

from courses.filters import ModuleFilter
from courses.models import Framework
from tests.courses.factories import make_catalogue, make_framework, make_sample_catalogue


@pytest.fixture
def sample(db):
    return make_sample_catalogue()


def slugs(response) -> set[str]:
    return {item["slug"] for item in response.json()["items"]}


def test_frameworks_are_listed_with_their_levels_blocks_and_competences(client, sample):
    make_framework("BROUILLON", status=Framework.Status.DRAFT)

    response = client.get("/api/frameworks")

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1  # drafts stay private
    framework = body["items"][0]
    assert (framework["code"], framework["version"]) == ("RS5142", "2025")
    assert [level["code"] for level in framework["levels"]] == [
        "decouvrir",
        "appliquer",
        "maitriser",
    ]
    assert [block["code"] for block in framework["blocks"]] == ["B1", "B2"]
    assert [c["code"] for c in framework["blocks"][0]["competences"]] == ["B1.1", "B1.2"]


def test_a_framework_is_found_by_its_code_newest_version_first(client, db):
    old = make_framework("RS5142")
    newer = make_framework("RS5142-TMP")
    Framework.objects.filter(pk=newer.pk).update(code="RS5142", version="2026")

    latest = client.get("/api/frameworks/RS5142")
    named = client.get("/api/frameworks/RS5142", {"version": old.version})

    assert latest.status_code == named.status_code == 200
    assert latest.json()["version"] == "2026"
    assert named.json()["version"] == "2025"
    assert latest.json()["blocks"][1]["competences"][1]["code"] == "B2.2"


def test_the_newest_version_is_the_last_created_not_the_last_in_alphabetical_order(client, db):
    older = make_framework("RS5142-A")
    newer = make_framework("RS5142-B")
    Framework.objects.filter(pk=older.pk).update(code="RS5142", version="V9")
    Framework.objects.filter(pk=newer.pk).update(code="RS5142", version="V10")

    assert client.get("/api/frameworks/RS5142").json()["version"] == "V10"
    listed = client.get("/api/frameworks").json()["items"]
    assert [f["version"] for f in listed if f["code"] == "RS5142"] == ["V10", "V9"]


def test_module_links_use_the_platform_s_public_address(client, sample, settings):
    settings.SITE_URL = "https://campus.example.org"
    items = client.get("/api/modules", {"sort": "title"}).json()["items"]
    assert items
    assert all(item["url"].startswith("https://campus.example.org/") for item in items)
    assert items[0]["url"] == "https://campus.example.org" + sample["communaute"].url


def test_an_unknown_or_draft_framework_is_a_404(client, db):
    make_framework("BROUILLON", status=Framework.Status.DRAFT)

    assert client.get("/api/frameworks/BROUILLON").status_code == 404
    assert client.get("/api/frameworks/NOPE").status_code == 404
    assert client.get("/api/frameworks/RS5142", {"version": "1999"}).status_code == 404


def test_modules_are_listed_with_what_a_card_shows(client, sample):
    response = client.get("/api/modules", {"sort": "title", "limit": 1})

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 5
    (module,) = body["items"]
    assert module["slug"] == "animer-une-communaute"
    assert module["url"].endswith(sample["communaute"].url)
    assert module["duration_minutes"] == 45
    assert module["format"] == "hybride"
    assert module["level"] == {"rank": 1, "code": "decouvrir", "label": "Découvrir"}
    assert (module["track"], module["audience"]) == ("piloter", "facilitateurs")
    assert [(t["competence"], t["block"]) for t in module["targets"]] == [
        ("B1.2", "B1"),
        ("B2.2", "B2"),
    ]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"block": "B2"}, {"economie", "communaute", "cooperer"}),
        ({"competence": ["B1.1", "B2.1"]}, {"gouvernance", "decouvrir", "economie"}),
        ({"level": "decouvrir"}, {"communaute", "decouvrir"}),
        ({"audience": "agents_publics"}, {"decouvrir", "cooperer"}),
        ({"format": "presentiel"}, {"economie"}),
        ({"track": "sensibiliser", "duration_min": 45}, {"cooperer"}),
        ({"duration_max": 45}, {"communaute", "decouvrir"}),
        ({"q": "gouvernance"}, {"gouvernance"}),
    ],
)
def test_modules_take_the_catalogue_filters(client, sample, params, expected):
    response = client.get("/api/modules", params)

    assert response.status_code == 200
    assert slugs(response) == {sample[key].slug for key in expected}
    assert response.json()["count"] == len(expected)


@pytest.mark.parametrize(
    "params",
    [
        {"level": "abc"},
        {"competence": "ZZZ"},
        {"format": "papier"},
        {"duration_max": -3},
        {"duration_min": "abc"},
        {"sort": "drop"},
        {"limit": 101},
        {"limit": 0},
        {"offset": -1},
    ],
)
def test_unknown_filter_values_are_refused_with_a_422(client, sample, params):
    response = client.get("/api/modules", params)

    assert response.status_code == 422
    (name,) = params
    (error,) = response.json()["detail"]
    assert error["loc"][0] == "query" and name in error["loc"]


def test_modules_are_paginated_with_limit_and_offset_up_to_a_hundred(client, db):
    make_catalogue(modules=130)

    first = client.get("/api/modules", {"sort": "title"}).json()
    assert first["count"] == 130 and len(first["items"]) == 20
    page = client.get("/api/modules", {"sort": "title", "limit": 100, "offset": 100}).json()
    assert [item["slug"] for item in page["items"]] == [f"module-{n:04d}" for n in range(100, 130)]


def test_the_api_is_read_only(client, sample):
    assert client.post("/api/modules", {}).status_code == 405
    assert client.delete("/api/frameworks/RS5142").status_code == 405


def test_the_openapi_schema_documents_every_catalogue_filter(client, db):
    response = client.get("/api/openapi.json")

    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert {"/api/frameworks", "/api/frameworks/{code}", "/api/modules"} <= set(schema["paths"])
    parameters = {p["name"]: p for p in schema["paths"]["/api/modules"]["get"]["parameters"]}
    assert set(ModuleFilter.base_filters) | {"limit", "offset"} == set(parameters)
    assert parameters["limit"]["schema"]["maximum"] == 100
    assert parameters["competence"]["schema"]["type"] == "array"


def test_no_docs_page_loads_scripts_from_a_cdn(client, db):
    response = client.get("/api/docs", follow=True)

    assert response.status_code == 404
    assert b"cdn.jsdelivr.net" not in response.content
