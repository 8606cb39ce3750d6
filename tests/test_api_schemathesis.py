"""Schemathesis over every API operation, logged in as a county administrator and as a village collector.

Each operation gets schema-valid and schema-breaking requests (positive and negative generation).
Any 5xx, any answer that breaks the OpenAPI schema, or a status code the operation does not declare
fails. Bounded for CI: MAX_EXAMPLES per operation and role, derandomized (the same requests every
run, so a failure reproduces), no deadline, no shrinking. Runs on SQLite and on PostgreSQL alike.
"""

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from yibao.accounts.roles import Role
from yibao.api import api

MAX_EXAMPLES = 20
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance]
ROLES = [str(Role.COUNTY_ADMIN), str(Role.VILLAGE_COLLECTOR)]
SCHEMA = schemathesis.openapi.from_dict(api.get_openapi_schema(path_prefix="/api"))
OPERATIONS = sorted((result.ok() for result in SCHEMA.get_all_operations()), key=lambda op: (op.path, op.method))


class NoCsrfHandler(WSGIHandler):
    """The project's WSGI app as deployed, except CSRF: the session cookie stands in for a browser."""

    def get_response(self, request):
        request._dont_enforce_csrf_checks = True
        return super().get_response(request)


@pytest.fixture(autouse=True)
def _keep_test_connection():
    """A WSGI request closes the database connection when it ends (close_old_connections), which would
    drop the test transaction on PostgreSQL; Django's own test client unhooks it the same way."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _known_path_values(world, role) -> dict:
    target = world.targets["own_village"]
    return {
        "resident_id": target.resident.pk, "household_id": target.household.pk, "flag_id": target.flag.pk,
        "user_id": target.user.pk, "region_code": target.village_code, "code": target.village_code,
        "policy_id": "anhui-huaiyuan-2025", "year": 2025,
    }


def test_every_operation_is_covered():
    assert len(OPERATIONS) == sum(len(methods) for methods in SCHEMA.raw_schema["paths"].values())
    assert len(OPERATIONS) >= 60


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("operation", OPERATIONS, ids=[f"{op.method.upper()} {op.path}" for op in OPERATIONS])
def test_api_operation_answers_within_schema(world, db, client, role, operation):
    client.force_login(world.users[role])
    cookies = {"sessionid": client.cookies["sessionid"].value}
    app = NoCsrfHandler()
    strategies = [operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE)]
    known = _known_path_values(world, role)
    fixed = {p.name: known[p.name] for p in operation.path_parameters if p.name in known}
    if fixed:  # also reach past the 404: the same operation on rows that exist in the collector's village
        strategies.append(operation.as_strategy(GenerationMode.POSITIVE, path_parameters=fixed))
    cases = st.one_of(*strategies)

    @settings(
        max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
        phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck),
    )
    @given(case=cases)
    def run(case):
        with transaction.atomic():  # each request is undone, so examples don't pile up in the world
            response = case.call(app=app, cookies=cookies)
            case.validate_response(response, checks=CHECKS)
            transaction.set_rollback(True)

    run()
