"""The scale model on paper: what 100 times the design's load costs, and where it breaks first, as built.

    make bench-scale     # after the other benchmarks: records the figures; BENCHMARKS.md carries the model

The design's load is 1,000 workflow runs a day and 10 open dashboards (bench/cost.py). Load k is k times both:
at k = 100, 100,000 runs a day and 1,000 dashboards. Every rate below comes from the counts the benchmarks measured
(bench/results.json), scaled by k; what no benchmark measures is a constant here or in bench/cost.py, stated with
its reason. Each limit is an AWS or GitHub quota (or a promise of the design's, named as such) with where it is
documented; "reached at" is the k at which the busiest hour reaches it, found by bisection.

As built: the webhook's request ends at its write; the events table's stream feeds one function that coalesces
(at most one message per connection per second) and posts to the subscribed connections, reading a repository's
subscriptions once per send; events are spread over ten partitions an hour; reconciliation lists deliveries on
from where the last pass stopped. A change not built is costed in an `after` column only where a limit comes
before TARGET_K.
"""

import json
import math
from collections.abc import Callable
from dataclasses import dataclass

from bench import cost
from bench.report import RESULTS, Figure

COMMAND = "make bench-scale"
SCALE = 100
TARGET_K = 150  # the first limit should be no nearer than this (the target)
COST_TARGET = 2_500  # USD a month at SCALE times the design's load (the target)
# The busiest hour against the mean hour of the working day (cost.HOURS_OPEN_PER_DAY): CI follows pushes, which
# follow people; twice the mean is a common shape for a single time zone.
PEAK_FACTOR = 2.0
# One repository (a monorepo) taking a fifth of all runs: the hottest summary item and subscription list.
BUSIEST_REPO_SHARE = 0.2
# GitHub answers a page of 100 deliveries in about half a second (an assumption: not measurable here).
GITHUB_PAGE_SECONDS = 0.5
DELIVERIES_PER_PAGE = 100
RECONCILE_EVERY_S = 300
# A send's connections split into chunks posted by invocations of their own, each with one vCPU (the change
# proposed for the stream function's posting, not built).
CHUNK_CONNECTIONS = 250
CHUNK_MEMORY_GB = cost.LAMBDA_MB_PER_VCPU / 1024


@dataclass(frozen=True)
class Rates:
    """The busiest hour's rates at load k, from the measured counts."""

    k: float
    deliveries_s: float
    views_s: float
    dashboards: float
    webhook_ms: float
    page_ms: float
    fan: cost.FanOut  # the stream function's fan-out of those deliveries' changes


def rates(results: dict, k: float) -> Rates:
    open_seconds = cost.HOURS_OPEN_PER_DAY * 3600
    runs = cost.RUNS_PER_DAY * k
    dashboards = cost.OPEN_DASHBOARDS * k
    deliveries_s = runs * cost.deliveries_per_run(results) / open_seconds * PEAK_FACTOR
    return Rates(
        k=k,
        deliveries_s=deliveries_s,
        views_s=dashboards * cost.PAGE_VIEWS_PER_DASHBOARD_PER_DAY / open_seconds * PEAK_FACTOR,
        dashboards=dashboards,
        webhook_ms=cost.figure_value(results, "webhooks.p99")
        + cost.figure_value(results, "webhooks.dynamodb_requests") * cost.AWS_ROUND_TRIP_MS,
        page_ms=cost.figure_value(results, "overview.server_p95")
        + cost.figure_value(results, "overview.dynamodb_requests") * cost.AWS_ROUND_TRIP_MS,
        fan=cost.fan_out(results, changes_s=deliveries_s, dashboards=dashboards),
    )


def _per_table(results: dict, table: str) -> float:
    return cost.write_units_per_table(results, table)


@dataclass(frozen=True)
class Limit:
    name: str
    quota: float
    unit: str
    source: str
    built: Callable[[dict, Rates], float]  # usage at the busiest hour, as built
    change: str = ""  # a change not built, where the limit comes before TARGET_K
    after: Callable[[dict, Rates], float] | None = None  # usage once that change is made


def _listing_pages_h(r: Rates, window_s: float) -> float:
    return 3600 / RECONCILE_EVERY_S * math.ceil(r.deliveries_s * window_s / DELIVERIES_PER_PAGE)


