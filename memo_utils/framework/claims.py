"""Claims: definitions registered before the results, evidence measured from them, and one way to judge.

A chapter declares, in its experiment module and before any result exists:

- ``NETWORKS``: the groups of networks it trains, by name ("randY MLPs");
- ``PRECONDITIONS``: what makes its setting able to test claims about some of those networks
  (:class:`Precondition`, for example "randY MLPs fit >= 90% of their labels"), each with its
  threshold and a reason tied to the paper. A precondition applies to *every* claim on the
  networks it names, so the same networks cannot count for one claim and not for another;
- ``CLAIMS``: one :class:`Definition` per claim: the paper's sentence and where it stands, our
  statement, its criteria (:func:`above`, :func:`below`, :func:`differs`, :func:`within`: a
  statistic, its direction and the smallest effect of interest with its reason, or a two-sided
  equivalence margin), the replicate unit, the networks it uses, and whether it goes beyond
  the paper.

Its ``evidence(results, cfg)`` then measures each precondition's value and, for each claim, one
:class:`Estimate` per criterion: an effect with its 95% interval across replicates (runs or
seeds, never examples). :func:`judge` gives every claim one of four verdicts, the same way in
every chapter:

- **reproduced**: the preconditions hold and every interval lies beyond its smallest effect, in
  the paper's direction (inside the margin, for an equivalence);
- **not reproduced**: the preconditions hold and an interval excludes the smallest effect (lies
  below it, or outside the margin);
- **inconclusive**: the preconditions hold, but an interval spans the smallest effect; the claim
  says how many replicates would resolve it at the observed spread;
- **not at this scale**: a precondition fails (the claim names it, with its measured value), an
  interval cannot be computed (one replicate), or the profile is ``smoke``.

Each definition has a fingerprint (its statement, criteria, replicate unit, networks and their
preconditions; not the wording of reasons). A saved verdict records the fingerprint it was judged
under, and :func:`save` logs an *amendment* whenever a claim with a saved verdict is judged under
another definition (or disappears): ``results/claims/amendments.json`` keeps the date, the
earlier verdict and the reason, and the claims page shows them. A test checks that every
committed verdict was judged under the current definitions, so a definition cannot change quietly.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .cache import read_dirs, read_path, results_dir, update_json, write_json_atomic
from .links import claim_anchor, claim_link, page_link
from .profiles import PROFILES
from .stats import mean_interval, t_quantile

REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE, NOT_AT_THIS_SCALE = (
    "reproduced",
    "not reproduced",
    "inconclusive",
    "not at this scale",
)
VERDICTS = (REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE, NOT_AT_THIS_SCALE)
ABOVE, BELOW, DIFFERS, WITHIN = "above", "below", "differs", "within"
PAPERS = {
    "arpit2017": "Arpit et al. 2017, A Closer Look at Memorization in Deep Networks",
    "krueger2017": "Krueger et al. 2017, Deep Nets Don't Learn via Memorization",
    "gu2019": "Gu & Tresp 2019, Neural Network Memorization Dissection",
    "liu2021": "Liu, Lin & Jaggi 2021, Understanding Memorization from the Perspective of Optimization",
}
BEYOND = "beyond the papers"  # the tally of claims that no paper makes
MOST_REPLICATES = 1000  # "more than this many" when an estimate sits on its smallest effect
TESTED_PROFILES = ("cpu", "gpu", "paper")  # profiles meant to test claims (smoke proves the code path only)
AMENDMENTS = Path("claims") / "amendments.json"
UNREGISTERED = (
    "first registered after results: the earlier verdict came from a definition with no smallest effect, "
    "no inconclusive outcome and no shared preconditions"
)
RESEED = "-reseed-"  # claims/<chapter>/<profile>-reseed-<k>.json: the profile's verdicts with every seed moved by k


# --- Definitions, declared before the results ---------------------------------------------------


@dataclass(frozen=True)
class Precondition:
    """What must hold for a setting to be able to test claims about ``networks`` (names of the chapter's
    ``NETWORKS``). ``statement`` says what is measured and how it is summarised over replicates (for example
    "mean over seeds of the final training accuracy"); the measured value must be at least ``threshold``
    (at most, with ``at_most``). ``reason`` ties the threshold to the paper."""

    id: str
    networks: tuple
    statement: str
    threshold: float
    reason: str
    at_most: bool = False

    def holds(self, value):
        if value is None or not np.isfinite(value):
            return False
        return value <= self.threshold if self.at_most else value >= self.threshold

    def requirement(self):
        return f"{'<=' if self.at_most else '>='} {format_number(self.threshold)}"

    def registered(self):
        """The fields its fingerprint covers: not the wording of its reason."""
        return {
            "id": self.id,
            "networks": sorted(self.networks),
            "statement": self.statement,
            "threshold": self.threshold,
            "at_most": self.at_most,
        }


@dataclass(frozen=True)
class Criterion:
    """One test of a claim: ``statistic`` (per replicate, then its mean with a 95% interval, unless the claim
    says otherwise), its ``direction`` and ``bound``: the smallest effect of interest for ``above``, ``below``
    and ``differs`` (|effect| beyond it), the equivalence margin (low, high) for ``within``. ``reason`` says
    why that bound, from the paper."""

    statistic: str
    direction: str
    bound: float | tuple
    reason: str

    def __post_init__(self):
        if self.direction not in (ABOVE, BELOW, DIFFERS, WITHIN):
            raise ValueError(f"direction={self.direction!r} is not allowed: above, below, differs or within")
        if self.direction == WITHIN and not (len(self.bound) == 2 and self.bound[0] < self.bound[1]):
            raise ValueError(f"{self.statistic}: an equivalence margin is (low, high) with low < high")
        if self.direction == DIFFERS and not self.bound > 0:
            raise ValueError(f"{self.statistic}: 'differs' needs a smallest effect above 0, or it can never fail")

    def boundaries(self):
        if self.direction == WITHIN:
            return tuple(self.bound)
        return (-self.bound, self.bound) if self.direction == DIFFERS else (self.bound,)

    def outcome(self, low, high):
        """reproduced, not reproduced or inconclusive, from a 95% interval."""
        if self.direction == ABOVE:
            return REPRODUCED if low > self.bound else NOT_REPRODUCED if high < self.bound else INCONCLUSIVE
        if self.direction == BELOW:
            return REPRODUCED if high < self.bound else NOT_REPRODUCED if low > self.bound else INCONCLUSIVE
        a, b = self.boundaries()
        inside, outside = a < low and high < b, high < a or low > b
        if self.direction == WITHIN:
            return REPRODUCED if inside else NOT_REPRODUCED if outside else INCONCLUSIVE
        return REPRODUCED if outside else NOT_REPRODUCED if inside else INCONCLUSIVE  # differs

    def describe(self):
        """``> 0.02``, ``< -0.1``, ``|x| > 0.05`` or ``inside [0.5, 2.00]``."""
        if self.direction == WITHIN:
            return f"inside [{format_number(self.bound[0])}, {format_number(self.bound[1])}]"
        text = format_number(self.bound)
        return {ABOVE: f"> {text}", BELOW: f"< {text}", DIFFERS: f"|effect| > {text}"}[self.direction]

    def registered(self):
        bound = list(self.bound) if self.direction == WITHIN else self.bound
        return {"statistic": self.statistic, "direction": self.direction, "bound": bound}


def above(statistic: str, smallest_effect: float, reason: str) -> Criterion:
    """The paper's effect is positive: the interval must lie above ``smallest_effect``."""
    return Criterion(statistic, ABOVE, float(smallest_effect), reason)


