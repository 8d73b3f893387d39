"""The scale model on paper: what 100 times the design's load costs, where it breaks first, and what changes then.

    make bench-scale     # after the other benchmarks: records the figures; BENCHMARKS.md carries the model

The design's load is 1,000 workflow runs a day and 10 open dashboards (bench/cost.py). Load k is k times both:
at k = 100, 100,000 runs a day and 1,000 dashboards. Every rate below comes from the counts the benchmarks measured
(bench/results.json), scaled by k; what no benchmark measures is a constant here or in bench/cost.py, stated with
its reason. Each limit is an AWS or GitHub quota with where it is documented; "breaks at" is the k at which the
busiest hour reaches it, found by bisection, as built and after the change proposed for it.
"""

import json
import math
from collections.abc import Callable
from dataclasses import dataclass

from bench import cost
from bench.report import RESULTS, Figure

COMMAND = "make bench-scale"
SCALE = 100
# The busiest hour against the mean hour of the working day (cost.HOURS_OPEN_PER_DAY): CI follows pushes, which
# follow people; twice the mean is a common shape for a single time zone.
PEAK_FACTOR = 2.0
# One repository (a monorepo) taking a fifth of all runs: the hottest summary item and subscription list.
BUSIEST_REPO_SHARE = 0.2
# GitHub answers a page of 100 deliveries in about half a second (an assumption: not measurable here).
GITHUB_PAGE_SECONDS = 0.5
DELIVERIES_PER_PAGE = 100
RECONCILE_EVERY_S = 300
RECONCILE_WINDOW_S = RECONCILE_EVERY_S + 15 * 60  # webhooks.redelivery.RESCAN_MARGIN: each pass re-reads 20 minutes
COALESCE_SECONDS = 1.0  # the proposed change: at most one message per connection per second


@dataclass(frozen=True)
class Rates:
    """The busiest hour's rates at load k, from the measured counts."""

    k: float
    deliveries_s: float
    views_s: float
    dashboards: float
    webhook_ms: float
    page_ms: float


def rates(results: dict, k: float) -> Rates:
    open_seconds = cost.HOURS_OPEN_PER_DAY * 3600
    runs = cost.RUNS_PER_DAY * k
    dashboards = cost.OPEN_DASHBOARDS * k
    return Rates(
        k=k,
        deliveries_s=runs * cost.deliveries_per_run(results) / open_seconds * PEAK_FACTOR,
        views_s=dashboards * cost.PAGE_VIEWS_PER_DASHBOARD_PER_DAY / open_seconds * PEAK_FACTOR,
        dashboards=dashboards,
        webhook_ms=cost.figure_value(results, "webhooks.p99")
        + cost.figure_value(results, "webhooks.dynamodb_requests") * cost.AWS_ROUND_TRIP_MS,
        page_ms=cost.figure_value(results, "overview.server_p95")
        + cost.figure_value(results, "overview.dynamodb_requests") * cost.AWS_ROUND_TRIP_MS,
    )


def _per_table(results: dict, table: str) -> float:
    return cost.figure_details(results, "webhooks.write_units")["per_table"].get(table, 0.0)


@dataclass(frozen=True)
class Limit:
    name: str
    quota: float
    unit: str
    source: str
    built: Callable[[dict, Rates], float]  # usage at the busiest hour, as built
    change: str
    after: Callable[[dict, Rates], float]  # usage once the change is made


def _posts_s(r: Rates) -> float:
    """Messages API Gateway posts to connections per second: every change to every dashboard, as built."""
    return r.deliveries_s * r.dashboards


def _coalesced_s(r: Rates) -> float:
    return min(_posts_s(r), r.dashboards / COALESCE_SECONDS)


def _listing_pages_h(r: Rates, window_s: float) -> float:
    return 3600 / RECONCILE_EVERY_S * math.ceil(r.deliveries_s * window_s / DELIVERIES_PER_PAGE)


