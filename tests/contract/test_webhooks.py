"""Every webhook the simulator sends on the journey keeps to GitHub's own webhooks description.

The description is `@octokit/openapi-webhooks` (GitHub's webhooks OpenAPI, from npm): one JSON Schema per event and
action, and the headers every delivery carries. Deliveries are checked as the simulator's receiver got them.
tests/ghsim/test_payloads.py applies the same schemas (its `webhook_validator`) to an hour of seeded activity.
"""

from __future__ import annotations

from tests.ghsim.test_payloads import EMITTED


def test_every_delivery_keeps_to_githubs_webhooks_description(journey, webhooks):
    problems = [problem for item in journey.deliveries for problem in webhooks.problems(item.headers, item.body)]
    assert not problems, f"{len(problems)} departures from GitHub's webhooks description:\n" + "\n".join(problems[:40])


def test_the_journey_sends_every_kind_of_webhook_the_simulator_knows(journey):
    assert {(item.event, item.action) for item in journey.deliveries} == EMITTED


def test_github_describes_every_webhook_the_simulator_sends(webhooks):
    assert not EMITTED - set(webhooks.webhooks)
