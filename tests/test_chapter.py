"""The chapter contract: one declaration per parameter, keys derived from it, one page setup."""

import ast
import math

import jupytext
import numpy as np
import pytest
from conftest import ROOT, SHARED_DATA

from memo_utils import experiments
from memo_utils.errors import ConfigError, DataUnavailableError
from memo_utils.framework import cache, profiles
from memo_utils.framework.chapter import RUNTIME, Chapter, Param, Part, Results
from memo_utils.framework.page import open_page

CHAPTERS = experiments.all_chapters()
easy = experiments.get("easy_examples")


def test_profile_values_are_used_and_overrides_win():
    cfg = easy.config("smoke", n_runs=3)
    assert cfg["profile"] == "smoke" and cfg["n_runs"] == 3
    assert cfg["hidden"] == 64 and easy.config("cpu")["hidden"] == 128
    assert easy.overridden(cfg) == ["n_runs"]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"profile": "fast"}, "profile='fast' is not allowed: choose one of smoke, cpu, gpu, paper"),
        ({"profile": "smoke", "train_size": -5}, "train_size=-5 is not allowed: must be a positive integer"),
        (
            {"profile": "smoke", "n_runs": 10**12},
            "n_runs=1000000000000 is not allowed: must be a positive integer up to 10,000,000",
        ),
        ({"profile": "smoke", "lr": 0}, "lr=0 is not allowed: must be a finite positive number"),
        ({"profile": "smoke", "lr": math.inf}, "lr=inf is not allowed: must be a finite positive number"),
        ({"profile": "smoke", "lr": math.nan}, "lr=nan is not allowed: must be a finite positive number"),
        ({"profile": "smoke", "noise_fraction": 1.5}, "noise_fraction=1.5 is not allowed: must be a number in [0, 1]"),
        (
            {"profile": "smoke", "noise_fraction": math.nan},
            "noise_fraction=nan is not allowed: must be a number in [0, 1]",
        ),
        ({"profile": "smoke", "widht": 3}, "widht is not a parameter of easy_examples"),
        ({"profile": "smoke", "n_eval": 5000}, "n_eval=5000 is not allowed: must be at most train_size=2000"),
        ({"profile": "smoke", "cnn_seeds": [0, 0]}, "cnn_seeds=[0, 0] is not allowed: the seeds must be distinct"),
        (
            {"profile": "smoke", "cnn_seeds": [2**62]},
            "is not allowed: must be a non-empty list of integers in [0, 1,000,",
        ),
        ({"profile": "smoke", "noise_fraction": 0.5, "seed": -1}, "seed=-1 is not allowed"),
        (
            {"profile": "smoke", "seed": 2**62},
            "seed=4611686018427387904 is not allowed: must be an integer in [0, 1,000,",
        ),
    ],
)
def test_bad_parameters_stop_with_one_line_naming_them(kwargs, message):
    profile = kwargs.pop("profile")
    with pytest.raises(ConfigError) as error:
        easy.config(profile, **kwargs)
    assert message in str(error.value) and "\n" not in str(error.value)


@pytest.mark.parametrize("name", experiments.CHAPTERS)
def test_every_integer_setting_of_every_chapter_has_an_upper_bound_refused_in_one_line(name):
    """Sizes, counts, steps and seeds alike: 10^12 would allocate without end, 2^62 overflows a seed."""
    chapter = experiments.get(name)
    integers = [
        p
        for p in chapter.params
        if (type(p.default) is int)
        or (isinstance(p.default, list) and p.default and all(type(v) is int for v in p.default))
    ]
    assert integers
    for param in integers:
        huge = [2**62] if isinstance(param.default, list) else 2**62
        with pytest.raises(ConfigError) as error:
            chapter.config("smoke", **{param.name: huge})
        assert str(error.value).startswith(f"{param.name}=") and "\n" not in str(error.value), str(error.value)


