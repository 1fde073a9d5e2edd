"""Property-based fuzzing of the whole API, as each role, against the live server.

Schemathesis makes requests from /api/openapi.json (valid ones, boundary values and
invalid ones) for every operation, logged in as each role, and sends them to the real
server (gunicorn on PostgreSQL, tests/fuzz/conftest.py). Any 5xx fails, and so does any
answer that breaks the schema the document declares for it. The run is bounded and
reproducible: a fixed seed, derandomised Hypothesis, a fixed number of examples.

Checking a request's values does not depend on who sends it, so the admin (who reaches
every operation's checks) gets the coverage phase's invalid values as well; every role
gets its boundary values and the random fuzzing phase, valid and invalid.

Logout and refresh would end the session the fuzzer works with: they are fuzzed apart,
each case with a fresh login of its own.
"""

import json

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import load_all_checks
from schemathesis.core.failures import FailureGroup, ServerError

from server import create_app
from server.openapi import build_spec
from tests.fuzz.conftest import ROLES
from tests.fuzz.guard import aim_at_known, aim_at_spares, fix_up_push, note_push_answer
from tests.fuzz.summary import record, record_failure

pytestmark = pytest.mark.postgres_only

load_all_checks()
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
SESSION_ENDING = ["accounts.logout", "accounts.refresh"]
# Examples per operation and role in the fuzzing phase; the coverage phase adds its own
# boundary (and, for the admin, invalid) values. Tuned so the whole run takes about three
# minutes on two cores; see the summary printed at the end of the run.
MAX_EXAMPLES = 20
SEED = 20261202
OTHER_ROLES = tuple(role for role in ROLES if role != "admin")


def _config(coverage_modes):
    return schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "generation": {"max-examples": MAX_EXAMPLES, "mode": "all"},
            "phases": {
                "examples": {"enabled": False},
                "coverage": {"enabled": True, "generation": {"mode": coverage_modes}},
                "fuzzing": {"enabled": True},
                "stateful": {"enabled": False},
            },
        }
    )


FUZZ_SETTINGS = settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=False,
    suppress_health_check=list(HealthCheck),
    phases=[Phase.explicit, Phase.generate, Phase.shrink],
)


def _document():
    """The OpenAPI document as the server builds it (test_the_server_serves_this_document
    checks that the live server serves the same one)."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x" * 48})
    return build_spec(app)


DOCUMENT = _document()
AS_ADMIN = schemathesis.openapi.from_dict(DOCUMENT, config=_config("all"))
AS_OTHERS = schemathesis.openapi.from_dict(DOCUMENT, config=_config("positive"))


@pytest.fixture(params=["admin"])
def admin(request, live_api):
    return live_api.session(request.param)


@pytest.fixture(params=OTHER_ROLES)
def other_role(request, live_api):
    return live_api.session(request.param)


def test_the_server_serves_this_document(live_api):
    served = requests.get(live_api.url + "/api/openapi.json", timeout=30)
    assert served.status_code == 200
    assert served.json() == json.loads(json.dumps(DOCUMENT))


def validate(case, session, response):
    try:
        case.validate_response(response, checks=CHECKS)
    except FailureGroup as group:
        for failure in group.exceptions:
            if not isinstance(failure, ServerError):
                record_failure(session.role, case, failure)
        raise


def send_and_check(case, session, live_api):
    aim_at_known(case, live_api)
    aim_at_spares(case, live_api)
    fix_up_push(case, session)
    response = case.call(base_url=live_api.url, headers=session.headers, timeout=60)
    record(session.role, case, response, live_api.server)
    note_push_answer(case, session, response, live_api)
    validate(case, session, response)


def end_a_fresh_session(case, session, live_api):
    tokens = live_api.login(session.phone)
    kind = "refresh_token" if case.operation.path.endswith("/refresh") else "access_token"
    headers = {"Authorization": f"Bearer {tokens[kind]}"}
    response = case.call(base_url=live_api.url, headers=headers, timeout=60)
    record(session.role, case, response, live_api.server)
    validate(case, session, response)


@AS_ADMIN.exclude(operation_id=SESSION_ENDING).parametrize()
@FUZZ_SETTINGS
def test_every_operation_as_admin(case, admin, live_api):
    send_and_check(case, admin, live_api)


@AS_OTHERS.exclude(operation_id=SESSION_ENDING).parametrize()
@FUZZ_SETTINGS
def test_every_operation_as_each_other_role(case, other_role, live_api):
    send_and_check(case, other_role, live_api)


@AS_ADMIN.include(operation_id=SESSION_ENDING).parametrize()
@FUZZ_SETTINGS
def test_session_ending_operations_as_admin(case, admin, live_api):
    end_a_fresh_session(case, admin, live_api)


@AS_OTHERS.include(operation_id=SESSION_ENDING).parametrize()
@FUZZ_SETTINGS
def test_session_ending_operations_as_each_other_role(case, other_role, live_api):
    end_a_fresh_session(case, other_role, live_api)
