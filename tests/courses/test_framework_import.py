import copy
import json
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from courses.frameworks_io import (
    FrameworkFileError,
    parse_csv,
    parse_file,
    parse_json,
    serialise,
    to_csv,
    to_json,
)
from courses.models import Block, Competence, CompetenceCrosswalk, Framework, Level
from courses.services import import_frameworks

REFERENTIELS = Path(settings.CAMPUS_DATA_DIR) / "referentiels"
RS5142 = REFERENTIELS / "rs5142-piloter-un-tiers-lieu.json"


def rs5142() -> dict:
    return json.loads(RS5142.read_text(encoding="utf-8"))


def import_text(name: str, text: str):
    return import_frameworks(parse_file(name, text.encode()))


def database_snapshot() -> list:
    """Every framework row that an import could touch, to prove a failure changed nothing."""
    return [
        sorted(Framework.objects.values_list("code", "version", "title", "target_level_rank")),
        sorted(Level.objects.values_list("framework_id", "rank", "code", "label")),
        sorted(Block.objects.values_list("framework_id", "code", "title", "order")),
        sorted(Competence.objects.values_list("block_id", "code", "title", "external_uri")),
        sorted(CompetenceCrosswalk.objects.values_list("source_id", "target_id")),
    ]


@pytest.mark.parametrize("path", sorted(REFERENTIELS.glob("*.json")), ids=lambda path: path.stem)
def test_every_shipped_framework_file_imports_and_exports_back_to_the_same_content(db, path):
    data = json.loads(path.read_text(encoding="utf-8"))
    import_text(path.name, path.read_text(encoding="utf-8"))

    framework = Framework.objects.get(code=data["code"], version=data["version"])
    optional = {"kind": "", "awarding_body": "", "note": "", "sources": [], "specialisations": []}
    assert serialise(framework) == {**optional, **data}


def test_a_json_import_creates_the_framework_with_levels_blocks_and_competences(db):
    report = import_text("rs5142.json", RS5142.read_text(encoding="utf-8"))

    framework = Framework.objects.get(code="RS5142", version="2025")
    assert framework.status == Framework.Status.DRAFT
    assert framework.target_level.code == "maitriser"
    assert list(framework.levels.values_list("rank", "code")) == [
        (1, "decouvrir"),
        (2, "appliquer"),
        (3, "maitriser"),
        (4, "transmettre"),
    ]
    assert list(framework.blocks.values_list("code", flat=True)) == ["B1", "B2", "B3", "B4"]
    assert framework.competences().count() == 17
    assert {row["kind"]: row["create"] for row in report.counts()} == {
        "framework": 1,
        "level": 4,
        "block": 4,
        "competence": 17,
    }


def test_importing_the_same_file_twice_changes_nothing_the_second_time(db):
    import_text("rs5142.json", RS5142.read_text(encoding="utf-8"))
    report = import_text("rs5142.json", RS5142.read_text(encoding="utf-8"))
    assert not report.changed
    assert report.changes == []


def test_a_json_import_updates_titles_and_moves_a_competence_between_blocks(db):
    import_text("rs5142.json", RS5142.read_text(encoding="utf-8"))
    data = rs5142()
    data["title"] = "Piloter un tiers-lieu (révisé)"
    moved = data["blocks"][0]["competences"].pop()  # B1.4 goes to B2
    data["blocks"][1]["competences"].append(moved)

    report = import_frameworks([data])

    competence = Competence.objects.get(code="B1.4")
    assert competence.block.code == "B2"
    assert Framework.objects.get(code="RS5142").title == "Piloter un tiers-lieu (révisé)"
    updated = {(change.kind, change.code) for change in report.of("update")}
    assert ("framework", "RS5142") in updated
    assert ("competence", "B1.4") in updated


def test_an_import_never_deletes_what_the_file_leaves_out_and_says_so(db):
    import_text("rs5142.json", RS5142.read_text(encoding="utf-8"))
    data = rs5142()
    data["blocks"] = data["blocks"][:1]

    report = import_frameworks([data])

    assert Block.objects.filter(framework__code="RS5142").count() == 4
    kept = {(change.kind, change.code) for change in report.of("keep")}
    assert {("block", "B2"), ("block", "B3"), ("block", "B4"), ("competence", "B2.1")} <= kept
    assert not report.changed