def test_a_parameter_that_belongs_to_no_part_is_refused():
    part = Part("only", version=1, compute=lambda cfg, cell, inputs, device: {})
    untagged = Param("width", profiles.positive_int, 3, paper="3", parts=())
    with pytest.raises(ValueError, match="width must name the parts it changes"):
        Chapter("toy", paper="arpit2017", params=(untagged,), parts=(part,), claims=(), evidence=lambda r, c: None)
    with pytest.raises(ValueError, match="must name the parts"):
        Chapter(
            "toy",
            paper="arpit2017",
            params=(Param("width", profiles.positive_int, 3, paper="3", parts=("other",)),),
            parts=(part,),
            claims=(),
            evidence=lambda r, c: None,
        )


OTHER_CHOICE = {
    "loop": "stacked",
    "stacked": "loop",
    "standardized": "unit",
    "unit": "standardized",
    "logit": "log_softmax",
    "log_softmax": "logit",
    "vgg13": "resnet32",
    "resnet32": "vgg13",
}


def _other_values(value):
    """Candidate different values of a parameter, nearest first."""
    if isinstance(value, bool):
        return [not value]
    if isinstance(value, list) and not value:
        return [[0.5]]
    if isinstance(value, list) and isinstance(value[0], str):
        return [value[:-1], [OTHER_CHOICE[v] for v in value]]
    if isinstance(value, list):
        between = [(value[-2] + value[-1]) / 2] if len(value) > 1 and isinstance(value[-1], float) else []
        return [value + [max(value) + 1], value[:-1], [min(value) / 2] + value, value[:-1] + between + value[-1:]]
    if isinstance(value, str):
        return [OTHER_CHOICE[value]]
    if isinstance(value, float) and value <= 1:
        return [value / 2]
    return [value - 1, value + 1, value + 2]  # + 2: parameters that must stay even


def _changed_config(chapter, name, value):
    """The cpu config with ``name`` changed to the first candidate the chapter and its data accept."""
    for candidate in _other_values(value):
        try:
            changed = chapter.config("cpu", **{name: candidate})
            [chapter.key(p, c, changed) for p, c in chapter.cells(changed)]
            return changed
        except (ConfigError, DataUnavailableError):
            continue
    raise AssertionError(f"no other valid value of {name}")


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda c: c.name)
def test_every_parameter_changes_the_keys_of_exactly_its_parts(chapter):
    cfg = chapter.config("cpu")
    keys = {(p.name, str(c)): chapter.key(p, c, cfg) for p, c in chapter.cells(cfg)}
    for param in chapter.params:
        changed = _changed_config(chapter, param.name, cfg[param.name])
        for part, cell in chapter.cells(changed):
            before = keys.get((part.name, str(cell)))
            after = chapter.key(part, cell, changed)
            if part.name in param.parts:
                assert before is None or cache.config_key(*after) != cache.config_key(*before), (param.name, part.name)
            else:
                assert after == before, (param.name, part.name)


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda c: c.name)
def test_the_page_declares_exactly_the_chapters_parameters(chapter):
    notebook = jupytext.read(ROOT / "book" / f"{chapter.name}.md")
    (cell,) = [c for c in notebook.cells if "parameters" in c.metadata.get("tags", [])]
    declared = [t.id for node in ast.parse(cell.source).body for t in node.targets]
    assert sorted(declared) == sorted(chapter.param_names + RUNTIME)
    assert all(
        value is None
        for value in ast.literal_eval(
            "["
            + ", ".join(
                ast.unparse(node.value) for node in ast.parse(cell.source).body if node.targets[0].id != "recompute"
            )
            + "]"
        )
    )


def test_a_page_refuses_a_misspelled_parameter_with_the_command_lines_message():
    namespace = {"profile": "smoke", "n_run": 20, "np": np, "In": [], "_": None, "display": print}
    with pytest.raises(ConfigError) as error:
        open_page(easy, namespace)
    assert str(error.value).startswith("n_run is not a parameter of easy_examples: choose from")


@pytest.mark.parametrize(
    "name, value, message",
    [
        ("recompute", "no", "recompute='no' is not allowed: must be True or False"),
        ("device", "quantum", "device='quantum' is not allowed: choose cpu or cuda"),
    ],
)
def test_a_page_refuses_bad_runtime_options(name, value, message):
    with pytest.raises(ConfigError, match=message):
        open_page(easy, {"profile": "smoke", name: value})


