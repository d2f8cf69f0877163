"""Per-example measures of training dynamics, from whether each example was classified correctly after each epoch.

Two measures from outside the four papers, cheap to record during any training (chapter 8 compares them with the
papers' own measures):

- **forgetting events** (Toneva et al. 2019, *An Empirical Study of Example Forgetting during Deep Neural Network
  Learning*): how often an example goes from correctly to incorrectly classified between consecutive evaluations.
  Toneva et al. rank an example that is never learned as the most forgettable; :func:`forgetting_events` returns
  the count and leaves that choice to the caller (:func:`never_learned` marks them).
- **the epoch at which an example is first learned and stays learned**: the first evaluation from which it is
  classified correctly at every later one; an example not correct at the last evaluation gets ``len(epochs)``.

Both take ``correct``, a boolean array (..., evaluations, examples): any leading axes (seeds, models) are kept.
"""

from __future__ import annotations

import numpy as np


def forgetting_events(correct: np.ndarray) -> np.ndarray:
    """(..., examples) counts of correct -> incorrect transitions between consecutive evaluations."""
    correct = np.asarray(correct, dtype=bool)
    return (correct[..., :-1, :] & ~correct[..., 1:, :]).sum(axis=-2)


def never_learned(correct: np.ndarray) -> np.ndarray:
    """(..., examples) True where an example is never classified correctly."""
    return ~np.asarray(correct, dtype=bool).any(axis=-2)


def first_learned(correct: np.ndarray) -> np.ndarray:
    """(..., examples) the first evaluation index from which the example stays correct to the end; the number of
    evaluations where it is incorrect at the last one (never learned for good)."""
    correct = np.asarray(correct, dtype=bool)
    evaluations = correct.shape[-2]
    # stays[e]: correct at e and at every later evaluation (a reversed running AND)
    stays = np.flip(np.logical_and.accumulate(np.flip(correct, axis=-2), axis=-2), axis=-2)
    return np.where(stays.any(axis=-2), evaluations - stays.sum(axis=-2), evaluations)
