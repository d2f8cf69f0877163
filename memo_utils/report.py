"""What the book's pages say about runs and chapters, read from configs, cached metadata and the
registry, never typed in: a chapter's run note, the introduction's list of chapters and the
cost page's tables."""

from __future__ import annotations

import json
import re
from importlib import import_module
from pathlib import Path

from . import experiments
from .bench import table
from .errors import DataUnavailableError
from .framework import claims, costs
from .framework.links import page_link
from .framework.profiles import PROFILES

BOOK = Path(__file__).resolve().parents[1] / "book"


def _what(chapter_name):
    """The first paragraph of a chapter's experiment module docstring: paper, section, figures."""
    doc = (import_module(f"memo_utils.experiments.{chapter_name}").__doc__ or "").strip()
    return " ".join(doc.split("\n\n")[0].split())


def _short(paper_title):
    """ "Arpit et al. 2017" from "Arpit et al. 2017, A Closer Look at ...", and "Liu, Lin & Jaggi 2021" from
    "Liu, Lin & Jaggi 2021, Understanding ...": the authors up to the year."""
    return re.match(r".*?\d{4}", paper_title).group(0)


def headline_markdown():
    """The book's headline, computed from every chapter's saved claims: what the settings could test, what held,
    and each paper's label."""
    rows = claims.load_largest(experiments.CHAPTERS)
    if not rows:
        return "No chapter has saved its verdicts yet."
    profiles = ", ".join(sorted({r["profile"] for r in rows}))
    labels = "; ".join(
        f"{_short(claims.PAPERS[paper])}: **{s['label']}**"
        for paper, s in claims.summary_by_paper(rows).items()
        if paper in claims.PAPERS
    )
    return f"**Headline** (the {profiles} profile): {claims.headline(rows, 'the papers')} Per paper: {labels}."


def source_markdown(source):
    """The commit the pages were executed from, and where the repository lives (when the clone records it)."""
    commit = f"`{source['commit']}`" if source["commit"] else "not a git checkout"
    if source["commit"] and source["modified"]:
        commit += " with uncommitted changes to tracked files"
    where = f"`{source['repository']}`" if source["repository"] else "not recorded (this clone has no `origin` remote)"
    return f"Executed from commit {commit}; repository: {where}."


def _sections(numbers):
    return f"sections {numbers}" if any(c in numbers for c in "-,") else f"section {numbers}"


def _verdicts(saved):
    if not saved:
        return "no claims saved yet"
    own, beyond = [c for c in saved if not c.get("beyond_paper")], [c for c in saved if c.get("beyond_paper")]
    if not own:  # a chapter beyond the papers
        text = f"all ours, {claims.tally_text(beyond)}"
    else:
        text = claims.tally_text(own) + (f"; beyond the paper: {claims.tally_text(beyond)}" if beyond else "")
    return f"{text} (profile `{saved[0]['profile']}`)"


def chapters_markdown():
    """Per paper, the chapters that exist (linked, with their claims' verdicts) and those to come
    (``experiments.PLANNED``)."""

    lines = []
    for paper, title in claims.PAPERS.items():
        lines.append(f"**{title}**\n")
        # A chapter is listed under its paper, and under any other its docstring names first.
        existing = [c for c in experiments.all_chapters() if c.paper == paper or _short(title) in _what(c.name)]
        for chapter in existing:
            what = _what(chapter.name)
            short = _short(title) + ", "
            what = what[len(short)].upper() + what[len(short) + 1 :] if what.startswith(short) else what
            verdicts = _verdicts(claims.load_largest([chapter.name]))
            lines.append(f"- {page_link(chapter.name)}: {what} Claims: {verdicts}.")
        for planned_title, sections in experiments.PLANNED.values():
            if paper in sections:
                others = [
                    f"{_short(claims.PAPERS[p])}" + (f", {_sections(s)}" if s else "")
                    for p, s in sections.items()
                    if p != paper
                ]
                lines.append(
                    f"- *to come*: {planned_title}"
                    + (f", {_sections(sections[paper])}" if sections[paper] else "")
                    + (f" (with {'; '.join(others)})" if others else "")
                    + "."
                )
        if not existing and not any(paper in s for _, s in experiments.PLANNED.values()):
            lines.append("- no chapter yet.")
        lines.append("")
    beyond = [c for c in experiments.all_chapters() if c.paper is None]
    if beyond:
        lines.append("**Beyond the papers** (our questions, tallied apart)\n")
        for chapter in beyond:
            verdicts = _verdicts(claims.load_largest([chapter.name]))
            what = _what(chapter.name).removeprefix("Beyond the papers: ")
            lines.append(f"- {page_link(chapter.name)}: {what[0].upper() + what[1:]} Claims: {verdicts}.")
        lines.append("")
    return "\n".join(lines)


def _seconds(s):
    if s >= 3600:
        return f"{s / 3600:.1f} h"
    if s >= 60:
        return f"{s / 60:.1f} min"
    return f"{s:.1f} s"


def compute_times():
    """Every cached cell of every chapter at each profile's settings, from the cache metadata.

    [(chapter, profile, cell id, metadata or None, note)]; ``note`` says why a profile could
    not be looked up (results of several data sources cached here).
    """

    rows = []
    for chapter in experiments.all_chapters():
        for profile in PROFILES:
            try:
                status = chapter.status(chapter.config(profile))
            except DataUnavailableError as error:
                rows.append((chapter.name, profile, None, None, str(error)))
                continue
            rows += [(chapter.name, profile, cid, hit.meta if hit is not None else None, "") for cid, hit in status]
    return rows


