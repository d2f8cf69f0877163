"""A chapter page's notebook face: from the page's (papermill) globals to a validated, run chapter, and
what the page shows about the run (its note, the settings table, the preconditions, the claims).

The contract (:mod:`memo_utils.framework.chapter`) knows nothing of notebooks; a page starts with
``page = open_page(experiment.CHAPTER, globals())``. IPython is imported only when a page shows
something, so the command line never needs it.
"""

from __future__ import annotations

import ast
import types
from dataclasses import dataclass
from functools import cached_property

from ..engine import devices
from ..errors import ONE_LINE, ConfigError
from . import claims as claims_module
from . import profiles
from .chapter import RUNTIME, Chapter, Results, cell_id


def open_page(chapter, namespace):
    """Set up ``chapter``'s page from its (papermill) globals: validate, guard, run; see :class:`Page`."""
    _one_line_errors()
    unknown = sorted(
        k
        for k in _settings_names(namespace)
        if not _is_incidental(k, namespace[k]) and k not in chapter.param_names and k not in RUNTIME
    )
    if unknown:
        raise ConfigError(
            f"{unknown[0]} is not a parameter of {chapter.name}: choose from "
            f"{', '.join(sorted(chapter.param_names + RUNTIME))}"
        )
    options = {"recompute": False, **{k: namespace[k] for k in RUNTIME if k in namespace}}
    options.update({k: None for k in RUNTIME if k not in options})
    profiles.flag("recompute", options["recompute"])
    device = devices.resolve(options["device"])
    devices.configure_threads(device)
    cfg = chapter.config(options["profile"], **{k: namespace.get(k) for k in chapter.param_names})
    try:
        chapter.stop_unless_cached(cfg, options["data_dir"])
    except ConfigError:  # the paper profile without its results: show what it would run, then stop
        from IPython.display import Markdown, display

        display(Markdown(settings_table(chapter, cfg)))
        raise
    results = chapter.run(cfg, device=device, data_dir=options["data_dir"], recompute=options["recompute"])
    return Page(chapter, cfg, results)


def settings_table(chapter, cfg):
    """Our settings beside the paper's, with the reason for each difference; overrides are marked."""
    overridden = set(chapter.overridden(cfg))
    rows = ["| parameter | paper | this run | why |", "|---|---|---|---|"]
    for p in chapter.params:
        value = f"**{cfg[p.name]}** (set for this run)" if p.name in overridden else f"{cfg[p.name]}"
        rows.append(f"| `{p.name}` | {p.paper} | {value} | {p.note} |")
    return "\n".join(rows)


def folded_settings(chapter, cfg):
    """:func:`settings_table` in a dropdown, so that the first figure comes early; its summary says how many
    parameters there are and how many this run overrides."""
    overridden = chapter.overridden(cfg)
    summary = f"Settings: our {len(chapter.params)} parameters beside the paper's, and why each differs" + (
        f" ({len(overridden)} set for this run)" if overridden else ""
    )
    return f":::{{dropdown}} {summary}\n\n{settings_table(chapter, cfg)}\n:::"


def run_note(results, cfg, overridden=()):
    """Profile, data, device and wall time of each cached cell. Cache metadata is text from a file, so it is
    escaped: it cannot inject Markdown or HTML into the page."""
    labels = sorted({label for part_labels in results.data_labels().values() for label in part_labels})
    lines = [
        f"Executed with profile **{escape(cfg['profile'])}**"
        + (f", overriding {', '.join(overridden)}" if overridden else "")
        + f"; data: {escape(', '.join(labels))}."
    ]
    for part, cell, r in results:
        meta = r.meta
        origin = "read from the cache" if r.from_cache else "computed during this execution"
        lines.append(
            f"- `{cell_id(part, cell)}`: {origin}; computed on {escape(meta['device'])} in "
            f"{float(meta['wall_time_s']):.1f} s on {escape(str(meta['date'])[:10])} (torch "
            f"{escape(meta['torch_version'])}, memo_utils {escape(meta['package_version'])})."
        )
    return "\n".join(lines)


def escape(text):
    """Text shown as itself in Markdown: no tags, links, emphasis, roles or code spans."""
    text = str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\n", " ")
    return "".join(f"\\{c}" if c in "\\`*_{}[]()#+!|~$" else c for c in text)


