"""Schemathesis over the JSON API's OpenAPI description, briefly: no generated request gets a server error.

The same run as `make bench-schema-fuzz` (bench/schema_fuzz.py), with 50 cases per operation instead of 1,000
and another seed, so a regression is caught by the suite and the benchmark covers other inputs.
"""

from bench.schema_fuzz import api_fuzz, run_targets, seed_runs, signed_in
from runs.openapi import SPEC

CASES = 50


def test_no_generated_request_gets_a_server_error_or_an_answer_the_description_does_not_allow(dynamodb, github_sim):
    seed_runs(github_sim)
    identity = signed_in("alice")

    results = api_fuzz(identity=identity, targets=run_targets(github_sim), cases=CASES, seed=2)

    documented = {f"{method.upper()} {path}" for path, methods in SPEC["paths"].items() for method in methods}
    assert {result.label for result in results} == documented
    for result in results:
        assert result.cases >= CASES, result.label
        assert result.server_error_count == 0, result.server_errors
        assert result.nonconforming_count == 0, result.nonconforming
        assert result.checked > 0, f"{result.label}: no case was valid by the description"
