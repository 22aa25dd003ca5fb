"""Faces drawn in a real headless Chromium (explorer/live.py): the browser's pictures are the
server's, the face beside the map is the one under the pointer, nothing is loaded from elsewhere,
and without WebAssembly every page works on the server's pictures."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from explorer.engine import DEFAULT_ASSETS
from tests.browser import CHROMIUM, FLAGS, open_page, wait_for_map, wait_idle

playwright = pytest.importorskip("playwright.sync_api")

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists() and not os.environ.get("CI"),
                                reason="Debian's chromium is not installed")

PAGES = {"": "Expression studio", "mirror": "Mirror", "morph": "Morph", "analogy": "Analogies",
         "map": "Latent map", "directions": "Your own directions", "distributions": "Latent distributions",
         "generate": "Generate and inspect", "upload": "Your own image"}
# the map's live face, in its component's shadow root
FIND_PANEL = """() => { for (const host of document.querySelectorAll('*')) {
    const panel = host.shadowRoot && host.shadowRoot.querySelector('.live');
    if (panel) return panel;
} return null; }"""
PIXELS = """(panel) => panel.canvases.map((canvas) => Array.from(canvas.getContext('2d')
    .getImageData(0, 0, canvas.width, canvas.height).data).filter((_, i) => i % 4 !== 3))"""


def live_panel(page):
    return page.evaluate_handle(FIND_PANEL).as_element()


def open_live_map(page, server: str) -> None:
    open_page(page, f"{server}/map", "Latent map")
    wait_for_map(page)
    page.wait_for_function(f"() => ({FIND_PANEL})()?.dataset.ready === 'yes'", timeout=60_000)


def test_the_browser_draws_the_servers_pictures(server, page, engine):
    """32 codes of the dataset, half Lego and half emoji, each drawn in its own domain by the
    browser and by the server, raw and refined: within 2/255 of each other; and 8 of them drawn
    by the page's worker alike."""
    from explorer.cache import live_files

    open_live_map(page, server)
    picks = np.concatenate([engine.indices("lego")[::24][:16], engine.indices("emoji")[::34][:16]])
    codes, domains = engine.maps.means[picks], (engine.dataset.domain[picks] == "emoji").astype(float)
    files = live_files(str(DEFAULT_ASSETS))
    for raw, on_worker in ((True, False), (False, False), (True, True), (False, True)):
        rows = slice(None) if not on_worker else slice(None, None, 4)  # the worker's faces: 8 of the codes
        drawn = page.evaluate("([files, codes, domains, refined, worker]) => window.legomojiLive.faces(files, codes,"
                              " domains, refined, worker)",
                              [files, codes[rows].tolist(), domains[rows].tolist(), not raw, on_worker])
        served = engine.decode(codes[rows], domains[rows], raw=raw).astype(np.int16)
        drawn = np.array(drawn, np.int16).reshape(served.shape)
        assert np.abs(drawn - served).max() <= 2, (raw, on_worker, np.abs(drawn - served).max())


@pytest.mark.parametrize("projection", ["UMAP", "PCA"])
def test_the_face_beside_the_map_is_the_one_under_the_pointer(server, page, engine, projection):
    from explorer.cache import map_to_latent

    open_live_map(page, server)
    if projection != "UMAP":
        page.get_by_text(projection, exact=True).first.click()
        wait_idle(page)
        wait_for_map(page)
    area = page.locator(".js-plotly-plot .nsewdrag").first.bounding_box()
    for u, v in ((0.31, 0.62), (0.74, 0.28)):  # two spots, each off the points or on them alike
        page.mouse.move(area["x"] + u * area["width"], area["y"] + v * area["height"], steps=4)
        page.wait_for_function(f"() => ({FIND_PANEL})()?.dataset.state === 'refined'", timeout=30_000)
        point = [float(value) for value in live_panel(page).get_attribute("data-point").split(",")]
        shown = live_panel(page).evaluate(PIXELS)
        code = map_to_latent(str(DEFAULT_ASSETS), projection, np.array([point]))[0]
        served = engine.decode(np.stack([code, code]), np.array([0.0, 1.0])).astype(np.int16)
        shown = np.array(shown, np.int16).reshape(served.shape)
        assert np.abs(shown - served).max() <= 2, (projection, point, np.abs(shown - served).max())
        page.mouse.move(5, 5)  # off the map: the next spot is drawn afresh
        live_panel(page).evaluate("(panel) => { panel.dataset.state = 'away'; }")


