"""GitHub's own descriptions of its REST API and its webhooks, installed from npm, and the checks made with them.

- REST: `@octokit/openapi` (GitHub's api.github.com OpenAPI 3.0 description, dereferenced:
  `generated/api.github.com.deref.json`). `RestContract.problems(exchange)` checks one answer against the operation
  that its method and path match: a documented status, a body valid under that status's schema, and GitHub's
  headers (`ETag`, `Link`, `X-RateLimit-*`).
- Webhooks: `@octokit/openapi-webhooks` (GitHub's webhooks OpenAPI 3.1 description: one JSON Schema per event and
  action under `components/schemas/webhook-<event>-<action>`, and the headers every delivery carries).
  `WebhookContract.problems(headers, body)` checks one delivery.

Both answer a list of departures, empty when there is none. Both packages are pinned in package.json and installed
by `make` (node_modules/.installed); a missing one is an error, never a skip.
"""

from __future__ import annotations

import functools
import json
import math
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import requests
from jsonschema import Draft4Validator, Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from requests.structures import CaseInsensitiveDict

ROOT = Path(__file__).resolve().parents[2]
NODE_MODULES = ROOT / "node_modules"
REST_DESCRIPTION = NODE_MODULES / "@octokit" / "openapi" / "generated" / "api.github.com.deref.json"
WEBHOOKS_DESCRIPTION = NODE_MODULES / "@octokit" / "openapi-webhooks" / "generated" / "api.github.com.json"
WEBHOOKS_BASE = "urn:github:openapi-webhooks"
API_PREFIX = "/api/v3"  # GitHub Enterprise Server's layout, which the simulator serves
LINK_RELS = ("prev", "next", "last", "first")  # GitHub's order
RATE_LIMIT_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Used", "X-RateLimit-Reset")
ETAG = re.compile(r'^(W/)?"[\x21\x23-\x7e]*"$')
LINK_PART = re.compile(r'^<(?P<url>[^<>\s]+)>; rel="(?P<rel>[^"]+)"$')
OWN_FORM = re.compile(r"^/repositories/(?P<id>\d+)(?P<tail>/.*)?$")


def _load(path: Path) -> dict:
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} is missing: GitHub's descriptions come from package.json's devDependencies "
            "(`make test` installs them; or `npm ci`)"
        )
    return json.loads(path.read_text())


# Formats jsonschema checks only with extra packages


def _date_time(value) -> bool:
    if not isinstance(value, str):
        return True
    datetime.fromisoformat(value.replace("Z", "+00:00"))
    return True


def _uri(value) -> bool:
    if not isinstance(value, str):
        return True
    parts = urlsplit(value)
    return bool(parts.scheme and (parts.netloc or parts.path)) and " " not in value


def format_checker() -> FormatChecker:
    """jsonschema's checker plus `date-time` and `uri`, which otherwise need extra packages."""
    checker = FormatChecker()
    checker.checks("date-time", raises=ValueError)(_date_time)
    checker.checks("uri")(_uri)
    return checker


# OpenAPI 3.0 schemas as JSON Schema


_SUBSCHEMA = ("items", "additionalProperties", "not")
_SUBSCHEMAS = ("allOf", "anyOf", "oneOf")


def json_schema(schema):
    """An OpenAPI 3.0 schema as a draft-4 JSON Schema: `nullable: true` admits null (in `type` and `enum`)."""
    if not isinstance(schema, dict):
        return schema
    out = {}
    for key, value in schema.items():
        if key in ("properties", "patternProperties") and isinstance(value, dict):
            out[key] = {name: json_schema(sub) for name, sub in value.items()}
        elif key in _SUBSCHEMA and isinstance(value, dict):
            out[key] = json_schema(value)
        elif key in _SUBSCHEMAS:
            out[key] = [json_schema(sub) for sub in value]
        elif key not in ("example", "examples"):
            out[key] = value
    if [sub.get("title") for sub in out.get("allOf", [])] == ["Simple User", "Enterprise"]:
        # A known slip of GitHub's description (github/rest-api-description#2497): an installation's `account` is a
        # user or organization *or* an enterprise, but the dereferenced description says both at once (`allOf`),
        # which no real account is. Read as GitHub means it.
        out["anyOf"] = out.pop("allOf")
    if not out.pop("nullable", False):
        return out
    if set(out) & {"allOf", "anyOf", "oneOf", "not"} or "type" not in out:
        return {"anyOf": [out, {"type": "null"}]}
    out["type"] = [*([out["type"]] if isinstance(out["type"], str) else out["type"]), "null"]
    if "enum" in out and None not in out["enum"]:
        out["enum"] = [*out["enum"], None]
    return out


