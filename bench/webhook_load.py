"""Webhook deliveries per second on one process, latency per delivery, DynamoDB requests per delivery, and what
1,000 subscribed connections change about a webhook's answer (nothing, now that the request ends at its write).

The deliveries are the simulator's: a busy stretch of seeded activity is recorded (signed, with GitHub's
headers), then replayed into the app in-process through Django's request handling. Latency is the server side
(the view and everything under it), not a network.

The app runs as a deployed stage does for its sockets: WEBSOCKET_API_ENDPOINT points at the Management API
stand-in (devstack/management_api.py, each post taking an AWS round trip), and the open connections are items of
the `connections` and `subscriptions` tables (realtime/models.py), as the WebSocket function leaves them. The
deliveries go in blocks, ABBA four times over: in A one connection is subscribed to the repositories being
changed, in B 1,000 are; the order balances the two in time, so that the summaries' growth and the machine's
mood weigh on both alike. The stand-in counts every post made while the requests run. After each block, the
stream Lambda's handler (pipeline/lambda_stream.py) is given the events table's stream records that block wrote,
as the event source mapping would, and what it posts is counted and timed: the fan-out the request no longer does.
"""

import multiprocessing
import os
import statistics
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

from bench.report import Figure
from bench.stack import DynamoDBRequests, local_stack, percentile

COMMAND = "make bench-webhook-load"
# 60 per repository: the repository summaries reach the size they keep (runs.summaries.HISTORY_KEEP, 30) within the
# first half, and the comparison below has enough deliveries for its p99s to hold still.
RUNS = 180
REPOS = ("acme/api", "acme/storefront", "globex/engine")
SUBSCRIBERS = 1000
WARM_UP = 30  # the first deliveries warm the process up (imports, connections) before the comparison starts
BLOCKS = "ABBA" * 4  # A: one subscribed connection; B: SUBSCRIBERS of them
POST_SECONDS = 0.008  # the stand-in's delay per post: bench/cost.py's AWS round trip
STREAM_BATCH = 100  # records per invocation (infra/stream.tf: batch_size)


class StandIn:
    """The Management API stand-in (devstack/management_api.py) in a process of its own, so that answering the
    posts takes none of this process's time, as API Gateway's takes none of the function's."""

    def __init__(self, delay_seconds: float):
        context = multiprocessing.get_context("spawn")
        self._pipe, theirs = context.Pipe()
        self._process = context.Process(target=_stand_in_serve, args=(theirs, delay_seconds), daemon=True)
        self._process.start()
        self.endpoint = self._ask("endpoint")

    def _ask(self, *command):
        self._pipe.send(command)
        return self._pipe.recv()

    def connect(self, connection_ids: list[str]) -> None:
        self._ask("connect", connection_ids)

    @property
    def posts(self) -> int:
        return self._ask("posts")

    def bytes_to(self, connection_id: str) -> int:
        """Every byte posted to one connection."""
        return self._ask("bytes", connection_id)

    def __enter__(self) -> "StandIn":
        return self

    def __exit__(self, *exc) -> None:
        self._pipe.send(("stop",))
        self._process.join(timeout=10)


def _stand_in_serve(pipe, delay_seconds: float) -> None:
    from devstack.management_api import ManagementApiStandIn

    with ManagementApiStandIn(delay_seconds=delay_seconds) as api:
        while True:
            command, *args = pipe.recv()
            if command == "stop":
                return
            if command == "connect":
                for connection_id in args[0]:
                    api.connect(connection_id)
            if command == "bytes":
                pipe.send(sum(len(message) for message in api.messages(args[0])))
                continue
            pipe.send({"endpoint": api.endpoint, "posts": api.posts, "connect": None}[command])


def _record_deliveries(sim) -> list:
    for index in range(RUNS):
        sim.trigger(REPOS[index % len(REPOS)], outcome="success")
    for _ in range(90):
        sim.advance(60)
    return list(sim.receiver.received)


