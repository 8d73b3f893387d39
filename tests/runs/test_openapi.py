"""The OpenAPI description and the code describe the same API."""

import re

import jsonschema
from django.urls import URLPattern, URLResolver, get_resolver

from runs.openapi import SPEC
from tests.plugins.github import sign_in

ACTIONS = ("rerun", "rerun-failed-jobs", "cancel")


def _api_routes() -> set[str]:
    """Every /api/ path the URLconf serves, in OpenAPI's template form."""
    routes = set()

    def walk(patterns, prefix=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                route = "/" + prefix + str(pattern.pattern)
                if route.startswith("/api/") and route != "/api/openapi.json":
                    routes.add(re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route))

    walk(get_resolver().url_patterns)
    expanded = set()
    for route in routes:
        if route.endswith("{action}"):
            expanded |= {route.replace("{action}", action) for action in ACTIONS}
        else:
            expanded.add(route)
    return expanded


def test_it_documents_every_api_route_and_no_other():
    assert set(SPEC["paths"]) == _api_routes()


def test_it_is_a_valid_openapi_document_with_resolvable_references(client):
    served = client.get("/api/openapi.json").json()

    assert served == SPEC
    assert served["openapi"].startswith("3.1")
    text = str(served)
    for reference in set(re.findall(r"#/components/schemas/(\w+)", text)):
        assert reference in served["components"]["schemas"]
    for schema in served["components"]["schemas"].values():
        jsonschema.Draft202012Validator.check_schema(schema)


def test_it_describes_the_methods_each_route_allows(client, dynamodb, github_sim):
    sign_in(client, "alice")
    for path, operations in SPEC["paths"].items():
        concrete = path.replace("{owner}", "acme").replace("{repo}", "api").replace("{run_id}", "1")
        for method in ("get", "post", "put", "patch", "delete"):
            response = getattr(client, method)(concrete, content_type="application/json")
            if method in operations:
                assert response.status_code != 405, f"{method.upper()} {path} is documented but not served"
            else:
                assert response.status_code == 405, f"{method.upper()} {path} is served but not documented"


def test_every_operation_documents_the_answer_when_storage_is_not_answering():
    """dashboard/errors.py answers any /api/ request 503 {"error": ...} when DynamoDB fails: the description says so."""
    error_schema = SPEC["components"]["schemas"]["Error"]
    for path, methods in SPEC["paths"].items():
        for method, operation in methods.items():
            if method == "parameters":
                continue
            answer = operation["responses"].get("503")
            assert answer is not None, f"{method.upper()} {path} does not document 503"
            schema = answer["content"]["application/json"]["schema"]
            options = schema.get("oneOf", [schema])
            assert {"$ref": "#/components/schemas/Error"} in options, f"{method.upper()} {path}"
    jsonschema.validate({"error": "The dashboard's storage is not answering right now."}, error_schema)
