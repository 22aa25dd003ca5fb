"""Faces drawn in the browser (explorer/live.py), measured in headless Chromium: the face under a
moving pointer on the map, what a cold browser fetches before its first live face over the
emulated home connection, the tab's memory after minutes of moving, and what the server does
while eight sessions move at once (against the clicks it answers without the live path).
"""
from __future__ import annotations

import json
import math
import time

import numpy as np

from bench.wire import HOME_CONNECTION, Wire
from tests.browser import launch_chromium, open_page, plot_point, streamlit_server, wait_for_map, wait_idle

FIND_PANEL = """() => { for (const host of document.querySelectorAll('*')) {
    const panel = host.shadowRoot && host.shadowRoot.querySelector('.live');
    if (panel) return panel;
} return null; }"""
RECORD_MOVES = """() => { if (!window.legomojiMoves) document.addEventListener('pointermove',
    (e) => window.legomojiMoves.push(e.timeStamp), { capture: true }); window.legomojiMoves = []; }"""
LIVE_FILES = ("/app/static/vendor/", ".tflite.gz", ".f16")  # the runtime's and the networks' requests


def _open_live_map(page, url: str, timeout_ms: int = 120_000) -> None:
    open_page(page, f"{url}/map", "Latent map")
    wait_for_map(page)
    page.wait_for_function(f"() => ({FIND_PANEL})()?.dataset.ready === 'yes'", timeout=timeout_ms)
    wait_idle(page)


def _path(area: dict, moves: int) -> list[tuple[float, float]]:
    """A figure of eight across the map's plot area: over points and the space between them."""
    t = np.linspace(0, 2 * math.pi, moves)
    u, v = 0.5 + 0.38 * np.sin(t), 0.5 + 0.3 * np.sin(2 * t)
    return [(area["x"] + a * area["width"], area["y"] + b * area["height"]) for a, b in zip(u, v)]


def pointer_moves(page, moves: int = 200, interval_ms: int = 16) -> dict:
    """`moves` pointer moves along a path at about 60 per second: for each, the time until a
    face at least as new as it is on the canvas (p50, p95); the faces drawn; the time from the
    last move to the refined face; and the websocket messages the page sent meanwhile."""
    sent = []
    page.on("websocket", lambda socket: socket.on("framesent", lambda frame: sent.append(frame)))
    page.evaluate(RECORD_MOVES)
    page.evaluate("() => { window.legomojiLive.log.length = 0; }")
    area = page.locator(".js-plotly-plot .nsewdrag").first.bounding_box()
    before = len(sent)
    for x, y in _path(area, moves):
        page.mouse.move(x, y)
        page.wait_for_timeout(interval_ms)
    page.wait_for_function(f"() => ({FIND_PANEL})()?.dataset.state === 'refined'", timeout=30_000)
    page.wait_for_timeout(300)
    moved, log = page.evaluate("() => [window.legomojiMoves, window.legomojiLive.log]")
    raw = sorted((asked, drawn) for asked, drawn, refined in log if not refined)
    waits = []
    for t in moved:
        drawn = [d for a, d in raw if a >= t]
        if drawn:
            waits.append(min(drawn) - t)
    refined = [d for a, d, r in log if r]
    return {"moves": len(moved), "faces_drawn": len(raw), "p50_ms": round(float(np.median(waits)), 1),
            "p95_ms": round(float(np.percentile(waits, 95)), 1),
            "refined_after_last_move_ms": round(max(refined) - max(moved), 1) if refined else None,
            "websocket_messages_sent": len(sent) - before}


