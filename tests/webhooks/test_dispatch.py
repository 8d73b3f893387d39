"""The dispatch table, the events the App subscribes to, and what GitHub (the simulator) sends agree."""

import re

from ghsim.testing import running_simulator
from tests.conftest import ROOT
from tests.runs.conftest import settle
from webhooks.handlers import HANDLERS, SUBSCRIBED_EVENTS, handler_for


def test_it_handles_every_event_and_action_the_simulated_github_sends(dynamodb):
    with running_simulator() as sim:
        for outcome in ("success", "failure"):
            sim.trigger("acme/api", outcome=outcome)
            sim.trigger("acme/storefront", "deploy", outcome=outcome)
        settle(sim)
        sent = {(delivery.event, delivery.action) for delivery in sim.deliveries()}

    assert sent
    assert [pair for pair in sent if handler_for(*pair) is None] == []


def test_it_subscribes_to_every_event_it_handles_that_github_sends_only_on_subscription():
    handled = {event for event, _ in HANDLERS}
    # GitHub sends these to every App unasked; the others need a subscription.
    always_sent = {"installation", "installation_repositories", "github_app_authorization", "ping"}

    assert handled - always_sent == SUBSCRIBED_EVENTS


def test_it_tells_the_readme_which_events_to_subscribe_to():
    readme = (ROOT / "README.md").read_text()
    subscribed = re.search(r"Subscribe to the events (.+?)\.", readme).group(1)

    assert {name.lower().replace(" ", "_") for name in re.findall(r"\*\*(.+?)\*\*", subscribed)} == SUBSCRIBED_EVENTS
