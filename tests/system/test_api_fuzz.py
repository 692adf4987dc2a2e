"""schemathesis against /api/schema/: every documented endpoint, fuzzed, never answers 5xx and
answers what the schema says, errors included: every status is documented for its operation and
every body, success or error, matches its schema (in-process WSGI, the CJ simulator behind the
client)."""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from config.wsgi import application

# The schema view needs no database: it is loaded at collection, in process.
schema = schemathesis.openapi.from_wsgi("/api/schema/", application)


@pytest.fixture(autouse=True)
def _backing_services(db, cj_simulator):
    """Real PostgreSQL (pytest-django's test database) and the CJ simulator behind the client.

    As Django's test client does, keep the request cycle from closing the test's DB connection."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors_and_documented_shapes(case):
    response = case.call(headers={"Host": "localhost"})

    assert response.status_code < 500, (case.method, case.formatted_path, response.status_code, response.text[:300])
    case.validate_response(
        response, checks=[status_code_conformance, response_schema_conformance, content_type_conformance]
    )
    if response.status_code >= 400:
        body = response.json()
        assert set(body) == {"error", "request_id"}, body
        assert set(body["error"]) == {"code", "message", "details"}, body
