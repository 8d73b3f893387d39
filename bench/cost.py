"""What a month of 1,000 workflow runs a day costs on AWS, from the benchmarks' measured counts.

    make bench-cost      # after the other benchmarks: rewrites its section of docs/OPERATIONS.md and records the total

The counts come from bench/results.json (each figure names the benchmark that measured it); what no benchmark
measures is an assumption below, stated with its reason. Prices are eu-west-2 list prices, on-demand, without the
free tier, as constants with where they come from: this machine cannot reach AWS, so they are not fetched, and
should be checked on the pricing pages before a budget is set on them.

As built: a webhook's request ends at its write; the events table's stream feeds the stream function, which
coalesces changes (at most one message per connection per REALTIME_COALESCE_SECONDS) and posts them to the
subscribed connections (`fan_out` below models it, from what bench/webhook_load.py measured of it).
"""

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

import hcl2
from hcl2 import SerializationOptions

from bench.report import Figure
from dashboard.lib.metrics import METRICS
from devstack.package import FUNCTIONS, stage_setting, zappa_stage

ROOT = Path(__file__).resolve().parent.parent
INFRA = ROOT / "infra"
RESULTS = ROOT / "bench" / "results.json"
OPERATIONS = ROOT / "docs" / "OPERATIONS.md"
COMMAND = "make bench-cost"
START, END = "<!-- cost:start (bench/cost.py writes this) -->", "<!-- cost:end -->"

# --- eu-west-2 (London) list prices, USD --------------------------------------------------------------------------
PRICES_AS_OF = "2026-11, from the AWS pricing pages named in bench/cost.py (not fetched by it: no internet here)"
PRICES = {
    # https://aws.amazon.com/lambda/pricing/ (x86)
    "lambda_request": 0.20 / 1e6,
    "lambda_gb_second": 0.0000166667,
    # https://aws.amazon.com/api-gateway/pricing/
    "http_api_request": 1.11 / 1e6,
    "websocket_message": 1.14 / 1e6,  # per 32 KB message, both directions
    "websocket_connection_minute": 0.285 / 1e6,
    # https://aws.amazon.com/dynamodb/pricing/on-demand/
    "dynamodb_wru": 0.7425 / 1e6,
    "dynamodb_rru": 0.1485 / 1e6,
    "dynamodb_gb_month": 0.2970,
    "dynamodb_pitr_gb_month": 0.2376,
    # https://aws.amazon.com/cloudwatch/pricing/
    "logs_ingest_gb": 0.5985,
    "logs_store_gb_month": 0.0315,
    "alarm_metric_month": 0.10,  # standard resolution, per metric an alarm evaluates
    "dashboard_month": 3.00,
    "custom_metric_month": 0.30,  # the first 10,000 metrics; embedded-metric-format ones included
    # https://aws.amazon.com/kms/pricing/
    "kms_key_month": 1.00,
    "kms_rotation_month": 1.00,  # each of a key's first two rotations adds this; later ones are free
    "kms_request": 0.03 / 1e4,
    # https://aws.amazon.com/lambda/pricing/ (SnapStart, Python): US East's rates, London's not being at hand here
    "snapstart_cache_gb_second": 0.0000015046,  # while a version is active, at least 3 hours
    "snapstart_restore_gb": 0.0001397998,
    # https://aws.amazon.com/cloudfront/pricing/ (Europe)
    "cloudfront_request": 0.0120 / 1e4,
    "cloudfront_gb_out": 0.085,
    # https://aws.amazon.com/route53/pricing/
    "route53_zone_month": 0.50,
    # https://aws.amazon.com/s3/pricing/
    "s3_gb_month": 0.024,
}

