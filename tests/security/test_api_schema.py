"""The public API keeps to its OpenAPI schema under schemathesis' generated requests:
never a server error, only documented status codes, bodies matching the schema.

The operations are driven from a plain test (not schemathesis' pytest plugin) so
that the schema is loaded inside the test database, through the WSGI app.
"""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from config.wsgi import application
from tests.security.test_fuzzing import small_catalogue  # noqa: F401 (a fixture)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def connection_kept_across_requests():
    """What Django's test client does: a WSGI request must not close the test's
    database connection (on PostgreSQL it would end the test transaction)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def test_the_public_api_never_fails_and_answers_as_documented(
    small_catalogue,  # noqa: F811
    connection_kept_across_requests,
):
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", application)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {operation.label for operation in operations} >= {
        "GET /api/frameworks",
        "GET /api/frameworks/{code}",
        "GET /api/modules",
    }
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
        def call(case):
            case.call_and_validate(checks=CHECKS)

        call()