def below(statistic: str, smallest_effect: float, reason: str) -> Criterion:
    """The paper's effect is negative: the interval must lie below ``smallest_effect``."""
    return Criterion(statistic, BELOW, float(smallest_effect), reason)


def differs(statistic: str, smallest_effect: float, reason: str) -> Criterion:
    """An effect of either sign: the interval must lie beyond +-``smallest_effect``."""
    return Criterion(statistic, DIFFERS, float(smallest_effect), reason)


def within(statistic: str, low: float, high: float, reason: str) -> Criterion:
    """An equivalence ("X behaves like Y"): the interval must lie inside the margin (low, high)."""
    return Criterion(statistic, WITHIN, (float(low), float(high)), reason)


@dataclass(frozen=True)
class Definition:
    """One claim as registered before its results: where the paper makes it (``location``, ``quote``: its own
    words), what we test (``statement``), the ``criteria`` (every one must hold), the ``replicate`` unit, the
    ``networks`` whose preconditions apply, and ``beyond_paper`` for a claim the paper does not make.
    ``amendment`` explains a change made after results existed (it is not part of the fingerprint)."""

    id: str
    paper: str
    location: str
    quote: str
    statement: str
    criteria: tuple
    replicate: str
    networks: tuple
    beyond_paper: bool = False
    amendment: str = ""

    def __post_init__(self):
        if self.paper not in PAPERS:
            raise ValueError(f"{self.id}: paper={self.paper!r} is not allowed: {', '.join(PAPERS)}")
        if not self.criteria:
            raise ValueError(f"{self.id}: a claim needs at least one criterion")

    def fingerprint(self, preconditions):
        """A hash of what the claim tests and of the preconditions it is judged under."""
        blob = {
            "id": self.id,
            "statement": self.statement,
            "beyond_paper": self.beyond_paper,
            "criteria": [c.registered() for c in self.criteria],
            "replicate": self.replicate,
            "networks": sorted(self.networks),
            "preconditions": [p.registered() for p in preconditions],
        }
        return hashlib.sha256(json.dumps(blob, sort_keys=True).encode()).hexdigest()[:16]