LIMITS = [
    Limit(
        "API Gateway requests per second, account-wide (HTTP API, WebSocket messages and callbacks)",
        10_000,
        "requests/s",
        "https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html (can be raised)",
        lambda results, r: r.deliveries_s + r.views_s + _posts_s(r),
        "Coalesce: a connection gets at most one message a second carrying every change since its last, so "
        "messages grow with open dashboards, not with changes times dashboards.",
        lambda results, r: r.deliveries_s + r.views_s + _coalesced_s(r),
    ),
    Limit(
        "GitHub: the App's requests per hour listing deliveries for reconciliation",
        5_000,
        "requests/h",
        "docs/decisions.md#rate-limits: 5,000 an hour at the least; the App JWT's own budget is assumed equal",
        lambda results, r: _listing_pages_h(r, RECONCILE_WINDOW_S),
        "Each pass lists on from where the last stopped (GitHub's `cursor`, kept in DynamoDB) instead of "
        "rescanning 20 minutes, so each delivery is listed once; late failures are caught by one page of "
        "`status=failure` per pass.",
        lambda results, r: _listing_pages_h(r, RECONCILE_EVERY_S) + 3600 / RECONCILE_EVERY_S,
    ),
    Limit(
        "Reconciliation pass duration (the function's timeout)",
        240,
        "s",
        "zappa_settings.json `*_reconcile`: 240 s",
        lambda results, r: math.ceil(r.deliveries_s * RECONCILE_WINDOW_S / DELIVERIES_PER_PAGE) * GITHUB_PAGE_SECONDS,
        "The same change: a pass reads 5 minutes of deliveries, not 20.",
        lambda results, r: math.ceil(r.deliveries_s * RECONCILE_EVERY_S / DELIVERIES_PER_PAGE) * GITHUB_PAGE_SECONDS,
    ),
    Limit(
        "Lambda concurrency, all functions of the account",
        1_000,
        "concurrent",
        "https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html (default; can be raised)",
        lambda results, r: (
            (r.deliveries_s * (r.webhook_ms + r.dashboards * cost.AWS_ROUND_TRIP_MS) + r.views_s * r.page_ms) / 1000 + 1
        ),
        "Fan-out leaves the webhook request: a function fed by the events table's stream posts each batch's "
        "coalesced messages to every connection, 16 at a time.",
        lambda results, r: (
            (r.deliveries_s * r.webhook_ms + r.views_s * r.page_ms) / 1000
            + _coalesced_s(r) * cost.AWS_ROUND_TRIP_MS / 1000 / 16
            + 1
        ),
    ),
    Limit(
        "Webhook answer time with the fan-out inside the request (GitHub waits 10 s)",
        10_000,
        "ms",
        "docs/decisions.md#webhook-timeout: answer 2xx within 10 s",
        lambda results, r: r.webhook_ms + r.dashboards * cost.AWS_ROUND_TRIP_MS,
        "The same change: the webhook stores the change and answers; the stream delivers it.",
        lambda results, r: r.webhook_ms,
    ),
    Limit(
        "Events table: write units per second on the hour's partition key",
        1_000,
        "WRU/s",
        "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-partition-key-design.html "
        "(1,000 WCU/s per partition)",
        lambda results, r: r.deliveries_s * _per_table(results, "events"),
        "Shard the bucket: `<hour>#<0-9>` chosen by repository, catch-up reads query the ten shards.",
        lambda results, r: r.deliveries_s * _per_table(results, "events") / 10,
    ),
    Limit(
        "Subscriptions of the busiest repository: read units per second",
        3_000,
        "RRU/s",
        "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-partition-key-design.html "
        "(3,000 RCU/s per partition)",
        lambda results, r: r.deliveries_s * BUSIEST_REPO_SHARE * cost.subscription_read_units(r.dashboards),
        "The fan-out function reads a repository's subscriptions once per batch of its changes, not per change.",
        lambda results, r: (
            min(1 / COALESCE_SECONDS, r.deliveries_s * BUSIEST_REPO_SHARE) * cost.subscription_read_units(r.dashboards)
        ),
    ),
    Limit(
        "Summary item of the busiest repository: write units per second",
        1_000,
        "WRU/s",
        "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-partition-key-design.html "
        "(1,000 WCU/s per partition, so per item)",
        lambda results, r: r.deliveries_s * BUSIEST_REPO_SHARE * _per_table(results, "repo-summaries"),
        "Split the summary: one item for the latest runs per workflow, one per day of recent history.",
        lambda results, r: r.deliveries_s * BUSIEST_REPO_SHARE * _per_table(results, "repo-summaries") / 2,
    ),
]


