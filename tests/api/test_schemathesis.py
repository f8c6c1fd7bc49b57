"""Schemathesis generates requests from the project's own OpenAPI schema and sends them to the
WSGI app with a valid key: no answer may be a server error, none may contradict the schema."""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from surveys.api.models import ApiKey

MAX_EXAMPLES = 30


@pytest.fixture
def api_schema(db):
    # As Django's test client does: a finished request must not close the test's connection
    # (it holds the transaction that keeps this test's data apart).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.fixture
def key(organisation):
    return ApiKey.objects.create_key(organisation=organisation, name="schemathesis")[1]


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_the_api_keeps_to_its_schema(case, key):
    case.call_and_validate(
        headers={"Authorization": f"Api-Key {key}"},
        checks=[not_a_server_error, response_schema_conformance],
    )
