"""Command line: compute a chapter's results into the cache without Jupyter.

python -m memo_utils run easy_examples --profile gpu --set n_runs=10 [--part mlp] [--recompute] [--jobs 2]
python -m memo_utils run easy_examples --profile cpu --reseed 1000       (the same, every seed moved by 1000)
python -m memo_utils run all --profile gpu --ray auto       (every chapter's missing cells on a Ray cluster)
python -m memo_utils parts easy_examples --profile gpu      (which cells are cached, which missing)
python -m memo_utils params easy_examples                   (each parameter per profile, the paper's value)
python -m memo_utils notebook capacity out.ipynb -p profile smoke   (the page, parameters checked first)
python -m memo_utils new-chapter NAME --paper KEY           (a working chapter from the template)
python -m memo_utils fingerprint [--record CHAPTER/PART]   (is each part's version current with its code?)
python -m memo_utils bench                                  (writes bench/results-<device>.json)
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import sys
import time
from pathlib import Path

from . import experiments, rehearse
from .engine import data, devices
from .errors import ONE_LINE, ConfigError, DataUnavailableError
from .framework import cache, claims, costs, fingerprints, profiles
from .framework.chapter import RUNTIME, cell_id


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


def _chapter_arguments(parser, several=False):
    if several:
        parser.add_argument("chapter", nargs="+", help=f"chapters, or all: {', '.join(experiments.CHAPTERS)}")
    else:
        parser.add_argument("chapter", help=", ".join(experiments.CHAPTERS))
    parser.add_argument("--profile", default=None, help=", ".join(profiles.PROFILES))
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="override a parameter")
    parser.add_argument("--data-dir", default=None, help="a folder like shared/data (default: $MEMO_DATA_DIR)")


def _chapter_names(given):
    """The chapters a command names: ``all`` for every chapter, else each by name (checked, in the order given)."""
    names = list(experiments.CHAPTERS) if given == ["all"] else given
    return [experiments.get(name).name for name in names]


def _config(chapter, args):
    """``chapter``'s config for this command, and the --set items that give it (a --jobs worker runs the same)."""
    overrides, items = _parse_set(args.set), list(args.set)
    if args.reseed:
        if not chapter.replicate_seeds(chapter.config(args.profile)):
            raise ConfigError(f"--reseed is not allowed for {chapter.name}: it declares no replicate seeds")
        moved = chapter.reseeded(chapter.config(args.profile), args.reseed)
        overrides = {**moved, **overrides}
        items = [f"{k}={v}" for k, v in moved.items()] + items
    return chapter.config(args.profile, **overrides), items


def _run(args):
    names = _chapter_names(args.chapter)
    if len(names) > 1 and args.part:
        raise ConfigError("--part is not allowed with several chapters: a part belongs to one chapter")
    chapters = [experiments.get(name) for name in names]
    configs = {c.name: _config(c, args) for c in chapters}
    cfgs = {name: cfg for name, (cfg, _) in configs.items()}
    if args.stand_in_data and not args.rehearse:
        raise ConfigError("--stand-in-data is not allowed without --rehearse: results come from real data only")
    if args.rehearse:
        address = None if args.ray is None else (args.ray or os.environ.get("RAY_ADDRESS") or "local")
        tally = rehearse.run(
            [(c, cfgs[c.name]) for c in chapters],
            args.part,
            args.device,
            args.data_dir,
            args.stand_in_data,
            address,
            args.ray_cpus,
        )
        if tally[rehearse.FAILED]:
            raise CellsFailed(f"--rehearse: {tally[rehearse.FAILED]} failed (see the lines above)")
        if tally[rehearse.TOO_LARGE]:
            raise CellsDoNotFit(
                f"--rehearse: {tally[rehearse.TOO_LARGE]} cell(s) do not fit here and none failed: exit "
                f"{CellsDoNotFit.exit_code}, which a cluster's job may accept (a real run reports such a cell and "
                "goes on)"
            )
        return 0
    if args.ray is not None and (args.jobs > 1 or args.part or args.recompute):
        raise ConfigError("--ray is not allowed with --jobs, --part or --recompute: Ray schedules every missing cell")
    if args.jobs < 1:
        raise ConfigError(f"--jobs={args.jobs} is not allowed: must be a positive integer")
    device = "cpu" if args.ray is not None else devices.resolve(args.device)  # with Ray, the workers compute
    devices.configure_threads(device)
    if not args.force:
        for chapter in chapters:
            chapter.stop_unless_cached(cfgs[chapter.name], args.data_dir)
    start = time.perf_counter()
    on_ray = _compute_on_ray(names, cfgs, args) if args.ray is not None else {}
    for chapter in chapters:
        cfg, items = configs[chapter.name]
        # one chapter's wall time is the command's; Ray computing several at once leaves none apart
        timed = args.ray is None or len(chapters) == 1
        _finish(chapter, cfg, items, args, device, start if len(chapters) == 1 else None, on_ray, timed)
    return 0


