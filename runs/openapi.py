"""The OpenAPI description of the JSON API, served at /api/openapi.json and held to the code by tests."""

from typing import Any

from django.http import JsonResponse
from django.views.decorators.http import require_safe

NULLABLE_STRING = {"type": ["string", "null"]}
NULLABLE_INTEGER = {"type": ["integer", "null"]}
TIMESTAMP = {"type": ["string", "null"], "format": "date-time"}


def _object(properties: dict, *, required: list[str] | None = None) -> dict:
    return {"type": "object", "properties": properties, "required": required or list(properties)}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


SCHEMAS = {
    "Error": _object({"error": {"type": "string"}}),
    "FieldErrors": _object(
        {"errors": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}}}
    ),
    "RateLimit": _object(
        {"remaining": NULLABLE_INTEGER, "limit": NULLABLE_INTEGER, "reset_at": TIMESTAMP, "blocked_until": TIMESTAMP}
    ),
    "User": _object(
        {"id": {"type": "integer"}, "login": {"type": "string"}, "name": NULLABLE_STRING, "avatar_url": NULLABLE_STRING}
    ),
    # runs/summaries.py's RunSummary.as_json(): a test holds these properties to the dataclass's shown fields.
    "RunSummary": _object(
        {
            "run_id": {"type": "integer"},
            "workflow_id": {"type": "integer"},
            "workflow_name": NULLABLE_STRING,
            "run_number": NULLABLE_INTEGER,
            "run_attempt": {"type": "integer"},
            "status": {"type": "string"},
            "conclusion": NULLABLE_STRING,
            "head_branch": NULLABLE_STRING,
            "event": NULLABLE_STRING,
            "actor": NULLABLE_STRING,
            "actor_type": NULLABLE_STRING,
            "run_started_at": TIMESTAMP,
            "updated_at": TIMESTAMP,
            "html_url": NULLABLE_STRING,
            "head_repository": {**NULLABLE_STRING, "description": "owner/name of the fork the run came from"},
        }
    ),
    "Repo": _object(
        {
            "full_name": {"type": "string"},
            "private": {"type": "boolean"},
            "default_branch": {"type": "string"},
            "html_url": {"type": "string"},
            "can_write": {"type": "boolean"},
            "workflows": {"type": "array", "items": _ref("RunSummary")},
            "loaded": {"type": "boolean", "description": "whether the repository's recent runs have been loaded"},
            "load_error": NULLABLE_STRING,
        },
        required=["full_name", "private", "default_branch", "html_url", "can_write"],
    ),
    "Run": _object(
        {
            "id": {"type": "integer"},
            "run_number": NULLABLE_INTEGER,
            "run_attempt": {"type": "integer"},
            "workflow_id": NULLABLE_INTEGER,
            "workflow_name": NULLABLE_STRING,
            "display_title": NULLABLE_STRING,
            "status": {"type": "string"},
            "conclusion": NULLABLE_STRING,
            "head_branch": NULLABLE_STRING,
            "head_repository": {
                **NULLABLE_STRING,
                "description": "The head repository when it is not this one (a fork's pull request), else null.",
            },
            "default_branch": NULLABLE_STRING,
            "on_default_branch": {
                "type": "boolean",
                "description": "The run is of this repository's default branch (never true for a fork's branch).",
            },
            "head_sha": NULLABLE_STRING,
            "commit_message": NULLABLE_STRING,
            "event": NULLABLE_STRING,
            "actor": NULLABLE_STRING,
            "actor_type": NULLABLE_STRING,
            "pull_requests": {"type": "array", "items": {"type": "integer"}},
            "created_at": TIMESTAMP,
            "run_started_at": TIMESTAMP,
            "updated_at": TIMESTAMP,
            "completed_at": TIMESTAMP,
            "queue_seconds": NULLABLE_INTEGER,
            "duration_seconds": NULLABLE_INTEGER,
            "html_url": NULLABLE_STRING,
        }
    ),
    "Step": _object(
        {
            "number": {"type": "integer"},
            "name": {"type": "string"},
            "status": {"type": "string"},
            "conclusion": NULLABLE_STRING,
            "started_at": TIMESTAMP,
            "completed_at": TIMESTAMP,
            "duration_seconds": NULLABLE_INTEGER,
        }
    ),
    "Job": _object(
        {
            "id": {"type": "integer"},
            "name": {"type": "string"},
            "run_attempt": {"type": "integer"},
            "status": {"type": "string"},
            "conclusion": NULLABLE_STRING,
            "started_at": TIMESTAMP,
            "completed_at": TIMESTAMP,
            "duration_seconds": NULLABLE_INTEGER,
            "html_url": NULLABLE_STRING,
            "runner_name": NULLABLE_STRING,
            "labels": {"type": "array", "items": {"type": "string"}},
            "steps": {"type": "array", "items": _ref("Step")},
            "failing_step": NULLABLE_STRING,
        }
    ),
    "Settings": _object(
        {
            "selected_repos": {"type": "array", "items": {"type": "string"}, "maxItems": 500},
            "pinned_repos": {"type": "array", "items": {"type": "string"}, "maxItems": 20},
            "theme": {"type": "string", "enum": ["system", "light", "dark"]},
            "auto_refresh": {"type": "boolean"},
            "notifications": _object(
                {
                    key: {"type": "boolean"}
                    for key in ("enabled", "on_failure", "on_recovery", "pinned_only", "default_branch_only")
                }
            ),
            "created_at": {"type": "string", "format": "date-time"},
            "updated_at": {"type": "string", "format": "date-time"},
        }
    ),
}


def _json(schema: dict, description: str = "OK") -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


