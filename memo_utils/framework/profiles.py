"""Profiles (smoke / cpu / gpu / paper) and the validators of the parameters that override them.

Every chapter takes a ``profile`` and any number of overrides (papermill parameters or
``--set`` on the command line). ``None`` means "the profile's value". A bad value stops
the run with one line that names the parameter and what is allowed.
"""

from __future__ import annotations

import math

import torch

from ..errors import ConfigError

PROFILES = ("smoke", "cpu", "gpu", "paper")  # in increasing order of scale
MAX_COUNT = 10**7  # any size, count or number of steps: far above the papers' (50,000 images, 10^5 steps); a larger
#                   one is a typo that would exhaust memory before any check of a cell's footprint could run
MAX_SEED = 10**9  # seeds are multiplied by up to ~10^5 (memo_utils.seeds) and must stay within torch's 64-bit seeds


def default_profile():
    return "gpu" if torch.cuda.is_available() else "cpu"


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _is_finite_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def positive_int(name, value):
    if not _is_int(value) or not 0 < value <= MAX_COUNT:
        raise ConfigError(f"{name}={value!r} is not allowed: must be a positive integer up to {MAX_COUNT:,}")


def non_negative_int(name, value):
    if not _is_int(value) or not 0 <= value <= MAX_COUNT:
        raise ConfigError(f"{name}={value!r} is not allowed: must be a non-negative integer up to {MAX_COUNT:,}")


def positive_float(name, value):
    if not _is_finite_number(value) or not value > 0:
        raise ConfigError(f"{name}={value!r} is not allowed: must be a finite positive number")


def non_negative_float(name, value):
    if not _is_finite_number(value) or value < 0:
        raise ConfigError(f"{name}={value!r} is not allowed: must be a finite non-negative number")


def fraction(name, value):
    if not _is_finite_number(value) or not 0.0 <= value <= 1.0:
        raise ConfigError(f"{name}={value!r} is not allowed: must be a number in [0, 1]")


def flag(name, value):
    if not isinstance(value, bool):
        raise ConfigError(f"{name}={value!r} is not allowed: must be True or False")


def seed(name, value):
    if not _is_int(value) or not 0 <= value <= MAX_SEED:
        raise ConfigError(f"{name}={value!r} is not allowed: must be an integer in [0, {MAX_SEED:,}]")


def seed_list(name, value):
    """Distinct seeds: each one is a replicate, and a repeated seed would count one run twice."""
    if not isinstance(value, (list, tuple)) or not value or not all(_is_int(v) and 0 <= v <= MAX_SEED for v in value):
        raise ConfigError(f"{name}={value!r} is not allowed: must be a non-empty list of integers in [0, {MAX_SEED:,}]")
    if len(set(value)) != len(value):
        raise ConfigError(f"{name}={value!r} is not allowed: the seeds must be distinct (each is one replicate)")


def step_list(name, value):
    if not isinstance(value, (list, tuple)) or not value or not all(_is_int(v) and 0 < v <= MAX_COUNT for v in value):
        raise ConfigError(
            f"{name}={value!r} is not allowed: must be a non-empty list of positive integers up to {MAX_COUNT:,}"
        )


def increasing(name, value):
    """A grid given in increasing order without repeats: a list the chapter would otherwise have to reorder
    silently (its cache key and its figures' axes follow the order given)."""
    if list(value) != sorted(set(value)):
        raise ConfigError(
            f"{name}={list(value)!r} is not allowed: must be increasing, without repeats (e.g. {sorted(set(value))!r})"
        )


def fraction_list(name, value):
    if (
        not isinstance(value, (list, tuple))
        or not value
        or not all(_is_finite_number(v) and 0 <= v <= 1 for v in value)
    ):
        raise ConfigError(f"{name}={value!r} is not allowed: must be a non-empty list of numbers in [0, 1]")


def one_of(*choices):
    """A validator that accepts exactly the values in ``choices``."""

    def check(name, value):
        if value not in choices:
            raise ConfigError(f"{name}={value!r} is not allowed: choose one of {', '.join(map(str, choices))}")

    return check