# --- The workload: the design's load (docs/decisions.md#design-load), and what no benchmark measures ------------------
RUNS_PER_DAY = 1000
OPEN_DASHBOARDS = 10  # the design's load (issue 10 models 100 times it: 100,000 runs, 1,000 dashboards)
HOURS_OPEN_PER_DAY = 10  # a working day with the page left open
PAGE_VIEWS_PER_DASHBOARD_PER_DAY = 60  # navigation, plus a snapshot re-read after each reconnect
DAYS_PER_MONTH = 30
# A subscription item (repository, connection id) as the fan-out's Query reads it; eventually consistent reads
# cost half a unit per 4 KB.
SUBSCRIPTION_BYTES = 100
# In AWS a DynamoDB or API Gateway round trip from Lambda takes longer than on this machine's loopback.
AWS_ROUND_TRIP_MS = 8
RECONCILE_SECONDS = 1.5  # a pass: one index query per status, a few conditional GETs, one deliveries listing
LOG_BYTES_PER_INVOCATION = 900  # two JSON lines and one metric line, and Lambda's START/END/REPORT
STORED_GB = 0.5  # 30 days of runs and jobs, 7 days of deliveries, sessions and users
MEMORY_GB = {"app": 1.0, "reconcile": 0.5, "ws": 0.5, "stream": 0.5}  # zappa_settings.json
# A new execution environment every this many invocations (idle ones are recycled within minutes).
INVOCATIONS_PER_COLD_START = 50
# SnapStart versions with a snapshot cached at once: `live`, and `previous` until it has gone 14 days uninvoked.
SNAPSHOT_VERSIONS = 2
# Values of a metric's extra dimension (dashboard/lib/github/: app, installation and user budgets).
METRIC_SERIES = {"GitHubRateLimitRemaining": 3}
# Each key's cost from its third year, when both paid rotations have happened: the estimate does not rest on
# the keys being new.
KMS_PAID_ROTATIONS = 2

# --- The stream function's fan-out (realtime/coalesce.py, realtime/gateway.py), as built ----------------------------
COALESCE_SECONDS = 1.0  # REALTIME_COALESCE_SECONDS's default (dashboard/settings.py)
COALESCE_OVERLAP_SECONDS = 5.0  # realtime/coalesce.py OVERLAP: a delayed send reads the events from this far back
EVENT_SHARDS = 10  # realtime/models.py BUCKET_SHARDS: a read of an hour's events is one Query per shard
MESSAGE_KB = 128  # API Gateway's largest message (realtime/gateway.py MAX_MESSAGE_BYTES): a bigger send is split
# "At 1,769 MB, a function has the equivalent of one vCPU" (https://docs.aws.amazon.com/lambda/latest/dg/
# configuration-memory.html); one Python process uses at most one, whatever the memory (the GIL).
LAMBDA_MB_PER_VCPU = 1769


@dataclass
class Line:
    item: str
    quantity: float
    unit: str
    dollars: float
    derivation: str


def figure_value(results: dict, key: str) -> float:
    """A measured figure's value from bench/results.json, or a clear stop naming what to run."""
    try:
        return float(results[key]["value"])
    except KeyError:
        raise SystemExit(f"bench/results.json has no {key}: run `make bench` first") from None


def figure_details(results: dict, key: str) -> dict:
    """The counts a benchmark recorded beside a figure (`Figure.details`), or a clear stop naming what to run."""
    details = results.get(key, {}).get("details")
    if not details:
        raise SystemExit(f"bench/results.json has no measured details for {key}: run `make bench` first")
    return details


def deliveries_per_run(results: dict) -> float:
    """Measured by the webhook benchmark: the deliveries its simulated runs sent, per run."""
    details = figure_details(results, "webhooks.rate")
    return sum(details["deliveries"].values()) / details["runs"]


def run_delivery_share(results: dict) -> float:
    """The share of deliveries that are `workflow_run` (the rest are `workflow_job`), as measured."""
    deliveries = figure_details(results, "webhooks.rate")["deliveries"]
    return deliveries.get("workflow_run", 0) / sum(deliveries.values())


_HCL = SerializationOptions(strip_string_quotes=True, with_comments=False)


def _resources(kind: str, directory: Path = INFRA) -> dict[str, dict]:
    found = {}
    for path in sorted(directory.glob("*.tf")):
        with path.open() as source:
            for block in hcl2.load(source, serialization_options=_HCL).get("resource", []):
                found.update(block.get(kind, {}))
    return found


