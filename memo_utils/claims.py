"""Claims: what a paper states, what we measured, and a verdict computed from the numbers.

Each chapter builds a list of :class:`Claim` from its results; a page saves them to
``results/claims/<chapter>/<profile>.json`` (only when its settings are the profile's), and the
claims page shows, per chapter, the largest profile that has saved claims. A verdict is never
typed in: ``passed`` is the outcome of a comparison in the chapter's experiment module.
"Not at this scale" is given by the ``smoke`` profile, which proves only the code path, and by
a claim whose precondition (``at_scale``, computed from the results and stated in
``measured``) does not hold, for example networks that have not started to fit their labels.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from .cache import read_path, results_dir, write_json_atomic
from .profiles import PROFILES
from .stats import mean_interval

REPRODUCED, NOT_REPRODUCED, NOT_AT_THIS_SCALE = "reproduced", "not reproduced", "not at this scale"
PAPERS = {
    "arpit2017": "Arpit et al. 2017, A Closer Look at Memorization in Deep Networks",
    "krueger2017": "Krueger et al. 2017, Deep Nets Don't Learn via Memorization",
    "gu2019": "Gu & Tresp 2019, Neural Network Memorization Dissection",
    "liu2021": "Liu, Lin & Jaggi 2021, Understanding Memorization from the Perspective of Optimization",
}


@dataclass
class Claim:
    """One checked claim, in the form a reviewer reads it.

    ``effect`` names the effect size and ``estimate``/``interval`` give it with its 95%
    interval across ``replicate`` units (runs or seeds, never examples); ``threshold`` is the
    criterion fixed before looking (a threshold, or an equivalence margin); ``precondition``
    says what must hold for the test to mean anything at this scale, and ``at_scale`` whether
    it held. ``measured`` carries the supporting numbers.
    """

    id: str
    paper: str
    figure: str
    statement: str
    measured: str
    passed: bool
    profile: str
    data: str
    seeds: list = field(default_factory=list)
    chapter: str = ""
    at_scale: bool = True
    replicate: str = ""
    effect: str = ""
    estimate: float | None = None
    interval: list | None = None
    threshold: str = ""
    precondition: str = ""

    @property
    def verdict(self):
        if self.profile == "smoke" or not self.at_scale:
            return NOT_AT_THIS_SCALE
        return REPRODUCED if self.passed else NOT_REPRODUCED

    def as_dict(self):
        # an effect that could not be computed (nan: a diverged run, a missing estimate) is saved as null
        interval = None if self.interval is None or not np.isfinite(self.interval).all() else [float(v) for v in self.interval]
        estimate = None if self.estimate is None or not np.isfinite(self.estimate) else float(self.estimate)
        return {**asdict(self), "passed": bool(self.passed), "at_scale": bool(self.at_scale), "estimate": estimate,
                "interval": interval, "verdict": self.verdict}


@dataclass(frozen=True)
class Test:
    """The outcome of a test across replicates: the effect, its 95% interval, and whether it passed.

    ``judgeable`` is False when the interval cannot be computed (a single seed): the claim is
    then "not at this scale", never "not reproduced".
    """

    estimate: float
    interval: tuple
    passed: bool
    judgeable: bool

    def __str__(self):
        if not self.judgeable:
            return f"{self.estimate:.3g} (one replicate: no interval)"
        return f"{self.estimate:.3g} [{self.interval[0]:.3g}, {self.interval[1]:.3g}]"


def exceeds(values, threshold=0.0):
    """Per-replicate values (one per seed) whose mean exceeds ``threshold``: its 95% t-interval lies above it."""
    estimate, low, high = mean_interval(values)
    judgeable = bool(np.isfinite(low))
    return Test(estimate, (low, high), judgeable and low > threshold, judgeable)


def differs(values):
    """Per-replicate differences whose mean is not 0: the 95% t-interval excludes 0, on either side."""
    estimate, low, high = mean_interval(values)
    judgeable = bool(np.isfinite(low))
    return Test(estimate, (low, high), judgeable and (low > 0 or high < 0), judgeable)


def equivalent(values, margin):
    """Per-replicate differences equivalent to 0 within ``margin``: the 95% t-interval lies inside
    [-margin, margin] (two one-sided tests at 2.5%). Failing to find a difference is not enough."""
    estimate, low, high = mean_interval(values)
    judgeable = bool(np.isfinite(low))
    return Test(estimate, (low, high), judgeable and -margin < low and high < margin, judgeable)


def all_of(*tests):
    """Tests that must all pass, reported by the weakest (smallest effect): passed only if every one passed."""
    weakest = min(tests, key=lambda t: t.estimate)
    return Test(weakest.estimate, weakest.interval, all(t.passed for t in tests), all(t.judgeable for t in tests))


def from_test(test, **fields):
    """A :class:`Claim` whose effect, interval and verdict come from ``test``; ``at_scale`` also needs an interval."""
    at_scale = fields.pop("at_scale", True) and test.judgeable
    return Claim(estimate=test.estimate, interval=list(test.interval) if test.judgeable else None,
                 passed=test.passed, at_scale=at_scale, **fields)


def _path(chapter, profile):
    return results_dir() / "claims" / chapter / f"{profile}.json"


def save(chapter, profile, claims):
    for claim in claims:
        claim.chapter = chapter
    write_json_atomic(_path(chapter, profile), [c.as_dict() for c in claims])


def load_largest(chapters):
    """Per chapter, the claims saved by its largest profile (paper > gpu > cpu > smoke), as dicts."""
    out = []
    for chapter in chapters:
        for profile in reversed(PROFILES):
            path = read_path(Path("claims") / chapter / f"{profile}.json")
            if path.exists():
                out += json.loads(path.read_text())
                break
    return out


# Rendering: the tables of the chapters and of the claims page. Claims saved before a field
# existed render with that field empty.

VERDICT_MARKS = {REPRODUCED: "✓ reproduced", NOT_REPRODUCED: "✗ **not reproduced**", NOT_AT_THIS_SCALE: "○ not at this scale"}
LABELS = {  # every label the claims page gives a paper, and what it means
    "[Re]": "every claim that the chapters check reproduced",
    "[not Re]": "no claim reproduced, and at least one did not",
    "[not Re] in part": "some claims reproduced and at least one did not",
    "[Re] in part (rest not at this scale)": "every claim checked at a meaningful scale reproduced; the others "
                                             "could not be tested at this scale",
    "not at this scale": "no claim could be tested at this scale (the smoke profile, or unmet preconditions)",
}


def format_number(x):
    """3 significant digits, trailing zeros kept (``1.00 [0.918, 1.09]``); thousands in full."""
    if x is None:
        return "n/a"
    x = float(x)
    if x != x or x in (float("inf"), float("-inf")):
        return str(x)
    if 1000 <= abs(x) < 1e6:
        return f"{x:,.0f}"
    text = f"{x:#.3g}".rstrip(".") if x != 0 else "0"
    return text.replace("e-0", "e-").replace("e+0", "e+")


def format_effect(claim):
    """``name: 2.71 [2.55, 2.88]``: the estimate with its 95% interval when given; "" when none."""
    estimate, interval, effect = claim.get("estimate"), claim.get("interval"), claim.get("effect") or ""
    if estimate is None:
        return effect
    value = format_number(estimate)
    if interval is not None:
        value += f" [{format_number(interval[0])}, {format_number(interval[1])}]"
    return f"{effect}: {value}" if effect else value


def _escape(value):
    """Text safe inside one Markdown table cell (and inline HTML): no pipes, newlines or tags."""
    return (str(value).replace("|", "\\|").replace("\n", " ").replace("<", "&lt;").replace(">", "&gt;"))


def _details(claim, fields):
    """The collapsible detail of a claim's row: what was measured, its precondition, and ``fields``."""
    parts = []
    for name, label in fields:
        value = claim.get(name)
        if name == "seeds" and value:
            value = ", ".join(str(s) for s in value)
        if value not in (None, "", []):
            parts.append(f"<b>{label}</b>: {_escape(value)}")
    if not parts:
        return ""
    return "<details><summary>measured</summary>" + "<br>".join(parts) + "</details>"