ERRORS = {
    "401": _json(_ref("Error"), "Not signed in"),
    "404": _json(_ref("Error"), "No such repository or run, or one you may not see"),
    "429": _json(
        _ref("Error"), "GitHub's rate limit is reached, or too many runs unknown to the dashboard were looked up"
    ),
    "502": _json(_ref("Error"), "GitHub is not answering"),
    "503": _json(_ref("Error"), "The dashboard's storage is not answering; try again after Retry-After"),
}
STALE = {"stale": {"type": "boolean"}, "stale_reason": NULLABLE_STRING}
# GitHub's owner and repository names, as the URLs accept them (dashboard/converters.py); other paths are not the API's.
NAME = {"type": "string", "pattern": "^[A-Za-z0-9_.-]+$"}
REPO_PARAMETERS = [
    {"name": "owner", "in": "path", "required": True, "schema": NAME},
    {"name": "repo", "in": "path", "required": True, "schema": NAME},
]
# GitHub's ids are positive 64-bit integers; any other id is a 404 (dashboard/converters.py).
RUN_ID = {
    "name": "run_id",
    "in": "path",
    "required": True,
    "schema": {"type": "integer", "minimum": 1, "maximum": 2**63 - 1},
}
RUN_PARAMETERS = [*REPO_PARAMETERS, RUN_ID]
CSRF = [{"name": "X-CSRFToken", "in": "header", "required": True, "schema": {"type": "string"}}]


def _action(summary: str) -> dict:
    return {
        "post": {
            "summary": summary,
            "description": "Sent to GitHub with the user's own token, so GitHub checks this user may do it.",
            "parameters": [*RUN_PARAMETERS, *CSRF],
            "responses": {
                "202": _json(_object({"ok": {"type": "boolean"}, "message": {"type": "string"}}), "Accepted by GitHub"),
                "403": _json(_ref("Error"), "GitHub refused: no write access, or the run cannot be re-run now"),
                "409": _json(_ref("Error"), "GitHub refused: the run is already completed"),
                "422": _json(_ref("Error"), "GitHub refused the request as invalid"),
                **ERRORS,
            },
        }
    }


def _filter(name: str, description: str) -> dict:
    return {"name": name, "in": "query", "required": False, "schema": {"type": "string"}, "description": description}


PATHS: dict[str, dict[str, Any]] = {
    "/api/user": {
        "get": {
            "summary": "The signed-in user and their remaining GitHub rate limit",
            "responses": {
                "200": _json(_object({"user": _ref("User"), "github_rate_limit": _ref("RateLimit")})),
                **ERRORS,
            },
        }
    },
    "/api/repos": {
        "get": {
            "summary": "Every repository the user may see, with the latest run of each workflow on its default branch",
            "responses": {
                "200": _json(_object({"repos": {"type": "array", "items": _ref("Repo")}, **STALE})),
                **ERRORS,
            },
        }
    },
    "/api/repos/{owner}/{repo}": {
        "get": {
            "summary": "A repository's runs, newest first",
            "parameters": [
                *REPO_PARAMETERS,
                _filter("branch", "only runs of this branch"),
                _filter("status", "a status (queued, in_progress, completed, ...) or a conclusion (failure, ...)"),
                _filter("event", "only runs triggered by this event (push, pull_request, ...)"),
                _filter("workflow", "a workflow id or name"),
                _filter("actor", "only runs of this actor's login"),
                _filter("cursor", "the next_cursor of the previous page"),
                {"name": "per_page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100}},
            ],
            "responses": {
                "200": _json(
                    _object(
                        {
                            "repo": _ref("Repo"),
                            "runs": {"type": "array", "items": _ref("Run")},
                            "next_cursor": NULLABLE_STRING,
                            **STALE,
                        }
                    )
                ),
                **ERRORS,
            },
        }
    },
    "/api/repos/{owner}/{repo}/runs/{run_id}": {
        "get": {
            "summary": "One run with its jobs and steps",
            "parameters": RUN_PARAMETERS,
            "responses": {
                "200": _json(
                    _object(
                        {
                            "run": _ref("Run"),
                            "jobs": {"type": "array", "items": _ref("Job")},
                            "can_write": {"type": "boolean"},
                            **STALE,
                        }
                    )
                ),
                **ERRORS,
            },
        }
    },
    "/api/repos/{owner}/{repo}/runs/{run_id}/rerun": _action("Re-run the whole run"),
    "/api/repos/{owner}/{repo}/runs/{run_id}/rerun-failed-jobs": _action("Re-run the failed jobs"),
    "/api/repos/{owner}/{repo}/runs/{run_id}/cancel": _action("Cancel the run"),
    "/api/settings": {
        "get": {
            "summary": "The user's settings",
            "responses": {"200": _json(_ref("Settings")), "401": ERRORS["401"], "503": ERRORS["503"]},
        },
        "put": {
            "summary": "Change the settings given (the others keep their values)",
            "parameters": CSRF,
            "requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}},
            "responses": {
                "200": _json(_ref("Settings")),
                "400": _json(_ref("FieldErrors"), "Invalid settings; nothing was changed"),
                "401": ERRORS["401"],
                "503": _json(
                    {"oneOf": [_ref("FieldErrors"), _ref("Error")]},
                    "GitHub is not answering, so repositories cannot be checked (field errors); or the dashboard's "
                    "storage is not answering (an error; try again after Retry-After)",
                ),
            },
        },
    },
}
PATHS["/api/settings"]["patch"] = PATHS["/api/settings"]["put"]

SPEC = {
    "openapi": "3.1.0",
    "info": {
        "title": "Actions Dashboard API",
        "version": "1",
        "description": "Every response to a signed-in user carries Cache-Control: private, no-store.",
    },
    "paths": PATHS,
    "components": {"schemas": SCHEMAS},
}


@require_safe
def openapi_view(request):
    return JsonResponse(SPEC)
