"""The app as a user meets it: cold start in a real browser and the server's peak memory."""
from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _peak_rss_mb(pid: int) -> float:
    """VmHWM: the process's peak resident set size so far."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024.0
    return float("nan")


def import_seconds(module: str) -> float:
    """Cold import time of one module in a fresh interpreter."""
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    return round(float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                                      check=True).stdout.strip().splitlines()[-1]), 2)


def app_imports_umap() -> bool:
    """Whether loading every page and the engine pulls in umap (it should not: maps are precomputed)."""
    code = ("import sys, explorer.pages.latent_map, explorer.pages.morph, explorer.pages.studio, "
            "explorer.pages.distributions, explorer.pages.generate, explorer.pages.your_image; "
            "from explorer.engine import Engine; Engine(); print('umap' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True).stdout
    return out.strip().splitlines()[-1] == "True"


def _open_map(browser, url: str, timeout_ms: int = 120_000):
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(f"{url}/map")
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout_ms)
    page.wait_for_function("() => { const gd = document.querySelector('.js-plotly-plot');"
                           " return gd && gd._fullData && gd._fullData.length > 1; }", timeout=timeout_ms)
    return page


def measure_app(sessions: int = 8) -> dict:
    """Seconds from `streamlit run` to a drawn map, and peak server memory for 1 and N sessions."""
    from playwright.sync_api import sync_playwright

    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    started = time.perf_counter()
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            while True:  # the browser may only connect once the server listens
                try:
                    urllib.request.urlopen(f"{url}/_stcore/health", timeout=1)
                    break
                except OSError as error:
                    if server.poll() is not None or time.perf_counter() - started > 120:
                        raise RuntimeError("streamlit did not start") from error
                    time.sleep(0.1)
            first = _open_map(browser, url)
            cold_start = time.perf_counter() - started
            first.wait_for_timeout(1000)
            one_session = _peak_rss_mb(server.pid)
            pages = [first]
            for _ in range(sessions - 1):
                pages.append(_open_map(browser, url))
            for page, path in zip(pages, ["", "morph", "studio", "generate", "distributions", "map", "morph", ""]):
                page.goto(f"{url}/{path}")
            for page in pages:
                page.wait_for_selector("h1", timeout=120_000)
                page.wait_for_timeout(500)
            time.sleep(2)
            many_sessions = _peak_rss_mb(server.pid)
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    return {"cold_start_seconds": round(cold_start, 2), "peak_rss_mb_1_session": round(one_session, 1),
            f"peak_rss_mb_{sessions}_sessions": round(many_sessions, 1), "sessions": sessions}
