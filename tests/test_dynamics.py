"""Forgetting events and the first-learned epoch against direct loops over examples and evaluations."""

import numpy as np
import pytest

from memo_utils.methods import dynamics


def _loop_forgetting(correct):
    return [sum(1 for e in range(len(col) - 1) if col[e] and not col[e + 1]) for col in correct.T]


def _loop_first_learned(correct):
    out = []
    for col in correct.T:
        first = len(col)
        for e in range(len(col)):
            if all(col[e:]):
                first = e
                break
        out.append(first)
    return out


@pytest.mark.parametrize("seed", range(5))
def test_both_measures_match_a_direct_loop(seed):
    rng = np.random.default_rng(seed)
    correct = rng.random((7, 40)) < rng.uniform(0.2, 0.8)
    assert dynamics.forgetting_events(correct).tolist() == _loop_forgetting(correct)
    assert dynamics.first_learned(correct).tolist() == _loop_first_learned(correct)
    assert dynamics.never_learned(correct).tolist() == [not col.any() for col in correct.T]


def test_leading_axes_are_kept_and_edge_cases_hold():
    correct = np.array(
        [
            [[1, 0, 1, 0], [1, 1, 0, 0], [1, 0, 1, 0]],  # always; learned then forgotten; forgotten, relearned; never
            [[0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 1]],
        ],
        dtype=bool,
    )  # (seeds, evaluations, examples)
    assert dynamics.forgetting_events(correct).tolist() == [[0, 1, 1, 0], [0, 0, 0, 0]]
    assert dynamics.first_learned(correct).tolist() == [[0, 3, 2, 3], [3, 3, 3, 0]]
    assert dynamics.never_learned(correct).tolist() == [[False, False, False, True], [True, True, True, False]]
