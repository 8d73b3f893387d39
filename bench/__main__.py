"""Run benchmarks against the local stack and rewrite BENCHMARKS.md.

python -m bench                 # every benchmark
python -m bench cold_start      # only the named ones
"""

import argparse
import importlib
import subprocess
import sys
import time

from bench.report import Figure, record

BENCHMARKS = [
    "cold_start",
    "webhook_load",
    "runs_api",
    "overview",
    "github_budget",
    "fuzz",
    "schema_fuzz",
    "live_latency",
    "socket_fanout",
    # Computed from what the others measured, so last.
    "cost",
    "scale",
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help=f"benchmarks to run (default: all of {', '.join(BENCHMARKS)})")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.names) - set(BENCHMARKS))
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}")
    names = args.names or BENCHMARKS
    if len(names) > 1:
        # Each benchmark gets a process of its own: Django and its DynamoDB client are set up once per process.
        started = time.monotonic()
        failed = [
            name for name in names if subprocess.run([sys.executable, "-m", "bench", name], check=False).returncode
        ]
        if failed:
            print(f"failed: {', '.join(failed)}", file=sys.stderr)
            return 1
        if names == BENCHMARKS:
            record([_total(time.monotonic() - started)])
        return 0
    name = names[0]
    print(f"== {name}", flush=True)
    figures = importlib.import_module(f"bench.{name}").run()
    for figure in figures:
        print(f"   {figure.label}: {figure.value:.2f} {figure.unit} (target {figure.target})", flush=True)
    record(figures)
    return 0


def _total(seconds: float) -> Figure:
    minutes = seconds / 60
    return Figure(
        "bench.total",
        "`make bench` end to end: every benchmark, BENCHMARKS.md rewritten",
        minutes,
        "min",
        "< 15 min",
        minutes < 15,
        "make bench",
        f"Wall-clock time of one run of all {len(BENCHMARKS)} benchmarks in turn, each in a process of its own "
        "(build of the Lambda zip, DynamoDB Local, the simulator and Chromium started by each as it needs them).",
    )


if __name__ == "__main__":
    sys.exit(main())
