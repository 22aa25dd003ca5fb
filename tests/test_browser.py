"""End to end in a real headless Chromium: the map decodes clicks, the morph page builds a strip."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

playwright = pytest.importorskip("playwright.sync_api")

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update"]
ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists() and not os.environ.get("CI"),
                                reason="Debian's chromium is not installed")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(url: str, process: subprocess.Popen, timeout: float = 90) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError("streamlit did not become healthy")


@pytest.fixture(scope="module")
def server():
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, process)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture(scope="module")
def browser():
    with playwright.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    yield context.new_page()
    context.close()


def open_page(page, url: str, title: str) -> None:
    page.goto(url)
    page.wait_for_selector('[data-testid="stApp"]', timeout=90_000)
    page.get_by_role("heading", name=title).wait_for(timeout=90_000)
    wait_idle(page)


def wait_idle(page) -> None:
    """Until Streamlit has finished the current run (no running indicator)."""
    page.wait_for_timeout(300)
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidgetRunningIcon\"]')",
                           timeout=60_000)
    page.wait_for_timeout(300)


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
            const data = gd._fullData.slice(1).flatMap(t => Array.from(t.x, (x, i) => [xa.d2p(x), ya.d2p(t.y[i])]));
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


def test_map_click_decodes_points_and_empty_spots(server, page, tmp_path):
    open_page(page, f"{server}/map", "Latent map")
    page.wait_for_selector(".js-plotly-plot", timeout=60_000)
    page.wait_for_timeout(1000)
    x, y = plot_point(page, 1, 0)
    page.mouse.click(x, y)
    page.get_by_text("reconstruction", exact=True).wait_for(timeout=60_000)
    wait_idle(page)
    assert page.locator('[data-testid="stImage"] img').count() >= 2
    page.get_by_text("reconstruction", exact=True).scroll_into_view_if_needed()
    page.screenshot(path=str(tmp_path / "map-point.png"), full_page=True)

    x, y = plot_point(page, 0, emptiest_grid_point(page))
    page.mouse.click(x, y)
    page.get_by_text("decoded from this spot").wait_for(timeout=60_000)
    wait_idle(page)
    assert "Empty spot" in page.locator("h3").first.inner_text()
    page.get_by_text("decoded from this spot").scroll_into_view_if_needed()
    page.screenshot(path=str(tmp_path / "map-empty.png"), full_page=True)
    keep_screenshots(tmp_path)


def click_table_row(page, table_index: int, row: int) -> None:
    """Tick the selection box of a row of the n-th dataframe on the page (a canvas grid)."""
    table = page.locator('[data-testid="stDataFrame"]').nth(table_index)
    table.locator("canvas").first.wait_for(timeout=60_000)
    table.scroll_into_view_if_needed()
    page.wait_for_timeout(800)  # the grid settles its layout after scrolling
    box = table.bounding_box()
    row_height = 35
    page.mouse.click(box["x"] + 18, box["y"] + row_height * (row + 1.5))


def test_morph_strip_follows_the_picked_faces(server, page, tmp_path):
    open_page(page, f"{server}/morph", "Morph")
    strong = page.locator('[data-testid="stMain"] [data-testid="stMarkdownContainer"] strong')
    heading = strong.first
    before = heading.inner_text()
    click_table_row(page, 0, 3)
    wait_idle(page)
    page.wait_for_function("(old) => document.querySelector('[data-testid=\"stMain\"] "
                           "[data-testid=\"stMarkdownContainer\"] strong').innerText !== old", arg=before,
                           timeout=60_000)
    lego_pick = heading.inner_text()
    assert lego_pick != before
    emoji_before = strong.nth(1).inner_text()
    click_table_row(page, 1, 2)
    wait_idle(page)
    page.wait_for_function("(old) => document.querySelectorAll('[data-testid=\"stMain\"] "
                           "[data-testid=\"stMarkdownContainer\"] strong')[1].innerText !== old", arg=emoji_before,
                           timeout=60_000)
    assert page.locator('[data-testid="stImage"] img').first.is_visible()
    assert "lego=" in page.url and "emoji=" in page.url
    page.screenshot(path=str(tmp_path / "morph.png"), full_page=True)
    keep_screenshots(tmp_path)


def keep_screenshots(folder: Path) -> None:
    """Copy screenshots to $LEGOMOJI_SCREENSHOTS when set (for looking at them after CI)."""
    target = os.environ.get("LEGOMOJI_SCREENSHOTS")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        for shot in folder.glob("*.png"):
            shutil.copy(shot, Path(target) / shot.name)