def test_a_dry_run_reports_the_changes_and_writes_nothing(db):
    report = import_frameworks(parse_file("rs5142.json", RS5142.read_bytes()), dry_run=True)
    assert report.changed
    assert len(report.of("create")) == 1 + 4 + 4 + 17
    assert not Framework.objects.exists()
    assert not Competence.objects.exists()


def test_an_invalid_json_file_reports_every_error_with_its_path_and_changes_nothing(db):
    import_text("rs5142.json", RS5142.read_text(encoding="utf-8"))
    before = database_snapshot()
    data = rs5142()
    data["title"] = "Renamed, but the file is refused"
    data["levels"][2]["rank"] = 5
    data["target_level"] = 9
    data["blocks"][2]["code"] = "B1"
    data["blocks"][1]["competences"][0]["code"] = "B1.1"
    data["blocks"][0]["competences"][1]["title"] = ""
    data["blocks"][0]["competences"][2]["external_uri"] = "not an address"
    data["blocks"][3]["title"] = "x" * 300
    data["blocks"][3]["competence"] = []

    with pytest.raises(FrameworkFileError) as error:
        import_frameworks(parse_json(json.dumps(data)))

    found = {(problem.path, problem.field) for problem in error.value.problems}
    assert found == {
        ("levels[2].rank", "rank"),
        ("target_level", "target_level"),
        ("blocks[2].code", "code"),
        ("blocks[1].competences[0].code", "code"),
        ("blocks[0].competences[1].title", "title"),
        ("blocks[0].competences[2].external_uri", "external_uri"),
        ("blocks[3].title", "title"),
        ("blocks[3].competence", "competence"),
    }
    assert all(problem.message for problem in error.value.problems)
    assert database_snapshot() == before


def test_a_json_file_that_does_not_decode_reports_the_line(db):
    text = '{\n  "code": "RS5142",\n  "title": "Piloter"\n  "version": "2025"\n}'
    with pytest.raises(FrameworkFileError) as error:
        parse_file("broken.json", text.encode())
    [problem] = error.value.problems
    assert problem.line == 4
    assert "line 4" in str(problem) or "ligne 4" in str(problem)


def test_a_json_file_with_wrong_types_is_refused_field_by_field(db):
    text = json.dumps(
        {
            "code": "X1",
            "title": "T",
            "version": "1",
            "levels": {"rank": 1},
            "target_level": "1",
            "blocks": ["B1"],
            "sources": "one source",
        }
    )
    with pytest.raises(FrameworkFileError) as error:
        parse_json(text)
    assert {problem.path for problem in error.value.problems} == {
        "levels",
        "target_level",
        "blocks[0]",
        "sources",
    }


def test_a_file_that_is_neither_json_nor_csv_is_refused(db):
    with pytest.raises(FrameworkFileError) as error:
        parse_file("rs5142.xlsx", b"PK")
    assert len(error.value.problems) == 1
    with pytest.raises(FrameworkFileError):
        parse_file("rs5142.csv", "é".encode("latin-1"))


CSV_HEADER = (
    "framework,version,framework_title,block_code,block_title,"
    "competence_code,competence_title,competence_description,external_uri\n"
)


def test_a_csv_import_updates_a_stored_framework_and_keeps_its_levels(db):
    import_text("rs5142.json", RS5142.read_text(encoding="utf-8"))
    text = CSV_HEADER + (
        "RS5142,2025,Piloter un tiers-lieu,B1,Positionnement,B1.1,Principes revus,,"
        "http://data.europa.eu/esco/skill/abc\n"
        "RS5142,2025,Piloter un tiers-lieu,B5,Nouveau bloc,B5.1,Nouvelle compétence,Détail,\n"
    )

    import_text("rs5142.csv", text)

    framework = Framework.objects.get(code="RS5142")
    assert framework.levels.count() == 4
    assert framework.target_level_rank == 3
    principle = Competence.objects.get(code="B1.1")
    assert principle.title == "Principes revus"
    assert principle.external_uri == "http://data.europa.eu/esco/skill/abc"
    assert Block.objects.get(code="B1").title == "Positionnement"
    assert Competence.objects.get(code="B5.1").block.code == "B5"
    assert framework.competences().count() == 18


