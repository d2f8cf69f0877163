"""Links between the book's pages in the Markdown that pages generate (claims tables, the chapter list), and to
one claim's row of a chapter's claims table.

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


def claim_anchor(claim_id: str) -> str:
    """The target a claim's row carries, so that a verdict box, a figure's line or the claims page links to it."""
    return f'<span id="claim-{claim_id}"></span>'


def claim_link(claim_id: str, text: str, chapter: str | None = None) -> str:
    """A link to the row of ``claim_id`` in ``chapter``'s claims table (None: on this page). Raw HTML, since a
    Markdown link to an anchor of a page Sphinx has not rendered yet cannot be checked; in JupyterLab, a link to
    the chapter's working copy."""
    if os.environ.get("MEMO_PAGE_LINKS") == "files":
        return f"[{text}]({chapter}.md)" if chapter else f"[{text}](#claim-{claim_id})"
    return f'<a href="{f"{chapter}.html" if chapter else ""}#claim-{claim_id}">{text}</a>'
