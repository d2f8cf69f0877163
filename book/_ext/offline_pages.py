"""Sphinx extension: keep each inline script once per page.

sphinx-thebe registers its configuration script twice under jupyter-book 1.0.4, and the
second `const THEBE_JS_URL` is a JavaScript error on every page. The book is meant to load
without errors (and to be tested for it), so duplicates are dropped when a page is written.
"""


def _drop_duplicate_scripts(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, unique = set(), []
    for script in scripts:
        key = (getattr(script, "filename", None) or "", str(getattr(script, "attributes", {}).get("body")))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


def setup(app):
    # MathJax on every page, not only those with math: without it, the widget manager resolves its
    # icon fonts against the page's folder, and pages with widgets but no math fail to load them.
    app.set_html_assets_policy("always")
    app.connect("html-page-context", _drop_duplicate_scripts, priority=900)  # after the themes add theirs
    return {"parallel_read_safe": True, "parallel_write_safe": True}
