"""The real browser, once for tests and benchmarks: Debian's Chromium driven by Playwright,
a Streamlit server on a free local port, and the few page helpers both need. It lives with the
tests, which import nothing from bench/; the benchmarks import it from here."""
from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Iterator

import numpy as np
from PIL import Image

from common.static_files import STATIC_FOLDER

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(url: str, process: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError("streamlit did not become healthy")


@contextlib.contextmanager
def streamlit_server(*extra: str, root: Path = ROOT) -> Iterator[tuple[str, subprocess.Popen]]:
    """`streamlit run streamlit_app.py` in the checkout at `root`, on a free port: yields
    (url, process) once healthy."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true", *extra],
        cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, process)
        yield url, process
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()  # a server stuck in a script run does not answer SIGTERM in time
            process.wait(timeout=30)


def launch_chromium(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)


def wait_idle(page) -> None:
    """Until Streamlit has finished the current run (no running indicator, the app not running)."""
    page.wait_for_timeout(300)
    page.wait_for_function("() => !document.querySelector('[data-testid=stStatusWidgetRunningIcon]') && "
                           "document.querySelector('[data-testid=stApp]')?.dataset.testScriptState !== 'running'",
                           timeout=60_000)
    page.wait_for_timeout(300)


def open_page(page, url: str, title: str, pictures: int = 0) -> None:
    """Open a page and wait for its title, the end of its run and at least `pictures` images."""
    page.goto(url)
    page.wait_for_selector('[data-testid="stApp"]', timeout=90_000)
    page.get_by_role("heading", name=title).wait_for(timeout=90_000)
    wait_idle(page)
    if pictures:
        page.wait_for_function("(n) => document.querySelectorAll('[data-testid=stMain] [data-testid=stImage] img')"
                               ".length >= n", arg=pictures, timeout=90_000)
        wait_idle(page)  # the first pictures can come while the run still draws the rest


def wait_for_map(page, timeout_ms: int = 120_000) -> None:
    page.wait_for_function("() => { const gd = document.querySelector('.js-plotly-plot');"
                           " return gd && gd._fullData && gd._fullData.length > 1; }", timeout=timeout_ms)


def plot_point(page, trace: int, index: int) -> tuple[float, float]:
    """Viewport coordinates of point `index` of `trace` in the plotly map (scrolled into view)."""
    page.locator(".js-plotly-plot").scroll_into_view_if_needed()
    return page.evaluate(
        """([trace, index]) => {
            const gd = document.querySelector('.js-plotly-plot');
            const layout = gd._fullLayout, box = gd.getBoundingClientRect();
            const data = gd._fullData[trace];
            return [box.left + layout._size.l + layout.xaxis.d2p(data.x[index]),
                    box.top + layout._size.t + layout.yaxis.d2p(data.y[index])];
        }""",
        [trace, index],
    )


def emptiest_grid_point(page) -> int:
    """Index of the background-grid point farthest (on screen) from every data point."""
    return page.evaluate(
        """() => {
            const gd = document.querySelector('.js-plotly-plot');
            const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis, grid = gd._fullData[0];
            const points = gd._fullData.slice(1).filter(t => t.customdata);  // not the contours
            const data = points.flatMap(t => Array.from(t.x, (x, i) => [xa.d2p(x), ya.d2p(t.y[i])]));
            let best = 0, bestDistance = -1;
            Array.from(grid.x).forEach((x, i) => {
                const px = xa.d2p(x), py = ya.d2p(grid.y[i]);
                if (px < 60 || py < 60 || px > xa._length - 60 || py > ya._length - 60) return;  // clear of the modebar
                const d = Math.min(...data.map(([qx, qy]) => Math.hypot(px - qx, py - qy)));
                if (d > bestDistance) { bestDistance = d; best = i; }
            });
            return best;
        }"""
    )


def face_clicker(page, grid: int):
    """A function that clicks the n-th face of the grid-th face picker on the page (the grid
    scrolled into view once, before any timing)."""
    picker = page.locator(".faces").nth(grid)
    faces = picker.locator("button.face")
    faces.first.wait_for(timeout=60_000)
    picker.scroll_into_view_if_needed()
    return lambda n: faces.nth(n).click()


def click_face(page, grid: int, n: int) -> None:
    """Click the n-th face of the grid-th face picker on the page."""
    face_clicker(page, grid)(n)


def picture_at(sources: list[str], index: int) -> str:
    """The index-th of `sources` (from the end when negative), "" when there is none."""
    return sources[index] if -len(sources) <= index < len(sources) else ""


def image_sources(page) -> list[str]:
    """The src of every picture Streamlit shows in the main area (they change with the pixels)."""
    return page.evaluate("() => Array.from(document.querySelectorAll("
                         "'[data-testid=stMain] [data-testid=stImage] img'), img => img.src)")


# The studio's redraw, the picture a click waits for (an emoji as the target, the shared model):
# after the face and its print, before the redraw as an emoji and the target emoji. Counted from
# the end, since only the printed way shows a print before it.
STUDIO_RESULT = -3

PICTURE_CHANGED = """([old, index]) => {
    const now = Array.from(document.querySelectorAll('[data-testid=stMain] [data-testid=stImage] img'),
                           img => img.complete && img.naturalWidth > 0 ? img.src : '');
    const picture = now.at(index);
    return picture !== undefined && picture !== '' && picture !== old;
}"""  # the index-th picture of the main area (from the end when negative) shows something other than `old`

PAGE_SHOWN = """(title) => {
    const main = document.querySelector('[data-testid=stMain]');
    const charts = Array.from(main.querySelectorAll('[data-testid=stPlotlyChart]'));
    return Array.from(main.querySelectorAll('h1'), h => h.textContent).some(text => text.includes(title))
        && document.querySelector('[data-testid=stApp]').dataset.testScriptState === 'notRunning'
        && charts.every(chart => chart.querySelector('.main-svg'));
}"""  # a page's title shown, its run over (Streamlit's script state on the app's root), its charts drawn

# Timing on the page's own clock: from the input event (a pointer or key press, caught before
# any handler of the page) to the first frame painted after a condition holds (the condition is
# polled every 10 ms; the time is taken once the next animation frame has been drawn, so a
# picture or title in the page but not yet on the screen does not count). Timed from Python, a
# click also counted Playwright's checks before it dispatched the click (50-175 ms for a button
# near the top of a scrolled page).
_MARK_INPUT = """() => {
    if (!window.__inputMarked) {
        window.__inputMarked = true;
        for (const type of ['pointerdown', 'keydown'])
            window.addEventListener(type, () => { window.__inputAt = performance.now(); }, true);
    }
    window.__inputAt = null;
    window.__metAt = null;
    window.__met = false;
}"""


def input_to(page, action, condition: str, arg, timeout_ms: int = 60_000) -> float:
    """Run `action` (a click or a key press) and wait until the JavaScript `condition(arg)`
    holds and the next frame is drawn; milliseconds from the input event in the page to then."""
    page.evaluate(_MARK_INPUT)
    action()
    page.wait_for_function(f"(arg) => {{ if (!window.__met && ({condition})(arg)) {{ window.__met = true; "
                           "requestAnimationFrame(() => setTimeout(() => { window.__metAt = performance.now(); })); } "
                           "return window.__metAt !== null; }", arg=arg, timeout=timeout_ms, polling=10)
    started, met = page.evaluate("() => [window.__inputAt, window.__metAt]")
    if started is None:
        raise RuntimeError("the action sent no pointer or key press to the page")
    return met - started


def listing_of_atlas(name: str) -> dict:
    """The face list (cache.face_list_url) whose atlas is the static file `name`."""
    for path in STATIC_FOLDER.glob("faces-*.json"):
        listing = json.loads(path.read_text())
        if isinstance(listing, dict) and listing["atlas"] == name:  # older lists were plain lists
            return listing
    raise LookupError(f"no face list names the atlas {name}")


def atlas_cells(listing: dict) -> np.ndarray:
    """Every face's picture in the atlas a face picker's list names (explorer.cache.face_list_url),
    read from the static folder, in the list's order."""
    side, columns = listing["side"], listing["columns"]
    with Image.open(STATIC_FOLDER / listing["atlas"]) as atlas:
        pixels = np.asarray(atlas.convert("RGB"), dtype=float)
    rows = pixels.reshape(-1, side, columns, side, 3).transpose(0, 2, 1, 3, 4).reshape(-1, side, side, 3)
    return rows[:len(listing["faces"])]


def matches_cell(cells: np.ndarray, picture: np.ndarray, k: int) -> bool:
    """Whether `picture` is cell k: within 10 grey levels of it on average (the atlas is a lossy
    WebP: 4.7 at the median, 8.1 at most on the shipped Lego faces, against 30 or more from another
    face), and nearer to it than to 98 % of the other cells (a few faces are one print on two moulds)."""
    errors = np.abs(cells - picture).mean(axis=(1, 2, 3))
    return errors[k] < 10 and np.mean(errors < errors[k]) < 0.02
