"""Read, check and write skills frameworks as JSON or CSV files.

Parsing returns frameworks in the shape of data/referentiels/*.json (the
"canonical" shape every import goes through) or raises FrameworkFileError with
every problem found, each located by JSON path or CSV line and by field.
Nothing here writes to the database: courses.services applies the result.
"""

import csv
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
from pathlib import PurePath
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext as _

from courses.models import Block, Competence, Framework, Level

CSV_COLUMNS = [
    "framework",
    "version",
    "framework_title",
    "block_code",
    "block_title",
    "block_description",
    "competence_code",
    "competence_title",
    "competence_description",
    "external_uri",
]
CSV_REQUIRED_COLUMNS = CSV_COLUMNS[:5] + ["competence_code", "competence_title"]

FRAMEWORK_KEYS = {
    "code",
    "title",
    "version",
    "kind",
    "awarding_body",
    "note",
    "sources",
    "levels",
    "target_level",
    "blocks",
    "specialisations",
}
LEVEL_KEYS = {"rank", "code", "label", "descriptor"}
BLOCK_KEYS = {"code", "title", "description", "competences"}
COMPETENCE_KEYS = {"code", "title", "description", "external_uri"}
# Block and competence `order` and level `rank` are small integers in the database
# (PostgreSQL smallint): a longer list would fail while writing, not while checking.
MAX_ITEMS = 32767
# What the CSV cannot carry and takes from a stored version of the framework.
CSV_INHERITED_KEYS = [
    "kind",
    "awarding_body",
    "note",
    "sources",
    "levels",
    "target_level",
    "specialisations",
]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a file: where (JSON path or CSV line), which field, what."""

    field: str
    message: str
    path: str = ""
    line: int | None = None

    def __str__(self) -> str:
        where = []
        if self.line is not None:
            where.append(_("line %(line)s") % {"line": self.line})
        if self.path:
            where.append(self.path)
        elif self.field:
            where.append(self.field)
        return f"{', '.join(where)}: {self.message}" if where else self.message


class FrameworkFileError(Exception):
    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(problem) for problem in problems))


def parse_file(name: str, content: bytes) -> list[dict[str, Any]]:
    """Frameworks described by an uploaded or local file, chosen by its extension."""
    suffix = PurePath(name).suffix.lower()
    if suffix not in {".json", ".csv"}:
        raise FrameworkFileError(
            [Problem("", _("The file must end in .json or .csv (found “%s”).") % (suffix or name))]
        )
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise FrameworkFileError(
            [Problem("", _("The file is not UTF-8 text (byte %d).") % (error.start + 1))]
        ) from None
    return parse_json(text) if suffix == ".json" else parse_csv(text)


# JSON -------------------------------------------------------------------------


def parse_json(text: str) -> list[dict[str, Any]]:
    """One framework object, or a list of them."""
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as error:
        raise FrameworkFileError(
            [
                Problem(
                    "",
                    # Python's own wording is English and names parser terms: the place
                    # and what usually causes it say more to the person who edits the file.
                    _(
                        "Invalid JSON at column %(column)s. Check the quotes and the commas "
                        "there and just before (a missing comma, a comma too many, a name "
                        "without double quotes)."
                    )
                    % {"column": error.colno},
                    line=error.lineno,
                )
            ]
        ) from None
    except ValueError:
        # Python refuses to convert integers of more than 4,300 digits (int_max_str_digits).
        raise FrameworkFileError(
            [Problem("", _("Unreadable JSON: a number has too many digits."))]
        ) from None
    except RecursionError:
        raise FrameworkFileError(
            [Problem("", _("Unreadable JSON: lists or objects are nested too deeply."))]
        ) from None
    items, prefix = (raw, "[{}]") if isinstance(raw, list) else ([raw], "")
    problems: list[Problem] = []
    frameworks = [
        _json_framework(item, prefix.format(index), problems) for index, item in enumerate(items)
    ]
    if not items:
        problems.append(Problem("", _("The file describes no framework.")))
    _check_unique(
        [
            (f"{f['code']} {f['version']}", _path(prefix.format(i), "code"))
            for i, f in enumerate(frameworks)
        ],
        lambda key, path, first: Problem(
            "code", _("Framework %(key)s is described twice.") % {"key": key}, path=path
        ),
        problems,
    )
    if problems:
        raise FrameworkFileError(problems)
    return frameworks


def _json_framework(raw: Any, path: str, problems: list[Problem]) -> dict[str, Any]:
    if not _expect_object(raw, path, problems):
        return {"code": "", "version": ""}
    _unknown_keys(raw, FRAMEWORK_KEYS, path, problems)
    version = raw.get("version")
    if isinstance(version, int) and not isinstance(version, bool):
        version = str(version)  # "version": 2025 is a natural thing to type
    data = {
        "code": _text(raw, "code", Framework, path, problems),
        "title": _text(raw, "title", Framework, path, problems),
        "version": _check_text(version, "version", Framework, path, problems),
        "kind": _text(raw, "kind", Framework, path, problems, required=False),
        "awarding_body": _text(raw, "awarding_body", Framework, path, problems, required=False),
        "note": _text(raw, "note", Framework, path, problems, required=False),
        "sources": _text_list(raw, "sources", path, problems),
        "levels": [],
        "target_level": None,
        "blocks": [],
        "specialisations": _text_list(raw, "specialisations", path, problems),
    }
    levels = _list(raw, "levels", path, problems, required=True)
    if len(levels) > MAX_ITEMS:
        problems.append(_too_many("levels", "levels", _path(path, "levels")))
        levels = []
    for index, level in enumerate(levels):
        level_path = _path(path, f"levels[{index}]")
        if not _expect_object(level, level_path, problems):
            continue
        _unknown_keys(level, LEVEL_KEYS, level_path, problems)
        data["levels"].append(
            {
                "rank": _rank(level.get("rank"), _path(level_path, "rank"), problems),
                "code": _text(level, "code", Level, level_path, problems),
                "label": _text(level, "label", Level, level_path, problems),
                "descriptor": _text(
                    level, "descriptor", Level, level_path, problems, required=False
                ),
            }
        )
    if levels:
        _check_levels(data["levels"], lambda index: _path(path, f"levels[{index}]"), problems)
    elif isinstance(raw.get("levels"), list) and not raw["levels"]:
        problems.append(
            Problem("levels", _("At least one level is required."), path=_path(path, "levels"))
        )
    data["target_level"] = _target_level(
        raw.get("target_level"), data["levels"], _path(path, "target_level"), problems
    )

    competence_paths: list[tuple[str, str]] = []
    blocks = _list(raw, "blocks", path, problems, required=True)
    if len(blocks) > MAX_ITEMS:
        problems.append(_too_many("blocks", "blocks", _path(path, "blocks")))
        blocks = []
    for block_index, block in enumerate(blocks):
        block_path = _path(path, f"blocks[{block_index}]")
        if not _expect_object(block, block_path, problems):
            continue
        _unknown_keys(block, BLOCK_KEYS, block_path, problems)
        block_data = {
            "code": _text(block, "code", Block, block_path, problems),
            "title": _text(block, "title", Block, block_path, problems),
            "description": _text(block, "description", Block, block_path, problems, required=False),
            "competences": [],
        }
        competences = _list(block, "competences", block_path, problems)
        if len(competences) > MAX_ITEMS:
            problems.append(
                _too_many("competences", "competences", _path(block_path, "competences"))
            )
            competences = []
        for index, competence in enumerate(competences):
            competence_path = _path(block_path, f"competences[{index}]")
            if not _expect_object(competence, competence_path, problems):
                continue
            _unknown_keys(competence, COMPETENCE_KEYS, competence_path, problems)
            competence_data = {
                "code": _text(competence, "code", Competence, competence_path, problems),
                "title": _text(competence, "title", Competence, competence_path, problems),
                "description": _text(
                    competence, "description", Competence, competence_path, problems, required=False
                ),
                "external_uri": _text(
                    competence,
                    "external_uri",
                    Competence,
                    competence_path,
                    problems,
                    required=False,
                ),
            }
            block_data["competences"].append(competence_data)
            competence_paths.append((competence_data["code"], _path(competence_path, "code")))
        data["blocks"].append(block_data)

    _check_unique(
        [
            (block["code"], _path(path, f"blocks[{i}].code"))
            for i, block in enumerate(data["blocks"])
        ],
        lambda code, where, first: Problem(
            "code",
            _("Block code %(code)s is already used at %(first)s.") % {"code": code, "first": first},
            path=where,
        ),
        problems,
    )
    _check_unique(
        competence_paths,
        lambda code, where, first: Problem(
            "code",
            _("Competence code %(code)s is already used at %(first)s.")
            % {"code": code, "first": first},
            path=where,
        ),
        problems,
    )
    return data


def _too_many(kind: str, field: str, path: str = "", line: int | None = None) -> Problem:
    message = {
        "levels": _("A framework may have at most %(max)s levels."),
        "blocks": _("A framework may have at most %(max)s blocks."),
        "competences": _("A block may have at most %(max)s competences."),
    }[kind]
    return Problem(field, message % {"max": MAX_ITEMS}, path=path, line=line)


def unstorable(value: str) -> str | None:
    """Why the database cannot store the text `value`, or None when it can."""
    # PostgreSQL refuses NUL in text and JSON; a lone surrogate ("\ud800" in JSON)
    # is not UTF-8 at all. Either would fail while writing, as a 500.
    if "\x00" in value:
        return _("This text contains a NUL character, which cannot be stored.")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return _(
            "This text contains an invalid character (a lone surrogate), which cannot be stored."
        )
    return None


def _path(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix and not name.startswith("[") else f"{prefix}{name}"


def _expect_object(value: Any, path: str, problems: list[Problem]) -> bool:
    if isinstance(value, dict):
        return True
    problems.append(Problem(path.rsplit(".", 1)[-1], _("Expected an object."), path=path or "/"))
    return False


def _unknown_keys(raw: dict, allowed: set[str], path: str, problems: list[Problem]) -> None:
    # A misspelt key ("competence" for "competences") would silently drop data.
    for key in sorted(set(raw) - allowed):
        problems.append(Problem(key, _("Unknown field."), path=_path(path, key)))


def _text(
    raw: dict,
    name: str,
    model: type[models.Model],
    path: str,
    problems: list[Problem],
    required: bool = True,
) -> str:
    return _check_text(raw.get(name), name, model, path, problems, required)


def _check_text(
    value: Any,
    name: str,
    model: type[models.Model],
    path: str,
    problems: list[Problem],
    required: bool = True,
) -> str:
    where = _path(path, name)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            problems.append(Problem(name, _("This field is required."), path=where))
        return ""
    if not isinstance(value, str):
        problems.append(Problem(name, _("Expected text."), path=where))
        return ""
    value = value.strip()
    if reason := unstorable(value):
        problems.append(Problem(name, reason, path=where))
        return value
    for message in _field_errors(model, name, value):
        problems.append(Problem(name, message, path=where))
    return value


def _field_errors(model: type[models.Model], name: str, value: str) -> list[str]:
    """The model field's own validators: lengths, code format, URL."""
    try:
        model._meta.get_field(name).run_validators(value)
    except ValidationError as error:
        return [str(message) for message in error.messages]
    return []