def _chunked(results: dict, r: Rates) -> cost.FanOut:
    """The fan-out with each send's connections split into chunks posted by invocations of their own, each with one
    vCPU: the shard's batch waits for one chunk's posting, whatever the connections."""
    return cost.fan_out(
        results, changes_s=r.deliveries_s, dashboards=min(r.dashboards, CHUNK_CONNECTIONS), memory_gb=CHUNK_MEMORY_GB
    )


def _read_ahead_per_shard(results: dict, r: Rates) -> float:
    """Read units a second on one events partition: each send that waited reads every shard from a little before."""
    ahead_kb = r.deliveries_s * (cost.COALESCE_SECONDS + cost.COALESCE_OVERLAP_SECONDS) * cost.change_kb(results)
    return r.fan.sends_s * r.fan.delayed * (1 + ahead_kb / 4 / cost.EVENT_SHARDS)


LIMITS = [
    Limit(
        "API Gateway requests per second, account-wide (HTTP API, WebSocket messages and callbacks)",
        10_000,
        "requests/s",
        "https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html (can be raised)",
        lambda results, r: r.deliveries_s + r.views_s + r.dashboards * r.fan.sends_s * r.fan.posts_per_send,
    ),
    Limit(
        "GitHub: the App's requests per hour listing deliveries for reconciliation",
        5_000,
        "requests/h",
        "docs/decisions.md#rate-limits: 5,000 an hour at the least; the App JWT's own budget is assumed equal",
        # Each pass lists on from where the last stopped, and one page of `status=failure` (webhooks/redelivery.py).
        lambda results, r: _listing_pages_h(r, RECONCILE_EVERY_S) + 3600 / RECONCILE_EVERY_S,
    ),
    Limit(
        "Reconciliation pass duration (the function's timeout)",
        240,
        "s",
        "zappa_settings.json `*_reconcile`: 240 s",
        lambda results, r: math.ceil(r.deliveries_s * RECONCILE_EVERY_S / DELIVERIES_PER_PAGE) * GITHUB_PAGE_SECONDS,
    ),
    Limit(
        "Lambda concurrency, all functions of the account",
        1_000,
        "concurrent",
        "https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html (default; can be raised)",
        # The app's requests, the stream function (one batch at a time on its shard) and reconciliation.
        lambda results, r: (r.deliveries_s * r.webhook_ms + r.views_s * r.page_ms) / 1000 + r.fan.busy + 1,
    ),
    Limit(
        "Stream function: seconds of work a second to post every change to every connection (one batch at a time "
        "on its shard)",
        1,
        "s/s",
        "infra/stream.tf parallelization_factor 1 on one shard; the CPU per post measured by bench/webhook_load.py, "
        "on the vCPU share 512 MB gives (https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html). "
        "Past it the function falls behind for good: records age, and past an hour are parked",
        lambda results, r: r.fan.work,
        f"Split each send's connections into chunks of {CHUNK_CONNECTIONS} posted by invocations of their own at "
        f"{cost.LAMBDA_MB_PER_VCPU:,} MB (one vCPU): the shard's batch waits for one chunk, whatever the connections.",
        lambda results, r: _chunked(results, r).work,
    ),
    Limit(
        "Stream function: time to post one coalesced send to every connection, against the coalescing interval",
        cost.COALESCE_SECONDS * 1000,
        "ms",
        "realtime/coalesce.py: at most one message per connection per REALTIME_COALESCE_SECONDS, each change within "
        "it. Past it each change waits for the posting: the promise broken, nothing lost",
        lambda results, r: r.fan.post_s * 1000,
        f"Split each send's connections into chunks of {CHUNK_CONNECTIONS} posted by invocations of their own at "
        f"{cost.LAMBDA_MB_PER_VCPU:,} MB (one vCPU): a send takes one chunk's posting time.",
        lambda results, r: _chunked(results, r).post_s * 1000,
    ),
    Limit(
        "Stream function timeout (a batch's posting and its wait)",
        60_000,
        "ms",
        "zappa_settings.json `*_stream`: 60 s; a batch that times out is retried, then parked (infra/stream.tf)",
        lambda results, r: (r.fan.post_s + r.fan.wait_s) * 1000,
    ),
    Limit(
        "Events table: write units per second on one partition key (the hour's shard)",
        1_000,
        "WRU/s",
        "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-partition-key-design.html "
        "(1,000 WCU/s per partition)",
        lambda results, r: r.deliveries_s * _per_table(results, "events") / cost.EVENT_SHARDS,
    ),
    Limit(
        "Events table: read units per second on one partition key (the coalescer's reads ahead)",
        3_000,
        "RRU/s",
        "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-partition-key-design.html "
        "(3,000 RCU/s per partition)",
        _read_ahead_per_shard,
    ),
    Limit(
        "Subscriptions of the busiest repository: read units per second",
        3_000,
        "RRU/s",
        "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-partition-key-design.html "
        "(3,000 RCU/s per partition)",
        # Read once per send that carries one of its changes.
        lambda results, r: (
            min(r.fan.sends_s, r.fan.clusters_s * BUSIEST_REPO_SHARE) * cost.subscription_read_units(r.dashboards)
        ),
    ),
    Limit(
        "Summary item of the busiest repository: write units per second",
        1_000,
        "WRU/s",
        "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-partition-key-design.html "
        "(1,000 WCU/s per partition, so per item)",
        lambda results, r: r.deliveries_s * BUSIEST_REPO_SHARE * _per_table(results, "repo-summaries"),
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
    breaks_after: float | None  # with the limit's change made, if it has one


def model(results: dict) -> list[Row]:
    """Every limit at the design's load and at SCALE times it, and where it breaks, soonest first."""
    design, scaled = rates(results, 1), rates(results, SCALE)
    rows = [
        Row(
            limit,
            limit.built(results, design),
            limit.built(results, scaled),
            breaks_at(results, limit.built, limit.quota),
            breaks_at(results, limit.after, limit.quota) if limit.after else None,
        )
        for limit in LIMITS
    ]
    return sorted(rows, key=lambda row: row.breaks)


def costs(results: dict) -> tuple[list[cost.Line], list[cost.Line]]:
    """The month's lines at the design's load and at SCALE times it, as built."""
    scaled = cost.estimate(results, runs_per_day=cost.RUNS_PER_DAY * SCALE, dashboards=cost.OPEN_DASHBOARDS * SCALE)
    return cost.estimate(results), scaled


def _k(value: float) -> str:
    return "never (past 1,000,000×)" if math.isinf(value) else f"{value:,.0f}×"


def _amount(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:,.2f}".rstrip("0").rstrip(".")


def _measured(results: dict, key: str, form: str) -> str:
    return form.format(results[key]["value"]) if key in results else "(not measured)"


def _first_after(rows: list[Row]) -> Row:
    """The first limit reached once every change in the table is made."""
    return min(rows, key=lambda row: row.breaks if row.breaks_after is None else row.breaks_after)


def section(results: dict) -> str:
    """The scale model as a section of BENCHMARKS.md (rendered from bench/results.json each time it is written)."""
    try:
        rows = model(results)
        design_lines, scaled_lines = costs(results)
    except SystemExit as missing:
        return f"## Scale model\n\nNot computed yet: {missing}.\n"
    first = rows[0]
    scaled = rates(results, SCALE)
    largest = sorted(scaled_lines, key=lambda line: line.dollars, reverse=True)[:3]
    scaled_cost = cost.total(scaled_lines)
    changes = [row for row in rows if row.breaks_after is not None]
    lines = [
        "## Scale model",
        "",
        f"On paper, from the measured counts above (`{COMMAND}`, bench/scale.py), as built: the design's load is "
        f"{cost.RUNS_PER_DAY:,} runs a day and {cost.OPEN_DASHBOARDS} open dashboards; {SCALE}× is "
        f"{cost.RUNS_PER_DAY * SCALE:,} runs a day and {cost.OPEN_DASHBOARDS * SCALE:,} dashboards, every one "
        f"watching every repository as at the design's load. The busiest hour carries {PEAK_FACTOR:g}× the working "
        f"day's mean: at {SCALE}×, {scaled.deliveries_s:,.0f} webhook deliveries a second "
        f"({cost.deliveries_per_run(results):.0f} per run, measured) and {scaled.views_s:.1f} page views a second; "
        f"the stream function coalesces their changes into {scaled.fan.sends_s:.2f} sends a second to each "
        f"dashboard ({scaled.fan.posts_per_send:.1f} posts each, API Gateway's 128 KB apart, billed as "
        f"{scaled.fan.billed_per_send:.1f} messages of 32 KB), {scaled.fan.post_s * 1000:,.0f} ms of the function "
        f"to post each.",
        "",
        "### Monthly cost, as built",
        "",
        "| load | cost | target |",
        "|---|---|---|",
        f"| design: {cost.RUNS_PER_DAY:,} runs a day, {cost.OPEN_DASHBOARDS} dashboards | "
        f"${_amount(cost.total(design_lines))} | ≤ ${cost.BUDGET:g} |",
        f"| {SCALE}×: {cost.RUNS_PER_DAY * SCALE:,} runs a day, {cost.OPEN_DASHBOARDS * SCALE:,} dashboards | "
        f"${_amount(scaled_cost)} | ≤ ${COST_TARGET:,} |",
        "",
        f"At {SCALE}× the largest items are "
        + ", ".join(f"{line.item} ${_amount(line.dollars)}" for line in largest)
        + ". Coalescing makes messages grow with open dashboards, not with changes times dashboards. Same prices "
        "and assumptions as the runbook's estimate (bench/cost.py).",
        "",
        "### Where it breaks, soonest first",
        "",
    ]
    if changes:
        lines += [
            f"| limit | quota | design's load | {SCALE}× | reached at | change (not built) | after it, reached at |",
            "|---|---|---|---|---|---|---|",
        ]
    else:
        lines += [f"| limit | quota | design's load | {SCALE}× | reached at |", "|---|---|---|---|---|"]
    for row in rows:
        limit = row.limit
        cells = (
            f"| {limit.name} | {_amount(limit.quota)} {limit.unit} | {_amount(row.at_design)} | "
            f"{_amount(row.at_scale)} | {_k(row.breaks)} |"
        )
        if changes:
            after = _k(row.breaks_after) if row.breaks_after is not None else ""
            cells += f" {limit.change} | {after} |"
        lines.append(cells)
    verdict = "met" if first.breaks >= TARGET_K else "**missed**"
    lines += [
        "",
        f"First reached: **{first.limit.name}**, at {_k(first.breaks)} the design's load "
        f"({cost.RUNS_PER_DAY * first.breaks:,.0f} runs a day with {cost.OPEN_DASHBOARDS * first.breaks:,.0f} "
        f"dashboards); the target is {TARGET_K}×: {verdict}.",
    ]
    if changes:
        after_first = _first_after(rows)
        reached = after_first.breaks if after_first.breaks_after is None else after_first.breaks_after
        lines.append(
            f"With the change{'s' if len(changes) > 1 else ''} above made, the first reached is at {_k(reached)}: "
            f"{after_first.limit.name}."
        )
    lines += [
        "",
        "Where each quota is documented:",
        "",
        *[f"- {row.limit.name}: {row.limit.source}." for row in rows],
        "",
        "Not limits at any load here: the webhook's answer time (its request ends at its write, whatever the "
        f"connections: {_measured(results, 'webhooks.posts_during_requests', '{:.0f}')} Management API posts during "
        "the requests, and its p99 with 1,000 subscribed connections "
        f"{_measured(results, 'webhooks.subscribers_p99_ratio', '{:.2f}')} times its p99 with 1, measured by "
        "`make bench-webhook-load`); each user's own GitHub budget (measured 0 "
        "charged requests an hour in the steady state, whatever the load, since webhooks replace polling); a "
        "summary item's 400 KB (it holds 30 runs and one entry per workflow, about 0.5 KB each, so it grows with "
        "workflows per repository, not with load); on-demand tables' 40,000 units a second per table.",
        "",
    ]
    return "\n".join(lines)


def run() -> list[Figure]:
    """As a benchmark (`python -m bench scale`): the model's headline figures; the section is in BENCHMARKS.md."""
    results = json.loads(RESULTS.read_text())
    rows = model(results)
    _, scaled_lines = costs(results)
    scaled_cost = cost.total(scaled_lines)
    largest = sorted(scaled_lines, key=lambda line: line.dollars, reverse=True)[:3]
    first = rows[0]
    return [
        Figure(
            "scale.first_limit",
            "Scale model: load at which the first quota is reached, as built, as a multiple of the design's",
            first.breaks,
            "×",
            f"≥ {TARGET_K}×",
            first.breaks >= TARGET_K,
            COMMAND,
            f"First: {first.limit.name}. Then: "
            + "; ".join(f"{row.limit.name} at {_k(row.breaks)}" for row in rows[1:3])
            + ". See the scale model below for every limit.",
        ),
        Figure(
            "scale.cost_as_built",
            f"Monthly AWS cost at {SCALE}× the design's load, as built",
            scaled_cost,
            "USD",
            f"≤ {COST_TARGET:,} USD",
            scaled_cost <= COST_TARGET,
            COMMAND,
            "Largest: " + ", ".join(f"{line.item} ${_amount(line.dollars)}" for line in largest) + ".",
        ),
    ]
