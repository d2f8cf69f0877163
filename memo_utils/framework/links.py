"""Links between the book's pages in the Markdown that pages generate (claims tables, the chapter list).

Sphinx resolves ``{doc}`claims``` to the rendered page; JupyterLab's MyST renderer turns the same role into
a link to a file named ``claims``, which does not exist there. ``make lab`` sets ``MEMO_PAGE_LINKS=files``,
and a page run there links to the working copy ``claims.md`` instead, which Lab opens as a notebook.
"""

from __future__ import annotations

import os

AFFECTS_RESULTS = False  # only how a page links to another (memo_utils.framework.fingerprints)


def page_link(page: str) -> str:
    """A link to the book's page ``page`` (a name in book/, without its extension), shown as the page's title
    in the book and as its name in JupyterLab."""
    if os.environ.get("MEMO_PAGE_LINKS") == "files":
        return f"[{page}]({page}.md)"
    return f"{{doc}}`{page}`"