def test_a_csv_with_semicolons_as_french_spreadsheets_save_it_is_read(db):
    import_text("rs5142.json", RS5142.read_text(encoding="utf-8"))
    text = CSV_HEADER.replace(",", ";") + (
        "RS5142;2025;Piloter un tiers-lieu;B1;Positionnement, revu;B1.1;Principes;;\n"
    )
    import_text("rs5142.csv", text)
    assert Block.objects.get(code="B1").title == "Positionnement, revu"


def test_a_csv_for_a_new_version_takes_levels_from_the_newest_stored_version(db):
    import_text("rs5142.json", RS5142.read_text(encoding="utf-8"))
    old = Framework.objects.get(code="RS5142")
    text = CSV_HEADER + "RS5142,2026,Piloter un tiers-lieu,B1,Positionnement,B1.1,Principes,,\n"

    import_text("rs5142.csv", text)

    new = Framework.objects.get(code="RS5142", version="2026")
    assert new.previous_version == old
    assert list(new.levels.values_list("code", flat=True)) == list(
        old.levels.values_list("code", flat=True)
    )
    assert new.target_level_rank == old.target_level_rank
    assert CompetenceCrosswalk.objects.filter(
        source__code="B1.1", source__block__framework=old, target__block__framework=new
    ).exists()


def test_an_invalid_csv_reports_every_error_with_its_line_and_column_and_changes_nothing(db):
    import_text("rs5142.json", RS5142.read_text(encoding="utf-8"))
    before = database_snapshot()
    text = CSV_HEADER + (
        "RS5142,2025,Piloter un tiers-lieu,B1,Positionnement,B1.1,Changé mais refusé,,\n"  # 2 ok
        "RS5142,2025,Autre titre,B1,Positionnement,B1.2,Cadre,,\n"  # 3
        "RS5142,2025,Piloter un tiers-lieu,B1,Autre bloc,B1.3,,,\n"  # 4
        "RS5142,2025,Piloter un tiers-lieu,B2,Structuration,B1.1,Doublon,,\n"  # 5
        '"RS5142",2025,Piloter un tiers-lieu,B2,"Structuration",B2.1,"Sur deux\n'
        'lignes",,ftp//pas-une-adresse\n'  # 6-7
        "RS5142,2025,Piloter un tiers-lieu,,Sans code,B2 2,Code avec espace,,\n"  # 8
        "INCONNU,1,Référentiel inconnu,X1,Bloc,X1.1,Compétence,,\n"  # 9
    )

    with pytest.raises(FrameworkFileError) as error:
        import_text("rs5142.csv", text)

    found = {(problem.line, problem.field) for problem in error.value.problems}
    assert found == {
        (3, "framework_title"),
        (4, "block_title"),
        (4, "competence_title"),
        (5, "competence_code"),
        (6, "external_uri"),
        (8, "block_code"),
        (8, "competence_code"),
        (9, "framework"),
    }
    assert database_snapshot() == before


def test_a_csv_without_its_required_columns_names_each_missing_one(db):
    with pytest.raises(FrameworkFileError) as error:
        parse_csv("framework,version,title\nRS5142,2025,X\n")
    missing = {problem.field for problem in error.value.problems if problem.line == 1}
    assert {"framework_title", "block_code", "block_title", "competence_code"} <= missing
    assert "title" in missing  # unknown column


def test_a_json_export_imports_back_to_an_identical_framework(db):
    import_text("rs5142.json", RS5142.read_text(encoding="utf-8"))
    framework = Framework.objects.get(code="RS5142")
    Competence.objects.filter(code="B2.3").update(
        description="Avec une description", external_uri="http://data.europa.eu/esco/skill/x"
    )
    Block.objects.filter(code="B3").update(description="Un bloc décrit")
    original = serialise(framework)
    exported = to_json(framework)
    framework.blocks.all().delete()
    framework.levels.all().delete()
    framework.delete()

    import_text("export.json", exported)

    assert serialise(Framework.objects.get(code="RS5142")) == original