def _text_list(raw: dict, name: str, path: str, problems: list[Problem]) -> list[str]:
    values = _list(raw, name, path, problems)
    result = []
    for index, value in enumerate(values):
        if not isinstance(value, str) or not value.strip():
            problems.append(
                Problem(name, _("Expected non-empty text."), path=_path(path, f"{name}[{index}]"))
            )
        elif reason := unstorable(value):
            problems.append(Problem(name, reason, path=_path(path, f"{name}[{index}]")))
        else:
            result.append(value.strip())
    return result


def _list(raw: dict, name: str, path: str, problems: list[Problem], required: bool = False) -> list:
    value = raw.get(name)
    if value is None:
        if required:
            problems.append(Problem(name, _("This field is required."), path=_path(path, name)))
        return []
    if not isinstance(value, list):
        problems.append(Problem(name, _("Expected a list."), path=_path(path, name)))
        return []
    return value


def _rank(value: Any, path: str, problems: list[Problem]) -> int | None:
    if value is None:
        problems.append(Problem("rank", _("This field is required."), path=path))
    elif isinstance(value, bool) or not isinstance(value, int) or value < 1:
        problems.append(Problem("rank", _("Expected a whole number from 1."), path=path))
    else:
        return value
    return None


def _check_levels(levels: list[dict], where, problems: list[Problem]) -> None:
    """Ranks run 1, 2, 3… in order and codes are unique."""
    for index, level in enumerate(levels):
        if level["rank"] is not None and level["rank"] != index + 1:
            problems.append(
                Problem(
                    "rank",
                    _("Levels must be ranked 1, 2, 3… in order: expected %(expected)s.")
                    % {"expected": index + 1},
                    path=_path(where(index), "rank"),
                )
            )
    _check_unique(
        [(level["code"], _path(where(i), "code")) for i, level in enumerate(levels)],
        lambda code, path, first: Problem(
            "code",
            _("Level code %(code)s is already used at %(first)s.") % {"code": code, "first": first},
            path=path,
        ),
        problems,
    )