def _finish(chapter, cfg, items, args, device, start, on_ray, timed):
    """Compute what is missing of one chapter (in --jobs workers, or here; Ray's cells are already in the cache),
    print each cell's status and the chapter's verdicts, and record its wall time for the cost page."""
    start = time.perf_counter() if start is None else start
    in_workers = _compute_in_workers(chapter, cfg, items, args) if args.jobs > 1 else 0
    in_workers += sum(cid.startswith(f"{chapter.name}/") for cid in on_ray)
    results = chapter.run(
        cfg, device=device, data_dir=args.data_dir, recompute=args.recompute and args.jobs == 1, parts=args.part
    )
    computed = False
    for part, cell, result in results:
        data_labels = ", ".join(sorted({f["label"] for f in result.meta["config"]["data"].values()}))
        status = (
            f"cached ({data_labels})"
            if result.from_cache
            else f"computed from {data_labels} in {result.meta['wall_time_s']} s"
        )
        computed = computed or not result.from_cache
        print(f"{chapter.name}/{cell_id(part, cell)}: {status} on {result.meta['device']}")
    if not args.part:  # the whole chapter: its verdicts, saved as a page saves them
        judged, saved, why_not = chapter.save_claims(results, cfg)
        tally = claims.tally_text([c.as_dict() for c in judged])
        print(f"{chapter.name}: {tally}" + (f" (saved to {saved})" if saved else f" (not saved: {why_not})"))
    seconds = time.perf_counter() - start
    computed = computed or in_workers > 0
    if timed and computed and not args.part and not chapter.overridden(cfg):
        with cache.for_book(chapter.for_book(cfg)):  # a smoke run's time goes into scratch/, as its results
            costs.record_wall_time(
                cfg["profile"],
                chapter.name,
                seconds,
                "python -m memo_utils run"
                + (f" --jobs {args.jobs}" if args.jobs > 1 else "")
                + (" --ray" if args.ray is not None else ""),
            )
    if not os.environ.get(WORKER):  # one summary per command: a --jobs worker leaves it to the command
        print(json.dumps({"chapter": chapter.name, "profile": cfg["profile"], "wall_time_s": round(seconds, 2)}))


WORKER = "MEMO_RUN_WORKER"  # set in the environment of run --jobs's worker processes


def _compute_in_workers(chapter, cfg, items, args):
    """Compute the missing cells (all selected ones, with ``--recompute``) in ``args.jobs`` processes at once, one
    single-threaded ``run --part CELL`` each, the most work first: on a CPU, processes scale where threads of one
    process do not. The cache's atomic writes make the results safe to read afterwards. Returns how many."""
    import subprocess
    from concurrent.futures import ThreadPoolExecutor

    work = {cell_id(p.name, c): p.work(cfg, c) for p, c in chapter.cells(cfg, args.part)}
    todo = [cid for cid, hit in chapter.status(cfg, args.data_dir) if cid in work and (args.recompute or hit is None)]
    todo.sort(key=work.get, reverse=True)
    base = [
        sys.executable,
        "-m",
        "memo_utils",
        "run",
        chapter.name,
        "--profile",
        cfg["profile"],
        "--force",
        *[f"--set={item}" for item in items],
    ]
    base += [f"--data-dir={args.data_dir}"] if args.data_dir else []
    base += [f"--device={args.device}"] if args.device else []
    base += ["--recompute"] if args.recompute else []
    with ThreadPoolExecutor(args.jobs) as pool:
        env = dict(os.environ, **{WORKER: "1"})
        codes = list(pool.map(lambda cid: subprocess.run([*base, f"--part={cid}"], env=env).returncode, todo))
    failed = [cid for cid, code in zip(todo, codes) if code]
    if failed:
        raise CellsFailed(f"--jobs: cells {', '.join(failed)} failed (their errors are printed above)")
    return len(todo)