def test_a_csv_export_imports_back_to_an_identical_framework(db):
    import_text("rs5142.json", RS5142.read_text(encoding="utf-8"))
    framework = Framework.objects.get(code="RS5142")
    Competence.objects.filter(code="B2.3").update(
        description="Sur deux\nlignes, avec « guillemets »", external_uri="https://esco.example/s/1"
    )
    Block.objects.filter(code="B3").update(description="Un bloc décrit")
    Block.objects.create(framework=framework, code="B5", title="Bloc encore vide", order=5)
    original = serialise(framework)
    exported = to_csv(framework)
    # The CSV carries the competence tree; levels stay with the stored framework.
    framework.blocks.all().delete()

    import_text("export.csv", exported)

    assert serialise(Framework.objects.get(code="RS5142")) == original
    assert not import_text("export.csv", exported).changed


def test_the_import_command_previews_with_dry_run_then_imports(db, tmp_path):
    out = StringIO()
    call_command("import_framework", str(RS5142), "--dry-run", stdout=out)
    assert "competence: 17 to create" in out.getvalue()
    assert not Framework.objects.exists()

    call_command("import_framework", str(RS5142), stdout=StringIO())
    assert Framework.objects.get(code="RS5142").competences().count() == 17


def test_the_import_command_lists_every_problem_and_fails(db, tmp_path):
    data = rs5142()
    data["blocks"][0]["code"] = ""
    data["levels"][0]["label"] = ""
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    err = StringIO()

    with pytest.raises(CommandError, match="2 problem"):
        call_command("import_framework", str(path), stderr=err)

    assert "blocks[0].code" in err.getvalue()
    assert "levels[0].label" in err.getvalue()
    assert not Framework.objects.exists()


def test_the_export_command_writes_json_and_csv_that_the_import_command_reads(db, tmp_path):
    import_text("rs5142.json", RS5142.read_text(encoding="utf-8"))
    original = serialise(Framework.objects.get(code="RS5142"))
    json_path, csv_path = tmp_path / "rs.json", tmp_path / "rs.csv"

    call_command(
        "export_framework",
        "RS5142",
        "--format",
        "json",
        "--output",
        str(json_path),
        stderr=StringIO(),
    )
    call_command(
        "export_framework",
        "RS5142",
        "--version",
        "2025",
        "--format",
        "csv",
        "--output",
        str(csv_path),
        stderr=StringIO(),
    )
    stdout = StringIO()
    call_command("export_framework", "RS5142", "--format", "json", stdout=stdout)

    assert json.loads(json_path.read_text(encoding="utf-8")) == original
    assert json.loads(stdout.getvalue()) == original
    assert csv_path.read_text(encoding="utf-8").count("\n") == 1 + 17
    Framework.objects.get(code="RS5142").blocks.all().delete()
    call_command("import_framework", str(csv_path), stdout=StringIO())
    assert serialise(Framework.objects.get(code="RS5142")) == original


def test_the_export_command_refuses_an_unknown_framework(db):
    with pytest.raises(CommandError):
        call_command("export_framework", "NOPE", "--format", "json")


def test_an_import_of_a_file_listing_two_frameworks_is_all_or_nothing(db):
    good = rs5142()
    bad = copy.deepcopy(good)
    bad["version"] = "2026"
    bad["blocks"][0]["competences"][0]["external_uri"] = "javascript:alert(1)"
    with pytest.raises(FrameworkFileError) as error:
        parse_json(json.dumps([good, bad]))
    assert [problem.path for problem in error.value.problems] == [
        "[1].blocks[0].competences[0].external_uri"
    ]
    assert not Framework.objects.exists()


# Files that the database would refuse, or that Python cannot read ---------------