# One REST exchange, as the client saw it


@dataclass
class Exchange:
    """One REST request and the simulator's answer."""

    method: str
    url: str
    request_headers: CaseInsensitiveDict
    status: int
    headers: CaseInsensitiveDict
    body: bytes

    @classmethod
    def of(cls, response: requests.Response) -> Exchange:
        request = response.request
        return cls(
            method=request.method or "GET",
            url=request.url or "",
            request_headers=CaseInsensitiveDict(request.headers),
            status=response.status_code,
            headers=CaseInsensitiveDict(response.headers),
            body=response.content,
        )

    @property
    def path(self) -> str:
        return urlsplit(self.url).path

    @property
    def query(self) -> list[tuple[str, str]]:
        return parse_qsl(urlsplit(self.url).query, keep_blank_values=True)

    def json(self):
        return json.loads(self.body)

    def label(self) -> str:
        return f"{self.method} {self.url} -> {self.status}"


@dataclass(frozen=True)
class Operation:
    method: str
    template: str
    pattern: re.Pattern
    literal_segments: int
    spec: dict

    @property
    def id(self) -> str:
        return self.spec.get("operationId", f"{self.method} {self.template}")


class RestContract:
    """GitHub's REST description and the checks of one exchange against it."""

    def __init__(self, description: dict) -> None:
        self.description = description
        self.version = description["info"]["version"]
        self.operations: list[Operation] = []
        for template, item in description["paths"].items():
            regex = "".join(
                "/[^/]+" if re.fullmatch(r"\{\w+\}", part) else "/" + re.escape(part)
                for part in template.strip("/").split("/")
            )
            literal = sum(1 for part in template.split("/") if part and not part.startswith("{"))
            for method, spec in item.items():
                if isinstance(spec, dict) and "responses" in spec:
                    self.operations.append(
                        Operation(method.upper(), template, re.compile(f"^{regex}/?$"), literal, spec)
                    )
        self._validators: dict[tuple[str, str], Draft4Validator] = {}
        self._checker = format_checker()
        rate_limit = self.operation("GET", "/rate_limit")
        schema = rate_limit.spec["responses"]["200"]["content"]["application/json"]["schema"]
        self.rate_limit_resources = set(schema["properties"]["resources"]["properties"])

    def operation(self, method: str, path: str) -> Operation | None:
        """The operation for a path below the API root; `/repositories/{id}/...` as `/repos/{owner}/{repo}/...`.

        GitHub's description has no `/repositories/{id}/...` paths, but GitHub answers them as the `/repos/` ones
        and its page links use them.
        """
        own = OWN_FORM.match(path)
        if own:
            path = f"/repos/-/-{own['tail'] or ''}"
        found = [op for op in self.operations if op.method == method and op.pattern.match(path)]
        return max(found, key=lambda op: op.literal_segments, default=None)

    def operation_for(self, method: str, url: str) -> Operation | None:
        path = urlsplit(url).path
        if not path.startswith(API_PREFIX):
            return None
        return self.operation(method, path[len(API_PREFIX) :] or "/")

    def validator(self, operation: Operation, status: str) -> Draft4Validator | None:
        """The validator of a documented status's JSON body (None when it documents no body)."""
        key = (operation.id, status)
        if key not in self._validators:
            content = operation.spec["responses"][status].get("content") or {}
            schema = (content.get("application/json") or {}).get("schema")
            self._validators[key] = (
                None if schema is None else Draft4Validator(json_schema(schema), format_checker=self._checker)
            )
        return self._validators[key]

    def problems(self, exchange: Exchange) -> list[str]:
        """Every way the exchange departs from GitHub's description ([] when it does not)."""
        operation = self.operation_for(exchange.method, exchange.url)
        if operation is None:
            return [f"{exchange.method} {exchange.path}: no operation in GitHub's REST description matches"]
        where = f"{operation.id} ({exchange.method} {exchange.path}) answered {exchange.status}"
        found = self._status_and_body(operation, exchange)
        found += self._etag(exchange)
        found += self._rate_limit(exchange)
        found += self._declared_headers(operation, exchange)
        found += self._link(operation, exchange)
        return [f"{where}: {problem}" for problem in found]

    def _status_and_body(self, operation: Operation, exchange: Exchange) -> list[str]:
        responses = operation.spec["responses"]
        status = str(exchange.status)
        if status not in responses:
            if exchange.status == 304 and exchange.method == "GET" and "If-None-Match" in exchange.request_headers:
                # GitHub documents conditional requests for (nearly) every GET, not operation by operation.
                return [] if not exchange.body else ["a 304 must have no body"]
            return [f"status {status} is not one the operation documents ({', '.join(responses)})"]
        validator = self.validator(operation, status)
        if validator is None:
            return [] if not exchange.body else [f"the description gives {status} no body, but one came"]
        if "json" not in (exchange.headers.get("Content-Type") or ""):
            return [f"Content-Type {exchange.headers.get('Content-Type')!r} is not JSON"]
        try:
            body = exchange.json()
        except ValueError:
            return ["the body is not JSON"]
        return [
            f"body{error.json_path.removeprefix('$')}: {error.message[:300]}"
            for error in sorted(validator.iter_errors(body), key=lambda error: error.json_path)
        ]

    def _etag(self, exchange: Exchange) -> list[str]:
        """GitHub tags what a GET answers with an ETag, and a 304 repeats the tag that matched."""
        etag = exchange.headers.get("ETag")
        if exchange.method != "GET" or exchange.status not in (200, 304):
            return []
        if etag is None:
            return ["no ETag header"]
        if not ETAG.match(etag):
            return [f"ETag {etag!r} is not an entity tag"]
        if exchange.status == 304:
            if "If-None-Match" not in exchange.request_headers:
                return ["a 304 to a request without If-None-Match"]
            asked = {tag.strip().removeprefix("W/") for tag in exchange.request_headers["If-None-Match"].split(",")}
            if etag.removeprefix("W/") not in asked and "*" not in asked:
                return [f"304 with ETag {etag!r}, which the request did not send"]
        return []

    def _rate_limit(self, exchange: Exchange) -> list[str]:
        """GitHub's `x-ratelimit-*` headers (docs: rate-limits-for-the-rest-api), consistent with one another."""
        found = []
        values = {}
        for name in RATE_LIMIT_HEADERS:
            text = exchange.headers.get(name)
            if text is None:
                found.append(f"no {name} header")
            elif not text.isdigit():
                found.append(f"{name} {text!r} is not a whole number")
            else:
                values[name] = int(text)
        resource = exchange.headers.get("X-RateLimit-Resource")
        if resource is None:
            found.append("no X-RateLimit-Resource header")
        elif resource not in self.rate_limit_resources:
            found.append(f"X-RateLimit-Resource {resource!r} is none of GET /rate_limit's resources")
        if len(values) == len(RATE_LIMIT_HEADERS):
            limit, remaining, used, reset = (values[name] for name in RATE_LIMIT_HEADERS)
            if remaining > limit or used != limit - remaining:
                found.append(f"limit {limit}, remaining {remaining} and used {used} do not add up")
            if not 10**9 <= reset < 10**10:
                found.append(f"X-RateLimit-Reset {reset} is not a time in epoch seconds")
        return found

    def _declared_headers(self, operation: Operation, exchange: Exchange) -> list[str]:
        """Headers the operation's response declares (other than Link): present, and valid under their schema."""
        response = operation.spec["responses"].get(str(exchange.status)) or {}
        found = []
        for name, header in (response.get("headers") or {}).items():
            if name == "Link":
                continue
            text = exchange.headers.get(name)
            if text is None:
                found.append(f"no {name} header, which the description declares")
                continue
            value = int(text) if header.get("schema", {}).get("type") == "integer" and text.isdigit() else text
            for error in Draft4Validator(json_schema(header.get("schema", {}))).iter_errors(value):
                found.append(f"{name} {text!r}: {error.message}")
        return found

    def _link(self, operation: Operation, exchange: Exchange) -> list[str]:
        """A well-formed `Link` whose pages belong to the same operation, in GitHub's own form and order."""
        header = exchange.headers.get("Link")
        response = operation.spec["responses"].get(str(exchange.status)) or {}
        declared = "Link" in (response.get("headers") or {})
        expected_last = self._expected_last_page(exchange) if declared else None
        if header is None:
            if expected_last is not None and expected_last > 1:
                return [f"no Link header, yet {expected_last} pages"]
            return []
        if not header.strip():
            return ["an empty Link header"]
        found: list[str] = []
        links: dict[str, dict[str, str]] = {}
        rels: list[str] = []
        for part in re.split(r",\s*(?=<)", header):
            match = LINK_PART.match(part.strip())
            if not match:
                found.append(f'Link part {part!r} is not <url>; rel="..."')
                continue
            rel, url = match["rel"], match["url"]
            rels.append(rel)
            if rel not in LINK_RELS:
                found.append(f"Link rel {rel!r} is none of {', '.join(LINK_RELS)}")
                continue
            if rel in links:
                found.append(f"Link rel {rel!r} twice")
            links[rel] = dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))
            found += self._link_target(operation, exchange, rel, url)
        if rels != sorted(rels, key=lambda rel: LINK_RELS.index(rel) if rel in LINK_RELS else len(LINK_RELS)):
            found.append(f"Link rels {rels} are not in GitHub's order ({', '.join(LINK_RELS)})")
        if found:
            return found
        if any("cursor" in query for query in links.values()):
            return [] if set(links) <= {"next", "prev"} else [f"a cursor Link with rels {sorted(links)}"]
        return self._page_numbers(exchange, links, expected_last)

    def _link_target(self, operation: Operation, exchange: Exchange, rel: str, url: str) -> list[str]:
        parts, asked = urlsplit(url), urlsplit(exchange.url)
        if (parts.scheme, parts.netloc) != (asked.scheme, asked.netloc):
            return [f"Link {rel} {url} is not on the API's host ({asked.scheme}://{asked.netloc})"]
        target = self.operation_for(exchange.method, url)
        if target is None or target.id != operation.id:
            return [f"Link {rel} {url} is not a page of {operation.id}"]
        found = []
        path = parts.path[len(API_PREFIX) :]
        if operation.template.startswith("/repos/{owner}/{repo}"):
            own = OWN_FORM.match(path)
            if own is None:
                found.append(f"Link {rel} {url} names the repository by name; GitHub's links use /repositories/{{id}}")
            else:
                asked_own = OWN_FORM.match(asked.path[len(API_PREFIX) :])
                if asked_own and asked_own["id"] != own["id"]:
                    found.append(f"Link {rel} {url} is another repository's")
        page_keys = {"page", "cursor"}
        theirs = sorted((key, value) for key, value in parse_qsl(parts.query) if key not in page_keys)
        ours = sorted((key, value) for key, value in exchange.query if key not in page_keys)
        if theirs != ours:
            found.append(f"Link {rel} {url} drops or changes the request's parameters {ours}")
        return found

    @staticmethod
    def _expected_last_page(exchange: Exchange) -> int | None:
        """The number of pages a `total_count` body implies (None when the body has none)."""
        if exchange.status != 200:
            return None
        try:
            body = exchange.json()
        except ValueError:
            return None
        if not isinstance(body, dict) or not isinstance(body.get("total_count"), int):
            return None
        per_page = dict(exchange.query).get("per_page", "30")
        per_page = min(max(int(per_page), 1), 100) if per_page.isdigit() else 30
        return max(math.ceil(body["total_count"] / per_page), 1)

    @staticmethod
    def _page_numbers(exchange: Exchange, links: dict[str, dict[str, str]], expected_last: int | None) -> list[str]:
        """GitHub's page links: prev and first from page 2 on, next and last until the last page."""
        pages, found = {}, []
        for rel, query in links.items():
            if query.get("page", "").isdigit() and int(query["page"]) >= 1:
                pages[rel] = int(query["page"])
            else:
                found.append(f"Link {rel} has no page number")
        if "next" in pages and "last" not in pages:
            found.append("Link has next but no last")
        if found:
            return found
        asked = dict(exchange.query).get("page", "1")
        current = int(asked) if asked.isdigit() and int(asked) > 0 else 1
        last = pages.get("last", current)
        if expected_last is not None and current <= expected_last and last != expected_last:
            found.append(f"Link says {last} pages, total_count says {expected_last}")
        wanted = {
            "prev": current - 1 if current > 1 else None,
            "next": current + 1 if current < last else None,
            "last": last if current < last else None,
            "first": 1 if current > 1 else None,
        }
        for rel in LINK_RELS:
            if pages.get(rel) != wanted[rel]:
                found.append(f"Link {rel} is page {pages.get(rel)}; on page {current} of {last} it is {wanted[rel]}")
        return found


