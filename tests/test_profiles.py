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
    ({"profile": "smoke", "noise_fraction": 1.5}, "noise_fraction=1.5 is not allowed: must be a number in [0, 1]"),
    ({"profile": "smoke", "widht": 3}, "widht is not a parameter here"),
    ({"profile": "smoke", "n_eval": 5000}, "n_eval=5000 is not allowed: must be at most train_size=2000"),
])
def test_bad_parameters_stop_with_one_line_naming_them(kwargs, message):
    profile = kwargs.pop("profile")
    with pytest.raises(ConfigError) as error:
        easy_examples.config(profile, **kwargs)
    assert message in str(error.value) and "\n" not in str(error.value)


def test_the_paper_profile_stops_with_one_line_unless_its_results_are_cached():
    from memo_utils import costs
    from memo_utils.experiments import loss_sensitivity

    cfg = loss_sensitivity.config("paper")
    with pytest.raises(ConfigError) as error:
        costs.stop_unless_cached(loss_sensitivity, cfg, "loss_sensitivity")
    message = str(error.value)
    assert message.startswith("profile='paper' is not run here") and "\n" not in message
    assert "python -m memo_utils run loss_sensitivity --profile paper" in message
    costs.stop_unless_cached(loss_sensitivity, loss_sensitivity.config("smoke"), "loss_sensitivity")  # no error


def test_paper_estimate_scales_a_cached_gpu_result_by_the_ratio_of_work(monkeypatch):
    from memo_utils import cache, costs
    from memo_utils.experiments import loss_sensitivity

    gpu = loss_sensitivity.config("gpu")
    (key,) = loss_sensitivity.parts(gpu).values()
    assert costs.paper_estimate_seconds(loss_sensitivity) is None  # nothing cached: pending
    monkeypatch.setattr(cache, "device_name", lambda device: "NVIDIA H100 80GB HBM3")
    cache.cached(*key, lambda: {"x": [1.0]}, device="cuda")
    entry_seconds = cache.lookup(*key).meta["wall_time_s"]
    ratio = loss_sensitivity.work(loss_sensitivity.config("paper"))["sensitivity"] / loss_sensitivity.work(gpu)["sensitivity"]
    assert costs.paper_estimate_seconds(loss_sensitivity) == pytest.approx(entry_seconds * ratio)