FIND_CONTROLS = """(label) => { for (const host of document.querySelectorAll('*')) {
    const controls = host.shadowRoot && host.shadowRoot.querySelector('.controls');
    if (controls && (label === null || controls.inputs[0].name === label)) return controls;
} return null; }"""
DRAG = """([label, k, low, high, count, interval]) => new Promise((resolve) => {  // a drag, as the page's input events
    const input = (FIND)(label).inputs[k]; const asked = []; let j = 0;
    const step = () => {
        input.value = low + (high - low) * j / (count - 1);
        const event = new Event('input', { bubbles: true });
        input.dispatchEvent(event);
        asked.push(event.timeStamp);
        j += 1;
        if (j < count) setTimeout(step, interval); else resolve([asked, performance.now()]);
    };
    step();
})""".replace("FIND", FIND_CONTROLS)
# (page, title, the label of the sliders' first, the slider dragged, its bounds, a section to open first)
SLIDERS = {
    "studio: strength": ("", "Expression studio", "Strength", 0, (0.0, 2.0), None),
    "studio: expression mix (sad)": ("", "Expression studio", "smile", 3, (-1.0, 2.0), "Mix expressions yourself"),
    "morph: scrubber": ("morph", "Morph", "Along the path", 0, (0.0, 1.0), None),
    "mirror: Lego ⟷ emoji": ("mirror", "Mirror", "Lego ⟷ emoji", 0, (0.0, 1.0), None),
    "directions: amount": ("directions", "Your own directions", None, 0, (-2.0, 2.0), None),
    "analogies: s": ("analogy", "Analogies", "s: from A towards B", 0, (0.0, 1.0), None),
    "generate: temperature (12 faces)": ("generate", "Generate and inspect", "Temperature", 0, (0.1, 2.0), None),
}
ASKED_FOR = {"studio: strength", "studio: expression mix (sad)", "morph: scrubber", "mirror: Lego ⟷ emoji",
             "directions: amount"}  # the drags the goals speak of; the others are reported as measured


def slider_drags(page, url: str, path: str, title: str, label: str | None, k: int, bounds: tuple[float, float],
                 opened: str | None, frames: int = 60) -> dict:
    """A drag of slider k of the page's live sliders (those whose first is labelled `label`, or
    the page's first where None) across `bounds` in `frames` input events about 16 ms apart: for each, the
    time until faces at least as new are on the canvases (p50, p95); the time from the last to
    the refined faces; and the websocket messages sent meanwhile."""
    sent = []
    page.on("websocket", lambda socket: socket.on("framesent", lambda frame: sent.append(frame)))
    open_page(page, f"{url}/{path}", title, pictures=1)
    if opened:
        page.get_by_text(opened).click()
    find = f"() => ({FIND_CONTROLS})({json.dumps(label)})"
    page.wait_for_function(f"{find}?.dataset.ready === 'yes'", timeout=120_000)
    wait_idle(page)
    page.evaluate(DRAG, [label, k, bounds[1], bounds[0], 10, 16])  # a warm-up
    page.wait_for_timeout(1500)
    page.evaluate("() => { window.legomojiLive.log.length = 0; }")
    before = len(sent)
    asked, ended = page.evaluate(DRAG, [label, k, bounds[0], bounds[1], frames, 16])
    page.wait_for_function(f"() => {{ const root = ({find})(); return root.dataset.state === 'refined' && "
                           "root.dataset.values === root.values.join(','); }", timeout=60_000)
    page.wait_for_timeout(300)
    log = page.evaluate("() => window.legomojiLive.log")
    raw = [(a, d) for a, d, refined in log if not refined]
    waits = [min(d for a, d in raw if a >= t) - t for t in asked if any(a >= t for a, _ in raw)]
    refined = [d for a, d, r in log if r]
    return {"frames": len(asked), "faces_drawn": len(raw), "p50_ms": round(float(np.median(waits)), 1),
            "p95_ms": round(float(np.percentile(waits, 95)), 1),
            "refined_after_last_frame_ms": round(max(refined) - asked[-1], 1) if refined else None,
            "websocket_messages_sent": len(sent) - before}


