"""Run benchmarks against the local stack and rewrite BENCHMARKS.md.

python -m bench                 # every benchmark
python -m bench cold_start      # only the named ones
"""

import argparse
import importlib
import subprocess
import sys

from bench.report import record

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
        failed = [
            name for name in names if subprocess.run([sys.executable, "-m", "bench", name], check=False).returncode
        ]
        if failed:
            print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1 if failed else 0
    name = names[0]
    print(f"== {name}", flush=True)
    figures = importlib.import_module(f"bench.{name}").run()
    for figure in figures:
        print(f"   {figure.label}: {figure.value:.2f} {figure.unit} (target {figure.target})", flush=True)
    record(figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
