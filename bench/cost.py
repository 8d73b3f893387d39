"""What a month of 1,000 workflow runs a day costs on AWS, from the benchmarks' measured counts.

    make bench-cost      # after the other benchmarks: rewrites its section of docs/OPERATIONS.md and records the total

The counts come from bench/results.json (each figure names the benchmark that measured it); what no benchmark
measures is an assumption below, stated with its reason. Prices are eu-west-2 list prices, on-demand, without the
free tier, as constants with where they come from: this machine cannot reach AWS, so they are not fetched, and
should be checked on the pricing pages before a budget is set on them.
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
MEMORY_GB = {"app": 1.0, "reconcile": 0.5, "ws": 0.5}  # zappa_settings.json
# A new execution environment every this many invocations (idle ones are recycled within minutes).
INVOCATIONS_PER_COLD_START = 50
# SnapStart versions with a snapshot cached at once: `live`, and `previous` until it has gone 14 days uninvoked.
SNAPSHOT_VERSIONS = 2
# Values of a metric's extra dimension (dashboard/lib/github/: app, installation and user budgets).
METRIC_SERIES = {"GitHubRateLimitRemaining": 3}
# Each key's cost from its third year, when both paid rotations have happened: the estimate does not rest on
# the keys being new.
KMS_PAID_ROTATIONS = 2


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


def estimate(
    results: dict,
    *,
    runs_per_day: int = RUNS_PER_DAY,
    dashboards: int = OPEN_DASHBOARDS,
    coalesce_seconds: float | None = None,
) -> list[Line]:
    """The month's line items.

    Every open dashboard watches every repository, as at the design's load. With `coalesce_seconds`, a connection
    is sent at most one message per that many seconds, carrying every change since its last (bench/scale.py's
    proposed change); without it, as built: one message per change per connection.
    """
    p, month = PRICES, DAYS_PER_MONTH
    per_run = deliveries_per_run(results)
    deliveries = runs_per_day * per_run * month
    requests_per_delivery = figure_value(results, "webhooks.dynamodb_requests")
    webhook_ms = figure_value(results, "webhooks.p99") + requests_per_delivery * AWS_ROUND_TRIP_MS
    page_views = dashboards * PAGE_VIEWS_PER_DASHBOARD_PER_DAY * month
    reads_per_view = figure_value(results, "overview.dynamodb_requests")
    read_units_per_view = figure_value(results, "overview.read_units")
    page_ms = figure_value(results, "overview.server_p95") + reads_per_view * AWS_ROUND_TRIP_MS
    pushes = deliveries * dashboards  # every change to every open dashboard (all watch every repository)
    if coalesce_seconds:
        pushes = min(pushes, dashboards * HOURS_OPEN_PER_DAY * 3600 * month / coalesce_seconds)
    push_ms = AWS_ROUND_TRIP_MS  # one post_to_connection each, from the app function
    minutes_open = dashboards * HOURS_OPEN_PER_DAY * 60 * month
    # Heartbeat every 4 minutes (ping and pong), a planned reconnect every 110 minutes (connect, subscribe, close).
    socket_events = dashboards * HOURS_OPEN_PER_DAY * month * (60 / 4 + 3 * 60 / 110)
    reconciles = 24 * 12 * month
    cold_start_s = figure_value(results, "lambda.cold_start") / 1000

    app_invocations = deliveries + page_views
    app_seconds = (deliveries * webhook_ms + page_views * page_ms + pushes * push_ms) / 1000
    ws_invocations = socket_events
    ws_seconds = ws_invocations * (AWS_ROUND_TRIP_MS * 3) / 1000 + ws_invocations / 50 * cold_start_s
    gb_seconds = (
        app_seconds * MEMORY_GB["app"]
        + reconciles * RECONCILE_SECONDS * MEMORY_GB["reconcile"]
        + ws_seconds * MEMORY_GB["ws"]
    )
    invocations = app_invocations + ws_invocations + reconciles
    snapshot_gb = snap_start_memory_gb()
    restores = app_invocations / INVOCATIONS_PER_COLD_START
    alarms, series = alarm_metrics(), custom_metrics()
    keys, rotating = kms_keys()
    wru = deliveries * figure_value(results, "webhooks.write_units")
    rru = page_views * read_units_per_view + deliveries * subscription_read_units(dashboards)
    log_gb = invocations * LOG_BYTES_PER_INVOCATION / 1e9

    return [
        Line(
            "Lambda requests",
            invocations,
            "invocations",
            invocations * p["lambda_request"],
            f"{per_run:.0f} deliveries per run (measured), {page_views / month:,.0f} page views, "
            f"{ws_invocations / month:,.0f} socket events and {reconciles / month:.0f} reconciliations a day",
        ),
        Line(
            "Lambda compute",
            gb_seconds,
            "GB-s",
            gb_seconds * p["lambda_gb_second"],
            f"webhook {webhook_ms:.0f} ms (measured p99 + {requests_per_delivery:.2f} DynamoDB round trips), "
            f"page {page_ms:.0f} ms, {push_ms} ms per push; memory as in zappa_settings.json",
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
            (
                f"changes coalesced to one message per {coalesce_seconds:g} s per dashboard"
                if coalesce_seconds
                else f"each change pushed to {dashboards:,} dashboards"
            )
            + ", heartbeats every 4 minutes",
        ),
        Line(
            "WebSocket connection minutes",
            minutes_open,
            "minutes",
            minutes_open * p["websocket_connection_minute"],
            f"{dashboards} dashboards open {HOURS_OPEN_PER_DAY} h a day",
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
            f"{read_units_per_view:.1f} read units per overview view (measured), one subscriptions query per change",
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
            "ingested, and kept a year",
        ),
        Line(
            "Lambda SnapStart",
            restores,
            "restores",
            SNAPSHOT_VERSIONS * snapshot_gb * month * 86400 * p["snapstart_cache_gb_second"]
            + restores * snapshot_gb * p["snapstart_restore_gb"],
            f"the app's {snapshot_gb:g} GB snapshot cached for {SNAPSHOT_VERSIONS} versions (live, previous), "
            f"restored once per {INVOCATIONS_PER_COLD_START} invocations",
        ),
        Line(
            "CloudWatch alarms and dashboard",
            alarms,
            "alarm metrics",
            alarms * p["alarm_metric_month"] + p["dashboard_month"],
            "counted in infra/observability.tf, and one dashboard",
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
            f"infra/kms.tf; {rotating} rotating yearly, costed from the third year (two paid rotations each); "
            "data keys cached for 5 minutes",
        ),
        Line(
            "CloudFront, Route 53, S3",
            page_views * 4,
            "requests",
            page_views * 4 * p["cloudfront_request"] + p["route53_zone_month"] + 1 * p["s3_gb_month"],
            "a page and three static files per view; one hosted zone",
        ),
    ]


def total(lines: list[Line]) -> float:
    return sum(line.dollars for line in lines)


def render(lines: list[Line], *, runs_per_day: int = RUNS_PER_DAY) -> str:
    rows = [f"| {line.item} | {_quantity(line)} | ${line.dollars:,.2f} | {line.derivation} |" for line in lines]
    return "\n".join(
        [
            START,
            f"Estimated monthly cost at {runs_per_day:,} workflow runs a day and {OPEN_DASHBOARDS} open dashboards: "
            f"**${total(lines):,.2f}** a month per stage, before the free tier.",
            "",
            "| item | a month | cost | derived from |",
            "|---|---|---|---|",
            *rows,
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
    largest = sorted(lines, key=lambda line: line.dollars, reverse=True)[:3]
    return [
        Figure(
            "cost.monthly",
            f"Monthly AWS cost per stage, {RUNS_PER_DAY:,} runs a day and {OPEN_DASHBOARDS} open dashboards",
            total(lines),
            "USD",
            "(none set; an estimate)",
            None,
            COMMAND,
            "Computed by bench/cost.py from the counts measured above (deliveries per run, DynamoDB write units per "
            "delivery and read units per view, Lambda durations, cold start) at eu-west-2 list prices before the free "
            "tier; line items in docs/OPERATIONS.md. Largest: "
            + ", ".join(f"{line.item} ${line.dollars:,.2f}" for line in largest)
            + ".",
        )
    ]