@pytest.mark.parametrize(
    "path",
    [
        "title",
        "sources[1]",
        "levels[0].label",
        "blocks[0].description",
        "blocks[1].competences[0].title",
        "specialisations[0]",
    ],
)
def test_a_nul_character_in_any_text_of_a_json_file_is_refused_at_its_path(db, path):
    data = rs5142()
    data["specialisations"] = ["Animation"]
    data["blocks"][0]["description"] = "Un bloc"
    *parents, last = path.replace("[", ".").replace("]", "").split(".")
    parent = data
    for key in parents:
        parent = parent[int(key)] if key.isdigit() else parent[key]
    key = int(last) if last.isdigit() else last
    parent[key] = parent[key][:4] + "\x00" + parent[key][4:]

    with pytest.raises(FrameworkFileError) as error:
        import_text("rs5142.json", json.dumps(data))

    assert [problem.path for problem in error.value.problems] == [path]
    assert not Framework.objects.exists()


def test_a_lone_surrogate_escaped_in_a_json_file_is_refused_at_its_path(db):
    data = rs5142()
    data["title"] = "Piloter \ud800 un tiers-lieu"

    with pytest.raises(FrameworkFileError) as error:
        import_text("rs5142.json", json.dumps(data))

    assert [problem.path for problem in error.value.problems] == ["title"]
    assert not Framework.objects.exists()


def test_a_quote_left_open_in_a_csv_is_explained_in_french_at_its_line(db):
    import_text("rs5142.json", RS5142.read_text(encoding="utf-8"))
    before = database_snapshot()
    text = CSV_HEADER + (
        "RS5142,2025,Piloter un tiers-lieu,B1,Positionnement,B1.1,Principes,,\n"
        'RS5142,2025,Piloter un tiers-lieu,B1,Positionnement,B1.2,"Cadre' + "x" * 140_000 + "\n"
    )

    with pytest.raises(FrameworkFileError) as error:
        import_text("rs5142.csv", text)

    [problem] = error.value.problems
    assert problem.line == 3
    assert str(problem.message).startswith("CSV illisible à partir de cette ligne : un guillemet")
    assert database_snapshot() == before


def test_a_nul_character_in_a_csv_cell_is_refused_with_its_line_and_column(db):
    import_text("rs5142.json", RS5142.read_text(encoding="utf-8"))
    before = database_snapshot()
    text = CSV_HEADER + (
        "RS5142,2025,Piloter un tiers-lieu,B1,Positionnement,B1.1,Principes,,\n"
        "RS5142,2025,Piloter un tiers-lieu,B1,Positionnement,B1.2,Cadre,Avec\x00NUL,\n"
    )

    with pytest.raises(FrameworkFileError) as error:
        import_text("rs5142.csv", text)

    assert [(p.line, p.field) for p in error.value.problems] == [(3, "competence_description")]
    assert database_snapshot() == before


def test_a_nul_character_in_a_csv_version_is_refused_without_asking_the_database(
    db, django_assert_num_queries
):
    # PostgreSQL refuses NUL even as a query parameter: looking the version up to
    # inherit its levels answered a 500 (found by the fuzzing tests on PostgreSQL).
    text = CSV_HEADER + "RS5142,20\x0025,Piloter un tiers-lieu,B1,Positionnement,B1.1,Principes,,\n"

    with django_assert_num_queries(0), pytest.raises(FrameworkFileError) as error:
        parse_csv(text)

    assert [(p.line, p.field) for p in error.value.problems] == [(2, "version")]


@pytest.mark.parametrize(
    "text",
    ['{"code": "X", "target_level": ' + "9" * 5000 + "}", "[" * 100_000],
    ids=["5000-digit number", "deep nesting"],
)
def test_a_json_file_python_cannot_read_is_reported_unreadable(db, text):
    with pytest.raises(FrameworkFileError) as error:
        parse_file("huge.json", text.encode())
    [problem] = error.value.problems
    assert "JSON" in problem.message


