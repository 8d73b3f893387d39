"""Schemathesis over the JSON API's OpenAPI description: generated cases per operation, and server errors.

The description is the one the app serves (`/api/openapi.json`), read through the app itself. Each operation
gets at least 1,000 cases that schemathesis generates from it, valid and invalid by the description, sent
in-process through Django's WSGI handler to DynamoDB Local and the simulator. Nine in ten are signed in as
alice (her session cookie, and a CSRF token on nine in ten of those); half carry path parameters drawn from her
real repositories and runs, so cases get past the 404 into backfill, run pages and GitHub's answers to re-runs
and cancels; operations the description gives no parameter get arbitrary extra query parameters, so each of
their cases differs. A 5xx answer is a server error. Answers are also held to the description (status codes,
content types, bodies), counted separately.
"""

import secrets
import urllib.parse
from collections import Counter
from dataclasses import dataclass, field

import requests

from bench.report import Figure
from bench.stack import local_stack

COMMAND = "make bench-schema-fuzz"
CASES_PER_OPERATION = 1_000
SEED = 1
SHOWN = 3  # reproductions kept per operation and kind of failure


@dataclass
class OperationResult:
    """What one operation's generated cases got."""

    label: str
    cases: int = 0
    statuses: Counter = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)  # curl reproductions, the first few
    server_error_count: int = 0
    nonconforming: list[str] = field(default_factory=list)  # how the answer departs from the description
    nonconforming_count: int = 0
    checked: int = 0  # cases valid by the description, whose answers were held to it


@dataclass(frozen=True)
class Identity:
    """How a generated request is signed in: cookies, and the token Django's CSRF check wants in a header."""

    cookies: dict[str, str]
    csrf_token: str


def signed_in(login: str) -> Identity:
    """Sign `login` in through the simulator's OAuth pages and view the overview once (loads their repos)."""
    from django.conf import settings
    from django.test import Client

    client = Client()
    start = client.get("/auth/github")
    approved = requests.get(start["Location"], params={"login": login}, allow_redirects=False, timeout=10)
    callback = urllib.parse.urlsplit(approved.headers["Location"])
    client.get(f"{callback.path}?{callback.query}")
    assert client.get("/api/repos").status_code == 200
    # Django accepts its CSRF secret itself as the token; a browser gets both from the page it loaded.
    csrf = secrets.token_hex(16)
    cookies = {settings.SESSION_COOKIE_NAME: client.cookies[settings.SESSION_COOKIE_NAME].value}
    return Identity({**cookies, settings.CSRF_COOKIE_NAME: csrf}, csrf)


def run_targets(sim) -> list[dict]:
    """Real path parameters: each run the simulator has, with its repository."""
    targets = []
    for run in sim.truth()["runs"]:
        owner, repo = run["repository"].split("/")
        targets.append({"owner": owner, "repo": repo, "run_id": run["id"]})
    return targets


def _checks():
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    return [status_code_conformance, content_type_conformance, response_schema_conformance]