def compute_time_markdown():
    """Per chapter and profile, the compute time of its cached cells; then a collapsible table per cell."""
    rows = compute_times()
    summary = ["| chapter | profile | cells cached | compute time | device | computed |", "|---|---|---|---|---|---|"]
    cells = ["| chapter | profile | cell | compute time | device | computed |", "|---|---|---|---|---|---|"]
    groups = {}
    for chapter, profile, cid, meta, note in rows:
        groups.setdefault((chapter, profile), []).append((cid, meta, note))
    for (chapter, profile), entries in groups.items():
        cached = [(cid, m) for cid, m, _ in entries if m is not None]
        if not cached:
            continue
        total = sum(m["wall_time_s"] for _, m in cached)
        devices = ", ".join(sorted({m["device"] for _, m in cached}))
        dates = sorted(m["date"][:10] for _, m in cached)
        when = dates[0] if dates[0] == dates[-1] else f"{dates[0]} to {dates[-1]}"
        summary.append(
            f"| {chapter} | `{profile}` | {len(cached)} of {len(entries)} | {_seconds(total)} | {devices} | {when} |"
        )
        cells += [
            f"| {chapter} | `{profile}` | `{cid}` | {_seconds(m['wall_time_s'])} | {m['device']} | {m['date'][:10]} |"
            for cid, m in cached
        ]
    if len(summary) == 2:
        return "No chapter has cached results yet."
    return "\n".join(summary) + "\n\n<details>\n<summary>Per cell</summary>\n\n" + "\n".join(cells) + "\n\n</details>\n"


def gpu_pending():
    """Chapters with no gpu-profile results computed on a GPU: their GPU figures are pending."""

    return [c.name for c in experiments.all_chapters() if not costs.on_gpu(costs.cached_metas(c, c.config("gpu")))]


def bench_reports(folder):
    """Every ``results-*.json`` of the benchmark in ``folder`` (GPU runs first), as dicts."""
    reports = [json.loads(p.read_text()) for p in sorted(Path(folder).glob("results-*.json"))]
    return sorted(reports, key=lambda r: (r["device"] == "cpu" or r.get("quick", False), r["device"]))


def bench_markdown(report):
    """One benchmark report: where and when it ran, then its table (``bench.table.format_table``)."""

    head = f"Measured on **{report['device']}** with torch {report['torch']} on {report['date'][:10]}."
    if report["device"] == "cpu" or report.get("quick"):
        head += (
            " This is a quick check on a CPU (`--quick`, tiny sizes): it proves the code paths run; "
            "its times say nothing about a GPU."
        )
    return head + "\n\n" + table.format_table(report["rows"])


def estimate_markdown():
    """Per chapter: the cpu profile's measured single-core time, and the gpu and paper profiles' cost, measured on
    a GPU where the cache has it, else extrapolated from the cpu profile by counted work (marked as estimates)."""
    low, high = costs.ASSUMED_GPU_SPEEDUP
    lines = ["| chapter | cpu profile, measured | gpu profile | paper profile |", "|---|---|---|---|"]
    for chapter in experiments.all_chapters():
        cpu = costs.cached_metas(chapter, chapter.config("cpu"))
        gpu = costs.cached_metas(chapter, chapter.config("gpu"))
        cells = []
        for profile in ("gpu", "paper"):
            if costs.on_gpu(gpu):
                seconds = sum(m["wall_time_s"] for m in gpu.values())
                cells.append(
                    f"{_seconds(seconds)} measured on a GPU"
                    if profile == "gpu"
                    else f"*estimate*: {_seconds(costs.scaled(chapter, 'gpu', 'paper', gpu)[0])} of one GPU "
                    "(scaled from the measured gpu profile)"
                )
            elif not costs.on_cpu(cpu):
                cells.append("no cpu measurement to scale")
            else:
                core, unrated = costs.scaled(chapter, "cpu", profile, cpu)
                gpu_time = f"{_seconds(core / high)} to {_seconds(core / low)} of one GPU"
                text = f"*estimate*: {core / 3600:,.0f} core-hours; {gpu_time}"
                cells.append(text + (f" (without {', '.join(unrated)}: not run at cpu)" if unrated else ""))
        measured = _seconds(sum(m["wall_time_s"] for m in cpu.values())) if cpu else "not cached"
        lines.append(f"| {chapter.name} | {measured} | {cells[0]} | {cells[1]} |")
    return "\n".join(lines)


def plan_markdown(profile="paper", gpus=8):
    """The total of ``python -m memo_utils plan all --profile PROFILE --gpus GPUS``, as a sentence."""
    from .framework import plan

    plans = [p for c in experiments.all_chapters() for p in plan.plan(c, c.config(profile))]
    t = plan.totals(plans, gpus)
    unrated = f" ({t['unrated']} cells with no rate left out)" if t["unrated"] else ""
    at_peak = (
        f", or for the {t['at_peak']} cells of parts no profile here has measured (CIFAR-10 parts the cpu profile does "
        f"not run), from their counted floating-point operations at the {plan.AT_PEAK}"
        if t["at_peak"]
        else ""
    )
    return (
        f"`python -m memo_utils plan all --profile {profile} --gpus {gpus}` totals the {t['cells']} missing cells of "
        f"the {profile} profile at about **{t['gpu_hours']:,.0f} GPU hours**, **{t['wall_hours']:,.0f} h** of wall "
        f"time on {gpus} GPUs{unrated}: each cell holding its share of a GPU, its time from a measured gpu rate "
        f"where one exists, else from the cpu rate over the assumed 100x (the upper end of the estimates above)"
        f"{at_peak}."
    )