def applicable(definition, preconditions):
    """The preconditions that apply to ``definition``: every one about a network the claim uses."""
    return [p for p in preconditions if set(p.networks) & set(definition.networks)]


def check_declarations(chapter, networks, preconditions, definitions):
    """Refuse declarations that cannot be judged: duplicate ids, or networks that the chapter does not declare."""
    for kind, items in (("precondition", preconditions), ("claim", definitions)):
        ids = [i.id for i in items]
        if len(ids) != len(set(ids)):
            raise ValueError(f"{chapter}: duplicate {kind} ids {sorted(i for i in ids if ids.count(i) > 1)}")
        for item in items:
            unknown = set(item.networks) - set(networks)
            if unknown or not item.networks:
                raise ValueError(
                    f"{chapter}: {kind} {item.id} names networks {sorted(unknown) or '(none)'}, not "
                    f"among the chapter's {sorted(networks)}"
                )


# --- Evidence, measured from the results ---------------------------------------------------------


@dataclass(frozen=True)
class Estimate:
    """An effect with its 95% interval across ``n`` replicates (``dropped`` more gave no finite value: a
    diverged run is reported, never averaged). ``sd`` is the replicates' standard deviation when the
    interval is Student's t over them; otherwise the interval came from elsewhere (a jackknife over runs)
    and its half-width is taken to shrink as 1/sqrt(n)."""

    estimate: float
    low: float
    high: float
    n: int
    sd: float | None = None
    dropped: int = 0
    note: str = ""  # why an interval is missing, when the replicates alone do not say (shown as the verdict's reason)

    @property
    def judgeable(self):
        return self.n >= 2 and bool(np.isfinite([self.estimate, self.low, self.high]).all())

    def replicates_needed(self, criterion):
        """How many replicates would make the interval clear the nearest boundary of ``criterion`` at the
        observed spread; None if it cannot (the estimate sits on a boundary), or if it is not judgeable."""
        if not self.judgeable:
            return None
        distance = min(abs(self.estimate - b) for b in criterion.boundaries())
        if distance == 0:
            return None
        if self.sd is not None:
            if self.sd == 0:
                return self.n
            clears = lambda m: t_quantile(0.975, m - 1) * self.sd / math.sqrt(m) < distance  # falls with m
            low, high = max(self.n, 2), MOST_REPLICATES
            if not clears(high):
                return None
            while low < high:  # the first m that clears: bisection
                mid = (low + high) // 2
                low, high = (mid + 1, high) if not clears(mid) else (low, mid)
            return low
        half = (self.high - self.low) / 2
        needed = math.ceil(self.n * (half / distance) ** 2)
        return needed if needed <= MOST_REPLICATES else None

    def __str__(self):
        if not self.judgeable:
            return f"{format_number(self.estimate)} (no interval: {self.n} replicate{'s' * (self.n != 1)})"
        return f"{format_number(self.estimate)} [{format_number(self.low)}, {format_number(self.high)}]"


def across(values: Iterable[float]) -> Estimate:
    """The mean of per-replicate ``values`` (one per seed or run) with its 95% Student-t interval. Non-finite
    values (diverged runs) are left out and counted in ``dropped``."""
    v = np.asarray(values, dtype=np.float64).ravel()
    finite = v[np.isfinite(v)]
    if finite.size == 0:
        return Estimate(float("nan"), float("nan"), float("nan"), 0, None, int(v.size))
    mean, low, high = mean_interval(finite)
    sd = float(finite.std(ddof=1)) if finite.size > 1 else None
    return Estimate(mean, low, high, int(finite.size), sd, int(v.size - finite.size))


def interval(estimate: float, low: float, high: float, n: int) -> Estimate:
    """An effect whose 95% interval was computed otherwise (a jackknife over ``n`` runs, say)."""
    return Estimate(float(estimate), float(low), float(high), int(n))


NOT_MEASURED = Estimate(float("nan"), float("nan"), float("nan"), 0)  # a claim whose part was not run


@dataclass
class Evidence:
    """What ``evidence(results, cfg)`` returns: each precondition's measured value (nan: not measured), and
    per claim its estimates (one per criterion, in order) and a line of supporting numbers."""

    conditions: dict[str, float]  # precondition id -> measured value
    estimates: dict[str, tuple[Estimate, ...]]  # claim id -> one estimate per criterion
    measured: dict[str, str] = field(default_factory=dict)  # claim id -> supporting numbers


# --- Judging -------------------------------------------------------------------------------------


