"""Schemathesis fuzzing from the server's own OpenAPI schema: no 5xx, no stack traces."""

from __future__ import annotations

import pytest
from serve_helpers import make_state

from privtune.serve.app import create_app

schemathesis = pytest.importorskip("schemathesis")
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def app_and_tokens(trained_run):
    state = make_state(
        trained_run,
        max_tokens=4,
        rate_limit={"requests_per_minute": 100000},
        extraction={"delay_seconds": 0.0},
    )
    _, admin = state.keys.create("fuzz", "admin")
    return create_app(state), admin


def test_fuzz_openapi(app_and_tokens):
    from hypothesis import HealthCheck, settings

    app, token = app_and_tokens
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures, calls = [], []

    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def run(case):
        for headers in ({"Authorization": f"Bearer {token}"}, {}):
            response = case.call(headers=headers)
            calls.append(response.status_code)
            if response.status_code >= 500 or "Traceback" in response.text:
                failures.append((case.method, case.path, response.status_code))

    tested = 0
    for op in schema.get_all_operations():
        strategy = op.ok().as_strategy()
        from hypothesis import given

        given(strategy)(run)()
        tested += 1
    assert tested >= 7 and len(calls) >= 100 and 200 in calls
    assert not failures, failures