@pytest.mark.parametrize("kind", ["levels", "blocks", "competences"])
def test_more_levels_blocks_or_competences_than_their_rank_column_holds_are_refused(db, kind):
    data = rs5142()
    many = 32_768
    if kind == "levels":
        data["levels"] = [
            {"rank": rank, "code": f"N{rank}", "label": f"Niveau {rank}"}
            for rank in range(1, many + 1)
        ]
        where = "levels"
    elif kind == "blocks":
        data["blocks"] = [{"code": f"B{n}", "title": "Bloc"} for n in range(many)]
        where = "blocks"
    else:
        data["blocks"][0]["competences"] = [
            {"code": f"C{n}", "title": "Compétence"} for n in range(many)
        ]
        where = "blocks[0].competences"

    with pytest.raises(FrameworkFileError) as error:
        parse_json(json.dumps(data))

    assert [problem.path for problem in error.value.problems] == [where]
    assert "32767" in error.value.problems[0].message


def test_a_csv_with_more_competences_in_a_block_than_the_order_column_holds_is_refused(db):
    import_text("rs5142.json", RS5142.read_text(encoding="utf-8"))
    rows = "".join(
        f"RS5142,2025,Piloter un tiers-lieu,B1,Positionnement,C{n},Compétence,,\n"
        for n in range(32_768)
    )

    with pytest.raises(FrameworkFileError) as error:
        parse_csv(CSV_HEADER + rows)

    assert [(p.line, p.field) for p in error.value.problems] == [(32_769, "competence_code")]


def test_a_reimport_where_two_levels_swap_ranks_imports(db):
    import_text("rs5142.json", RS5142.read_text(encoding="utf-8"))
    data = rs5142()
    first, second = data["levels"][:2]
    first["rank"], second["rank"] = 2, 1
    data["levels"][:2] = [second, first]

    report = import_frameworks([data])

    framework = Framework.objects.get(code="RS5142")
    assert list(framework.levels.values_list("rank", "code")) == [
        (1, "appliquer"),
        (2, "decouvrir"),
        (3, "maitriser"),
        (4, "transmettre"),
    ]
    assert {(c.code, c.fields) for c in report.of("update")} == {
        ("decouvrir", ("rank",)),
        ("appliquer", ("rank",)),
    }


def test_a_level_left_out_of_the_file_that_keeps_a_rank_is_named_in_french_words(db):
    import_text("rs5142.json", RS5142.read_text(encoding="utf-8"))
    before = database_snapshot()
    data = rs5142()
    data["levels"][0]["code"] = "explorer"  # "decouvrir" stays stored at rank 1

    with pytest.raises(FrameworkFileError) as error:
        import_frameworks([data])

    [problem] = error.value.problems
    assert "decouvrir" in problem.message
    assert "constraint" not in str(problem).lower()
    assert database_snapshot() == before


def test_a_clash_the_database_finds_is_worded_for_people_not_copied_from_the_database(db, caplog):
    import_text("rs5142.json", RS5142.read_text(encoding="utf-8"))
    # A duplicate code in another block, as only a direct database write can make it:
    # the import moves the one it finds into B1, where the other B1.1 already is.
    Competence.objects.create(block=Block.objects.get(code="B2"), code="B1.1", title="Doublon")
    before = database_snapshot()

    with pytest.raises(FrameworkFileError) as error:
        import_frameworks([rs5142()])

    [problem] = error.value.problems
    assert "RS5142 2025" in problem.message
    for word in ("constraint", "duplicate", "UNIQUE", "competence_code_unique", "courses_"):
        assert word not in str(problem)
    assert "competence_code_unique" in caplog.text  # the detail is for the log
    assert database_snapshot() == before


def test_a_value_the_database_refuses_while_writing_is_a_problem_and_writes_nothing(
    db, monkeypatch, caplog
):
    from django.db import DataError

    def refuse(self, *args, **kwargs):
        raise DataError("value too long for type character varying(40)")

    monkeypatch.setattr(Competence, "save", refuse)

    with pytest.raises(FrameworkFileError) as error:
        import_text("rs5142.json", RS5142.read_text(encoding="utf-8"))

    [problem] = error.value.problems
    assert "RS5142 2025" in problem.message and "character varying" not in problem.message
    assert "character varying" in caplog.text
    assert not Framework.objects.exists()
