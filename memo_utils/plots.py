"""Plotting shared by the chapters; each chapter's own figures live in ``memo_utils.figures.<chapter>``.

matplotlib is imported here and in ``figures`` only, never by the compute modules.
"""
from __future__ import annotations

import matplotlib.pyplot as plt

COLORS = {"real": "C0", "randX": "C1", "randY": "C2", "binomial": "0.4", "50% real": "C4", "random": "C2",
          "real inputs": "C0", "random inputs": "C1"}


def figure(ncols=1, width=5.0, height=3.6):
    """A row of ``ncols`` axes, ``width`` x ``height`` inches each."""
    fig, axes = plt.subplots(1, ncols, figsize=(width * ncols, height), squeeze=False)
    return fig, axes[0]