def _result(arrays, dims=None):
    return cache.Result(arrays, {"dims": dims or {}, "config": {"data": {"mnist": {"label": "MNIST"}}}}, True)


def test_results_select_cells_by_coordinates_and_arrays_by_named_dimensions():
    a = _result(
        {"setting": np.array(["real", "random"]), "seed": np.array([0, 1]), "gini": np.arange(4).reshape(2, 2)},
        {"gini": ("setting", "seed")},
    )
    b = _result(
        {"setting": np.array(["unique"]), "seed": np.array([0, 1]), "gini": np.array([[7, 8]])},
        {"gini": ("setting", "seed")},
    )
    results = Results([("sens", {"group": "ten"}, a), ("sens", {"group": "one"}, b)])
    assert results.sel("sens", "gini", setting="random").tolist() == [2, 3]
    assert results.sel("sens", "gini", setting="random", seed=1) == 3
    assert results.sel("sens", "gini", setting="unique", seed=0) == 7
    assert results.sel("sens", "gini", group="one").tolist() == [[7, 8]]
    assert results.cell("sens", group="ten") is a
    with pytest.raises(KeyError):
        results.sel("sens", "gini", setting="nowhere")
    assert results.data_labels() == {"sens": ["MNIST"]}


def test_the_paper_profile_stops_with_one_line_unless_its_results_are_cached():
    chapter = experiments.get("loss_sensitivity")
    with pytest.raises(ConfigError) as error:
        chapter.stop_unless_cached(chapter.config("paper"))
    message = str(error.value)
    assert message.startswith("profile='paper' is not run here") and "\n" not in message
    assert "python -m memo_utils run loss_sensitivity --profile paper --force" in message
    chapter.stop_unless_cached(chapter.config("smoke"))  # no error


def test_the_registry_is_the_books_list_of_chapters():
    import yaml

    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [c["file"].split("/")[-1] for part in toc["parts"] for c in part["chapters"]]
    assert [f for f in files if f in experiments.CHAPTERS] == list(experiments.CHAPTERS)
    assert [c.name for c in CHAPTERS] == list(experiments.CHAPTERS)


def test_results_computed_elsewhere_are_found_without_their_data_unless_two_sources_compete(monkeypatch):
    from memo_utils.errors import DataUnavailableError

    monkeypatch.delenv("MEMO_DATA_DIR", raising=False)
    cfg = easy.config("gpu")  # 60,000 MNIST images: not on this machine without a data folder
    part, cell = easy.cells(cfg)[0]
    with pytest.raises(DataUnavailableError):
        easy.key(part, cell, cfg)
    experiment, version, config = easy.key(part, cell, cfg, data_fingerprints=False)
    elsewhere = {"mnist": {"dataset": "mnist", "label": "MNIST", "sha256": "06af5d", "origin": "data_dir"}}
    cache.cached(experiment, version, {**config, "data": elsewhere}, lambda: {"x": np.ones(2)})
    assert easy.lookup(part, cell, cfg)["x"].tolist() == [1.0, 1.0]
    assert [cid for cid, hit in easy.status(cfg) if hit is not None] == ["mlp/dataset=real"]
    other = {"mnist": {**elsewhere["mnist"], "label": "MNIST (torchvision)", "sha256": "ffff"}}
    cache.cached(experiment, version, {**config, "data": other}, lambda: {"x": np.zeros(2)})
    with pytest.raises(DataUnavailableError, match="several data sources are cached"):
        easy.lookup(part, cell, cfg)