class Subscribers:
    """Open connections subscribed to every repository of REPOS, as API Gateway's and the WebSocket function's
    `$connect` and `subscribe` leave them: a `connections` item each, a `subscriptions` item per repository."""

    def __init__(self, api):
        self.api = api
        self.ids = [f"bench{index:04d}Conn=" for index in range(SUBSCRIBERS)]
        self.subscribed = 0
        api.connect(self.ids)

    def subscribe(self, count: int) -> None:
        """Make exactly the first `count` connections open and subscribed."""
        from realtime.models import Connection, Subscription

        adding, removing = self.ids[self.subscribed : count], self.ids[count : self.subscribed]
        now = datetime.now(UTC)
        with Connection.batch_write() as connections, Subscription.batch_write() as subscriptions:
            for connection_id in adding:
                connections.save(
                    Connection(connection_id=connection_id, user_id=1, connected_at=now, subscribed_repos=list(REPOS))
                )
                for repo in REPOS:
                    subscriptions.save(Subscription(repo_id=repo, connection_id=connection_id, user_id=1))
            for connection_id in removing:
                connections.delete(Connection(connection_id=connection_id))
                for repo in REPOS:
                    subscriptions.delete(Subscription(repo_id=repo, connection_id=connection_id))
        self.subscribed = count


@dataclass
class Invocation:
    """One stream Lambda invocation, as the event source mapping would make it."""

    subscribers: int
    records: int
    seconds: float
    cpu_seconds: float  # this process's CPU time over the invocation, every thread's
    posts: int
    first_of_block: bool  # after a quiet spell, so sent at once (the coalescer did not wait)


@dataclass
class Replay:
    latencies: dict[str, list[float]] = field(default_factory=lambda: {"A": [], "B": [], "warm-up": []})
    outcomes: list[str] = field(default_factory=list)
    per_new_state: list[int] = field(default_factory=list)
    write_units: list = field(default_factory=list)
    posts_during_requests: int = 0
    invocations: list[Invocation] = field(default_factory=list)
    request_seconds: float = 0.0
    events: int = 0  # stream records (new events) the handler was given
    change_bytes: float = 0.0  # bytes a change took in the messages posted, framing included


def _blocks(deliveries: list) -> Iterator[tuple[str, list]]:
    yield "warm-up", deliveries[:WARM_UP]
    rest = deliveries[WARM_UP:]
    size = -(-len(rest) // len(BLOCKS))
    for index, kind in enumerate(BLOCKS):
        yield kind, rest[index * size : (index + 1) * size]


def _post(client, delivery):
    headers = {f"HTTP_{key.upper().replace('-', '_')}": value for key, value in delivery.headers.items()}
    headers.pop("HTTP_CONTENT_TYPE", None)
    headers.pop("HTTP_CONTENT_LENGTH", None)
    return client.post("/webhooks/github", delivery.body, content_type="application/json", **headers)


def _stream_deliver(stream, api, subscribers: int) -> list[Invocation]:
    """What the block wrote, from the events table's stream to the stream Lambda's handler, batch by batch."""
    from pipeline import lambda_stream

    records = stream.records()
    invocations = []
    for start in range(0, len(records), STREAM_BATCH):
        batch = records[start : start + STREAM_BATCH]
        posts, began, cpu = api.posts, time.perf_counter(), time.process_time()
        answer = lambda_stream.handler({"Records": batch}, None)
        seconds, cpu_seconds = time.perf_counter() - began, time.process_time() - cpu
        if answer["batchItemFailures"]:
            raise RuntimeError(f"the stream handler failed records: {answer}")
        invocations.append(Invocation(subscribers, len(batch), seconds, cpu_seconds, api.posts - posts, start == 0))
    return invocations


def _replay(deliveries: list, subscribers: Subscribers, stream, api) -> Replay:
    from django.test import Client

    client = Client()
    replay = Replay()
    with DynamoDBRequests(capacity=True) as requests_made:
        for kind, block in _blocks(deliveries):
            count = SUBSCRIBERS if kind == "B" else 1
            subscribers.subscribe(count)
            posts, began = api.posts, time.perf_counter()
            for delivery in block:
                before, tables_before = requests_made.total, requests_made.write_units_by_table.copy()
                sent = time.perf_counter()
                response = _post(client, delivery)
                replay.latencies[kind].append((time.perf_counter() - sent) * 1000)
                outcome = response.json().get("outcome")
                replay.outcomes.append(outcome)
                if outcome == "applied" and delivery.event in ("workflow_run", "workflow_job"):
                    replay.per_new_state.append(requests_made.total - before)
                    replay.write_units.append((delivery.event, requests_made.write_units_by_table - tables_before))
            replay.request_seconds += time.perf_counter() - began
            replay.posts_during_requests += api.posts - posts
            calls = _stream_deliver(stream, api, count)
            replay.events += sum(call.records for call in calls)
            replay.invocations += calls
    return replay


def run() -> list[Figure]:
    with local_stack(simulator=True) as sim, StandIn(POST_SECONDS) as api:
        from django.conf import settings

        from realtime import fanout, gateway
        from tests.plugins.stream import StreamLambda

        deliveries = _record_deliveries(sim)
        # As a deployed stage: changes reach connections through the Management API (the stand-in). botocore signs
        # its requests, so it needs credentials; the stand-in checks only that they are there.
        os.environ.setdefault("AWS_ACCESS_KEY_ID", "stand-in")
        os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "stand-in")
        settings.WEBSOCKET_API_ENDPOINT = api.endpoint
        gateway.management_client.cache_clear()
        fanout.coalescer.cache_clear()
        subscribers = Subscribers(api)
        stream = StreamLambda()  # reads from here on, as a mapping created now would (LATEST)
        replay = _replay(deliveries, subscribers, stream, api)
        # The first connection was subscribed throughout: it was sent every change.
        replay.change_bytes = api.bytes_to(subscribers.ids[0]) / replay.events
        interval = settings.REALTIME_COALESCE_SECONDS
    return figures(deliveries, replay, interval)