class WebhookContract:
    """GitHub's webhooks description: a schema per event and action, and the headers of a delivery."""

    def __init__(self, description: dict) -> None:
        self.version = description["info"]["version"]
        self.webhooks: dict[tuple[str, str | None], dict] = {}
        for item in description["webhooks"].values():
            post = item["post"]
            event = post["x-github"]["subcategory"]
            _, _, action = post["operationId"].partition("/")
            self.webhooks[event, action.replace("-", "_") or None] = post
        resource = Resource.from_contents(description, default_specification=DRAFT202012)
        self._registry = Registry().with_resource(WEBHOOKS_BASE, resource)
        self._checker = format_checker()
        self._validators: dict[tuple[str, str | None], Draft202012Validator] = {}

    def validator(self, event: str, action: str | None) -> Draft202012Validator:
        """The validator of the payload GitHub describes for this event and action (KeyError when none)."""
        if (event, action) not in self._validators:
            if (event, action) not in self.webhooks:
                raise KeyError(f"GitHub's webhooks description has no {event} {action or '(no action)'}")
            ref = self.webhooks[event, action]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
            schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "$ref": f"{WEBHOOKS_BASE}{ref}"}
            self._validators[event, action] = Draft202012Validator(
                schema, registry=self._registry, format_checker=self._checker
            )
        return self._validators[event, action]

    def problems(self, headers: dict[str, str], body: bytes) -> list[str]:
        """Every way one delivery (its headers and body) departs from GitHub's description."""
        headers = CaseInsensitiveDict(headers)
        event = headers.get("X-GitHub-Event")
        try:
            payload = json.loads(body)
        except ValueError:
            return [f"{event}: the body is not JSON"]
        action = payload.get("action") if isinstance(payload, dict) else None
        where = f"{event} {action or '(no action)'} {headers.get('X-GitHub-Delivery')}"
        if (event, action) not in self.webhooks:
            return [f"{where}: GitHub describes no such webhook"]
        found = []
        for parameter in self.webhooks[event, action].get("parameters", []):
            if parameter.get("in") != "header":
                continue
            value = headers.get(parameter["name"])
            if value is None:
                if parameter.get("required"):
                    found.append(f"{where}: no {parameter['name']} header")
                continue
            for error in Draft202012Validator(parameter.get("schema", {})).iter_errors(value):
                found.append(f"{where}: header {parameter['name']}: {error.message}")
        if not re.fullmatch(r"sha256=[0-9a-f]{64}", headers.get("X-Hub-Signature-256") or ""):
            found.append(f"{where}: X-Hub-Signature-256 is not sha256=<64 hex digits>")
        found += [
            f"{where}: payload{error.json_path.removeprefix('$')}: {error.message[:300]}"
            for error in sorted(self.validator(event, action).iter_errors(payload), key=lambda error: error.json_path)
        ]
        return found


@functools.cache
def rest_contract() -> RestContract:
    """GitHub's REST description (loaded once per test process: it is 70 MB)."""
    return RestContract(_load(REST_DESCRIPTION))


@functools.cache
def webhook_contract() -> WebhookContract:
    """GitHub's webhooks description (loaded once per test process)."""
    return WebhookContract(_load(WEBHOOKS_DESCRIPTION))