def _compute_on_ray(names, cfgs, args):
    """Every missing cell of every chapter as a Ray task, in one pool (memo_utils.cluster); one line per cell, then
    exit 1 if any failed. Returns {cell: seconds} of those computed."""
    from . import cluster

    address = args.ray or os.environ.get("RAY_ADDRESS") or None
    done, failed = cluster.run(
        names,
        cfgs,
        address=address,
        data_dir=args.data_dir,
        device=args.device,
        num_cpus=args.ray_cpus,
    )
    for cid, seconds in done.items():
        print(f"{cid}: computed on Ray in {seconds:.1f} s")
    for cid, error in failed.items():
        print(f"{cid}: failed on Ray: {error}", file=sys.stderr)
    if failed:
        raise CellsFailed(f"--ray: cells {', '.join(failed)} failed; the {len(done)} others are in the cache")
    return done


def _plan(args):
    from .framework import plan

    names = _chapter_names(args.chapter)
    if args.gpus < 1:
        raise ConfigError(f"--gpus={args.gpus} is not allowed: must be a positive integer")
    plans = []
    print("cell | one GPU, estimated | basis | memory (lower bound) | GPU share")
    for name in names:
        chapter = experiments.get(name)
        for p in plan.plan(chapter, chapter.config(args.profile), args.data_dir):
            plans.append(p)
            seconds = "no rate" if p.seconds is None else f"{p.seconds:,.0f} s"
            print(f"{p.chapter}/{p.cell} | {seconds} | {p.basis} | {p.memory / 2**30:,.2f} GiB | {p.gpu_fraction:g}")
    t = plan.totals(plans, args.gpus)
    unrated = f", {t['unrated']} with no rate left out" if t["unrated"] else ""
    unrated += f", {t['at_peak']} timed at the {plan.AT_PEAK}" if t["at_peak"] else ""
    print(
        f"total: {t['cells']} missing cells{unrated}; about {t['gpu_hours']:,.1f} GPU hours, "
        f"{t['wall_hours']:,.1f} h of wall time on {args.gpus} GPU(s) (estimates: see each cell's basis)"
    )
    return 0


class CellsFailed(RuntimeError):
    """A worker of ``run --jobs`` failed: exit code 1, since it is no configuration error."""

    exit_code = 1


class CellsDoNotFit(CellsFailed):
    """``run --rehearse`` found cells too large for this machine's memory, and none failed: exit code 3, which a
    cluster's job accepts (such a cell fits no GPU, and a real run reports it and goes on)."""

    exit_code = 3


def _new_chapter(args):
    import importlib

    from . import scaffold

    written = scaffold.new_chapter(args.name, args.paper)
    importlib.reload(experiments)  # the registry now lists the new chapter
    scaffold.record_fingerprints(args.name)
    for path in written:
        print(f"wrote {path}")
    print(
        f"next: replace the template in memo_utils/experiments/{args.name}.py and book/{args.name}.md with the paper's "
        f"experiment and claims, then python -m memo_utils run {args.name} --profile cpu, and make test"
    )
    return 0


def _parts(args):
    chapter = experiments.get(args.chapter)
    cfg = chapter.config(args.profile, **_parse_set(args.set))
    labels = set()
    for part in chapter.parts:
        try:
            labels |= {source.label for source in chapter.sources(part, cfg, args.data_dir).values()}
        except DataUnavailableError:
            labels.add("not on this machine")
    print(f"# {chapter.name}, profile {cfg['profile']}; data: {', '.join(sorted(labels)) or 'none'}")
    for cid, hit in chapter.status(cfg, args.data_dir):
        print(f"{cid}: " + (f"cached ({hit.meta['device']}, {hit.meta['wall_time_s']} s)" if hit else "missing"))
    return 0


