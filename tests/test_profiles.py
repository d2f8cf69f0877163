import pytest

from memo_utils.errors import ConfigError
from memo_utils.experiments import easy_examples


def test_profile_values_are_used_and_overrides_win():
    cfg = easy_examples.config("smoke", n_runs=3)
    assert cfg["profile"] == "smoke" and cfg["n_runs"] == 3
    assert cfg["hidden"] == easy_examples.SETTINGS["smoke"]["hidden"]


@pytest.mark.parametrize("kwargs, message", [
    ({"profile": "fast"}, "profile='fast' is not allowed: choose one of smoke, cpu, gpu, paper"),
    ({"profile": "smoke", "train_size": -5}, "train_size=-5 is not allowed: must be a positive integer"),
    ({"profile": "smoke", "lr": 0}, "lr=0 is not allowed: must be a positive number"),
    ({"profile": "smoke", "widht": 3}, "widht is not a parameter here"),
    ({"profile": "smoke", "n_eval": 5000}, "n_eval=5000 is not allowed: must be at most train_size=2000"),
])
def test_bad_parameters_stop_with_one_line_naming_them(kwargs, message):
    profile = kwargs.pop("profile")
    with pytest.raises(ConfigError) as error:
        easy_examples.config(profile, **kwargs)
    assert message in str(error.value) and "\n" not in str(error.value)