@pytest.mark.parametrize(
    "folder, message",
    [
        ("missing", "='{path}' does not exist"),
        ("file", "is a file, not a folder"),
        ("empty", "holds no mnist.npz"),
        ("corrupt", "does not match its published checksum"),
    ],
)
def test_an_explicit_data_source_is_used_or_refused_even_when_a_result_is_cached(
    tmp_path, monkeypatch, folder, message
):
    """A cached result computed from another source (here the bundled sample) is never served in place of an
    explicitly given data folder, whether it is given as data_dir or as MEMO_DATA_DIR."""
    monkeypatch.delenv("MEMO_DATA_DIR", raising=False)
    cfg = easy.config("cpu")
    part, cell = easy.cells(cfg)[0]
    cache.cached(*easy.key(part, cell, cfg), lambda: {"x": np.ones(2)})
    assert easy.run(cfg, parts=["mlp/dataset=real"]).cell("mlp", dataset="real")["x"].tolist() == [1.0, 1.0]
    path = tmp_path / "data"
    if folder == "file":
        path.write_text("not a folder")
    elif folder in ("empty", "corrupt"):
        path.mkdir()
        if folder == "corrupt":  # a swapped archive with the expected name
            (path / "mnist.npz").write_bytes(b"PK" + bytes(100))
    for given in ({"data_dir": str(path)}, {"env": str(path)}):
        if "env" in given:
            monkeypatch.setenv("MEMO_DATA_DIR", given["env"])
        with pytest.raises(DataUnavailableError, match=message.format(path=path).replace("(", r"\(")):
            easy.run(cfg, data_dir=given.get("data_dir"), parts=["mlp/dataset=real"])
        with pytest.raises(DataUnavailableError):
            easy.lookup(part, cell, cfg, data_dir=given.get("data_dir"))
        monkeypatch.delenv("MEMO_DATA_DIR", raising=False)


def test_an_empty_data_dir_is_refused_not_read_as_unset():
    with pytest.raises(ConfigError, match="data_dir='' is not allowed"):
        easy.run(easy.config("cpu"), data_dir="", parts=["mlp/dataset=real"])


def test_results_computed_elsewhere_are_not_served_when_a_data_source_is_given(tmp_path, monkeypatch):
    monkeypatch.delenv("MEMO_DATA_DIR", raising=False)
    cfg = easy.config("gpu")  # 60,000 MNIST images: not on this machine without a data folder
    part, cell = easy.cells(cfg)[0]
    experiment, version, config = easy.key(part, cell, cfg, data_fingerprints=False)
    elsewhere = {"mnist": {"dataset": "mnist", "label": "MNIST", "sha256": "06af5d", "origin": "data_dir"}}
    cache.cached(experiment, version, {**config, "data": elsewhere}, lambda: {"x": np.ones(2)})
    assert easy.lookup(part, cell, cfg) is not None
    with pytest.raises(DataUnavailableError, match="does not exist"):
        easy.lookup(part, cell, cfg, data_dir=str(tmp_path / "nowhere"))


@pytest.mark.skipif(not (SHARED_DATA / "mnist.npz").exists(), reason="needs ../shared/data")
def test_two_data_sources_never_share_a_cache_entry(monkeypatch):
    monkeypatch.delenv("MEMO_DATA_DIR", raising=False)
    cfg = easy.config("cpu")
    part, cell = easy.cells(cfg)[0]
    bundled, shared = easy.key(part, cell, cfg), easy.key(part, cell, cfg, data_dir=SHARED_DATA)
    assert bundled[2]["data"]["mnist"]["label"] == "MNIST (bundled sample)"
    assert cache.config_key(*bundled) != cache.config_key(*shared)


def test_a_part_that_reads_an_untagged_parameter_fails_instead_of_caching_under_a_key_without_it():
    reads_width = Part("only", version=1, compute=lambda cfg, cell, inputs, device: {"w": np.array(cfg["width"])})
    chapter = Chapter(
        "toy",
        paper="arpit2017",
        parts=(reads_width, Part("other", 1, compute=lambda *a: {})),
        params=(Param("width", profiles.positive_int, 3, paper="3", parts=("other",)),),
        claims=(),
        evidence=lambda r, c: None,
    )
    with pytest.raises(KeyError, match="width"):
        chapter.run(chapter.config("cpu"), device="cpu", parts=["only"])