@dataclass
class Claim:
    """A judged claim, in the form a reviewer reads it and the claims page saves (:meth:`as_dict`)."""

    definition: Definition
    preconditions: list[tuple[Precondition, float]]
    estimates: list[Estimate]  # one per criterion
    profile: str
    data: str = ""
    seeds: str = ""  # the replicates' seed parameters, "seeds=[0, 1, 2]"
    measured: str = ""
    chapter: str = ""

    @property
    def id(self):
        return self.definition.id

    @property
    def failed(self):
        return [(p, v) for p, v in self.preconditions if not p.holds(v)]

    @property
    def outcomes(self):
        return [
            c.outcome(e.low, e.high) if e.judgeable else None for c, e in zip(self.definition.criteria, self.estimates)
        ]

    @property
    def verdict(self):
        if self.profile == "smoke" or self.failed or None in self.outcomes:
            return NOT_AT_THIS_SCALE
        outcomes = self.outcomes
        if NOT_REPRODUCED in outcomes:
            return NOT_REPRODUCED
        return REPRODUCED if all(o == REPRODUCED for o in outcomes) else INCONCLUSIVE

    @property
    def replicates_needed(self):
        """For an inconclusive claim: the replicates that would resolve its unresolved criteria (None: more than
        :data:`MOST_REPLICATES`, or an estimate on its boundary)."""
        if self.verdict != INCONCLUSIVE:
            return None
        needed = [
            e.replicates_needed(c)
            for c, e, o in zip(self.definition.criteria, self.estimates, self.outcomes)
            if o == INCONCLUSIVE
        ]
        return None if None in needed else max(needed)

    @property
    def why(self):
        """The verdict's reason in one line: the failed precondition with its value, or what would resolve it."""
        verdict = self.verdict
        if self.profile == "smoke":
            return "the smoke profile proves the code path only"
        if self.failed:
            return "; ".join(f"{p.statement}: {_value(v)}, needs {p.requirement()}" for p, v in self.failed)
        if verdict == NOT_AT_THIS_SCALE:
            unjudged = [e for e in self.estimates if not e.judgeable]
            if any(e.note for e in unjudged):
                return "; ".join(e.note for e in unjudged if e.note)
            if any(e.n >= 2 for e in unjudged):
                return "the effect could not be computed from these replicates (see measured)"
            return f"no interval: {' or '.join(sorted({str(e.n) for e in unjudged}))} finite replicate(s)"
        if verdict == INCONCLUSIVE:
            needed = self.replicates_needed
            unit = re.match(r"[A-Za-z]+", self.definition.replicate).group(0)
            return (
                f"the interval spans the smallest effect; about {needed} {unit} would resolve it at the observed spread"
                if needed
                else f"the interval spans the smallest effect; more than {MOST_REPLICATES} "
                f"{unit} would be needed at the observed spread"
            )
        return ""

    def as_dict(self):
        d = self.definition
        criteria = []
        for c, e, outcome in zip(d.criteria, self.estimates, self.outcomes):
            finite = e.judgeable
            criteria.append(
                {
                    **c.registered(),
                    "reason": c.reason,
                    "outcome": outcome,
                    "estimate": float(e.estimate) if np.isfinite(e.estimate) else None,
                    "interval": [float(e.low), float(e.high)] if finite else None,
                    "width": float(e.high - e.low) if finite else None,
                    "n": e.n,
                    "dropped": e.dropped,
                }
            )
        return {
            "id": d.id,
            "paper": d.paper,
            "chapter": self.chapter,
            "location": d.location,
            "quote": d.quote,
            "statement": d.statement,
            "beyond_paper": d.beyond_paper,
            "replicate": d.replicate,
            "networks": list(d.networks),
            "criteria": criteria,
            "preconditions": [
                {
                    **p.registered(),
                    "reason": p.reason,
                    "requirement": p.requirement(),
                    "value": float(v) if v is not None and np.isfinite(v) else None,
                    "holds": p.holds(v),
                }
                for p, v in self.preconditions
            ],
            "verdict": self.verdict,
            "why": self.why,
            "replicates_needed": self.replicates_needed,
            "measured": self.measured,
            "profile": self.profile,
            "data": self.data,
            "seeds": self.seeds,
            "fingerprint": d.fingerprint([p for p, _ in self.preconditions]),
        }


def judge(
    definitions: tuple[Definition, ...],
    preconditions: tuple[Precondition, ...],
    evidence: Evidence,
    *,
    profile: str,
    data: str = "",
    seeds: str = "",
    chapter: str = "",
) -> list[Claim]:
    """Every definition judged on ``evidence``, with the preconditions of its networks."""
    missing = [d.id for d in definitions if d.id not in evidence.estimates]
    unmeasured = [p.id for p in preconditions if p.id not in evidence.conditions]
    if missing or unmeasured:
        raise ValueError(f"{chapter}: the evidence lacks claims {missing} and preconditions {unmeasured}")
    out = []
    for d in definitions:
        estimates = list(evidence.estimates[d.id])
        if len(estimates) != len(d.criteria):
            raise ValueError(f"{d.id}: {len(estimates)} estimates for {len(d.criteria)} criteria")
        out.append(
            Claim(
                d,
                [(p, evidence.conditions[p.id]) for p in applicable(d, preconditions)],
                estimates,
                profile,
                data=data,
                seeds=seeds,
                measured=evidence.measured.get(d.id, ""),
                chapter=chapter,
            )
        )
    return out