def _operation_fuzz(operation, *, identity: Identity, targets: list[dict], cases: int, seed: int):
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hypothesis_seed
    from hypothesis import strategies as st
    from schemathesis import GenerationMode
    from schemathesis.core.failures import FailureGroup

    result = OperationResult(f"{operation.method.upper()} {operation.path}")
    parameters = list(operation.iter_parameters())
    modes = [GenerationMode.POSITIVE] + ([GenerationMode.NEGATIVE] if parameters or operation.body else [])
    generated = st.one_of(*(operation.as_strategy(generation_mode=mode) for mode in modes))
    names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_[]", min_size=1, max_size=12)
    extra = st.dictionaries(names, st.text(max_size=24), max_size=0 if parameters else 4, min_size=0)
    checks = _checks()

    @settings(
        max_examples=cases,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @hypothesis_seed(seed)
    @given(
        case=generated,
        target=st.sampled_from([*targets, *[None] * len(targets)]) if targets else st.none(),
        extra=extra,
        signed_in=st.sampled_from([True] * 9 + [False]),
        with_csrf=st.sampled_from([True] * 9 + [False]),
    )
    def send(case, target, extra, signed_in, with_csrf):
        if target and case.path_parameters:
            case.path_parameters.update({key: value for key, value in target.items() if key in case.path_parameters})
        if extra:
            case.query = {**extra, **(case.query or {})}
        if with_csrf and case.headers is not None and "X-CSRFToken" in case.headers:
            case.headers["X-CSRFToken"] = identity.csrf_token
        response = case.call(cookies=identity.cookies if signed_in else {})
        result.cases += 1
        result.statuses[response.status_code] += 1
        if response.status_code >= 500:
            result.server_error_count += 1
            if len(result.server_errors) < SHOWN:
                result.server_errors.append(f"{response.status_code}: {case.as_curl_command()}")
            return
        # Held to the description: requests valid by it, sent as the browser sends them (signed in, with CSRF).
        valid = case.meta is not None and case.meta.generation.mode.is_positive
        sent_as_documented = signed_in and (with_csrf or "X-CSRFToken" not in (case.headers or {}))
        if not (valid and sent_as_documented):
            return
        result.checked += 1
        try:
            case.validate_response(response, checks=checks)
        except FailureGroup as failures:
            result.nonconforming_count += 1
            if len(result.nonconforming) < SHOWN:
                titles = sorted({failure.title for failure in failures.exceptions})
                result.nonconforming.append(f"{response.status_code} {'; '.join(titles)}: {case.as_curl_command()}")

    send()
    return result


def api_fuzz(*, identity: Identity, targets: list[dict], cases: int, seed: int = SEED) -> list[OperationResult]:
    """`cases` generated requests (at least) to every operation of the description the app serves."""
    import schemathesis

    from dashboard.wsgi import application

    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", application)
    results = []
    for found in schema.get_all_operations():
        operation = found.ok()
        result = _operation_fuzz(operation, identity=identity, targets=targets, cases=cases, seed=seed)
        # Hypothesis may stop short of max_examples on a small input space; top up with further seeds.
        extra_seed = seed
        while result.cases < cases:
            extra_seed += 1000
            more = _operation_fuzz(operation, identity=identity, targets=targets, cases=cases, seed=extra_seed)
            result.cases += more.cases
            result.statuses.update(more.statuses)
            result.server_error_count += more.server_error_count
            result.server_errors += more.server_errors[: SHOWN - len(result.server_errors)]
            result.nonconforming_count += more.nonconforming_count
            result.checked += more.checked
            result.nonconforming += more.nonconforming[: SHOWN - len(result.nonconforming)]
        results.append(result)
    return results


def seed_runs(sim) -> None:
    """Runs in three of alice's repositories in every state: finished (success, failure), flaky, still running."""
    outcomes = ["success", "failure", "flaky"]
    for index, repo in enumerate(["acme/api", "acme/storefront", "globex/engine"] * 3):
        sim.trigger(repo, outcome=outcomes[index % 3], branch="main" if index % 2 else "feature/fuzz")
    sim.advance(3600)
    for repo in ("acme/api", "globex/engine"):
        sim.trigger(repo, outcome="success")
    sim.advance(60)


def run() -> list[Figure]:
    import logging
    import time

    with local_stack(simulator=True) as sim:
        # A fuzz run sends thousands of requests with alice's token (every settings change asks GitHub for her
        # repositories); the simulator's hourly limit is not what is measured here.
        sim.set_faults(rate_limit=10_000_000)
        seed_runs(sim)
        identity = signed_in("alice")
        targets = run_targets(sim)
        from dashboard.wsgi import application  # noqa: F401  (its django.setup() configures logging afresh)

        # Thousands of refused requests are the point here; Django's warning for each would bury the progress.
        for name in ("django.request", "django.security.csrf"):
            logging.getLogger(name).setLevel(logging.ERROR)
        started = time.monotonic()
        results = api_fuzz(identity=identity, targets=targets, cases=CASES_PER_OPERATION)
        seconds = time.monotonic() - started
    return figures(results, seconds)


def _answers(result: OperationResult) -> str:
    return ", ".join(f"{count} {status}" for status, count in sorted(result.statuses.items()))


def figures(results: list[OperationResult], seconds: float) -> list[Figure]:
    fewest = min(result.cases for result in results)
    total = sum(result.cases for result in results)
    errors = sum(result.server_error_count for result in results)
    nonconforming = sum(result.nonconforming_count for result in results)
    checked = sum(result.checked for result in results)
    per_operation = "; ".join(f"{result.label}: {result.cases:,} cases ({_answers(result)})" for result in results)
    error_examples = [example for result in results for example in result.server_errors]
    departures = [example for result in results for example in result.nonconforming]
    return [
        Figure(
            "schema_fuzz.cases_per_operation",
            f"Schemathesis over the OpenAPI description: fewest cases of any of its {len(results)} operations",
            fewest,
            "cases",
            f"≥ {CASES_PER_OPERATION:,} per operation",
            fewest >= CASES_PER_OPERATION,
            COMMAND,
            f"schemathesis 4, hypothesis seed {SEED}, valid and invalid cases, {total:,} in all in {seconds:.0f} s "
            f"through Django's WSGI handler, DynamoDB Local and the simulator. By operation and answer: "
            f"{per_operation}.",
        ),
        Figure(
            "schema_fuzz.server_errors",
            "Schemathesis over the OpenAPI description: server errors (5xx)",
            errors,
            "errors",
            "0",
            errors == 0,
            COMMAND,
            ("First ones: " + " | ".join(error_examples)) if error_examples else "",
        ),
        Figure(
            "schema_fuzz.nonconforming",
            "Schemathesis over the OpenAPI description: answers that depart from it (status, type or body)",
            nonconforming,
            "answers",
            "0",
            nonconforming == 0,
            COMMAND,
            f"Held to it: the {checked:,} cases valid by the description and sent as a browser sends them (signed "
            f"in, with the CSRF token), checked for documented status codes, content types and bodies."
            + (" First ones: " + " | ".join(departures) if departures else ""),
        ),
    ]