def _toy_chapter():
    """A chapter with one part (one value per seed) and one claim on it, as the book's chapters declare theirs."""
    from memo_utils.framework import claims

    part = Part(
        "values",
        version=1,
        compute=lambda cfg, cell, inputs, device: {"value": np.array([0.3 + 0.01 * (s % 3) for s in cfg["seeds"]])},
    )
    definition = claims.Definition(
        "toy-1",
        "arpit2017",
        "Fig. 1",
        "values are high",
        "Values are high.",
        (claims.above("value per seed", 0.1, "a tenth"),),
        "seeds",
        ("net",),
    )
    evidence = lambda results, cfg: claims.Evidence({}, {"toy-1": (claims.across(results.sel("values", "value")),)})
    return Chapter(
        "toy",
        paper="arpit2017",
        parts=(part,),
        networks={"net": "toy networks"},
        claims=(definition,),
        evidence=evidence,
        params=(Param("seeds", profiles.seed_list, [0, 1, 2], paper="-", parts=("values",), replicates=True),),
    )


def test_claims_are_saved_for_the_profile_apart_for_a_reseeded_run_and_not_for_other_overrides(isolated_results):
    toy = _toy_chapter()
    cfg = toy.config("cpu")
    judged, saved, _ = toy.save_claims(toy.run(cfg, device="cpu"), cfg)
    assert [c.verdict for c in judged] == ["reproduced"] and saved == isolated_results / "claims" / "toy" / "cpu.json"
    moved = toy.config("cpu", **toy.reseeded(cfg, 1000))
    assert moved["seeds"] == [1000, 1001, 1002] and toy.reseed_offset(moved) == 1000
    _, saved, _ = toy.save_claims(toy.run(moved, device="cpu"), moved)
    assert saved.name == "cpu-reseed-1000.json"
    other = toy.config("cpu", seeds=[5, 6, 9])
    assert toy.reseed_offset(other) is None
    _, saved, why_not = toy.save_claims(toy.run(other, device="cpu"), other)
    assert saved is None and why_not == "this run overrides seeds of the cpu profile"


def test_only_the_books_own_runs_write_the_tracked_results_and_others_go_to_scratch(tmp_path, monkeypatch):
    """Without $MEMO_RESULTS_DIR, a smoke or override run writes into scratch/ (git-ignored) and reads the tracked
    results/ too; a profile's own run (or its reseeded twin) writes into results/ and never reads scratch/."""
    tracked, scratch = tmp_path / "results", tmp_path / "scratch"
    monkeypatch.delenv("MEMO_RESULTS_DIR")
    monkeypatch.setattr(cache, "TRACKED", tracked)
    monkeypatch.setattr(cache, "SCRATCH", scratch)
    toy = _toy_chapter()
    entries = lambda root: sorted(p.name for p in (root / "toy" / "values").glob("[!.]*"))
    for cfg in (toy.config("smoke"), toy.config("cpu", seeds=[5, 6])):
        toy.save_claims(toy.run(cfg, device="cpu"), cfg)
    assert len(entries(scratch)) == 2 and entries(tracked) == [] and not (tracked / "claims").exists()
    assert (scratch / "claims" / "toy" / "smoke.json").exists()
    book = toy.config("cpu")
    assert not toy.run(book, device="cpu").cell("values").from_cache  # computed into results/, not read from scratch
    toy.save_claims(toy.run(book, device="cpu"), book)
    moved = toy.config("cpu", **toy.reseeded(book, 1000))
    toy.run(moved, device="cpu")
    assert len(entries(tracked)) == 2 and (tracked / "claims" / "toy" / "cpu.json").exists()
    assert toy.run(toy.config("cpu", seeds=[5, 6]), device="cpu").cell("values").from_cache
    assert toy.lookup(toy.part("values"), {}, toy.config("smoke")) is not None  # scratch, as the smoke run wrote it
    assert toy.lookup(toy.part("values"), {}, book) is not None  # the tracked entry, read by an override run too
    assert "/scratch/" in (ROOT / ".gitignore").read_text().splitlines(), "scratch/ must be git-ignored"


def test_verdicts_are_still_shown_when_the_results_folder_cannot_be_written(isolated_results, monkeypatch):
    toy = _toy_chapter()
    cfg = toy.config("cpu")
    results = toy.run(cfg, device="cpu")
    (isolated_results / "claims").write_text("a file where the claims folder should be")
    judged, saved, why_not = toy.save_claims(results, cfg)
    assert judged and saved is None and why_not.startswith("the results folder cannot be written")


