"""Command line: compute a chapter's results into the cache without Jupyter.

    python -m memo_utils run easy_examples --profile gpu --set n_runs=10
    python -m memo_utils bench          (writes bench/results-<device>.json)
"""
from __future__ import annotations

import argparse
import ast
import json
import sys
import time

import torch

from . import costs, experiments, profiles
from .errors import ConfigError, DataUnavailableError


def _parse_set(items):
    overrides = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep:
            raise ConfigError(f"--set {item!r} is not allowed: write NAME=VALUE")
        try:
            overrides[name] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            overrides[name] = value
    return overrides


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m memo_utils")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="compute a chapter's results into results/")
    run.add_argument("experiment", help=", ".join(experiments.CHAPTERS))
    run.add_argument("--profile", default=None, help=", ".join(profiles.PROFILES))
    run.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="override a parameter")
    run.add_argument("--data-dir", default=None)
    run.add_argument("--device", default=None)
    run.add_argument("--recompute", action="store_true")
    bench = sub.add_parser("bench", help="optimized paths against straightforward references")
    bench.add_argument("--out", default=None, help="write the JSON results here (default: bench/results-<device>.json)")
    bench.add_argument("--quick", action="store_true", help="tiny sizes, to check the code path on a CPU")
    bench.add_argument("--profile", action="store_true",
                       help="also profile each variant once (device busy fraction, top operators) into profile-<device>.txt")
    args = parser.parse_args(argv)
    if not torch.cuda.is_available():
        torch.set_num_threads(1)  # two OpenMP threads on two shared cores are often far slower than one
    try:
        if args.command == "bench":
            from .bench import main as bench_main
            return bench_main(out=args.out, quick=args.quick, profile=args.profile)
        module = experiments.get(args.experiment)
        cfg = module.config(args.profile, **_parse_set(args.set))
        start = time.perf_counter()
        results = module.run(cfg, device=args.device, data_dir=args.data_dir, recompute=args.recompute)
        for name, result in results.items():
            status = "cached" if result.from_cache else f"computed in {result.meta['wall_time_s']} s"
            print(f"{args.experiment}/{name}: {status} on {result.meta['device']}")
        seconds = time.perf_counter() - start
        if not all(r.from_cache for r in results.values()):
            costs.record_wall_time(cfg["profile"], args.experiment, seconds, "python -m memo_utils run")
        print(json.dumps({"experiment": args.experiment, "profile": cfg["profile"], "wall_time_s": round(seconds, 2)}))
    except (ConfigError, DataUnavailableError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