def _notebook(args):
    """Execute a chapter's page with papermill, after checking its parameters with the chapter's own validators:
    a bad value is one line here, not a traceback after a kernel started."""
    chapter = experiments.get(args.chapter)
    overrides = _parse_set(f"{name}={value}" for name, value in args.p)
    runtime = {k: overrides.pop(k) for k in list(overrides) if k in RUNTIME}
    cfg = chapter.config(runtime.get("profile"), **overrides)
    profiles.flag("recompute", runtime.get("recompute", False))
    devices.resolve(runtime.get("device"))
    data.explicit_dir(runtime.get("data_dir"))
    if not args.force:
        chapter.stop_unless_cached(cfg, runtime.get("data_dir"))
    import jupytext
    import papermill

    book = Path(__file__).resolve().parents[1] / "book"
    staged = Path(args.out).with_suffix(".input.ipynb")
    jupytext.write(jupytext.read(book / f"{chapter.name}.md"), staged)
    try:
        papermill.execute_notebook(
            str(staged),
            args.out,
            parameters={**runtime, **overrides},
            cwd=str(book),
            kernel_name="python3",
            progress_bar=False,
            extra_arguments=["--IPKernelApp.log_level=CRITICAL"],  # the kernel's own log is noise here
        )
    finally:
        staged.unlink()
    print(f"{chapter.name}: executed into {args.out}")
    return 0


def _params(args):
    """Each parameter: its value per profile, the paper's, the parts it changes and why it differs."""
    chapter = experiments.get(args.chapter)
    for p in chapter.params:
        values = ", ".join(f"{profile} {p.value(profile)!r}" for profile in profiles.PROFILES)
        print(
            f"{p.name}: {values}; paper: {p.paper}; changes: {', '.join(p.parts)}" + (f"; {p.note}" if p.note else "")
        )
    return 0