def breaks_at(results: dict, usage: Callable[[dict, Rates], float], quota: float) -> float:
    """The load k at which `usage` reaches `quota` (usage grows with k); infinity past 1,000,000."""
    low, high = 0.0, 1_000_000.0
    if usage(results, rates(results, high)) < quota:
        return math.inf
    for _ in range(100):
        middle = (low + high) / 2
        low, high = (middle, high) if usage(results, rates(results, middle)) < quota else (low, middle)
    return high


@dataclass(frozen=True)
class Row:
    limit: Limit
    at_design: float
    at_scale: float
    breaks: float
    breaks_after: float


def model(results: dict) -> list[Row]:
    """Every limit at the design's load and at SCALE times it, and where it breaks, soonest first."""
    design, scaled = rates(results, 1), rates(results, SCALE)
    rows = [
        Row(
            limit,
            limit.built(results, design),
            limit.built(results, scaled),
            breaks_at(results, limit.built, limit.quota),
            breaks_at(results, limit.after, limit.quota),
        )
        for limit in LIMITS
    ]
    return sorted(rows, key=lambda row: row.breaks)


def costs(results: dict) -> tuple[float, float, float, list[cost.Line]]:
    """Monthly cost at the design's load, at SCALE times it as built, and after the changes; the last's lines."""
    runs, dashboards = cost.RUNS_PER_DAY * SCALE, cost.OPEN_DASHBOARDS * SCALE
    after = cost.estimate(results, runs_per_day=runs, dashboards=dashboards, coalesce_seconds=COALESCE_SECONDS)
    return (
        cost.total(cost.estimate(results)),
        cost.total(cost.estimate(results, runs_per_day=runs, dashboards=dashboards)),
        cost.total(after),
        after,
    )


def _k(value: float) -> str:
    return "never (past 1,000,000×)" if math.isinf(value) else f"{value:,.0f}×"


def _amount(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:,.2f}".rstrip("0").rstrip(".")