def _target_level(value: Any, levels: list[dict], path: str, problems: list[Problem]) -> int | None:
    if value is None:
        problems.append(Problem("target_level", _("This field is required."), path=path))
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        problems.append(Problem("target_level", _("Expected the rank of a level."), path=path))
        return None
    if levels and value not in {level["rank"] for level in levels}:
        problems.append(
            Problem("target_level", _("No level has rank %(rank)s.") % {"rank": value}, path=path)
        )
    return value


def _check_unique(items: Iterable[tuple[str, Any]], problem, problems: list[Problem]) -> None:
    """Report every repeat of a key after its first occurrence."""
    first_seen: dict[str, Any] = {}
    for key, where in items:
        if not key:
            continue  # already reported as required
        if key in first_seen:
            problems.append(problem(key, where, first_seen[key]))
        else:
            first_seen[key] = where


# CSV --------------------------------------------------------------------------


def parse_csv(text: str) -> list[dict[str, Any]]:
    """One row per competence; a row without competence declares an empty block.

    Levels, target level and the other framework fields are not in the CSV: they
    stay as stored for a known version, or come from the newest stored version of
    the same code when the file introduces a new version (see docs/decisions.md).
    """
    reader = csv.reader(io.StringIO(text, newline=""), dialect=_dialect(text))
    rows = _numbered_rows(reader)
    header_line, header = next(rows, (1, []))
    header = [name.strip() for name in header]
    problems = [
        Problem(column, _("Missing column."), line=header_line)
        for column in CSV_REQUIRED_COLUMNS
        if column not in header
    ] + [
        Problem(column, _("Unknown column."), line=header_line)
        for column in header
        if column not in CSV_COLUMNS
    ]
    if problems:
        raise FrameworkFileError(problems)

    frameworks: dict[tuple[str, str], dict[str, Any]] = {}
    first_lines: dict[tuple[str, str], int] = {}
    blocks: dict[tuple[str, str, str], tuple[dict, int]] = {}
    competences: dict[tuple[str, str, str], int] = {}
    numbered: list[tuple[int, list[str]]] = []
    try:
        numbered.extend(rows)
    except FrameworkFileError as error:
        problems.extend(error.problems)  # the rows before it are still checked
    for line, cells_list in numbered:
        if len(cells_list) > len(header):
            problems.append(Problem("", _("This row has more cells than the header."), line=line))
            continue
        row = dict(zip(header, cells_list, strict=False))
        cells = {name: (row.get(name) or "").strip() for name in CSV_COLUMNS}
        if not any(cells.values()):
            continue  # spreadsheets leave blank lines at the end

        check = partial(_cell, cells, line, problems)
        code = check("framework", Framework, "code")
        version = check("version", Framework, "version")
        title = check("framework_title", Framework, "title")
        key = (code, version)
        framework = frameworks.get(key)
        if framework is None:
            framework = frameworks[key] = {
                "code": code,
                "version": version,
                "title": title,
                "blocks": [],
            }
            first_lines[key] = line
        elif title and title != framework["title"]:
            problems.append(_differs("framework_title", first_lines[key], line))

        block_code = check("block_code", Block, "code")
        block_title = check("block_title", Block, "title")
        block_description = check("block_description", Block, "description", required=False)
        block_entry = blocks.get((code, version, block_code))
        if block_entry is None:
            # Said once, on the first block too many: the following ones would repeat it.
            if len(framework["blocks"]) == MAX_ITEMS:
                problems.append(_too_many("blocks", "block_code", line=line))
            block = {"code": block_code, "title": block_title, "description": block_description}
            block["competences"] = []
            framework["blocks"].append(block)
            blocks[(code, version, block_code)] = (block, line)
        else:
            block, block_line = block_entry
            if block_title and block_title != block["title"]:
                problems.append(_differs("block_title", block_line, line))
            # The description may sit on any one row of the block, or be repeated.
            if block_description and block["description"] not in ("", block_description):
                problems.append(_differs("block_description", block_line, line))
            elif block_description:
                block["description"] = block_description

        competence_cells = (
            "competence_code",
            "competence_title",
            "competence_description",
            "external_uri",
        )
        if not any(cells[name] for name in competence_cells):
            continue  # a block without competences yet
        competence_code = check("competence_code", Competence, "code")
        competence = {
            "code": competence_code,
            "title": check("competence_title", Competence, "title"),
            "description": check(
                "competence_description", Competence, "description", required=False
            ),
            "external_uri": check("external_uri", Competence, "external_uri", required=False),
        }
        first = competences.get((code, version, competence_code))
        if competence_code and first is not None:
            problems.append(
                Problem(
                    "competence_code",
                    _("Competence code %(code)s is already used on line %(first)s.")
                    % {"code": competence_code, "first": first},
                    line=line,
                )
            )
        elif competence_code:
            competences[(code, version, competence_code)] = line
        if len(block["competences"]) == MAX_ITEMS:
            problems.append(_too_many("competences", "competence_code", line=line))
        block["competences"].append(competence)

    if not frameworks and not problems:
        problems.append(Problem("", _("The file describes no framework."), line=2))
    for key, framework in frameworks.items():
        # A code or version refused above (a NUL, say) is not looked up: PostgreSQL
        # refuses it even in a query.
        if all(key) and not any(unstorable(part) for part in key):
            _inherit_from_stored_version(framework, first_lines[key], problems)
    if problems:
        raise FrameworkFileError(problems)
    return list(frameworks.values())