def cold_live(playwright, url: str, conditions: dict, loads: int = 3, path: str = "map") -> dict:
    """A fresh browser (empty cache) over `conditions`: seconds from opening a page (the map,
    where the pointer then moves over the plot, or a page of live sliders) to its first live
    face (the median of `loads`); the bytes the runtime and the networks took on the wire, and
    all the bytes the page took until then."""
    seconds, live_bytes, all_bytes = [], [], []
    for _ in range(loads):
        browser = launch_chromium(playwright)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        wire = Wire(page)
        wire.emulate(conditions)
        requests, sizes = {}, []
        wire.client.on("Network.requestWillBeSent", lambda e, into=requests: into.update({e["requestId"]:
                                                                                          e["request"]["url"]}))
        wire.client.on("Network.loadingFinished", lambda e, into=sizes, urls=requests: into.append(
            e["encodedDataLength"]) if any(part in urls.get(e["requestId"], "") for part in LIVE_FILES) else None)
        every = []
        wire.client.on("Network.loadingFinished", lambda e, into=every: into.append(e["encodedDataLength"]))
        started = time.perf_counter()
        page.goto(f"{url}/{path}")
        if path == "map":
            page.wait_for_function(f"() => ({FIND_PANEL})()?.dataset.ready === 'yes'", timeout=180_000)
            area = page.locator(".js-plotly-plot .nsewdrag").first.bounding_box()
            page.mouse.move(area["x"] + area["width"] / 3, area["y"] + area["height"] / 2)
            page.wait_for_function(f"() => ({FIND_PANEL})()?.dataset.state", timeout=60_000)
        else:
            page.wait_for_function(f"() => ({FIND_CONTROLS})(null)?.dataset.state", timeout=180_000)
        seconds.append(round(time.perf_counter() - started, 2))
        live_bytes.append(sum(sizes))
        all_bytes.append(sum(every))
        browser.close()
    return {"page": path, "median_s": round(float(np.median(seconds)), 2), "each_s": seconds,
            "live_mb_on_the_wire": round(live_bytes[0] / 1e6, 2), "page_mb_on_the_wire": round(all_bytes[0] / 1e6, 2)}


def heap_after_moving(page, minutes: float) -> dict:
    """The tab's JavaScript heap (DevTools' used size) before and after `minutes` of moving."""
    client = page.context.new_cdp_session(page)
    before = client.send("Runtime.getHeapUsage")["usedSize"]
    area = page.locator(".js-plotly-plot .nsewdrag").first.bounding_box()
    path = _path(area, 400)
    ends = time.perf_counter() + minutes * 60
    k = 0
    while time.perf_counter() < ends:
        page.mouse.move(*path[k % len(path)])
        page.wait_for_timeout(16)
        k += 1
    client.send("HeapProfiler.collectGarbage")
    after = client.send("Runtime.getHeapUsage")["usedSize"]
    return {"minutes": minutes, "moves": k, "heap_mb_before": round(before / 1e6, 1),
            "heap_mb_after": round(after / 1e6, 1)}