def test_moving_over_the_map_sends_the_server_nothing_and_loads_nothing_from_elsewhere(server, page):
    sent, elsewhere = [], []
    page.on("websocket", lambda socket: socket.on("framesent", lambda frame: sent.append(frame)))
    page.on("request", lambda request: None if request.url.startswith((server, "data:", "blob:"))
            else elsewhere.append(request.url))
    for path, title in PAGES.items():
        open_page(page, f"{server}/{path}", title)
    open_live_map(page, server)
    wait_idle(page)
    area = page.locator(".js-plotly-plot .nsewdrag").first.bounding_box()
    before = len(sent)
    for k in range(40):
        page.mouse.move(area["x"] + area["width"] * (0.1 + 0.02 * k), area["y"] + area["height"] * (0.3 + 0.01 * k))
        page.wait_for_timeout(25)
    page.wait_for_function(f"() => ({FIND_PANEL})()?.dataset.state === 'refined'", timeout=30_000)
    page.wait_for_timeout(500)
    assert len(sent) == before, "moving the pointer sent the server a message"
    assert not elsewhere, elsewhere


def test_without_webassembly_every_page_works_on_the_servers_pictures(server, driver):
    """V8 without its compilers has no WebAssembly (`--noexpose_wasm` leaves it in Chromium 156)."""
    chromium = driver.chromium.launch(executable_path=CHROMIUM, args=FLAGS + ["--js-flags=--jitless"])
    try:
        page = chromium.new_context(viewport={"width": 1400, "height": 900}).new_page()
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        for path, title in PAGES.items():
            open_page(page, f"{server}/{path}", title)
            assert page.locator('[data-testid="stException"]').count() == 0, path
        assert page.evaluate("() => typeof WebAssembly") == "undefined"
        open_page(page, f"{server}/map", "Latent map")
        wait_for_map(page)
        page.wait_for_function("() => window.legomojiLive && window.legomojiLive.failed", timeout=30_000)
        assert live_panel(page).evaluate("(panel) => panel.hidden")  # no live face, no error shown
        area = page.locator(".js-plotly-plot .nsewdrag").first.bounding_box()
        page.mouse.click(area["x"] + 0.5 * area["width"], area["y"] + 0.5 * area["height"])  # the server's click
        page.get_by_text("nearest neighbours in latent space").wait_for(timeout=60_000)
        assert not errors, errors
    finally:
        chromium.close()


FIND_CONTROLS = """() => { for (const host of document.querySelectorAll('*')) {
    const controls = host.shadowRoot && host.shadowRoot.querySelector('.controls');
    if (controls) return controls;
} return null; }"""
SLIDE = """(root, [k, value]) => {
    root.inputs[k].value = value;
    root.inputs[k].dispatchEvent(new Event('input', {bubbles: true}));
}"""
LET_GO = "(root, k) => root.inputs[k].dispatchEvent(new Event('change', {bubbles: true}))"
CANVASES = """(root) => root.canvases.map((canvas) => Array.from(canvas.getContext('2d')
    .getImageData(0, 0, canvas.width, canvas.height).data).filter((_, i) => i % 4 !== 3))"""


def live_controls(page, key: str = ""):
    """The page's live sliders (the first, or those whose first slider is labelled `key`), once they can draw."""
    find = FIND_CONTROLS if not key else FIND_CONTROLS.replace(
        "if (controls) return controls;", f"if (controls && controls.inputs[0].name === {key!r}) return controls;")
    page.wait_for_function(f"() => ({find})()?.dataset.ready === 'yes'", timeout=60_000)
    return page.evaluate_handle(find).as_element()


def drag(page, controls, values, k: int = 0) -> None:
    """Slider k moved through `values`, a frame each 40 ms, then rested until its refined faces are drawn."""
    for value in values:
        controls.evaluate(SLIDE, [k, value])
        page.wait_for_timeout(40)
    page.wait_for_function("(root) => root.dataset.state === 'refined' && "
                           "root.dataset.values === root.values.join(',')", arg=controls, timeout=30_000)


def drawn_faces(controls, shape) -> np.ndarray:
    return np.array(controls.evaluate(CANVASES), np.int16).reshape(-1, *shape)


