"""Open pages of the built book in headless Chromium (Debian's, driven by Playwright)."""
from __future__ import annotations

import shutil
from contextlib import contextmanager

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def chromium_path():
    return shutil.which("chromium") or shutil.which("chromium-browser")


@contextmanager
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


def inspect_page(b, url, screenshot):
    """Load ``url`` with the network cut off; return what a reader would see go wrong."""
    page = b.new_page(viewport={"width": 1280, "height": 900})
    errors, requests = [], []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("request", lambda r: requests.append(r.url))
    page.route("http*://**", lambda route: route.abort())  # offline: any web request fails
    page.goto(url, wait_until="load")
    page.wait_for_timeout(1500)  # MathJax and the widget manager render after load
    report = page.evaluate("""() => ({
        images: [...document.querySelectorAll('main img')].map(i => ({src: i.src, width: i.naturalWidth})),
        tables: document.querySelectorAll('main table').length,
        math_source: document.querySelectorAll('main .math').length,
        math_rendered: document.querySelectorAll('main mjx-container').length,
        widget_outputs: document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]').length,
        widgets_rendered: document.querySelectorAll('main .jupyter-widgets, main .widget-slider, main .widget-selection-slider').length,
        title: document.title,
    })""")
    page.screenshot(path=str(screenshot), full_page=True)
    page.close()
    report["errors"] = errors
    report["web_requests"] = [u for u in requests if u.startswith("http")]
    return report
