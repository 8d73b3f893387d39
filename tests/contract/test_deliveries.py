"""The App's deliveries listed by `status`, held to what GitHub's REST description says that filter returns.

`GET /app/hook/deliveries` (apps/list-webhook-deliveries) documents `status`: `success` returns the attempts answered
200-399, `failure` those answered 400-599. Reconciliation reads a page of failures every pass (webhooks/redelivery.py).
"""

from __future__ import annotations

import re

import pytest

from ghsim.testing import running_simulator
from tests.contract.conftest import START, Client

# The description's `status` values, each with the `status_code`s it returns.
DOCUMENTED = {"success": range(200, 400), "failure": range(400, 600)}


@pytest.fixture(scope="module")
def listed():
    """Deliveries answered 200, 404 and 500, listed two to a page: all of them, then by each `status`."""
    journal: list = []
    with running_simulator(seed=42, start_time=START) as sim:
        for answer in (200, 404, 500):
            sim.receiver.status = answer
            sim.trigger("acme/api", "ci", outcome="success")  # its first deliveries go out now
        app = Client(sim, journal, f"Bearer {sim.app_jwt()}")
        pages = {status: app.walk("/app/hook/deliveries", per_page=2, status=status) for status in DOCUMENTED}
        pages["all"] = app.walk("/app/hook/deliveries", per_page=2)
        refused = app.get("/app/hook/deliveries", params={"status": "failed"})
        yield journal, pages, refused


def _items(pages) -> list[dict]:
    return [item for page in pages for item in page.json()]


def test_the_description_documents_the_status_filter_as_these_tests_read_it(rest):
    operation = rest.operation("GET", "/app/hook/deliveries")
    (parameter,) = [item for item in operation.spec["parameters"] if item["name"] == "status"]
    ranges = re.findall(
        r"`(\w+)` returns deliveries with a `status_code` in the (\d+)-(\d+) range", parameter["description"]
    )

    assert (parameter["in"], parameter["schema"]["enum"]) == ("query", list(DOCUMENTED))
    assert {name: range(int(low), int(high) + 1) for name, low, high in ranges} == DOCUMENTED


def test_every_answer_keeps_to_githubs_description(listed, rest):
    journal, _, _ = listed
    problems = [problem for exchange in journal for problem in rest.problems(exchange)]
    assert not problems, "\n".join(problems)


def test_each_status_returns_the_attempts_the_description_says(listed):
    _, pages, _ = listed
    every = _items(pages["all"])
    assert {item["status_code"] for item in every} == {200, 404, 500}

    for status, codes in DOCUMENTED.items():
        assert _items(pages[status]) == [item for item in every if item["status_code"] in codes], status


def test_it_refuses_a_status_the_description_does_not_list(listed):
    _, _, refused = listed
    assert refused.status_code == 422
