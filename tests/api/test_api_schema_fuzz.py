"""Schemathesis against the app's own OpenAPI schema: generated requests for every operation, bounded
for CI. No answer may be a server error, and the 405s say which methods are allowed.

Full conformance (every status code and error body declared in the schema) is not checked yet: the
schema does not declare the 404/409/422 answers of most operations."""

import tempfile
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, settings

from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import unsupported_method

from rilievo.entrypoints.http_app import create_app
from tests.api.api_helpers import make_services

MAX_EXAMPLES = 25  # per operation: about 500 requests in all

APP = create_app(make_services(Path(tempfile.mkdtemp(prefix="rilievo-schemathesis-"))))
schema = schemathesis.openapi.from_asgi("/schema/openapi.json", APP)


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_request_breaks_the_api_or_its_schema(case):
    case.call_and_validate(checks=[not_a_server_error, unsupported_method])