def section(results: dict) -> str:
    """The scale model as a section of BENCHMARKS.md (rendered from bench/results.json each time it is written)."""
    try:
        rows = model(results)
        design_cost, built_cost, after_cost, after_lines = costs(results)
    except SystemExit as missing:
        return f"## Scale model\n\nNot computed yet: {missing}.\n"
    first = rows[0]
    scaled = rates(results, SCALE)
    built = cost.estimate(results, runs_per_day=cost.RUNS_PER_DAY * SCALE, dashboards=cost.OPEN_DASHBOARDS * SCALE)
    largest_built = max(built, key=lambda line: line.dollars)
    largest_after = sorted(after_lines, key=lambda line: line.dollars, reverse=True)[:3]
    lines = [
        "## Scale model",
        "",
        f"On paper, from the measured counts above (`{COMMAND}`, bench/scale.py): the design's load is "
        f"{cost.RUNS_PER_DAY:,} runs a day and {cost.OPEN_DASHBOARDS} open dashboards; {SCALE}× is "
        f"{cost.RUNS_PER_DAY * SCALE:,} runs a day and {cost.OPEN_DASHBOARDS * SCALE:,} dashboards, every one "
        f"watching every repository as at the design's load. The busiest hour carries {PEAK_FACTOR:g}× the working "
        f"day's mean: at {SCALE}×, {scaled.deliveries_s:,.0f} webhook deliveries a second "
        f"({cost.deliveries_per_run(results):.0f} per run, measured) and {scaled.views_s:.1f} page views a second.",
        "",
        "### Monthly cost",
        "",
        "| load | as built | after the changes below |",
        "|---|---|---|",
        f"| design: {cost.RUNS_PER_DAY:,} runs a day, {cost.OPEN_DASHBOARDS} dashboards | "
        f"${_amount(design_cost)} | (unchanged) |",
        f"| {SCALE}×: {cost.RUNS_PER_DAY * SCALE:,} runs a day, {cost.OPEN_DASHBOARDS * SCALE:,} dashboards | "
        f"${_amount(built_cost)} | ${_amount(after_cost)} |",
        "",
        f"As built, {largest_built.item} are ${_amount(largest_built.dollars)} of the {SCALE}× bill: every change "
        f"goes to every open dashboard, so messages grow with runs times dashboards ({SCALE * SCALE:,}× the "
        f"design's). After the changes, the largest items are "
        + ", ".join(f"{line.item} ${_amount(line.dollars)}" for line in largest_after)
        + ". Same prices and assumptions as the runbook's estimate (bench/cost.py).",
        "",
        "### Where it breaks, soonest first",
        "",
        f"| limit | quota | design's load | {SCALE}× | as built, reached at | change | after it, reached at |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        limit = row.limit
        lines.append(
            f"| {limit.name} | {_amount(limit.quota)} {limit.unit} | {_amount(row.at_design)} | "
            f"{_amount(row.at_scale)} | {_k(row.breaks)} | {limit.change} | {_k(row.breaks_after)} |"
        )
    after_first = min(rows, key=lambda row: row.breaks_after)
    lines += [
        "",
        f"First to break: **{first.limit.name}**, at {_k(first.breaks)} the design's load "
        f"({cost.RUNS_PER_DAY * first.breaks:,.0f} runs a day with {cost.OPEN_DASHBOARDS * first.breaks:,.0f} "
        f"dashboards). With every change made, the first quota reached is at {_k(after_first.breaks_after)}: "
        f"{after_first.limit.name}.",
        "",
        "Where each quota is documented:",
        "",
        *[f"- {row.limit.name}: {row.limit.source}." for row in rows],
        "",
        "Not limits at any load here: each user's own GitHub budget (measured 0 charged requests an hour in the "
        "steady state, whatever the load, since webhooks replace polling); a summary item's 400 KB (it holds 30 "
        "runs and one entry per workflow, about 0.5 KB each, so it grows with workflows per repository, not with "
        "load); on-demand tables' 40,000 units a second per table.",
        "",
    ]
    return "\n".join(lines)


def run() -> list[Figure]:
    """As a benchmark (`python -m bench scale`): the model's headline figures; the section is in BENCHMARKS.md."""
    results = json.loads(RESULTS.read_text())
    rows = model(results)
    _, built_cost, after_cost, _ = costs(results)
    return [
        Figure(
            "scale.first_limit",
            "Scale model: load at which the first quota is reached, as a multiple of the design's",
            rows[0].breaks,
            "×",
            "(none set)",
            None,
            COMMAND,
            f"First: {rows[0].limit.name}. See the scale model below for every limit and the change for each.",
        ),
        Figure(
            "scale.cost_as_built",
            f"Monthly AWS cost at {SCALE}× the design's load, as built",
            built_cost,
            "USD",
            "(none set; an estimate)",
            None,
            COMMAND,
        ),
        Figure(
            "scale.cost_after_changes",
            f"Monthly AWS cost at {SCALE}× the design's load, after the scale model's changes",
            after_cost,
            "USD",
            "(none set; an estimate)",
            None,
            COMMAND,
        ),
    ]
