"""Open pages of the built book in headless Chromium (Debian's, driven by Playwright)."""

from __future__ import annotations

import hashlib
import shutil
from contextlib import contextmanager

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


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


# Tables and code inside the page's main column that are wider than the room they have: cut off,
# or scrolled sideways by a reader (MathJax's own containers are left out).
OVERFLOW_JS = """() => {
  const main = document.querySelector('main');
  const right = main.getBoundingClientRect().right;
  const found = [];
  for (const el of main.querySelectorAll('table, pre, .pst-scrollable-table-container, .cell_output, '
                                         + '.cell_input, .output, .widget-box, img')) {
    const box = el.getBoundingClientRect();
    if (box.width === 0) continue;
    const name = el.tagName.toLowerCase() + [...el.classList].map(c => '.' + c).join('');
    const text = (el.innerText || el.getAttribute('src') || '').trim().slice(0, 60);
    if (el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflowX !== 'visible')
      found.push(`${name} scrolls (${el.scrollWidth} px in ${el.clientWidth} px): ${text}`);
    else if (box.right > right + 1)
      found.push(`${name} ends ${Math.round(box.right - right)} px beyond the main column: ${text}`);
  }
  return found;
}"""


def inspect_page(b, url, screenshot):
    """Load ``url`` with the network cut off; return what a reader would see go wrong.

    Then every figure-choice widget (``memo_utils.figures.widgets.figure_choice``) is operated, with no
    kernel: ``widget_changes`` holds, per widget, whether choosing another option changed the
    picture shown (its ``src`` and its pixels).
    """
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
        links: [...document.querySelectorAll('main a[href]')].map(a => a.href),
        tables: document.querySelectorAll('main table').length,
        math_source: document.querySelectorAll('main .math').length,
        math_rendered: document.querySelectorAll('main mjx-container').length,
        widget_outputs: document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]').length,
        widgets_rendered: document.querySelectorAll(
            'main .jupyter-widgets, main .widget-slider, main .widget-selection-slider').length,
        title: document.title,
    })""")
    report["overflow"] = page.evaluate(OVERFLOW_JS)
    page.screenshot(path=str(screenshot), full_page=True)
    report["widget_changes"] = [operate_figure_choice(page, box) for box in page.locator(".memo-figure-choice").all()]
    page.close()
    report["errors"] = errors
    report["web_requests"] = [u for u in requests if u.startswith("http")]
    return report


def _shown(box):
    image = box.locator("img")
    if image.count() != 1:  # a Stack shows exactly its selected child
        return None, None
    return image.get_attribute("src"), hashlib.sha256(image.screenshot()).hexdigest()


def operate_figure_choice(page, box):
    """Choose another option of a figure-choice widget as a reader would; did the picture change?

    A dropdown gets another option selected; a slider's handle gets the Home key (or End, when
    it already shows the first option).
    """
    before = _shown(box)
    select = box.locator("select")
    if select.count():
        current = select.evaluate("s => s.selectedIndex")
        select.select_option(index=1 if current == 0 else 0)
    else:
        handle = box.locator(".noUi-handle").first
        handle.focus()
        page.keyboard.press("End" if handle.get_attribute("aria-valuenow") in ("0", "0.0") else "Home")
    page.wait_for_timeout(300)
    after = _shown(box)
    return {
        "before": before[0],
        "after": after[0],
        "changed": None not in before + after and before[0] != after[0] and before[1] != after[1],
    }