def alarm_metrics(directory: Path = INFRA) -> int:
    """The metrics CloudWatch's alarms evaluate, counted in infra/: one per alarm, or one per metric of its metric
    math, for each instance of a `for_each` (a literal list, or the three functions)."""
    count = 0
    for alarm in _resources("aws_cloudwatch_metric_alarm", directory).values():
        queries = alarm.get("metric_query", [])
        metrics = sum(1 for query in queries if "metric" in query) if queries else 1
        each = alarm.get("for_each")
        instances = (
            1 if each is None else (len(MEMORY_GB) if "local.functions" in each else len(re.findall(r'"[^"]*"', each)))
        )
        count += metrics * instances
    return count


def custom_metrics() -> int:
    """The metric series the app emits per stage (dashboard/lib/metrics.py), each of which CloudWatch bills."""
    return sum(METRIC_SERIES.get(name, 1) for name in METRICS)


def kms_keys(directory: Path = INFRA) -> tuple[int, int]:
    """(keys, of which rotating) a stage has (infra/kms.tf)."""
    keys = _resources("aws_kms_key", directory).values()
    return len(keys), sum(1 for key in keys if key.get("enable_key_rotation") is True)


def snap_start_memory_gb() -> float:
    """The memory of the functions with SnapStart on (zappa_settings.json), whose snapshots are cached and restored."""
    on = [f for f in FUNCTIONS if stage_setting(zappa_stage("prod", f), "snap_start") == "PublishedVersions"]
    return sum(MEMORY_GB[function] for function in on)


def subscription_read_units(subscribers: float) -> float:
    """Read units of the fan-out's Query of one repository's subscriptions."""
    return 0.5 * max(1, math.ceil(subscribers * SUBSCRIPTION_BYTES / 4096))


def vcpus(memory_gb: float) -> float:
    """The CPU a function of this memory gets, as a share of one core (at most one: a Python process)."""
    return min(1.0, memory_gb * 1024 / LAMBDA_MB_PER_VCPU)


def change_kb(results: dict) -> float:
    """What one change adds to a message, KB (measured: the bytes posted to a connection that had every change)."""
    return figure_details(results, "webhooks.stream_fanout_ms")["change_bytes"] / 1024


def write_units_per_table(results: dict, table: str) -> float:
    """Write units per delivery bringing a new state on one table, as the webhook benchmark measured them."""
    return figure_details(results, "webhooks.write_units")["per_table"].get(table, 0.0)


@dataclass(frozen=True)
class FanOut:
    """The stream function's work at a steady rate of changes, all to every open dashboard, per open second.

    Changes come in clusters: a run's changes of the same second or within an interval of each other (its jobs
    queued together, a job's completion with its run's). How many messages each run alone makes per change is
    measured (bench/webhook_load.py runs realtime/coalesce.py's Coalescer on the simulator's runs); runs laid over
    one another are modelled as clusters arriving at random (Poisson), which the coalescer sends at once after a
    quiet interval and otherwise at the interval's end: 1 / (I + e^(-mu I) / mu) sends a second for mu clusters a
    second. A send bigger than API Gateway's 128 KB goes as several posts, and API Gateway bills a message per
    32 KB begun. The function works one batch at a time (one stream shard, parallelization 1): if posting a send
    takes longer than the interval, its changes arrive later than the interval promises; if posting every change
    to every connection takes more than a second a second, it falls behind for good.
    """

    changes_s: float
    clusters_s: float
    sends_s: float  # coalesced sends a second, each to every open dashboard
    posts_per_send: float  # Management API posts per connection per send
    billed_per_send: float  # messages API Gateway bills per connection per send (32 KB each)
    work: float  # seconds of the function a second, to post everything to every connection (over 1: behind)
    post_s: float  # seconds of the function to post one send to every connection
    wait_s: float  # seconds per send the function waits out the interval (billed)
    delayed: float  # the share of sends that waited, each of which reads the events table ahead
    queries_per_send: float  # subscription Queries: one per repository in the send

    @property
    def billed_s(self) -> float:
        """Messages API Gateway bills a second, per connection."""
        return self.sends_s * self.billed_per_send

    @property
    def busy(self) -> float:
        """The stream function's billed seconds per second: posting and waiting, one batch at a time."""
        return min(1.0, self.work + self.sends_s * self.wait_s)

    @property
    def invocations_s(self) -> float:
        """Invocations per second: one per send, and after a send that waited and read ahead, one more whose
        records were already sent."""
        return self.sends_s * (1 + self.delayed)