def _one_line_errors():
    """In a notebook, show a bad parameter or missing data as its one-line message, not a traceback."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None:
        return

    def show(shell, etype, value, tb, tb_offset=None):
        lines = [f"{etype.__name__}: {value}"]
        shell._showtraceback(etype, value, lines)
        return lines

    shell.set_custom_exc(ONE_LINE, show)


_IPYTHON_NAMES = {"In", "Out", "exit", "quit", "get_ipython", "open"}
_LAST_OPENED = "_memo_page_opened"  # the execution count of the cell that last opened a page in this namespace


def _settings_names(namespace):
    """The names a page's settings can come from. In a notebook: those bound by its parameters cell (the last
    cell run since the page last opened that sets ``profile``, as every page's first cell does) and by the
    cells run after it (papermill's injected one), so that a second Run All, or a re-run after an edit, does
    not take the page's own variables (``cfg``, ``results``) for misspelled parameters. Outside a notebook
    (a plain dict): every name."""
    history = namespace.get("In")
    if not isinstance(history, list) or len(history) < 2:
        return list(namespace)
    since, current = namespace.get(_LAST_OPENED, 0), len(history) - 1  # In[current]: the cell opening the page
    bound = [_bound_names(source) for source in history[since + 1 : current]]
    starts = [i for i, names in enumerate(bound) if "profile" in names]
    namespace[_LAST_OPENED] = current
    names = [name for names in bound[starts[-1] :] for name in names] if starts else []
    return [name for name in dict.fromkeys(names) if name in namespace]


def _bound_names(source):
    """The names a cell's top-level statements assign."""
    try:
        body = ast.parse(source).body
    except SyntaxError:  # a cell IPython could run but Python cannot parse: it sets no setting
        return []
    targets = [
        t for node in body for t in (node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)])
    ]
    return [n.id for t in targets if t is not None for n in ast.walk(t) if isinstance(n, ast.Name)]


def _is_incidental(name, value):
    """Globals of a notebook that are not settings: IPython's own, modules, functions and classes."""
    return (
        name.startswith("_")
        or name in _IPYTHON_NAMES
        or isinstance(value, (types.ModuleType, types.FunctionType, types.BuiltinFunctionType, type))
    )


@dataclass
class Page:
    """What a chapter page shows about its run: the note, the settings table, the claims."""

    chapter: Chapter
    cfg: dict
    results: Results

    @cached_property
    def judged(self):
        """The chapter's claims judged on this run, and saved (:meth:`Chapter.save_claims`): once per page."""
        return self.chapter.save_claims(self.results, self.cfg)

    def note(self):
        """The verdict box (counts, headline, what was not reproduced), then how this run was made."""
        from IPython.display import Markdown

        box = claims_module.verdict_box([c.as_dict() for c in self.judged[0]], self.cfg["profile"])
        first, *cells = run_note(self.results, self.cfg, self.chapter.overridden(self.cfg)).split("\n")
        fresh = sum(not r.from_cache for _, _, r in self.results)
        where = f"{fresh} computed during this execution" if fresh else "all read from the cache"
        folded = f":::{{dropdown}} Its {len(cells)} cached computations ({where})\n" + "\n".join(cells) + "\n:::"
        return Markdown(box + "\n\n::::{note}\n" + first + "\n\n" + folded + "\n::::")

    def figure(self, fig):
        """Show ``fig`` once and close it: the inline backend would show it again at the end of the cell. A cell
        with a caption (``mystnb.figure``) must show nothing else, or myst-nb would caption that too."""
        import matplotlib.pyplot as plt
        from IPython.display import display

        display(fig)
        plt.close(fig)

    def claims_read_from(self, *numbers):
        """The line under a figure, in a cell of its own: the verdicts of the claims read from the paper's
        figure(s) ``numbers``, linked to their rows (:func:`memo_utils.framework.claims.figure_line`)."""
        from IPython.display import Markdown

        return Markdown(claims_module.figure_line([c.as_dict() for c in self.judged[0]], *numbers))

    def settings(self):
        """The settings table, folded (it runs to 30 rows), its summary line saying how many values differ."""
        from IPython.display import Markdown

        return Markdown(folded_settings(self.chapter, self.cfg))

    def preconditions(self):
        """The chapter's preconditions, declared once for all the claims on the same networks."""
        from IPython.display import Markdown

        return Markdown(claims_module.preconditions_markdown(self.chapter.networks, self.chapter.preconditions))

    def claims(self):
        """Judge the chapter's claims, save them under the profile (unless settings were overridden), show them."""
        from IPython.display import Markdown

        judged, saved, why_not = self.judged
        text = claims_module.to_markdown(judged)
        if saved is None:
            text += f"\n\nThese verdicts are not saved to the claims page: {why_not}."
        return Markdown(text)
