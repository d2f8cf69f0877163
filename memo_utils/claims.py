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

import numpy as np

from .cache import results_dir, write_json_atomic
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
        interval = None if self.interval is None else [float(v) for v in self.interval]
        estimate = None if self.estimate is None else float(self.estimate)
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
            path = _path(chapter, profile)
            if path.exists():
                out += json.loads(path.read_text())
                break
    return out


def to_markdown(claims, columns=("id", "verdict", "figure", "statement", "measured", "profile", "data")):
    rows = [c.as_dict() if isinstance(c, Claim) else c for c in claims]
    escape = lambda v: str(v).replace("|", "\\|").replace("\n", " ")
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(escape(r[c]) for c in columns) + " |" for r in rows]
    return "\n".join(lines)


def summary_by_paper(claims):
    """Per paper: counts of each verdict and a ReScience-style label ([Re] when all reproduced)."""
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
