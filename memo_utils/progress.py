"""Progress of long computations: a bar where someone watches, one line per task in logs, nothing in built pages.

Where output goes decides the form (``$MEMO_PROGRESS=off`` silences it everywhere):

- a terminal: tqdm bars for the steps or epochs of each computation;
- a JupyterLab kernel: the same bars as notebook widgets;
- a notebook executed headless (papermill or nbclient, recognised by the in-memory history
  they give the kernel): nothing, so that built pages hold no progress output;
- anything else (CI logs, pipes): one line when a cached part starts and when it ends.

Every training loop ticks a bar, so a rehearsal (``run --rehearse``: a cell at its real sizes, stopped early)
stops here: inside :func:`rehearsal`, a bar raises :class:`RehearsalDone` at its limit, and no computing code
needs to know.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time

AFFECTS_RESULTS = False  # memo_utils.framework.fingerprints leaves this module out of the code fingerprints


def _kernel():
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    shell = get_ipython()
    return shell if shell is not None and type(shell).__name__ == "ZMQInteractiveShell" else None


def mode():
    """ "off", "notebook", "terminal" or "lines"."""
    if os.environ.get("MEMO_PROGRESS", "").lower() in ("off", "0", "no"):
        return "off"
    shell = _kernel()
    if shell is not None:
        return "off" if str(getattr(shell.history_manager, "hist_file", "")) == ":memory:" else "notebook"
    return "terminal" if sys.stderr.isatty() else "lines"


class _Silent:
    def update(self, n=1):
        pass

    def close(self):
        pass


class RehearsalDone(Exception):
    """A rehearsed cell's first training loop reached its step limit: data loaded, memory allocated, steps run."""


_REHEARSAL_STEPS = []  # the step limit of the rehearsal in progress, if any


class _Rehearsal(_Silent):
    def __init__(self, desc, limit):
        self.desc, self.limit, self.done = desc, limit, 0

    def update(self, n=1):
        self.done += n
        if self.done >= self.limit:
            raise RehearsalDone(f"{self.desc}: stopped after {self.done} of them")


@contextlib.contextmanager
def rehearsal(steps=2):
    """Within this block, the first bar a computation ticks stops it after ``steps`` updates."""
    _REHEARSAL_STEPS.append(steps)
    try:
        yield
    finally:
        _REHEARSAL_STEPS.pop()


def bar(total, desc):
    """A progress bar over ``total`` steps (``update()`` each, ``close()`` at the end), or a silent stand-in."""
    if _REHEARSAL_STEPS:
        return _Rehearsal(desc, _REHEARSAL_STEPS[-1])
    current = mode()
    if current == "notebook":
        from tqdm.notebook import tqdm
    elif current == "terminal":
        from tqdm import tqdm
    else:
        return _Silent()
    return tqdm(total=total, desc=desc, leave=False, mininterval=0.5)


@contextlib.contextmanager
def task(label):
    """One line when ``label`` starts and when it ends (in logs only: bars speak for themselves elsewhere)."""
    lines = mode() == "lines"
    start = time.perf_counter()
    if lines:
        print(f"{label}: computing", file=sys.stderr, flush=True)
    yield
    if lines:
        print(f"{label}: done in {time.perf_counter() - start:.1f} s", file=sys.stderr, flush=True)
