"""The app as a user meets it: cold start in a real browser and the server's peak memory."""
from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.browser import launch_chromium, streamlit_server, wait_for_map, wait_idle

ROOT = Path(__file__).resolve().parents[1]
SESSION_TTL = 30  # server.disconnectedSessionTTL in .streamlit/config.toml
ALL_PAGES = ("", "mirror", "morph", "analogy", "map", "directions", "distributions", "generate", "upload")


def _status_mb(pid: int, field: str) -> float:
    """A memory figure of /proc/<pid>/status in MB: VmRSS now, VmHWM the peak so far."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024.0
    return float("nan")


def _peak_rss_mb(pid: int) -> float:
    return _status_mb(pid, "VmHWM")


def _rss_mb(pid: int) -> float:
    return _status_mb(pid, "VmRSS")


def import_seconds(module: str) -> float:
    """Cold import time of one module in a fresh interpreter."""
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    return round(float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                                      check=True).stdout.strip().splitlines()[-1]), 2)


def app_imports_umap() -> bool:
    """Whether loading every page and the engine pulls in umap (it should not: maps are precomputed)."""
    code = ("import sys, explorer.pages.latent_map, explorer.pages.morph, explorer.pages.studio, "
            "explorer.pages.distributions, explorer.pages.generate, explorer.pages.your_image, "
            "explorer.pages.mirror, explorer.pages.directions; "
            "from explorer.engine import Engine; Engine(); print('umap' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True).stdout
    return out.strip().splitlines()[-1] == "True"


def _open_map(browser, url: str):
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(f"{url}/map")
    page.wait_for_selector('[data-testid="stApp"]', timeout=120_000)
    wait_for_map(page)
    return page


def _upload_picture(folder: Path) -> Path:
    """A noisy 560x560 PNG of about 0.9 MB: a face on a plain backdrop, hard to compress."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    pixels = np.full((560, 560, 3), 250, np.uint8)
    pixels[80:480, 60:500] = (242, 205, 55)
    pixels[80:480, 60:500] = np.clip(pixels[80:480, 60:500] + rng.integers(-40, 40, (400, 440, 3)), 0, 255)
    path = folder / "face.png"
    Image.fromarray(pixels).save(path)
    return path


def measure_churn(browser, url: str, pid: int, picture: Path, sessions: int = 20, settle: float = 60.0) -> dict:
    """Sessions that each upload a picture, open the map and close: how much of the memory they
    took comes back once they are gone (the server drops a closed tab's session after 30 s)."""
    time.sleep(SESSION_TTL + 5)  # sessions closed before this step are dropped first
    before = _rss_mb(pid)
    for _ in range(sessions):
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto(f"{url}/upload")
        page.wait_for_selector('input[type="file"]', state="attached", timeout=120_000)
        page.set_input_files('input[type="file"]', str(picture))
        page.get_by_text("Your image is now").wait_for(timeout=120_000)
        page.get_by_role("link", name="Latent map").click()
        wait_for_map(page)
        page.close()
    during = _rss_mb(pid)
    time.sleep(settle)
    after = _rss_mb(pid)
    return {"sessions": sessions, "rss_before_mb": round(before, 1), "rss_with_sessions_mb": round(during, 1),
            "rss_after_mb": round(after, 1), "settle_seconds": settle, "kept_mb": round(after - before, 1)}


def _upload_then_map(page, picture: Path, stage: dict, number: int) -> None:
    """Upload a picture (under a name of its own) on its page, then open the map once the page
    has placed it; `stage` names the step being waited for, for a report of a step that never
    came."""
    page.get_by_role("link", name="Your own image").click()
    stage["at"] = "the file input"
    page.wait_for_selector('input[type="file"]', state="attached", timeout=30_000)
    named = picture.with_name(f"face-{number}.png")
    shutil.copyfile(picture, named)
    page.set_input_files('input[type="file"]', str(named))
    stage["at"] = "the upload's result"
    # as a person waits for the new picture: the page says "Your image is now" from the last
    # upload at once, and a sidebar click made while this upload's run starts can be lost
    page.get_by_text(named.name, exact=True).wait_for(timeout=30_000)
    wait_idle(page)
    page.get_by_text("Your image is now").wait_for(timeout=30_000)
    page.get_by_role("link", name="Latent map").click()
    stage["at"] = "the map"
    wait_for_map(page, 30_000)


def _landed_on(page) -> str:
    """Where a tab that did not show its page stands: its path and its title."""
    return page.evaluate("() => location.pathname + ' ' + Array.from(document.querySelectorAll('h1'),"
                         " h => h.textContent).join(' / ')")