def _send_kb(results: dict, changes: float) -> float:
    return changes * change_kb(results)


def fan_out(results: dict, *, changes_s: float, dashboards: float, memory_gb: float | None = None) -> FanOut:
    """The stream function's fan-out at `changes_s` changes a second with `dashboards` open, as built."""
    interval = COALESCE_SECONDS
    measured = figure_details(results, "webhooks.stream_fanout_ms")
    cpu = vcpus(MEMORY_GB["stream"] if memory_gb is None else memory_gb)
    clusters = changes_s * figure_value(results, "webhooks.coalesced_messages")
    if clusters <= 0:
        return FanOut(0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0)

    def work(sends: float) -> tuple[float, float, float, float]:
        """(posts, billed messages, queries) per send, and the function's seconds a second, at `sends` a second."""
        kb = _send_kb(results, changes_s / sends)
        posts = max(1.0, kb / MESSAGE_KB)
        billed = 1.0 if kb <= 32 else kb / 32 + 0.5  # a message per 32 KB begun, each post's last one partly full
        queries = max(1.0, clusters / sends)
        per_post_ms = max(measured["cpu_ms_per_post"] / cpu, AWS_ROUND_TRIP_MS / measured["post_concurrency"])
        seconds = sends * (dashboards * posts * per_post_ms + queries * AWS_ROUND_TRIP_MS) / 1000
        return posts, billed, queries, seconds

    # While `work` stays under a second a second, sends keep the coalescer's pace; past it the function falls behind
    # (the scale model's limit), and is costed as busy all the time.
    sends = 1 / (interval + math.exp(-clusters * interval) / clusters)
    posts, billed, queries, seconds = work(sends)
    delayed = 1 - math.exp(-clusters * interval)
    post_s = seconds / sends
    wait = max(0.0, interval - delayed / clusters - post_s)
    return FanOut(changes_s, clusters, sends, posts, billed, seconds, post_s, wait, delayed, queries)


