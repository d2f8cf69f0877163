"""Sphinx extension: pages listed in ``wide_pages`` give the in-page table of contents' column
to their content, for tables too wide for the text column (the claims scoreboard).

pydata-sphinx-theme drops the secondary sidebar of a page whose ``secondary_sidebar_items`` are
empty; this empties them for the listed pages, after the theme has set them, and marks the page
(``memo-wide-page``) for book.css to let its content take the room.
"""


def _widen(app, pagename, templatename, context, doctree):
    if pagename in app.config.wide_pages:
        context["secondary_sidebar_items"] = []
        context["body"] = '<div class="memo-wide-page"></div>\n' + context.get("body", "")


def setup(app):
    app.add_config_value("wide_pages", [], "html")
    app.connect("html-page-context", _widen, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