# --- Saved verdicts and amendments ---------------------------------------------------------------


def _read(relative):
    path = read_path(relative)
    return json.loads(path.read_text()) if path.exists() else []


def save(
    chapter: str, profile: str, claims: list[Claim], why: str = "definition changed after results", variant: str = ""
) -> Path:
    """Save ``claims`` (judged at ``profile``) for the claims page, in ``claims/<chapter>/<profile><variant>.json``;
    returns that path. A claim whose earlier saved verdict (at a profile meant to test claims) was judged under
    another definition, or that is no longer defined, is logged in ``amendments.json`` with the date, the
    earlier verdict and the reason (the definition's ``amendment``, else ``why``)."""
    rows = [c.as_dict() if isinstance(c, Claim) else c for c in claims]
    for row in rows:
        row["chapter"] = chapter
    relative = Path("claims") / chapter / f"{profile}{variant}.json"
    if profile in TESTED_PROFILES and not variant:
        reasons = {c.id: c.definition.amendment for c in claims if isinstance(c, Claim)}
        logged = amendments_for(chapter, profile, _read(relative), rows, reasons, why)
        if logged:  # under a lock: chapters saved at once lose no entry
            update_json(results_dir() / AMENDMENTS, lambda earlier: (earlier or _read(AMENDMENTS)) + logged, [])
    write_json_atomic(results_dir() / relative, rows)
    return results_dir() / relative


def amendments_for(chapter, profile, earlier, rows, reasons, why):
    """Amendment records for ``rows`` replacing the ``earlier`` saved claims of one chapter and profile."""
    today = datetime.date.today().isoformat()
    now = {r["id"]: r for r in rows}
    out = []
    for old in earlier:
        new = now.get(old["id"])
        if new is not None and old.get("fingerprint") == new["fingerprint"]:
            continue
        if new is None:
            reason = "withdrawn: no longer defined"
        elif reasons.get(old["id"]):
            reason = reasons[old["id"]]
        elif old.get("fingerprint") is None:
            reason = UNREGISTERED
        else:
            reason = why
        out.append(
            {
                "id": old["id"],
                "chapter": chapter,
                "profile": profile,
                "date": today,
                "earlier_verdict": old.get("verdict"),
                "verdict": None if new is None else new["verdict"],
                "earlier_fingerprint": old.get("fingerprint"),
                "fingerprint": None if new is None else new["fingerprint"],
                "why": reason,
            }
        )
    return out


def amendments():
    """Every logged amendment, oldest first."""
    return _read(AMENDMENTS)


def stability(chapters):
    """Per chapter and reseeded run saved beside its profile's verdicts (``<profile>-reseed-<k>.json``): how many
    verdicts a disjoint seed set changed, and how many it turned from reproduced to not reproduced or back.
    [{chapter, profile, offset, compared, changed: [(id, verdict, reseeded verdict)], flipped}]"""
    out = []
    for chapter in chapters:
        for profile in TESTED_PROFILES:
            base = {c["id"]: c["verdict"] for c in _read(Path("claims") / chapter / f"{profile}.json")}
            for path in sorted(_reseeded_paths(chapter, profile)):
                again = {c["id"]: c["verdict"] for c in json.loads(path.read_text())}
                common = sorted(set(base) & set(again))
                changed = [(i, base[i], again[i]) for i in common if base[i] != again[i]]
                flipped = [c for c in changed if {c[1], c[2]} == {REPRODUCED, NOT_REPRODUCED}]
                out.append(
                    {
                        "chapter": chapter,
                        "profile": profile,
                        "offset": int(path.stem.split(RESEED)[1]),
                        "compared": len(common),
                        "changed": changed,
                        "flipped": len(flipped),
                    }
                )
    return out


def _reseeded_paths(chapter, profile):
    found = {}
    for folder in reversed(read_dirs()):
        for path in (folder / "claims" / chapter).glob(f"{profile}{RESEED}*.json"):
            found[path.name] = path
    return list(found.values())