def _cell(
    cells: dict[str, str],
    line: int,
    problems: list[Problem],
    column: str,
    model: type[models.Model],
    field: str,
    required: bool = True,
) -> str:
    value = cells[column]
    if not value:
        if required:
            problems.append(Problem(column, _("This field is required."), line=line))
        return ""
    if reason := unstorable(value):
        problems.append(Problem(column, reason, line=line))
        return value
    problems.extend(Problem(column, m, line=line) for m in _field_errors(model, field, value))
    return value


def _numbered_rows(reader) -> Iterable[tuple[int, list[str]]]:
    """Rows with the line they start on (a quoted cell may span several lines)."""
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error:
            # Python's own wording is English and says little: the usual cause is a
            # quote opened and never closed, which runs one cell to the end of the file.
            raise FrameworkFileError(
                [
                    Problem(
                        "",
                        _(
                            "Unreadable CSV from this line on: a quote is probably opened "
                            "and never closed, or a cell is longer than 128 KB."
                        ),
                        line=start,
                    )
                ]
            ) from None
        if row:
            yield start, row


def _dialect(text: str) -> type[csv.Dialect]:
    # French spreadsheets save CSV with semicolons: accept both, decided by the header.
    header = text.split("\n", 1)[0]
    return _Semicolon if header.count(";") > header.count(",") else csv.excel