def estimate(results: dict, *, runs_per_day: int = RUNS_PER_DAY, dashboards: int = OPEN_DASHBOARDS) -> list[Line]:
    """The month's line items, as built. Every open dashboard watches every repository, as at the design's load."""
    p, month = PRICES, DAYS_PER_MONTH
    per_run = deliveries_per_run(results)
    deliveries = runs_per_day * per_run * month
    requests_per_delivery = figure_value(results, "webhooks.dynamodb_requests")
    webhook_ms = figure_value(results, "webhooks.p99") + requests_per_delivery * AWS_ROUND_TRIP_MS
    page_views = dashboards * PAGE_VIEWS_PER_DASHBOARD_PER_DAY * month
    reads_per_view = figure_value(results, "overview.dynamodb_requests")
    read_units_per_view = figure_value(results, "overview.read_units")
    page_ms = figure_value(results, "overview.server_p95") + reads_per_view * AWS_ROUND_TRIP_MS
    open_seconds = HOURS_OPEN_PER_DAY * 3600 * month
    # Every change while the dashboards are open (CI follows the working day), each a new event on the stream.
    fan = fan_out(results, changes_s=deliveries / open_seconds, dashboards=dashboards)
    sends = fan.sends_s * open_seconds
    pushes = sends * fan.billed_per_send * dashboards
    minutes_open = dashboards * HOURS_OPEN_PER_DAY * 60 * month
    # Heartbeat every 4 minutes (ping and pong), a planned reconnect every 110 minutes (connect, subscribe, close).
    socket_events = dashboards * HOURS_OPEN_PER_DAY * month * (60 / 4 + 3 * 60 / 110)
    reconciles = 24 * 12 * month
    cold_start_s = figure_value(results, "lambda.cold_start") / 1000

    app_invocations = deliveries + page_views
    app_gb_s = (deliveries * webhook_ms + page_views * page_ms) / 1000 * MEMORY_GB["app"]
    ws_invocations = socket_events
    ws_gb_s = (ws_invocations * (AWS_ROUND_TRIP_MS * 3) / 1000 + ws_invocations / 50 * cold_start_s) * MEMORY_GB["ws"]
    stream_invocations = fan.invocations_s * open_seconds
    stream_gb_s = fan.busy * open_seconds * MEMORY_GB["stream"]
    reconcile_gb_s = reconciles * RECONCILE_SECONDS * MEMORY_GB["reconcile"]
    gb_seconds = app_gb_s + ws_gb_s + stream_gb_s + reconcile_gb_s
    invocations = app_invocations + ws_invocations + reconciles + stream_invocations
    snapshot_gb = snap_start_memory_gb()
    restores = app_invocations / INVOCATIONS_PER_COLD_START
    alarms, series = alarm_metrics(), custom_metrics()
    keys, rotating = kms_keys()
    wru = deliveries * figure_value(results, "webhooks.write_units")
    view_rru = page_views * read_units_per_view
    subscription_rru = sends * fan.queries_per_send * subscription_read_units(dashboards)
    # A send that waited reads the events written from a little before its batch on: a consistent Query per shard.
    ahead = fan.changes_s * (COALESCE_SECONDS + COALESCE_OVERLAP_SECONDS) * change_kb(results)
    read_ahead_rru = sends * fan.delayed * (EVENT_SHARDS + ahead / 4)
    rru = view_rru + subscription_rru + read_ahead_rru
    log_gb = invocations * LOG_BYTES_PER_INVOCATION / 1e9
    cache_dollars = SNAPSHOT_VERSIONS * snapshot_gb * month * 86400 * p["snapstart_cache_gb_second"]
    per_day = 1 / month

    return [
        Line(
            "Lambda requests",
            invocations,
            "invocations",
            invocations * p["lambda_request"],
            f"app {app_invocations * per_day:,.0f} a day ({per_run:.0f} deliveries per run, measured, and "
            f"{page_views * per_day:,.0f} page views), stream {stream_invocations * per_day:,.0f} (a batch per "
            f"coalesced send, and one more after a send that waited), ws {ws_invocations * per_day:,.0f} (socket "
            f"events), reconcile {reconciles * per_day:.0f}",
        ),
        Line(
            "Lambda compute",
            gb_seconds,
            "GB-s",
            gb_seconds * p["lambda_gb_second"],
            f"app {app_gb_s:,.0f} GB-s (webhook {webhook_ms:.0f} ms: measured p99 + {requests_per_delivery:.2f} "
            f"DynamoDB round trips; page {page_ms:.0f} ms), stream {stream_gb_s:,.0f} GB-s ({fan.post_s * 1000:.0f} "
            f"ms to post a send to {dashboards:,} connections at {measured_cpu_ms(results):.2f} ms of CPU a post, "
            f"measured, on {vcpus(MEMORY_GB['stream']):.2f} vCPU; {fan.wait_s * 1000:.0f} ms waiting out the interval "
            f"per send; busy {fan.busy:.0%} of the open hours), ws {ws_gb_s:,.0f} GB-s, reconcile "
            f"{reconcile_gb_s:,.0f} GB-s; memory as in zappa_settings.json",
        ),
        Line(
            "HTTP API requests",
            app_invocations,
            "requests",
            app_invocations * p["http_api_request"],
            "every delivery and page view",
        ),
        Line(
            "WebSocket messages",
            pushes + socket_events,
            "messages",
            (pushes + socket_events) * p["websocket_message"],
            f"{pushes * per_day:,.0f} a day to connections: {fan.changes_s * open_seconds * per_day:,.0f} changes "
            f"a day coalesced ({COALESCE_SECONDS:g} s) into {sends * per_day:,.0f} sends to each of {dashboards:,} "
            f"dashboards ({figure_value(results, 'webhooks.coalesced_messages'):.2f} messages per change for a run "
            f"alone, measured), each billed as {fan.billed_per_send:.2f} messages (one per 32 KB begun, "
            f"{change_kb(results):.2f} KB a change, measured); {socket_events * per_day:,.0f} heartbeats and "
            "reconnects",
        ),
        Line(
            "WebSocket connection minutes",
            minutes_open,
            "minutes",
            minutes_open * p["websocket_connection_minute"],
            f"{dashboards:,} dashboards open {HOURS_OPEN_PER_DAY} h a day",
        ),
        Line(
            "DynamoDB writes",
            wru,
            "WRU",
            wru * p["dynamodb_wru"],
            f"{figure_value(results, 'webhooks.write_units'):.1f} write units per new state (measured): a 3-item "
            "transaction, and for runs a summary update charged for the whole summary",
        ),
        Line(
            "DynamoDB reads",
            rru,
            "RRU",
            rru * p["dynamodb_rru"],
            f"page views {view_rru:,.0f} ({read_units_per_view:.1f} read units per overview view, measured); "
            f"subscriptions {subscription_rru:,.0f} (one Query per repository per send); the coalescer's reads "
            f"ahead {read_ahead_rru:,.0f} ({EVENT_SHARDS} shards per delayed send); the stream itself is free to a "
            "Lambda trigger",
        ),
        Line(
            "DynamoDB storage and PITR",
            STORED_GB,
            "GB",
            STORED_GB * (p["dynamodb_gb_month"] + p["dynamodb_pitr_gb_month"]),
            "items expire by TTL (30 days for runs)",
        ),
        Line(
            "CloudWatch Logs",
            log_gb,
            "GB",
            log_gb * (p["logs_ingest_gb"] + 12 * p["logs_store_gb_month"] / 2),
            f"{LOG_BYTES_PER_INVOCATION} bytes per invocation, ingested, and kept a year",
        ),
        Line(
            "Lambda SnapStart",
            restores,
            "restores",
            cache_dollars + restores * snapshot_gb * p["snapstart_restore_gb"],
            f"the app's {snapshot_gb:g} GB snapshot cached for {SNAPSHOT_VERSIONS} versions (live, previous) "
            f"${cache_dollars:,.2f}, whatever the traffic; restored once per {INVOCATIONS_PER_COLD_START} "
            "invocations",
        ),
        Line(
            "CloudWatch alarms and dashboard",
            alarms,
            "alarm metrics",
            alarms * p["alarm_metric_month"] + p["dashboard_month"],
            f"{alarms} alarm metrics counted in infra/observability.tf (${alarms * p['alarm_metric_month']:.2f}), "
            f"and one dashboard (${p['dashboard_month']:.2f})",
        ),
        Line(
            "CloudWatch custom metrics",
            series,
            "metrics",
            series * p["custom_metric_month"],
            "dashboard/lib/metrics.py, by Stage (and by credential for the GitHub budget)",
        ),
        Line(
            "KMS keys and requests",
            keys,
            "keys",
            keys * p["kms_key_month"]
            + rotating * KMS_PAID_ROTATIONS * p["kms_rotation_month"]
            + page_views * p["kms_request"] / 10,
            f"infra/kms.tf: {keys} keys at ${p['kms_key_month']:.0f} each, {rotating} rotating yearly, costed from "
            f"the third year (two paid rotations each, ${p['kms_rotation_month']:.0f} a month each); data keys "
            "cached for 5 minutes",
        ),
        Line(
            "CloudFront, Route 53, S3",
            page_views * 4,
            "requests",
            page_views * 4 * p["cloudfront_request"] + p["route53_zone_month"] + 1 * p["s3_gb_month"],
            "a page and three static files per view; one hosted zone",
        ),
    ]