def stability_markdown(chapters):
    """The verdicts of each chapter against those of the same profile re-run with disjoint seeds."""
    rows = stability(chapters)
    if not rows:
        return "No chapter has been re-run with another seed set yet."
    lines = [
        "| chapter | profile | seeds moved by | verdicts compared | changed | reproduced <-> not reproduced | which |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        which = "; ".join(f"`{i}`: {a} -> {b}" for i, a, b in r["changed"]) or "–"
        lines.append(
            f"| {page_link(r['chapter'])} | `{r['profile']}` | {r['offset']} | {r['compared']} | "
            f"{len(r['changed'])} | {r['flipped']} | {_escape(which)} |"
        )
    total = sum(r["compared"] for r in rows)
    changed = sum(len(r["changed"]) for r in rows)
    lines.append(
        f"| all | | | {total} | {changed} ({changed / max(total, 1):.0%}) | {sum(r['flipped'] for r in rows)} | |"
    )
    return "\n".join(lines)


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


# --- Rendering: the chapters' tables and the claims page -------------------------------------------

VERDICT_MARKS = {
    REPRODUCED: "✓ reproduced",
    NOT_REPRODUCED: "✗ **not reproduced**",
    INCONCLUSIVE: "◐ inconclusive",
    NOT_AT_THIS_SCALE: "○ not at this scale",
}
LABELS = {  # every label the claims page gives a paper, from its own claims only, and what it means
    "[Re]": "every claim checked reproduced",
    "[Re] in part": "some claims reproduced and none was refuted; the others were inconclusive or not at this scale",
    "[not Re]": "at least one claim was refuted (not reproduced) and none reproduced",
    "[Re] and [not Re] in part": "some claims reproduced and others were refuted",
    "inconclusive": "no claim was decided: each was inconclusive or not at this scale",
    "not at this scale": "no claim could be tested at this scale (the smoke profile, or failed preconditions)",
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


def _value(v):
    return "not measured (not run at this profile)" if v is None or not np.isfinite(v) else format_number(v)


def _escape(value):
    """Text safe inside one Markdown table cell (and inline HTML): no pipes, newlines or tags."""
    return str(value).replace("|", "\\|").replace("\n", " ").replace("<", "&lt;").replace(">", "&gt;")


def _interval_text(c):
    if c.get("estimate") is None:
        return "not measured"
    if c.get("interval") is None:
        return f"{format_number(c['estimate'])} (no interval)"
    low, high = c["interval"]
    return f"{format_number(c['estimate'])} [{format_number(low)}, {format_number(high)}]"


def _bound_text(c):
    bound = c["bound"]
    if c["direction"] == WITHIN:
        return f"inside [{format_number(bound[0])}, {format_number(bound[1])}]"
    return {ABOVE: "> ", BELOW: "< ", DIFFERS: "|effect| > "}[c["direction"]] + format_number(bound)


def _deciding(c):
    """The number that decided a claim: its first criterion with the claim's verdict, interval against bound."""
    for crit in c.get("criteria", []):
        if crit.get("outcome") == c.get("verdict") and crit.get("interval") is not None:
            return f"{_interval_text(crit)} against {_bound_text(crit)}"
    return ""


def _verdict_cell(c):
    text = VERDICT_MARKS.get(c.get("verdict"), _escape(c.get("verdict", "")))
    reason = c.get("why") or _deciding(c)
    if reason:
        text += f": {_escape(reason)}"
    if c.get("amended"):
        a = c["amended"]
        text += f"<br>*amended after results* ({_escape(a['date'])}; earlier: {_escape(a['earlier_verdict'])})"
    return text


def _claim_cell(c, page):
    head = f"{_escape(c.get('location', ''))}{' (beyond the paper)' if c.get('beyond_paper') else ''}"
    name = f"`{c.get('id', '')}`"
    if page and c.get("chapter"):  # the claims page: the id opens the claim's row in its chapter
        name = claim_link(c["id"], c["id"], c["chapter"])
    return f"{claim_anchor(c.get('id', ''))}{head}<br>{name}<br>{_escape(c.get('statement', ''))}" + _details(c, page)


def _details(c, page):
    parts = []
    if c.get("quote"):
        parts.append(f"<b>the paper</b>: “{_escape(c['quote'])}”")
    for p in c.get("preconditions", []):
        mark = "✓" if p["holds"] else "✗"
        parts.append(
            f"<b>precondition</b> {mark} {_escape(p['statement'])} {_escape(p['requirement'])}: "
            f"{_escape(_value(p['value']))} ({_escape(p['reason'])})"
        )
    for crit in c.get("criteria", []):
        parts.append(
            f"<b>smallest effect</b> {_escape(_bound_text(crit))} on {_escape(crit['statistic'])}: "
            f"{_escape(crit['reason'])}"
        )
    for name, label in (("measured", "measured"), ("data", "data"), ("seeds", "seeds"), ("profile", "profile")):
        value = c.get(name)
        if name == "profile" and not page:
            continue
        if value not in (None, "", []):
            parts.append(f"<b>{label}</b>: {_escape(value)}")
    if c.get("fingerprint"):
        parts.append(f"<b>definition</b>: {c['fingerprint']}")
    return "<details><summary>details</summary>" + "<br>".join(parts) + "</details>" if parts else ""


def _effect_cell(c):
    lines = []
    for crit in c.get("criteria", []):
        dropped = f", {crit['dropped']} diverged left out" if crit.get("dropped") else ""
        lines.append(f"{_escape(crit['statistic'])}: {_escape(_interval_text(crit))} (n = {crit.get('n', 0)}{dropped})")
    return "<br>".join(lines) or "–"


def _bound_cell(c):
    lines = []
    for crit in c.get("criteria", []):
        width = f"; interval width {format_number(crit['width'])}" if crit.get("width") is not None else ""
        lines.append(f"{_escape(_bound_text(crit))}{width}")
    return "<br>".join(lines) or "–"


def with_amendments(rows, logged=None):
    """``rows`` with ``amended`` set on each claim whose definition was amended after results (the last entry)."""
    logged = amendments() if logged is None else logged
    last = {}
    for a in logged:
        if a.get("fingerprint") is not None:
            last[(a["chapter"], a["id"])] = a
    return [
        {**r, "amended": last[(r.get("chapter"), r["id"])]} if (r.get("chapter"), r["id"]) in last else r for r in rows
    ]


def to_markdown(claims: list[Claim], page: bool = False) -> str:
    """A Markdown table of ``claims`` (:class:`Claim` or saved dicts): the verdict with its reason, the claim
    (location, id, statement and a collapsible detail: the paper's words, the preconditions with their values,
    the smallest effects with their reasons, what was measured), the effect with its 95% interval and n, and
    the smallest effect of interest beside the interval's width. ``page``: the claims page's form, which
    links each claim to its chapter."""
    rows = with_amendments([c.as_dict() if isinstance(c, Claim) else c for c in claims])
    lines = ["| verdict | claim | effect [95% interval] | smallest effect of interest |", "|---|---|---|---|"]
    lines += [f"| {_verdict_cell(r)} | {_claim_cell(r, page)} | {_effect_cell(r)} | {_bound_cell(r)} |" for r in rows]
    return "\n".join(lines)


def headline(rows, whose="the paper"):
    """One sentence from saved or judged claims (dicts) of ``whose`` claims: what the setting could test, what
    held, and what needs a larger setting (with the reason at least half of those share); claims beyond the paper
    apart."""
    own = [r for r in rows if not r.get("beyond_paper")]
    beyond = counts([r for r in rows if r.get("beyond_paper")])
    if not own and sum(beyond.values()):  # a chapter of our own questions
        return (
            "Every claim here is ours, beyond the papers: "
            + ", ".join(f"{n} {v}" for v, n in beyond.items() if n)
            + "."
        )
    t = counts(own)
    tested = t[REPRODUCED] + t[NOT_REPRODUCED] + t[INCONCLUSIVE]
    if tested:
        text = (
            f"Of the {tested} claims of {whose} this setting can test, {t[REPRODUCED]} reproduced, "
            f"{t[NOT_REPRODUCED]} not reproduced and {t[INCONCLUSIVE]} inconclusive"
        )
    else:
        text = f"This setting can test none of the claims of {whose}"
    if t[NOT_AT_THIS_SCALE]:
        reasons = [r.get("why", "") for r in own if r["verdict"] == NOT_AT_THIS_SCALE]
        common = max(set(reasons), key=reasons.count)
        text += (
            f"; {t[NOT_AT_THIS_SCALE]} need a larger setting (not at this scale"
            + (
                f", {reasons.count(common)} of them because {common}"
                if common and 2 * reasons.count(common) >= len(reasons)
                else ""
            )
            + ")"
        )
    if sum(beyond.values()):
        text += f". Beyond {whose}: " + ", ".join(f"{n} {v}" for v, n in beyond.items() if n)
    return text + "."


def verdict_box(rows, profile):
    """The box at the top of a chapter: the count of each verdict at ``profile``, the headline, and every claim
    that was not reproduced, each linked to its row in the chapter's claims table."""
    tally = counts(rows)
    title = " · ".join(f"{n} {v}" for v, n in tally.items() if n) or "no claims"
    lines = [f":::{{admonition}} Verdicts at the {profile} profile: {title}", ":class: tip", "", headline(rows)]
    refuted = [r for r in rows if r["verdict"] == NOT_REPRODUCED]
    if refuted:
        lines += ["", "Not reproduced:", ""]
        lines += [
            f"- {claim_link(r['id'], r['id'])} ({_escape(r.get('location', ''))}): {_escape(r.get('statement', ''))}"
            for r in refuted
        ]
    return "\n".join(
        lines + ["", "The claims table at the end of the chapter gives every verdict and its reason.", ":::"]
    )


def figure_numbers(location):
    """The paper's figures a claim's location names, outside any parenthesis: "Sec. 2, Fig. 1, 4" -> {1, 4};
    "Fig. 7b" -> {7}; "Sec. 3.2" -> set()."""
    own = re.sub(r"\([^)]*\)", "", location)
    found = re.search(r"Figs?\.\s*((?:\d+[a-z]?(?:\s*(?:,|-|and)\s*)?)+)", own)
    return {int(n) for n in re.findall(r"\d+", found.group(1))} if found else set()


def figure_line(rows, *numbers):
    """The line under a figure: the verdict of every claim read from the paper's figure(s) ``numbers``, each
    linked to its row in the chapter's claims table; empty when no claim reads them."""
    shown = [r for r in rows if figure_numbers(r.get("location", "")) & set(numbers)]
    if not shown:
        return ""
    mark = lambda verdict: VERDICT_MARKS[verdict].split()[0]  # the symbol of the claims tables' verdict
    items = [f"{mark(r['verdict'])} {claim_link(r['id'], r['id'])} {r['verdict']}" for r in shown]
    which = " and ".join(f"Figure {n}" for n in numbers)
    return f"**Claims read from {which}:** " + "; ".join(items) + "."


def by_chapter_markdown(rows):
    """The claims page's tables: per paper (its own claims), then the claims beyond the papers, each grouped by
    chapter under a heading that links to the chapter, with the chapter's tally."""
    groups = [
        (title, [r for r in rows if r["paper"] == paper and not r.get("beyond_paper")])
        for paper, title in PAPERS.items()
    ]
    groups.append(("Beyond the papers (ours, tested on the same runs)", [r for r in rows if r.get("beyond_paper")]))
    out = []
    for title, group in groups:
        if not group:
            continue
        out.append(f"### {title}")
        for chapter in dict.fromkeys(r.get("chapter", "") for r in group):
            own = [r for r in group if r.get("chapter", "") == chapter]
            tally = ", ".join(f"{n} {v}" for v, n in counts(own).items() if n)
            out += [f"**{page_link(chapter)}** ({tally})", to_markdown(own, page=True)]
    return "\n\n".join(out)


def preconditions_markdown(networks, preconditions):
    """A chapter's preconditions, declared once: the networks each is about, what must hold, and why."""
    lines = ["| networks | precondition | needs | why this threshold |", "|---|---|---|---|"]
    for p in preconditions:
        names = ", ".join(networks[n] for n in p.networks)
        lines.append(
            f"| {_escape(names)} | {_escape(p.statement)} | {_escape(p.requirement())} | {_escape(p.reason)} |"
        )
    return "\n".join(lines)


def counts(claims):
    """{verdict: count} over ``claims`` (dicts), every verdict present."""
    return {v: sum(c["verdict"] == v for c in claims) for v in VERDICTS}


def tally_text(claims):
    """ "2 reproduced, 1 inconclusive": the verdicts of ``claims`` (dicts) that occur, counted."""
    return ", ".join(f"{n} {verdict}" for verdict, n in counts(claims).items() if n)


def label(tally):
    """The paper-level label (a key of :data:`LABELS`) of a {verdict: count} tally."""
    reproduced, refuted = tally[REPRODUCED], tally[NOT_REPRODUCED]
    if refuted:
        return "[Re] and [not Re] in part" if reproduced else "[not Re]"
    if reproduced:
        return "[Re]" if reproduced == sum(tally.values()) else "[Re] in part"
    return "inconclusive" if tally[INCONCLUSIVE] else "not at this scale"


def summary_by_paper(claims):
    """Per paper, from its own claims only: the count of each verdict and its label; claims beyond the papers
    are tallied apart under :data:`BEYOND` (with no label: they are ours)."""
    out = {}
    for paper in PAPERS:
        own = [c for c in claims if c["paper"] == paper and not c.get("beyond_paper")]
        if own:
            tally = counts(own)
            out[paper] = {**tally, "label": label(tally)}
    beyond = [c for c in claims if c.get("beyond_paper")]
    if beyond:
        out[BEYOND] = {**counts(beyond), "label": "–"}
    return out


def summary_markdown(claims):
    """The claims page's table per paper: the four counts and the label; then the claims beyond the papers."""
    rows = [
        "| paper | reproduced | not reproduced | inconclusive | not at this scale | label |",
        "|---|---|---|---|---|---|",
    ]
    for paper, s in summary_by_paper(claims).items():
        name = PAPERS.get(paper, f"{paper} (ours, apart from the papers' tallies)")
        rows.append(f"| {_escape(name)} | " + " | ".join(str(s[v]) for v in VERDICTS) + f" | **{s['label']}** |")
    return "\n".join(rows)


def labels_markdown():
    """What each label of :data:`LABELS` means, as a Markdown list."""
    return "\n".join(f"- **{name}**: {meaning}." for name, meaning in LABELS.items())


def amendments_markdown(logged=None):
    """Every amendment after results, newest first: the claim, when, the earlier verdict, and why."""
    logged = amendments() if logged is None else logged
    if not logged:
        return "No definition has been changed after its results."
    lines = ["| date | claim | profile | earlier verdict | verdict then | why |", "|---|---|---|---|---|---|"]
    for a in reversed(logged):
        lines.append(
            f"| {a['date']} | `{a['id']}` ({_escape(a['chapter'])}) | `{a['profile']}` | "
            f"{_escape(a.get('earlier_verdict') or '–')} | {_escape(a.get('verdict') or '–')} | "
            f"{_escape(a['why'])} |"
        )
    return "\n".join(lines)
