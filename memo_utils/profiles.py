"""Profiles (smoke / cpu / gpu / paper) and validation of the parameters that override them.

Every chapter takes a ``profile`` and any number of overrides (papermill parameters or
``--set`` on the command line). ``None`` means "the profile's value". A bad value stops
the run with one line that names the parameter and what is allowed.
"""
from __future__ import annotations

import torch

from .errors import ConfigError

PROFILES = ("smoke", "cpu", "gpu", "paper")


def default_profile():
    return "gpu" if torch.cuda.is_available() else "cpu"


def default_device():
    return "cuda" if torch.cuda.is_available() else "cpu"


def positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ConfigError(f"{name}={value!r} is not allowed: must be a positive integer")


def non_negative_int(name, value):
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(f"{name}={value!r} is not allowed: must be a non-negative integer")


def positive_float(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ConfigError(f"{name}={value!r} is not allowed: must be a positive number")


def fraction(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
        raise ConfigError(f"{name}={value!r} is not allowed: must be a number in [0, 1]")


def seed_list(name, value):
    if not isinstance(value, (list, tuple)) or not value or not all(
            isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value):
        raise ConfigError(f"{name}={value!r} is not allowed: must be a non-empty list of non-negative integers")


def one_of(*choices):
    """A validator that accepts exactly the values in ``choices``."""
    def check(name, value):
        if value not in choices:
            raise ConfigError(f"{name}={value!r} is not allowed: choose one of {', '.join(map(str, choices))}")
    return check


def resolve(profile, settings, checks, overrides):
    """Merge ``overrides`` (None = keep) into the ``settings`` of ``profile`` and validate them.

    ``settings`` maps each profile to a dict of values; ``checks`` maps each parameter
    name to a validator. Returns a plain dict that is the run's config.
    """
    profile = default_profile() if profile is None else profile
    if profile not in PROFILES:
        raise ConfigError(f"profile={profile!r} is not allowed: choose one of {', '.join(PROFILES)}")
    unknown = sorted(set(overrides) - set(checks))
    if unknown:
        raise ConfigError(f"{unknown[0]} is not a parameter here: choose from {', '.join(sorted(checks))}")
    config = dict(settings[profile])
    config.update({k: v for k, v in overrides.items() if v is not None})
    for name, check in checks.items():
        check(name, config[name])
    config["profile"] = profile
    return config