def test_the_mirrors_slider_draws_the_mix_as_it_moves_and_tells_the_server_when_let_go(server, page, engine):
    sent = []
    page.on("websocket", lambda socket: socket.on("framesent", lambda frame: sent.append(frame)))
    face = int(engine.indices("lego")[0])
    open_page(page, f"{server}/mirror?face={face}", "Mirror", pictures=3)
    controls = live_controls(page)
    wait_idle(page)
    before = len(sent)
    drag(page, controls, (0.2, 0.3, 0.35, 0.7))
    assert len(sent) == before  # dragging tells the server nothing
    served = engine.mirror(engine.maps.means[face], "lego", [0.7]).astype(np.int16)
    assert np.abs(drawn_faces(controls, served.shape[1:]) - served).max() <= 2
    controls.evaluate(LET_GO, 0)
    page.wait_for_function("() => new URL(location.href).searchParams.get('mix') === '0.70'", timeout=30_000)
    assert len(sent) > before


def test_the_directions_slider_draws_the_moved_face_as_it_moves(server, page, engine):
    face = int(engine.indices("lego")[3])
    open_page(page, f"{server}/directions?face={face}&a=sad&b=smile", "Your own directions", pictures=2)
    controls = live_controls(page)
    drag(page, controls, (0.5, -0.4, -1.3))
    space = engine.space
    direction = space.group_direction(space.group_mask("sad"), space.group_mask("smile"))
    served = engine.move_along(engine.maps.means[face], direction, -1.3).astype(np.int16)
    assert np.abs(drawn_faces(controls, served.shape[1:]) - served).max() <= 2


def test_the_studios_strength_and_mix_draw_its_result_as_they_move(server, page, engine):
    """The studio's own result (the print's fitted code, moved by the strength and the mix) in
    both domains, drawn as the sliders move; a strength let go reaches the server and its link."""
    lego, emoji = int(engine.indices("lego")[5]), int(engine.indices("emoji")[8])
    images, means = engine.dataset.images, engine.maps.means
    open_page(page, f"{server}/?lego={lego}&emoji={emoji}&mode=an+emoji&method=printed", "Expression studio",
              pictures=5)
    strength = live_controls(page, "Strength")
    drag(page, strength, (0.4, 0.9, 1.4))
    result = engine.printed_transfer(images[lego], means[lego], images[emoji], 1.4)
    served = engine.decode(np.stack([result, result]), np.array([0.0, 1.0])).astype(np.int16)
    assert np.abs(drawn_faces(strength, served.shape[1:]) - served).max() <= 2
    strength.evaluate(LET_GO, 0)
    page.wait_for_function("() => new URL(location.href).searchParams.get('strength') === '1.40'", timeout=30_000)
    wait_idle(page)

    page.get_by_text("Mix expressions yourself").click()
    tags = engine.available_expressions()
    mix = live_controls(page, tags[0])
    k = tags.index("sad")
    drag(page, mix, (0.3, 0.8, 1.2), k)
    result = engine.space.mix_expressions(result, {"sad": 1.2})
    served = engine.decode(np.stack([result, result]), np.array([0.0, 1.0])).astype(np.int16)
    assert np.abs(drawn_faces(mix, served.shape[1:]) - served).max() <= 2
    mix.evaluate(LET_GO, k)
    page.wait_for_function("() => new URL(location.href).searchParams.get('mix') === 'sad:1.2'", timeout=30_000)
    wait_idle(page)
    mix.evaluate("(root) => root.reset.click()")
    page.wait_for_function("() => !new URL(location.href).searchParams.get('mix')", timeout=30_000)


STRIP = """(root) => Array.from(root.strip.getContext('2d').getImageData(0, 0, root.strip.width, root.strip.height)
    .data).filter((_, i) => i % 4 !== 3)"""


