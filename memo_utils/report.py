"""What the book's pages say about runs and chapters, read from configs, cached metadata and the
registry, never typed in: a chapter's run note, the introduction's list of chapters and the
cost page's tables."""

from __future__ import annotations

import json
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
    """ "Arpit et al. 2017" from "Arpit et al. 2017, A Closer Look at ..."."""
    return paper_title.split(",")[0]


def _sections(numbers):
    return f"sections {numbers}" if any(c in numbers for c in "-,") else f"section {numbers}"


def _verdicts(saved):

    if not saved:
        return "no claims saved yet"
    tally = lambda rows: ", ".join(f"{n} {verdict}" for verdict, n in claims.counts(rows).items() if n)
    own, beyond = [c for c in saved if not c.get("beyond_paper")], [c for c in saved if c.get("beyond_paper")]
    text = tally(own) + (f"; beyond the paper: {tally(beyond)}" if beyond else "")
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

    return [c["chapter"] for c in chapter_costs() if c["gpu_wall_time_s"] is None]


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


def chapter_costs():
    """Per chapter: the measured wall time of the gpu profile on a GPU, and the paper estimate."""
    rows = []
    for chapter in experiments.all_chapters():
        metas = costs.cached_metas(chapter, chapter.config("gpu"))
        on_gpu = costs.on_gpu(metas)
        estimate = costs.paper_estimate_seconds(chapter)
        rows.append(
            {
                "chapter": chapter.name,
                "gpu_wall_time_s": sum(m["wall_time_s"] for m in metas.values()) if on_gpu else None,
                "gpu_device": ", ".join(sorted({m["device"] for m in metas.values()})) if on_gpu else None,
                "paper_gpu_hours": estimate / 3600 if estimate is not None else None,
            }
        )
    return rows