def _cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process and its threads (Linux /proc)."""
    import os

    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def sessions_at_once(browser, url: str, pid: int, sessions: int, moves: int) -> dict:
    """Server CPU seconds while `sessions` sessions each move over the map `moves` times (the
    live path), and while the same sessions each click `clicks` points of it (each click a run
    of the server's): what one explored point costs the server either way."""
    pages = []
    for _ in range(sessions):
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        _open_live_map(page, url)
        pages.append(page)
    area = pages[0].locator(".js-plotly-plot .nsewdrag").first.bounding_box()
    path = _path(area, moves)
    time.sleep(2)
    cpu = _cpu_seconds(pid)
    started = time.perf_counter()
    for x, y in path:
        for page in pages:
            page.mouse.move(x, y)
    for page in pages:
        page.wait_for_function(f"() => ({FIND_PANEL})()?.dataset.state === 'refined'", timeout=60_000)
    moving = {"seconds": round(time.perf_counter() - started, 1), "server_cpu_s": round(_cpu_seconds(pid) - cpu, 2),
              "faces_drawn": sum(page.evaluate("() => window.legomojiLive.log.length") for page in pages)}
    clicks = 5
    cpu = _cpu_seconds(pid)
    for k in range(clicks):
        for page in pages:
            page.mouse.click(*plot_point(page, 1 + k % 2, 13 * k + 1))
        for page in pages:
            page.get_by_text("nearest neighbours in latent space").first.wait_for(timeout=120_000)
            wait_idle(page)
    clicking = {"clicks": clicks * sessions, "server_cpu_s": round(_cpu_seconds(pid) - cpu, 2)}
    clicking["server_cpu_ms_per_click"] = round(1000 * clicking["server_cpu_s"] / clicking["clicks"], 1)
    return {"sessions": sessions, "moves_each": moves, "moving": moving, "clicking": clicking,
            "dragging": _dragging_at_once(pages, url, pid)}


def _dragging_at_once(pages: list, url: str, pid: int, frames: int = 60) -> dict:
    """Server CPU seconds while the sessions of `pages` all drag the studio's strength slider at
    once (`frames` input events each), and then per let-go (each a run of the studio's result)."""
    for page in pages:
        open_page(page, url, "Expression studio", pictures=5)
    find = f"() => ({FIND_CONTROLS})('Strength')"
    for page in pages:
        page.wait_for_function(f"{find}?.dataset.ready === 'yes'", timeout=120_000)
        wait_idle(page)
    time.sleep(2)
    cpu, started = _cpu_seconds(pid), time.perf_counter()
    for page in pages:  # every drag under way before any ends
        page.evaluate(f"(args) => {{ window.legomojiDragged = false; ({DRAG})(args).then(() => "
                      "{ window.legomojiDragged = true; }); }", ["Strength", 0, 0.2, 1.8, frames, 16])
    for page in pages:
        page.wait_for_function(f"() => window.legomojiDragged && ({find})().dataset.state === 'refined'",
                               timeout=120_000)
    dragging = {"seconds": round(time.perf_counter() - started, 1), "server_cpu_s": round(_cpu_seconds(pid) - cpu, 2),
                "frames": frames * len(pages)}
    cpu = _cpu_seconds(pid)
    for page in pages:
        page.evaluate(f"() => ({find})().inputs[0].dispatchEvent(new Event('change', {{bubbles: true}}))")
    for page in pages:
        page.wait_for_function("() => new URL(location.href).searchParams.get('strength') === '1.80'", timeout=120_000)
        wait_idle(page)
    dragging["server_cpu_ms_per_let_go"] = round(1000 * (_cpu_seconds(pid) - cpu) / len(pages), 1)
    for page in pages:
        page.close()
    return dragging


def measure_live(moves: int = 200, heap_minutes: float = 5.0, sessions: int = 8) -> dict:
    from playwright.sync_api import sync_playwright

    results = {"home_connection": HOME_CONNECTION}
    with streamlit_server() as (url, process), sync_playwright() as p:
        browser = launch_chromium(p)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        _open_live_map(page, url)
        pointer_moves(page, 40)  # a warm-up
        results["map_pointer"] = pointer_moves(page, moves)
        results["sliders"] = {}
        for name, args in SLIDERS.items():
            tab = browser.new_page(viewport={"width": 1400, "height": 1000})
            results["sliders"][name] = slider_drags(tab, url, *args) | {"goal": name in ASKED_FOR}
            tab.close()
        results["heap"] = heap_after_moving(page, heap_minutes)
        page.close()
        results["sessions"] = sessions_at_once(browser, url, process.pid, sessions, 60)
        browser.close()
        results["cold_home"] = cold_live(p, url, HOME_CONNECTION)
        results["cold_home_mirror"] = cold_live(p, url, HOME_CONNECTION, path="mirror")
    return results


if __name__ == "__main__":
    print(json.dumps(measure_live(100, 0.2, 2), indent=2))
