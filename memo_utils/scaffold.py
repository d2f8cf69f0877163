"""``python -m memo_utils new-chapter NAME --paper KEY``: a new chapter that passes the tests from its first commit.

It writes the three files a chapter is made of, from a template that works (an ensemble of MLPs on MNIST, one
network per seed, one registered claim on its training accuracy, a figure and its "Try it" control), and
registers the chapter everywhere the tests look for it: the registry, ``_toc.yml`` (after the paper's last
chapter), README's chapter table, and the code fingerprints. The researcher then replaces the template's
experiment, claim and text with the paper's, following the checklist in README ("How to add a chapter").
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from . import experiments
from .errors import ConfigError
from .framework import claims, fingerprints

ROOT = Path(__file__).resolve().parents[1]

EXPERIMENT = '''"""{title}: replace this paragraph with what the chapter reproduces (the book's introduction shows it).

Written by ``python -m memo_utils new-chapter`` as a working template: MLPs trained on MNIST as one batched
ensemble, one network per seed, and one registered claim on their training accuracy. Replace the experiment,
the preconditions and the claims with the paper's, before any result of theirs exists.
"""

from __future__ import annotations

import numpy as np
import torch

from .. import seeds
from ..engine import data, memory
from ..engine.ensemble import MLPEnsemble, train_ensemble
from ..framework import profiles
from ..framework.chapter import Chapter, Param, Part
from ..framework.claims import Definition, Evidence, Precondition, above, across

PARAMS = (
    Param("train_size", profiles.positive_int, 10000, paper="not stated", parts=("train",),
          by_profile={{"smoke": 500, "cpu": 2000}}),
    Param("hidden", profiles.positive_int, 256, paper="not stated", parts=("train",),
          by_profile={{"smoke": 32, "cpu": 64}}),
    Param("epochs", profiles.positive_int, 10, paper="not stated", parts=("train",),
          by_profile={{"smoke": 1, "cpu": 3}}),
    Param("batch_size", profiles.positive_int, 64, paper="not stated", parts=("train",)),
    Param("lr", profiles.positive_float, 0.1, paper="not stated", parts=("train",)),
    Param("seeds", profiles.seed_list, [0, 1, 2], paper="not stated", parts=("train",), replicates=True,
          by_profile={{"cpu": [0, 1, 2, 3, 4]}}),
)


def _compute(cfg, cell, inputs, device):
    """One ReLU MLP (784 - hidden - 10) per seed, trained together; training accuracy after every epoch."""
    mnist, n = inputs["mnist"], cfg["train_size"]
    x = data.to_tensor(mnist.x_train[:n], device).flatten(1)
    y = torch.as_tensor(mnist.y_train[:n], dtype=torch.long, device=device)
    run_seeds = [seeds.runs(s, 1)[0] for s in cfg["seeds"]]
    ensemble = MLPEnsemble([784, cfg["hidden"], data.NUM_CLASSES], run_seeds, device)
    per_epoch = -(-n // cfg["batch_size"])
    accuracy = []
    finite = train_ensemble(
        ensemble, x, y, order_seeds=run_seeds, epochs=cfg["epochs"], batch_size=cfg["batch_size"], lr=cfg["lr"],
        checkpoints=[per_epoch * (e + 1) for e in range(cfg["epochs"])],
        callback=lambda step, ens: accuracy.append((ens.predict(x) == y).float().mean(-1).cpu().numpy()),
    )
    return {{"seed": np.array(cfg["seeds"]), "epoch": np.arange(1, cfg["epochs"] + 1),
            "train_accuracy": np.stack(accuracy, -1), "finite": finite.cpu().numpy()}}


def _memory(cfg, cell):
    ensemble = memory.mlp((784, cfg["hidden"], data.NUM_CLASSES), cfg["batch_size"], models=len(cfg["seeds"]))
    return memory.needed(ensemble, data=memory.images(cfg["train_size"], (784,)))


PARTS = (
    Part("train", version=1, compute=_compute, datasets=lambda cfg: {{"mnist": cfg["train_size"]}},
         dims={{"train_accuracy": ("seed", "epoch"), "finite": ("seed",)}}, memory=_memory,
         work=lambda cfg, cell: len(cfg["seeds"]) * cfg["epochs"] * cfg["train_size"] * 784 * cfg["hidden"]),
)

NETWORKS = {{"mlp": "ReLU MLPs (784 - hidden - 10) trained on MNIST with SGD, one per seed"}}
PRECONDITIONS = (
    Precondition("{name}-finite", ("mlp",), "share of seeds whose training loss stayed finite", 1.0,
                 "a diverged run says nothing about what a network learns"),
)
CLAIMS = (
    Definition(
        "{name}-fits", "{paper}", "replace: the section or figure", "replace: the paper's sentence",
        "The networks fit their training set better than chance.",
        (above("final training accuracy per seed", 0.2, "replace: twice chance (0.1), a placeholder"),),
        "seeds", ("mlp",),
    ),
)


def evidence(results, cfg):
    accuracy, finite = results.sel("train", "train_accuracy"), results.sel("train", "finite")
    final = np.where(finite, accuracy[:, -1], np.nan)
    return Evidence(
        {{"{name}-finite": float(np.mean(finite))}},
        {{"{name}-fits": (across(final),)}},
        {{"{name}-fits": "final training accuracy per seed: " + ", ".join(f"{{v:.3f}}" for v in final)}},
    )


CHAPTER = Chapter("{name}", paper="{paper}", params=PARAMS, parts=PARTS, claims=CLAIMS, evidence=evidence,
                  networks=NETWORKS, preconditions=PRECONDITIONS)
'''

FIGURES = '''"""Figures of the {name} chapter (replace them with the paper's)."""

from __future__ import annotations

import numpy as np

from .plots import epoch_axis, figure, legend_outside


def figure_1(results, seed=None):
    """Training accuracy per epoch: every seed (one line each), or the one ``seed`` highlighted."""
    fig, (ax,) = figure(width=5.6, height=3.4)
    accuracy, seeds = results.sel("train", "train_accuracy"), results.sel("train", "seed")
    epochs = np.arange(1, accuracy.shape[-1] + 1)
    for s, curve in zip(seeds, accuracy):
        chosen = seed is None or s == seed
        ax.plot(epochs, curve, marker="o", ms=3, alpha=1.0 if chosen else 0.25, label=f"seed {{s}}")
    epoch_axis(ax)
    ax.set_ylabel("training accuracy")
    ax.set_title("MLPs on MNIST")
    legend_outside(ax)
    return fig
'''

PAGE = """---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  display_name: Python 3 (ipykernel)
  language: python
  name: python3
---

# {title}

{citation}: replace this introduction with what the chapter reproduces and why it matters.

```{{code-cell}} ipython3
:tags: [parameters]

profile = None  # smoke, cpu, gpu or paper; None: gpu when CUDA is available, else cpu
{params}
data_dir = None  # a folder like shared/data; MEMO_DATA_DIR works too
device = None
recompute = False
```

```{{code-cell}} ipython3
:tags: [remove-cell]

from IPython.display import Markdown, display
from memo_utils.experiments import {name} as experiment
from memo_utils.figures import {name} as figures
from memo_utils.framework.page import open_page

page = open_page(experiment.CHAPTER, globals())  # validates the parameters, then runs or reads the cache
results, cfg = page.results, page.cfg
```

```{{code-cell}} ipython3
:tags: [remove-input]

page.note()
```

## What the paper claims

Replace: the paper's claims, quoted, with where they stand and the settings it used.

## What we ran

Replace: the experiment, each reading of a vague point in the paper and the reason for it.

```{{code-cell}} ipython3
:tags: [remove-input]

page.settings()
```

### What makes this setting able to test the claims

```{{code-cell}} ipython3
:tags: [remove-input]

page.preconditions()
```

## Figure 1

```{{code-cell}} ipython3
---
mystnb:
  figure:
    caption: 'Figure 1: each seed''s training accuracy per epoch.'
    name: fig-{name_dashed}-1
  image:
    alt: 'One line per seed: training accuracy rising over the epochs.'
tags: [remove-input]
---
page.figure(figures.figure_1(results))
```

```{{code-cell}} ipython3
:tags: [remove-input]

page.claims_read_from(1)
```

## Claims

```{{code-cell}} ipython3
:tags: [remove-input]

page.claims()
```

## Try it

The slider highlights one seed's curve. Every view is drawn when the page executes, so the slider works on
the static page too, with no kernel.

```{{code-cell}} ipython3
:tags: [remove-input]

from memo_utils.figures import widgets

widgets.figure_choice(lambda seed: figures.figure_1(results, seed), list(cfg["seeds"]), "seed")
```
"""


def _insert_after(text, anchor, line):
    """``text`` with ``line`` inserted after the line that contains ``anchor``."""
    lines = text.split("\n")
    (index,) = [i for i, existing in enumerate(lines) if anchor in existing][-1:]
    return "\n".join(lines[: index + 1] + [line] + lines[index + 1 :])


def new_chapter(name, paper, root=ROOT):
    """Write chapter ``name`` on ``paper`` (a key of :data:`memo_utils.framework.claims.PAPERS`) into the checkout
    at ``root`` and register it; returns the files written or changed."""
    if not re.fullmatch(r"[a-z][a-z0-9_]{1,40}", name or ""):
        raise ConfigError(f"name={name!r} is not allowed: lowercase letters, digits and underscores, a letter first")
    if name in experiments.CHAPTERS or (root / "book" / f"{name}.md").exists():
        raise ConfigError(f"name={name!r} is not allowed: that chapter exists")
    if paper not in claims.PAPERS:
        raise ConfigError(
            f"paper={paper!r} is not allowed: choose one of {', '.join(claims.PAPERS)} (a new paper "
            "needs its entry in claims.PAPERS, references.bib and a caption in _toc.yml first)"
        )
    same_paper = [c.name for c in experiments.all_chapters() if c.paper == paper]
    if not same_paper:
        raise ConfigError(f"paper={paper!r} has no chapter yet: add its caption to _toc.yml by hand first")
    after = same_paper[-1]  # the new chapter follows the paper's last one, in the registry and in _toc.yml
    title = name.replace("_", " ").capitalize()
    params = "\n".join(f"{p} = None" for p in ("train_size", "hidden", "epochs", "batch_size", "lr", "seeds"))
    written = {
        root / "memo_utils" / "experiments" / f"{name}.py": EXPERIMENT.format(name=name, paper=paper, title=title),
        root / "memo_utils" / "figures" / f"{name}.py": FIGURES.format(name=name),
        root / "book" / f"{name}.md": PAGE.format(
            name=name,
            name_dashed=name.replace("_", "-"),
            title=title,
            params=params,
            citation=re.match(r".*?\d{4}", claims.PAPERS[paper]).group(0),  # the authors up to the year
        ),
    }
    registry = root / "memo_utils" / "experiments" / "__init__.py"
    written[registry] = _insert_after(registry.read_text(), f'    "{after}",', f'    "{name}",')
    toc = root / "_toc.yml"
    written[toc] = _insert_after(toc.read_text(), f"file: book/{after}", f"      - file: book/{name}")
    readme = root / "README.md"
    row = f"| `book/{name}.md` | {claims.PAPERS[paper].split(',')[0]}: replace with the section | replace |"
    written[readme] = _insert_after(readme.read_text(), f"| `book/{after}.md` |", row)
    for path, content in written.items():
        path.write_text(content)
    code = [str(path) for path in written if path.suffix == ".py"]
    subprocess.run([sys.executable, "-m", "ruff", "format", "--quiet", *code], check=False)  # the house style
    return sorted(written)


def record_fingerprints(name):
    """Record the new chapter's parts (a first record needs no check: no result exists yet)."""
    chapter = experiments.get(name)
    for part in chapter.parts:
        fingerprints.record(chapter, part)