def _record_trouble(page, events: list) -> None:
    """Keep what a tab saw go wrong (console errors, failed requests, a closed websocket), so
    that a stuck step's report says more than where it stood."""
    def console(message):
        if message.type == "error":
            events.append(f"console: {message.text[:160]}")

    def response(answer):
        if answer.status >= 400:
            events.append(f"HTTP {answer.status}: {answer.request.method} {answer.url[-80:]}")

    page.on("console", console)
    page.on("response", response)
    page.on("requestfailed", lambda request: events.append(f"failed: {request.method} {request.url[-80:]}"))
    page.on("websocket", lambda socket: socket.on("close", lambda _: events.append("websocket closed")))


def measure_soak(browser, url: str, pid: int, picture: Path, sessions: int = 4, seconds: float = 600.0) -> dict:
    """`sessions` tabs for `seconds`, each step a sidebar page switch or (every third step) an
    upload followed by the map: the peak memory, and the steps whose page did not show in 30 s."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    links = ["Mirror", "Morph", "Latent map", "Your own directions", "Latent distributions", "Generate and inspect",
             "Expression studio"]
    pages = [browser.new_page(viewport={"width": 1280, "height": 800}) for _ in range(sessions)]
    troubles: list[list[str]] = [[] for _ in pages]
    for page, events in zip(pages, troubles):
        _record_trouble(page, events)
        page.goto(url)
        page.wait_for_selector("h1", timeout=120_000)
    started, steps, uploads, peak = time.perf_counter(), 0, 0, _rss_mb(pid)
    stuck: list[str] = []
    while time.perf_counter() - started < seconds:
        for number, page in enumerate(pages):
            stage = {"at": "the page's title"}
            troubles[number].clear()
            try:
                if (steps + number) % 3 == 2:
                    uploads += 1
                    _upload_then_map(page, picture, stage, uploads)
                else:
                    name = links[(steps + number) % len(links)]
                    page.get_by_role("link", name=name).click()
                    page.get_by_role("heading", name=name).wait_for(timeout=30_000)
            except PlaywrightTimeout:
                seen = "; ".join(troubles[number][-4:]) or "no error seen"
                stuck.append(f"{_landed_on(page)}, waiting for {stage['at']} ({seen})")  # reload the tab, go on
                page.goto(url)
                page.wait_for_selector("h1", timeout=120_000)
            steps += 1
        pages[0].wait_for_timeout(300)
        peak = max(peak, _rss_mb(pid))
    for page in pages:
        page.close()
    return {"sessions": sessions, "seconds": seconds, "interactions": steps, "uploads": uploads,
            "peak_rss_mb": round(peak, 1), "end_rss_mb": round(_rss_mb(pid), 1),
            "not_shown_within_30_s": len(stuck), "stuck_on": stuck}


def measure_app(sessions: int = 8, soak_seconds: float = 600.0) -> dict:
    """Seconds from `streamlit run` to a drawn map, and peak server memory for 1 and N sessions."""
    from playwright.sync_api import sync_playwright

    started = time.perf_counter()
    with streamlit_server() as (url, server), sync_playwright() as p:
        browser = launch_chromium(p)
        first = _open_map(browser, url)
        cold_start = time.perf_counter() - started
        first.wait_for_timeout(1000)
        one_session = _peak_rss_mb(server.pid)
        for path in ALL_PAGES:  # the same session through every page, each drawn whole
            first.goto(f"{url}/{path}")
            first.wait_for_selector("h1", timeout=120_000)
            wait_idle(first)
        one_session_all_pages = _peak_rss_mb(server.pid)
        pages = [first]
        for _ in range(sessions - 1):
            pages.append(_open_map(browser, url))
        for page, path in zip(pages, ["", "morph", "studio", "generate", "distributions", "map", "mirror",
                                      "directions"]):
            page.goto(f"{url}/{path}")
        for page in pages:
            page.wait_for_selector("h1", timeout=120_000)
            page.wait_for_timeout(500)
        time.sleep(2)
        many_sessions = _peak_rss_mb(server.pid)
        for page in pages:
            page.close()
        with tempfile.TemporaryDirectory() as folder:
            picture = _upload_picture(Path(folder))
            churn = measure_churn(browser, url, server.pid, picture)
            soak = measure_soak(browser, url, server.pid, picture, seconds=soak_seconds) if soak_seconds else None
        browser.close()
    return {"cold_start_seconds": round(cold_start, 2), "peak_rss_mb_1_session": round(one_session, 1),
            "peak_rss_mb_1_session_all_pages": round(one_session_all_pages, 1),
            f"peak_rss_mb_{sessions}_sessions": round(many_sessions, 1), "sessions": sessions, "churn": churn,
            "soak": soak}
