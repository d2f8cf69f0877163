"""The registry of chapters: the single list that the command line, the book's aggregate pages
and the tests read. Each entry is a module of this package that defines ``CHAPTER``, a
:class:`memo_utils.framework.chapter.Chapter`; its order is the book's.
"""

from importlib import import_module

from ..errors import ConfigError

CHAPTERS = (
    "easy_examples",
    "loss_sensitivity",
    "capacity",
    "critical_sample_ratio",
    "regularization",
    "dissection",
    "turn_over_dropout",
    "measure_agreement",
)

# The chapters still to come (the plan of the issues), which the book's introduction lists
# beside those above: name -> (title, {paper key of claims.PAPERS: sections}). A chapter moves
# from here to CHAPTERS when it exists.
PLANNED = {}


def get(name):
    """The :class:`~memo_utils.framework.chapter.Chapter` called ``name``."""
    if name not in CHAPTERS:
        raise ConfigError(f"chapter={name!r} is not allowed: choose one of {', '.join(CHAPTERS)}")
    return import_module(f"{__name__}.{name}").CHAPTER


def all_chapters():
    return [get(name) for name in CHAPTERS]
