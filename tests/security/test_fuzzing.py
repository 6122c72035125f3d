"""Random input never makes the catalogue, the API or the framework import fail with a 5xx
or an unexpected exception: bad values are ignored or refused with located problems."""

import copy
import csv
import io
import json
from urllib.parse import urlencode

import pytest
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from courses.frameworks_io import CSV_COLUMNS, FrameworkFileError, parse_file, serialise
from courses.services import import_frameworks
from tests.learners.factories import make_framework, make_module, make_track

FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

CATALOGUE_PARAMS = [
    "q",
    "block",
    "competence",
    "level",
    "audience",
    "format",
    "track",
    "duration_min",
    "duration_max",
    "sort",
    "page",
]
KNOWN_VALUES = [
    "B1",
    "B1.1",
    "appliquer",
    "facilitateurs",
    "agents_publics",
    "en_ligne",
    "title",
    "duration",
    "newest",
    "relevance",
    "0",
    "-1",
    "1e9",
    "99999999999999999999",
    "NaN",
    "",
    " ",
    "%",
    "'; DROP TABLE x; --",
    "\x00",
    "\ud800",
    "<script>",
]

values = st.one_of(
    st.sampled_from(KNOWN_VALUES),
    st.text(max_size=300),
    st.integers().map(str),
    st.floats(allow_nan=True).map(str),
)
query = st.lists(
    st.tuples(st.one_of(st.sampled_from(CATALOGUE_PARAMS), st.text(max_size=10)), values),
    max_size=8,
)


@pytest.fixture
def small_catalogue(db, karim):
    framework = make_framework()
    track = make_track(framework, "Piloter un tiers-lieu (fuzz)")
    make_module(track, "Les bases", lessons=1, targets=[("B1.1", 2)], owner=karim)
    make_module(track, "Approfondir", lessons=1, targets=[("B2.1", 3)], owner=karim)
    return framework


def _holds_nul(pairs) -> bool:
    return any("\x00" in name or "\x00" in value for name, value in pairs)


def _encode(pairs) -> str:
    # Lone surrogates cannot be encoded: send them the way a broken client would.
    return urlencode(
        [(k.encode("utf-8", "surrogatepass"), v.encode("utf-8", "surrogatepass")) for k, v in pairs]
    )


@FUZZ
@given(pairs=query)
def test_the_catalogue_never_fails_whatever_the_query_string(client, small_catalogue, pairs):
    response = client.get(f"/catalogue/?{_encode(pairs)}")
    # A NUL is refused as malformed before any view (tests/security/test_null_characters.py).
    assert response.status_code == (400 if _holds_nul(pairs) else 200)


@FUZZ
@given(pairs=query)
def test_the_modules_api_answers_200_or_a_422_whatever_the_query_string(
    client, small_catalogue, pairs
):
    response = client.get(f"/api/modules?{_encode(pairs)}")
    if _holds_nul(pairs):
        assert response.status_code == 400
        assert response.json() == {"detail": "Malformed request."}
    else:
        assert response.status_code in (200, 422), response.content[:500]


# --- Framework import -------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)


def _check_outcome(name: str, content: bytes) -> None:
    """Either located problems, or a parse whose dry-run import succeeds or is refused cleanly."""
    try:
        frameworks = parse_file(name, content)
    except FrameworkFileError as refused:
        assert refused.problems
        assert all(str(problem) for problem in refused.problems)
        return
    try:
        import_frameworks(frameworks, dry_run=True)
    except (FrameworkFileError, ValidationError) as refused:
        assert str(refused)


@pytest.mark.django_db
@FUZZ
@given(document=json_values)
def test_random_json_is_refused_with_located_problems(document):
    _check_outcome("referentiel.json", json.dumps(document).encode())


MUTATIONS = st.lists(
    st.tuples(
        st.sampled_from(["delete", "replace", "duplicate"]),
        st.integers(min_value=0, max_value=10_000),
        json_values,
    ),
    min_size=1,
    max_size=4,
)


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for key, child in node.items():
            yield from _paths(child, (*prefix, key))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            yield from _paths(child, (*prefix, index))


def _mutate(document, mutations):
    document = copy.deepcopy(document)
    for action, pick, value in mutations:
        paths = [p for p in _paths(document) if p]
        if not paths:
            break
        path = paths[pick % len(paths)]
        parent = document
        for step in path[:-1]:
            parent = parent[step]
        last = path[-1]
        if action == "delete":
            del parent[last]
        elif action == "replace":
            parent[last] = value
        elif isinstance(parent, list):
            parent.append(copy.deepcopy(parent[last]))
        else:
            parent[f"{last}_copy"] = copy.deepcopy(parent[last])
    return document


@pytest.fixture
def stored_framework(db):
    return serialise(make_framework(code="FUZZ", version="1"))


@FUZZ
@given(mutations=MUTATIONS)
def test_a_mutated_export_is_imported_or_refused_with_located_problems(stored_framework, mutations):
    document = _mutate(stored_framework, mutations)
    _check_outcome("referentiel.json", json.dumps(document).encode())


cells = st.one_of(st.sampled_from(["FUZZ", "1", "B1", "B1.1", "", "x" * 300]), st.text(max_size=30))


@FUZZ
@given(
    header=st.one_of(
        st.just(CSV_COLUMNS), st.lists(st.sampled_from(CSV_COLUMNS + ["?"]), max_size=12)
    ),
    rows=st.lists(st.lists(cells, max_size=12), max_size=6),
    delimiter=st.sampled_from([",", ";", "\t"]),
)
def test_random_csv_is_refused_with_located_problems_or_imported(
    stored_framework, header, rows, delimiter
):
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow(header)
    writer.writerows(rows)
    _check_outcome("referentiel.csv", buffer.getvalue().encode("utf-8", "surrogatepass"))