CHAPTER_DETAILS = (("measured", "measured"), ("precondition", "precondition"), ("data", "data"), ("seeds", "seeds"))
PAGE_DETAILS = CHAPTER_DETAILS + (("chapter", "chapter"), ("profile", "profile"))
COLUMNS = {  # name -> (header, cell of a claim as a dict)
    "verdict": ("verdict", lambda c: VERDICT_MARKS.get(c.get("verdict"), _escape(c.get("verdict", "")))),
    "claim": ("claim", lambda c: f"{_escape(c.get('figure', ''))}<br>`{c.get('id', '')}`"),
    "verdict+claim": ("verdict, claim", lambda c: f"{COLUMNS['verdict'][1](c)}<br>{COLUMNS['claim'][1](c)}"),
    "statement": ("statement", lambda c: _escape(c.get("statement", "")) + _details(c, CHAPTER_DETAILS)),
    "statement+": ("statement", lambda c: _escape(c.get("statement", "")) + _details(c, PAGE_DETAILS)),
    "effect": ("effect [95% interval]", lambda c: _escape(format_effect(c)) or "–"),
    "threshold": ("threshold or margin", lambda c: _escape(c.get("threshold") or "–")),
    "replicate": ("replicate", lambda c: _escape(c.get("replicate") or "–")),
    "profile": ("profile", lambda c: f"`{c.get('profile', '')}`"),
}
CHAPTER_COLUMNS = ("verdict+claim", "statement", "effect", "threshold", "replicate")  # fits beside the page's contents
PAGE_COLUMNS = ("verdict", "claim", "statement+", "effect", "threshold", "replicate", "profile")