def test_the_morph_draws_its_strip_and_any_point_of_its_path(server, page, engine):
    """The strip drawn in the browser is the server's; the scrubber, and the pointer over the
    strip, draw the path at any point, in its domain and as a Lego face; a click on the strip
    tells the server where."""
    from vae import latent

    lego, emoji, steps = int(engine.indices("lego")[7]), int(engine.indices("emoji")[3]), 6
    start, end = engine.maps.means[lego], engine.maps.means[emoji]
    open_page(page, f"{server}/morph?lego={lego}&emoji={emoji}&steps={steps}&method=slerp", "Morph", pictures=2)
    controls = live_controls(page)
    page.wait_for_function("(root) => root.dataset.strip === 'drawn'", arg=controls, timeout=60_000)
    frames = engine.morph(start, end, steps, "slerp").astype(np.int16)  # (steps, S, S, 3)
    size = frames.shape[1]
    strip = np.array(controls.evaluate(STRIP), np.int16).reshape(size, steps * (size + 4) - 4, 3)
    for k, frame in enumerate(frames):
        assert np.abs(strip[:, k * (size + 4):k * (size + 4) + size] - frame).max() <= 2, k

    drag(page, controls, (0.1, 0.25, 0.37))
    code = latent.slerp(start, end, 0.37)
    served = engine.decode(np.stack([code, code]), np.array([0.37, 0.0])).astype(np.int16)
    assert np.abs(drawn_faces(controls, served.shape[1:]) - served).max() <= 2

    box = controls.evaluate("""(root) => { root.pad.scrollIntoView({block: 'center'});
        const r = root.pad.getBoundingClientRect(); return [r.x, r.y, r.width, r.height]; }""")
    third = box[0] + box[2] * (2 * (size + 4) + size / 2) / (steps * (size + 4) - 4)  # the third frame's centre
    page.mouse.move(third, box[1] + box[3] / 2)
    page.wait_for_function("(root) => root.dataset.values === '0.4' && root.dataset.state === 'refined'", arg=controls,
                           timeout=30_000)
    served = engine.decode(np.stack([latent.slerp(start, end, 0.4)] * 2), np.array([0.4, 0.0])).astype(np.int16)
    assert np.abs(drawn_faces(controls, served.shape[1:]) - served).max() <= 2
    page.mouse.click(third, box[1] + box[3] / 2)
    page.wait_for_function("() => new URL(location.href).searchParams.get('t') === '0.40'", timeout=30_000)


def test_the_analogy_grid_draws_any_point_between_its_cells(server, page, engine):
    """The point (s, t) from the sliders, and under the pointer on the grid, is the server's
    cell there (Engine.analogy_grid) in its mixed domain; a click tells the server, which draws it too."""
    picks = [int(engine.indices("lego")[212]), int(engine.indices("emoji")[40]), int(engine.indices("emoji")[8])]
    steps = 5  # cells at s, t = 0, 0.25, 0.5, 0.75, 1
    cells = engine.analogy_grid(*picks, steps).astype(np.int16)
    open_page(page, f"{server}/analogy?a={picks[0]}&b={picks[1]}&c={picks[2]}&steps={steps}", "Analogies",
              pictures=4)
    controls = live_controls(page)
    drag(page, controls, (0.2, 0.75), k=0)
    drag(page, controls, (0.1, 0.25), k=1)
    assert np.abs(drawn_faces(controls, cells.shape[2:]) - cells[1, 3]).max() <= 2

    box = controls.evaluate("""(root) => { root.pad.scrollIntoView({block: 'center'});
        const r = root.pad.getBoundingClientRect(); return [r.x, r.y, r.width, r.height]; }""")
    size = engine.dataset.size
    across = box[2] * (1 * (size + 4) + size / 2) / (steps * (size + 4) - 4)  # the second column's centre
    down = box[3] * (2 * (size + 4) + size / 2) / (steps * (size + 4) - 4)  # the third row's centre
    page.mouse.move(box[0] + across, box[1] + down)
    page.wait_for_function("(root) => root.dataset.values === '0.25,0.5' && root.dataset.state === 'refined'",
                           arg=controls, timeout=30_000)
    assert np.abs(drawn_faces(controls, cells.shape[2:]) - cells[2, 1]).max() <= 2
    page.mouse.click(box[0] + across, box[1] + down)
    page.wait_for_function("() => new URL(location.href).searchParams.get('s') === '0.25'", timeout=30_000)
    page.get_by_text("s 0.25, t 0.50").wait_for(timeout=30_000)


def test_generates_temperature_draws_the_seeds_samples_as_it_moves(server, page, engine):
    seed = 7
    open_page(page, f"{server}/generate?seed={seed}", "Generate and inspect", pictures=12)
    controls = live_controls(page, "Temperature")
    drag(page, controls, (0.6, 1.1, 1.45))
    shown = np.array(controls.evaluate(CANVASES), np.int16)
    for row, domain in enumerate(("lego", "emoji")):
        served = engine.sample(12, 1.45, seed, domain)[:6].astype(np.int16)
        drawn = shown[6 * row:6 * row + 6].reshape(served.shape)
        assert np.abs(drawn - served).max() <= 2, domain