def _fingerprint(args):
    chapters = experiments.all_chapters()
    if args.record:
        chapter_name, _, part_name = args.record.partition("/")
        chapter = experiments.get(chapter_name)
        mismatches = fingerprints.record(chapter, chapter.part(part_name), rev=args.rev)
        for line in mismatches:
            print(f"{args.record}: {line}", file=sys.stderr)
        if mismatches:
            print(f"error: {args.record} not recorded: its results changed, so bump its version", file=sys.stderr)
            return 1
        print(f"{args.record}: recorded")
    stale = 0
    for part_id, problem in fingerprints.status(chapters):
        print(f"{part_id}: {problem or 'ok'}")
        stale += problem is not None
    return 1 if stale else 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m memo_utils")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser(
        "run",
        help="compute chapters' results into results/",
        epilog="example: python -m memo_utils run easy_examples --profile cpu --jobs 2 --set n_runs=10",
    )
    _chapter_arguments(run, several=True)
    run.add_argument(
        "--part",
        action="append",
        default=None,
        metavar="PART",
        help="compute only this part or cell (repeatable; `parts` lists them)",
    )
    run.add_argument("--device", default=None, help="cpu or cuda (default: cuda when available)")
    run.add_argument("--recompute", action="store_true", help="ignore cached results")
    run.add_argument("--force", action="store_true", help="run the paper profile even though it takes hours")
    run.add_argument(
        "--jobs", type=int, default=1, metavar="N", help="compute cells in N processes at once (on a CPU: one per core)"
    )
    run.add_argument(
        "--reseed",
        type=int,
        default=0,
        metavar="K",
        help="move every replicate seed by K: the profile's run on a disjoint seed set, whose verdicts "
        "are saved beside the profile's to check that they survive it",
    )
    run.add_argument(
        "--ray",
        nargs="?",
        const="",
        default=None,
        metavar="ADDRESS",
        help="compute the missing cells as Ray tasks: on a local Ray instance, or on the cluster at ADDRESS "
        "(auto, ray://HOST:PORT; default: $RAY_ADDRESS)",
    )
    run.add_argument("--ray-cpus", type=int, default=None, help=argparse.SUPPRESS)  # a local instance's CPUs (tests)
    run.add_argument(
        "--rehearse",
        action="store_true",
        help="run each cell at its real sizes but stop it after 2 training steps, writing nothing: proves it loads "
        "its data and fits in memory before hours of cluster time; a cell too large for this machine is rehearsed "
        "as a slice, with fewer models at once; without --part, each chapter's claims are then judged on the "
        "profile's grid at the smoke profile's sizes; with --ray, each of these is a Ray task",
    )
    run.add_argument(
        "--stand-in-data",
        action="store_true",
        help="with --rehearse: random images of each dataset's shape and size instead of the archives (a "
        "machine without them still checks every network at its real size)",
    )
    plan = sub.add_parser(
        "plan",
        help="estimate what the missing cells of chapters would cost: time, memory, GPU share; totals",
        epilog="example: python -m memo_utils plan all --profile paper --gpus 8",
    )
    plan.add_argument("chapter", nargs="+", help=f"chapters, or all: {', '.join(experiments.CHAPTERS)}")
    plan.add_argument("--profile", default=None, help=", ".join(profiles.PROFILES))
    plan.add_argument("--gpus", type=int, default=1, help="GPUs to spread the wall time over (default 1)")
    plan.add_argument("--data-dir", default=None, help="a folder like shared/data (default: $MEMO_DATA_DIR)")
    parts = sub.add_parser(
        "parts",
        help="list a chapter's cached computations: cached or missing",
        epilog="example: python -m memo_utils parts capacity --profile cpu",
    )
    _chapter_arguments(parts)
    notebook = sub.add_parser(
        "notebook",
        help="execute a chapter's page with papermill, its parameters checked first (no kernel for a bad value)",
        epilog="example: python -m memo_utils notebook capacity out.ipynb -p profile smoke -p widths [8,32]",
    )
    notebook.add_argument("chapter", help=f"one of {', '.join(experiments.CHAPTERS)}")
    notebook.add_argument("out", help="the executed notebook to write")
    notebook.add_argument(
        "-p",
        nargs=2,
        action="append",
        default=[],
        metavar=("NAME", "VALUE"),
        help="a parameter, as papermill's -p; lists and numbers are read as Python literals ([3,4], 0.5)",
    )
    notebook.add_argument("--force", action="store_true", help="run the paper profile even though it takes hours")
    params = sub.add_parser(
        "params",
        help="list a chapter's parameters: value per profile, the paper's, what each changes",
        epilog="example: python -m memo_utils params easy_examples",
    )
    params.add_argument("chapter", help=f"one of {', '.join(experiments.CHAPTERS)}")
    fingerprint = sub.add_parser(
        "fingerprint",
        help="is each part's version current with its code?",
        epilog="example: python -m memo_utils fingerprint --record capacity/probe",
    )
    fingerprint.add_argument(
        "--record",
        metavar="CHAPTER/PART",
        help="record its fingerprint (after checking that smoke and cpu results are bit-identical "
        "when its version is unchanged)",
    )
    fingerprint.add_argument("--rev", default="HEAD", help="the commit whose code computes the reference results")
    new = sub.add_parser(
        "new-chapter",
        help="write a new chapter from a working template and register it (then replace the template's experiment, "
        "claims and text with the paper's; see README, How to add a chapter)",
        epilog="example: python -m memo_utils new-chapter forgetting_events --paper arpit2017",
    )
    new.add_argument("name", help="the chapter's name, e.g. forgetting_events")
    new.add_argument("--paper", required=True, help=f"the paper's key: {', '.join(claims.PAPERS)}")
    bench = sub.add_parser(
        "bench",
        help="optimized paths against straightforward references",
        epilog="example: python -m memo_utils bench --quick (on a CPU: checks the code path only)",
    )
    bench.add_argument("--out", default=None, help="write the JSON results here (default: bench/results-<device>.json)")
    bench.add_argument("--quick", action="store_true", help="tiny sizes, to check the code path on a CPU")
    bench.add_argument(
        "--cases",
        default=None,
        metavar="A,B",
        help="only these cases (mlp, vgg11, small-alexnet, per-example, unrolled); the report keeps "
        "the other cases' rows from an earlier run on the same device",
    )
    bench.add_argument(
        "--trace",
        action="store_true",
        help="also run each variant once under torch.profiler (device busy fraction, top operators) into "
        "profile-<device>.txt",
    )
    args = parser.parse_args(argv)
    try:
        if args.command == "bench":
            from .bench import main as bench_main

            devices.configure_threads(devices.default_device())
            return bench_main(
                out=args.out,
                quick=args.quick,
                trace=args.trace,
                cases=args.cases.split(",") if args.cases else None,
            )
        return {
            "run": _run,
            "plan": _plan,
            "parts": _parts,
            "fingerprint": _fingerprint,
            "new-chapter": _new_chapter,
            "params": _params,
            "notebook": _notebook,
        }[args.command](args)
    except ONE_LINE as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except CellsFailed as error:
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:  # output piped into `head`: stop quietly, as other command-line tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