def test_the_run_note_shows_cache_metadata_as_text_never_as_markup(isolated_results):
    from memo_utils.framework import page
    from memo_utils.framework.cache import Result

    meta = {
        "device": "cpu <img src=x onerror=alert(1)>",
        "wall_time_s": 1.5,
        "date": "2026-12-03[x](http://e)",
        "torch_version": "2.13 `code`",
        "package_version": "0.1 *bold*",
        "config": {"data": {}},
    }
    note = page.run_note(Results([("p", {}, Result({}, meta, True))]), {"profile": "cpu"})
    assert "<img" not in note and "&lt;img" in note and "](http" not in note and "\\`code\\`" in note
    assert "\\*bold\\*" in note


@pytest.mark.parametrize(
    "chapter, name, value",
    [
        ("capacity", "widths", [64, 16]),
        ("capacity", "noise_levels", [0.0, 0.5, 0.5]),
        ("loss_sensitivity", "steps", [2000, 500]),
    ],
)
def test_a_grid_out_of_order_is_refused_not_reordered(chapter, name, value):
    with pytest.raises(ConfigError) as error:
        experiments.get(chapter).config("smoke", **{name: value})
    assert str(error.value).startswith(f"{name}={value!r} is not allowed: must be increasing, without repeats")


def test_a_second_run_all_in_one_kernel_checks_only_what_the_parameters_cell_binds(isolated_results):
    """In a notebook the page's own variables (cfg, results) are still there on a second Run All or after an
    edit; only the names bound since the page last opened are settings to check."""
    small = "n_runs = 2\ntrain_size = 300\nn_eval = 50\ncnn_seeds = [0]\n"
    namespace = {
        "In": ["", "profile = 'smoke'\n" + small, "page = open_page(...)"],
        "profile": "smoke",
        "n_runs": 2,
        "train_size": 300,
        "n_eval": 50,
        "cnn_seeds": [0],
    }
    first = open_page(easy, namespace)
    namespace.update(page=first, cfg=first.cfg, results=first.results, c=3)  # what the page's cells leave behind
    namespace["In"] += [
        "cfg = page.cfg",
        "c = 3",
        "profile = 'smoke'\n" + small + "n_eval = 40",
        "page = open_page(...)",
    ]
    namespace["n_eval"] = 40  # the reader edited a setting and ran every cell again
    assert open_page(easy, namespace).cfg["n_eval"] == 40
    namespace["In"] += ["profile = 'smoke'\n" + small + "n_run = 5", "page = open_page(...)"]  # a misspelling added
    namespace["n_run"] = 5
    with pytest.raises(ConfigError, match="n_run is not a parameter of easy_examples"):
        open_page(easy, namespace)


def test_the_settings_table_folds_and_says_what_this_run_overrides():
    from memo_utils import experiments
    from memo_utils.framework.page import folded_settings

    chapter = experiments.get("easy_examples")
    text = folded_settings(chapter, chapter.config("cpu", n_runs=3))
    assert text.startswith(":::{dropdown} Settings: our ") and text.endswith("\n:::")
    assert "(1 set for this run)" in text.splitlines()[0] and "| `n_runs` |" in text


def test_a_figure_is_shown_once_and_its_claims_verdicts_come_in_a_line_of_their_own(isolated_results, monkeypatch):
    import IPython.display
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from memo_utils.framework.page import Page

    monkeypatch.delenv("MEMO_PAGE_LINKS", raising=False)
    shown = []
    monkeypatch.setattr(IPython.display, "display", shown.append)
    toy = _toy_chapter()
    cfg = toy.config("cpu")
    page = Page(toy, cfg, toy.run(cfg, device="cpu"))
    fig = plt.figure()
    page.figure(fig)
    assert shown == [fig]  # the figure alone: a captioned cell shows nothing else
    assert not plt.fignum_exists(fig.number)  # closed: the inline backend cannot show it a second time
    line = page.claims_read_from(1).data
    assert line == '**Claims read from Figure 1:** ✓ <a href="#claim-toy-1">toy-1</a> reproduced.'
    assert page.claims_read_from(2).data == ""  # a figure no claim reads
