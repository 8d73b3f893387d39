"""Run benchmarks against the local stack and rewrite BENCHMARKS.md.

python -m bench                 # every benchmark
python -m bench cold_start      # only the named ones
"""

import argparse
import importlib
import sys

from bench.report import record

BENCHMARKS = ["cold_start"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help=f"benchmarks to run (default: all of {', '.join(BENCHMARKS)})")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.names) - set(BENCHMARKS))
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}")
    for name in args.names or BENCHMARKS:
        print(f"== {name}", flush=True)
        figures = importlib.import_module(f"bench.{name}").run()
        for figure in figures:
            print(f"   {figure.label}: {figure.value:.2f} {figure.unit} (target {figure.target})", flush=True)
        record(figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
