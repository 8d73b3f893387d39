"""Webhook deliveries per second on one process, latency per delivery, and DynamoDB requests per delivery.

The deliveries are the simulator's: a busy stretch of seeded activity is recorded (signed, with GitHub's
headers), then replayed into the app in-process through Django's request handling. Latency is the server side
(the view and everything under it), not a network.
"""

import statistics
import time

from bench.report import Figure
from bench.stack import DynamoDBRequests, local_stack, percentile

COMMAND = "make bench-webhook-load"
RUNS = 90  # 30 per repository, so the repository summaries reach the size they keep (runs.summaries.HISTORY_KEEP)


def _record_deliveries(sim) -> list:
    for index in range(RUNS):
        sim.trigger(["acme/api", "acme/storefront", "globex/engine"][index % 3], outcome="success")
    for _ in range(90):
        sim.advance(60)
    return list(sim.receiver.received)


def run() -> list[Figure]:
    with local_stack(simulator=True) as sim:
        from django.test import Client

        deliveries = _record_deliveries(sim)
        client = Client()
        latencies, outcomes = [], []
        with DynamoDBRequests(capacity=True) as requests_made:
            per_new_state, write_units = [], []
            started = time.perf_counter()
            for delivery in deliveries:
                before, tables_before = requests_made.total, requests_made.write_units_by_table.copy()
                headers = {f"HTTP_{key.upper().replace('-', '_')}": value for key, value in delivery.headers.items()}
                headers.pop("HTTP_CONTENT_TYPE", None)
                headers.pop("HTTP_CONTENT_LENGTH", None)
                sent = time.perf_counter()
                response = client.post("/webhooks/github", delivery.body, content_type="application/json", **headers)
                latencies.append((time.perf_counter() - sent) * 1000)
                outcome = response.json().get("outcome")
                outcomes.append(outcome)
                if outcome == "applied" and delivery.event in ("workflow_run", "workflow_job"):
                    per_new_state.append(requests_made.total - before)
                    write_units.append((delivery.event, requests_made.write_units_by_table - tables_before))
            elapsed = time.perf_counter() - started
    rate = len(deliveries) / elapsed
    p50, p99 = percentile(latencies, 0.5), percentile(latencies, 0.99)
    requests_per_state = statistics.mean(per_new_state)
    # Once every summary holds a full history (the second half), as it does in production after a few days.
    warm = write_units[len(write_units) // 2 :]
    units_per_state = statistics.mean(units.total() for _, units in warm)
    by_event = {
        event: statistics.mean(units.total() for kind, units in warm if kind == event)
        for event in sorted({kind for kind, _ in warm})
    }
    by_table = {
        table: sum(units[table] for _, units in warm) / len(warm)
        for table in sorted(set().union(*(u for _, u in warm)))
    }
    events = [delivery.event for delivery in deliveries]
    note = (
        f"{len(deliveries)} deliveries of {RUNS} simulated runs (workflow_run and workflow_job, GitHub's payload "
        f"shapes, signed: {events.count('workflow_run')} workflow_run, {events.count('workflow_job')} workflow_job), "
        f"replayed through Django's request handling against DynamoDB Local; "
        f"outcomes: {', '.join(f'{outcome} {outcomes.count(outcome)}' for outcome in sorted(set(outcomes)))}."
    )
    return [
        Figure(
            "webhooks.rate",
            "Webhook deliveries per second, one process",
            rate,
            "/s",
            "(none set)",
            None,
            COMMAND,
            note,
            details={"runs": RUNS, "deliveries": {event: events.count(event) for event in sorted(set(events))}},
        ),
        Figure("webhooks.p50", "Webhook latency per delivery, p50", p50, "ms", "(none set)", None, COMMAND),
        Figure(
            "webhooks.p99",
            "Webhook latency per delivery, p99",
            p99,
            "ms",
            "≤ 10 s (GitHub's limit)",
            p99 < 10_000,
            COMMAND,
        ),
        Figure(
            "webhooks.dynamodb_requests",
            "DynamoDB requests per delivery bringing a new state",
            requests_per_state,
            "requests",
            "≤ 2",
            requests_per_state <= 2,
            COMMAND,
            "Mean over the deliveries that changed a run or job: one TransactWriteItems (delivery record, the "
            "run or job, its browser event) and, for runs, one conditional update of the repository summary.",
        ),
        Figure(
            "webhooks.write_units",
            "DynamoDB write units per delivery bringing a new state",
            units_per_state,
            "WRU",
            "(none set)",
            None,
            COMMAND,
            "As DynamoDB Local reports them (ReturnConsumedCapacity), over the second half of the deliveries, once "
            "every repository summary holds its full history; by event: "
            + ", ".join(f"{event} {units:.1f}" for event, units in by_event.items())
            + "; by table: "
            + ", ".join(f"{table} {units:.1f}" for table, units in by_table.items())
            + ". A run's summary update is charged for the whole summary item, not for the part it changes.",
            details={"per_event": by_event, "per_table": by_table},
        ),
    ]