def to_markdown(claims, columns=CHAPTER_COLUMNS):
    """A compact Markdown table of ``claims`` (:class:`Claim` or saved dicts), one row each.

    ``columns`` are names of :data:`COLUMNS` (or of a claim's own fields, shown as they are).
    The statement cell ends with a collapsible detail (HTML ``<details>``) holding what was
    measured, the precondition, the data and the seeds.
    """
    rows = [c.as_dict() if isinstance(c, Claim) else c for c in claims]
    headers = [COLUMNS[c][0] if c in COLUMNS else c for c in columns]
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(COLUMNS[c][1](r) if c in COLUMNS else _escape(r.get(c, "")) for c in columns) + " |"
              for r in rows]
    return "\n".join(lines)


def summary_by_paper(claims):
    """Per paper: counts of each verdict and a ReScience-style label (one of :data:`LABELS`)."""
    out = {}
    for c in claims:
        entry = out.setdefault(c["paper"], {REPRODUCED: 0, NOT_REPRODUCED: 0, NOT_AT_THIS_SCALE: 0})
        entry[c["verdict"]] += 1
    for entry in out.values():
        if entry[NOT_REPRODUCED]:
            entry["label"] = "[not Re] in part" if entry[REPRODUCED] else "[not Re]"
        elif entry[REPRODUCED] and not entry[NOT_AT_THIS_SCALE]:
            entry["label"] = "[Re]"
        elif entry[REPRODUCED]:
            entry["label"] = "[Re] in part (rest not at this scale)"
        else:
            entry["label"] = "not at this scale"
    return out


def summary_markdown(claims):
    """The claims page's table per paper: counts of each verdict and the label."""
    rows = ["| paper | reproduced | not reproduced | not at this scale | label |", "|---|---|---|---|---|"]
    for paper, s in summary_by_paper(claims).items():
        rows.append(f"| {_escape(PAPERS.get(paper, paper))} | {s[REPRODUCED]} | {s[NOT_REPRODUCED]} | "
                    f"{s[NOT_AT_THIS_SCALE]} | **{s['label']}** |")
    return "\n".join(rows)


def labels_markdown():
    """What each label of :data:`LABELS` means, as a Markdown list."""
    return "\n".join(f"- **{label}**: {meaning}." for label, meaning in LABELS.items())
