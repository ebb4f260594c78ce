"""Property-based run over the OpenAPI schema (Schemathesis) against a live uvicorn on 127.0.0.1: whatever the
generated request, the server never answers 5xx, and every 4xx carries a message (``{"detail": ...}``).

Hypothesis is derandomised (a fixed seed per endpoint) and bounded in examples, so the run is repeatable and
short. What-if jobs the fuzzer starts are bounded by the server itself (one queued job here).
"""

from __future__ import annotations

import pytest

schemathesis = pytest.importorskip("schemathesis", reason="pip install -e '.[dev]'")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402
from test_serve import LiveServer  # noqa: E402

from emigre.serve import create_app  # noqa: E402


@pytest.fixture(scope="module")
def live(main_job):
    with LiveServer(create_app(main_job[0], max_queued=1)) as s:
        yield s


OPERATIONS = [
    ("GET", "/api/health"), ("GET", "/api/meta"), ("GET", "/api/params"), ("GET", "/api/evidence"),
    ("GET", "/api/evidence/{record_id}"), ("GET", "/api/scenario/{name}/day/{date}"),
    ("GET", "/api/scenario/{name}/routes"), ("GET", "/api/estimate"), ("GET", "/api/series"), ("GET", "/api/map"),
    ("GET", "/api/download/{table}.{fmt}"), ("POST", "/api/scenarios"), ("GET", "/api/scenarios/{job_id}"),
]


@pytest.fixture(scope="module")
def operations(live):
    schema = schemathesis.openapi.from_url(live.url + "/openapi.json")
    ops = {}
    for result in schema.get_all_operations():
        op = result.ok()
        ops[(op.method.upper(), op.path)] = op
    assert set(OPERATIONS) <= set(ops), sorted(set(OPERATIONS) - set(ops))
    return ops


#: operations without any parameter have no invalid request to make
NO_INPUT = {("GET", "/api/health"), ("GET", "/api/meta"), ("GET", "/api/params")}
CASES = [(m, p, "positive") for m, p in OPERATIONS] + [(m, p, "negative") for m, p in OPERATIONS
                                                       if (m, p) not in NO_INPUT]


@pytest.mark.parametrize("method,path,mode", CASES)
def test_no_server_error_and_every_refusal_says_why(operations, live, method, path, mode):
    """Positive: requests valid by the schema; negative: requests that break it (each must be a 4xx)."""
    seen: dict[int, int] = {}

    strategy = operations[(method, path)].as_strategy(generation_mode=GenerationMode(mode))

    @given(case=strategy)
    @settings(max_examples=20, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def check(case):
        response = case.call(base_url=live.url, timeout=60)
        seen[response.status_code] = seen.get(response.status_code, 0) + 1
        if mode == "negative" and response.status_code < 400:
            return  # a request "against the schema" that the schema cannot forbid (e.g. an extra query key)
        assert response.status_code < 500, (case.path_parameters, case.query, case.body, response.text[:300])
        if response.status_code >= 400:
            assert response.json().get("detail"), (case.path_parameters, case.query, response.text[:300])

    check()
    assert sum(seen.values()) >= 1