def measured_cpu_ms(results: dict) -> float:
    return figure_details(results, "webhooks.stream_fanout_ms")["cpu_ms_per_post"]


def total(lines: list[Line]) -> float:
    return sum(line.dollars for line in lines)


BUDGET = 8.0  # USD a month per stage at the design's load: the target


@dataclass(frozen=True)
class Lever:
    """A change this estimate points to but does not make (infra/ and zappa_settings.json are another engineer's):
    what it is, and what it would save a month at the design's load, from the same lines."""

    change: str
    saving: float


def levers(lines: list[Line]) -> list[Lever]:
    """The changes that would bring the largest fixed items down, each costed from its line."""
    p = PRICES
    by_item = {line.item: line for line in lines}
    snapstart = by_item["Lambda SnapStart"].dollars
    alarms = by_item["CloudWatch alarms and dashboard"].quantity
    series = by_item["CloudWatch custom metrics"].quantity
    return [
        Lever(
            "SnapStart off for the app (its cold start then unmitigated: bench/cold_start.py measures it on a full "
            "core, and 1 GB gives a Lambda about 0.6 of one; caching `live`'s snapshot only would save half the cache)",
            snapstart,
        ),
        Lever(
            "one KMS key instead of two: the tables, logs, queue and artifacts under AWS-owned keys (free), the "
            "tokens key kept for what the app seals itself",
            p["kms_key_month"] + KMS_PAID_ROTATIONS * p["kms_rotation_month"],
        ),
        Lever(
            "no CloudWatch dashboard of the stage's own (or one of the account's three always-free)",
            p["dashboard_month"],
        ),
        Lever(
            "alarms and custom metrics within CloudWatch's always-free 10 of each (one account, shared by its "
            "stages: at most this for one of them)",
            min(10, alarms) * p["alarm_metric_month"] + min(10, series) * p["custom_metric_month"],
        ),
    ]