def figures(deliveries: list, replay: Replay, interval: float) -> list[Figure]:
    latencies = [value for values in replay.latencies.values() for value in values]
    rate = len(deliveries) / replay.request_seconds
    p50, p99 = percentile(latencies, 0.5), percentile(latencies, 0.99)
    one, many = replay.latencies["A"], replay.latencies["B"]
    p99_one, p99_many = percentile(one, 0.99), percentile(many, 0.99)
    ratio = p99_many / p99_one
    requests_per_state = statistics.mean(replay.per_new_state)
    # Once every summary holds a full history (the second half), as it does in production after a few days.
    warm = replay.write_units[len(replay.write_units) // 2 :]
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
    outcomes = replay.outcomes
    note = (
        f"{len(deliveries)} deliveries of {RUNS} simulated runs (workflow_run and workflow_job, GitHub's payload "
        f"shapes, signed: {events.count('workflow_run')} workflow_run, {events.count('workflow_job')} workflow_job), "
        f"replayed through Django's request handling against DynamoDB Local; "
        f"outcomes: {', '.join(f'{outcome} {outcomes.count(outcome)}' for outcome in sorted(set(outcomes)))}."
    )
    fan_out = [call for call in replay.invocations if call.subscribers == SUBSCRIBERS]
    at_once = [call for call in fan_out if call.first_of_block]
    at_once_ms = statistics.median(call.seconds * 1000 for call in at_once)
    cpu_per_post_ms = statistics.median(call.cpu_seconds * 1000 / call.posts for call in at_once)
    stream_posts = sum(call.posts for call in replay.invocations)
    sends = sum(1 for call in fan_out if call.posts)
    coalescing = coalesced_messages(deliveries, interval)
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
            "webhooks.subscribers_p99_ratio",
            f"Webhook latency p99 with {SUBSCRIBERS:,} subscribed connections ÷ with 1, measured in one run",
            ratio,
            "×",
            "≤ 1.1",
            ratio <= 1.1,
            COMMAND,
            f"Server side, the deployed shape: WEBSOCKET_API_ENDPOINT at the Management API stand-in, connections "
            f"and subscriptions in their tables. After {WARM_UP} warm-up deliveries, the rest in blocks {BLOCKS} "
            f"(A: 1 connection subscribed to the {len(REPOS)} repositories being changed, B: {SUBSCRIBERS:,}): "
            f"p99 {p99_many:.1f} ms over {len(many):,} deliveries with {SUBSCRIBERS:,}, {p99_one:.1f} ms over "
            f"{len(one)} with 1; p50 {percentile(many, 0.5):.1f} and {percentile(one, 0.5):.1f} ms. A p99 of some "
            f"1,300 requests on a shared 2-core machine moves by a fifth from run to run (0.75 to 1.06 seen while "
            f"this benchmark was written): the count of posts below is the robust figure.",
        ),
        Figure(
            "webhooks.posts_during_requests",
            "Management API posts made while webhook requests ran, up to 1,000 subscribed connections",
            replay.posts_during_requests,
            "posts",
            "0",
            replay.posts_during_requests == 0,
            COMMAND,
            f"Counted by the stand-in over all {len(deliveries):,} requests. The fan-out happens afterwards, in the "
            f"stream Lambda's handler given the stream's records: {len(replay.invocations)} invocations of up to "
            f"{STREAM_BATCH} records made {stream_posts:,} posts ({sends} coalesced sends to the "
            f"{SUBSCRIBERS:,} connections in the B blocks).",
        ),
        Figure(
            "webhooks.stream_fanout_ms",
            f"Stream Lambda handler, a batch sent at once to {SUBSCRIBERS:,} subscribed connections",
            at_once_ms,
            "ms",
            "(none set)",
            None,
            COMMAND,
            f"Median of the {len(at_once)} B blocks' first invocations (each after a quiet spell, so the coalescer "
            f"did not wait): a Query of each repository's subscriptions, then one post per connection, "
            f"{_post_concurrency()} at a time, each taking {POST_SECONDS * 1000:g} ms at the stand-in (a process of "
            f"its own) as an AWS round trip might; on this machine's cores, not a Lambda's: the handler's CPU time "
            f"(every thread's) was {cpu_per_post_ms:.2f} ms per post, so it is bound by CPU more than by the round "
            f"trips ({SUBSCRIBERS:,} ÷ {_post_concurrency()} × {POST_SECONDS * 1000:g} ms = "
            f"{SUBSCRIBERS / _post_concurrency() * POST_SECONDS * 1000:.0f} ms). A change took "
            f"{replay.change_bytes:,.0f} bytes of the messages posted, framing included ({replay.events:,} changes "
            f"to the connection subscribed throughout).",
            details={
                "connections": SUBSCRIBERS,
                "post_ms": POST_SECONDS * 1000,
                "cpu_ms_per_post": cpu_per_post_ms,
                "post_concurrency": _post_concurrency(),
                "change_bytes": replay.change_bytes,
                "posts_per_connection": _posts_per_connection(fan_out),
            },
        ),
        Figure(
            "webhooks.coalesced_messages",
            f"Socket messages per change after coalescing ({interval:g} s), the simulator's runs one at a time",
            coalescing["messages"] / coalescing["changes"],
            "messages",
            "(none set)",
            None,
            COMMAND,
            f"realtime/coalesce.py's Coalescer itself, on a clock of each run's own: the {coalescing['changes']:,} "
            f"changes of the {coalescing['runs']} recorded runs at the times their payloads give (whole seconds), "
            f"each run alone, became {coalescing['messages']:,} messages per connection: a run's changes come in "
            f"clusters (its jobs queued together, a job's completion with its run's). bench/cost.py and "
            f"bench/scale.py lay runs over one another at each load from this.",
            details=coalescing,
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


def _post_concurrency() -> int:
    from realtime.gateway import POST_CONCURRENCY

    return POST_CONCURRENCY


def _posts_per_connection(invocations: list[Invocation]) -> float:
    """Posts per connection per message sent: more than 1 when a batch is over API Gateway's 128 KB."""
    sending = [call for call in invocations if call.posts]
    return sum(call.posts for call in sending) / (SUBSCRIBERS * len(sending)) if sending else 0.0


# --- Coalescing on the simulator's timeline -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Change:
    """What the Coalescer reads of an event: its id."""

    event_id: str


def change_times(deliveries: list) -> dict[int, list[float]]:
    """When each delivery's change happened (epoch s, from its payload's own timestamps), by run."""
    from ghsim.clock import parse_iso

    runs: dict[int, list[float]] = {}
    for delivery in deliveries:
        payload = delivery.payload
        if delivery.event == "workflow_run":
            run_id, at = payload["workflow_run"]["id"], payload["workflow_run"]["updated_at"]
        elif delivery.event == "workflow_job":
            job = payload["workflow_job"]
            field_of = {"in_progress": "started_at", "completed": "completed_at"}
            run_id, at = job["run_id"], job.get(field_of.get(payload["action"], "created_at")) or job["created_at"]
        else:
            continue
        runs.setdefault(run_id, []).append(parse_iso(at))
    return runs


def coalesced_messages(deliveries: list, interval: float) -> dict:
    """Messages a connection gets for each run's changes, each run alone, by realtime/coalesce.py's Coalescer on a
    simulated clock (changes of the same second come in one batch, as the stream would hand them)."""
    runs = change_times(deliveries)
    messages = sum(_coalesce(times, interval) for times in runs.values())
    return {
        "runs": len(runs),
        "changes": sum(len(times) for times in runs.values()),
        "messages": messages,
        "interval": interval,
    }


def _coalesce(times: list[float], interval: float) -> int:
    from realtime.coalesce import Coalescer

    now = [0.0]
    changes = [(at, _Change(f"{index}")) for index, at in enumerate(sorted(times))]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    def read_ahead(first) -> list:
        return [change for at, change in changes if at <= now[0]]

    coalescer = Coalescer(interval, read_ahead=read_ahead, clock=lambda: now[0], sleep=sleep)
    sent = 0
    for at in sorted({at for at, _ in changes}):
        now[0] = max(now[0], at)
        if coalescer.due([change for when, change in changes if when == at]):
            sent += 1
    return sent