class _Semicolon(csv.excel):
    delimiter = ";"


def _differs(column: str, first_line: int, line: int) -> Problem:
    return Problem(
        column,
        _("This value differs from line %(first)s for the same code.") % {"first": first_line},
        line=line,
    )


def _inherit_from_stored_version(framework: dict, line: int, problems: list[Problem]) -> None:
    stored = Framework.objects.filter(code=framework["code"], version=framework["version"]).first()
    if stored is not None:
        return  # an update: levels and the other fields stay as they are
    base = Framework.objects.latest_of(framework["code"])
    if base is None:
        problems.append(
            Problem(
                "framework",
                _(
                    "No framework %(code)s is stored yet and a CSV file carries no levels: "
                    "import it as JSON first."
                )
                % {"code": framework["code"]},
                line=line,
            )
        )
        return
    inherited = serialise(base)
    framework.update({key: inherited[key] for key in CSV_INHERITED_KEYS})


# Writing ------------------------------------------------------------------------


def serialise(framework: Framework) -> dict[str, Any]:
    """The canonical shape of a stored framework (what export writes, import reads)."""
    blocks = framework.blocks.order_by("order", "code").prefetch_related(
        models.Prefetch("competences", queryset=Competence.objects.order_by("order", "code"))
    )
    return {
        "code": framework.code,
        "title": framework.title,
        "version": framework.version,
        "kind": framework.kind,
        "awarding_body": framework.awarding_body,
        "note": framework.note,
        "sources": list(framework.sources),
        "levels": [
            {
                "rank": level.rank,
                "code": level.code,
                "label": level.label,
                "descriptor": level.descriptor,
            }
            for level in framework.levels.order_by("rank")
        ],
        "target_level": framework.target_level_rank,
        "blocks": [
            _without_empty(
                {
                    "code": block.code,
                    "title": block.title,
                    "description": block.description,
                    "competences": [
                        _without_empty(
                            {
                                "code": competence.code,
                                "title": competence.title,
                                "description": competence.description,
                                "external_uri": competence.external_uri,
                            }
                        )
                        for competence in block.competences.all()
                    ],
                }
            )
            for block in blocks
        ],
        "specialisations": list(framework.specialisations),
    }


def _without_empty(data: dict[str, Any]) -> dict[str, Any]:
    # Optional texts are left out when empty, as in the hand-written files.
    return {
        key: value
        for key, value in data.items()
        if value != "" or key not in {"description", "external_uri"}
    }


def to_json(framework: Framework) -> str:
    return json.dumps(serialise(framework), ensure_ascii=False, indent=2) + "\n"


def to_csv(framework: Framework) -> str:
    data = serialise(framework)
    output = io.StringIO()
    writer = csv.DictWriter(output, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    common = {
        "framework": data["code"],
        "version": data["version"],
        "framework_title": data["title"],
    }
    for block in data["blocks"]:
        block_cells = {
            **common,
            "block_code": block["code"],
            "block_title": block["title"],
            "block_description": block.get("description", ""),
        }
        if not block["competences"]:
            writer.writerow(block_cells)
        for competence in block["competences"]:
            writer.writerow(
                {
                    **block_cells,
                    "competence_code": competence["code"],
                    "competence_title": competence["title"],
                    "competence_description": competence.get("description", ""),
                    "external_uri": competence.get("external_uri", ""),
                }
            )
    return output.getvalue()