def render(lines: list[Line], *, runs_per_day: int = RUNS_PER_DAY) -> str:
    rows = [f"| {line.item} | {_quantity(line)} | ${line.dollars:,.2f} | {line.derivation} |" for line in lines]
    spent = total(lines)
    cuts = levers(lines)
    return "\n".join(
        [
            START,
            f"Estimated monthly cost at {runs_per_day:,} workflow runs a day and {OPEN_DASHBOARDS} open dashboards: "
            f"**${spent:,.2f}** a month per stage, before the free tier, as built (coalesced fan-out from the events "
            f"table's stream). Budget: ${BUDGET:g}: {'met' if spent <= BUDGET else 'not met'}.",
            "",
            "| item | a month | cost | derived from |",
            "|---|---|---|---|",
            *rows,
            "",
            "Not built, each a change to infra/ or zappa_settings.json, with what it would save a month:",
            "",
            *[f"- {lever.change}: ${lever.saving:,.2f}" for lever in cuts],
            "",
            f"With all of them: ${spent - sum(lever.saving for lever in cuts):,.2f} a month.",
            "",
            f"Prices: eu-west-2 list prices as of {PRICES_AS_OF}. Counts: bench/results.json. "
            "Assumptions: the constants at the top of bench/cost.py.",
            END,
        ]
    )


def _quantity(line: Line) -> str:
    value = line.quantity
    shown = f"{value:,.0f}" if value >= 100 else f"{value:,.2f}".rstrip("0").rstrip(".")
    return f"{shown} {line.unit}"


def write_section(text: str, path: Path = OPERATIONS) -> None:
    document = path.read_text()
    start, end = document.index(START), document.index(END) + len(END)
    path.write_text(document[:start] + text + document[end:])


def run() -> list[Figure]:
    """As a benchmark (`python -m bench cost`, run after the ones it reads): the runbook's section and the total."""
    results = json.loads(RESULTS.read_text())
    lines = estimate(results)
    write_section(render(lines))
    spent = total(lines)
    largest = sorted(lines, key=lambda line: line.dollars, reverse=True)[:4]
    cuts = levers(lines)
    return [
        Figure(
            "cost.monthly",
            f"Monthly AWS cost per stage, {RUNS_PER_DAY:,} runs a day and {OPEN_DASHBOARDS} open dashboards",
            spent,
            "USD",
            f"≤ {BUDGET:g} USD",
            spent <= BUDGET,
            COMMAND,
            "Computed by bench/cost.py from the counts measured above (deliveries per run, DynamoDB write units per "
            "delivery and read units per view, Lambda durations, cold start, the stream function's posts and "
            "coalescing) at eu-west-2 list prices before the free tier, as built; every line item, and what it is "
            "made of, in docs/OPERATIONS.md. Largest: "
            + ", ".join(f"{line.item} ${line.dollars:,.2f}" for line in largest)
            + ". Not built (infra/ and zappa_settings.json), what would bring it down: "
            + "; ".join(f"{lever.change}: ${lever.saving:,.2f}" for lever in cuts)
            + f". With all of them: ${spent - sum(lever.saving for lever in cuts):,.2f}.",
            details={"lines": {line.item: round(line.dollars, 4) for line in lines}},
        )
    ]
