"""End to end in a real headless Chromium: the map decodes clicks, the morph page builds a strip."""
from __future__ import annotations

import io
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from explorer import map_layers
from explorer.picker import REEL_SIDE
from tests.browser import (
    CHROMIUM,
    STUDIO_RESULT,
    atlas_cells,
    click_face,
    emptiest_grid_point,
    image_sources,
    listing_of_atlas,
    matches_cell,
    open_page,
    plot_point,
    wait_for_map,
    wait_idle,
)

playwright = pytest.importorskip("playwright.sync_api")

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists() and not os.environ.get("CI"),
                                reason="Debian's chromium is not installed")


def test_map_click_decodes_points_and_empty_spots(server, page, tmp_path):
    open_page(page, f"{server}/map", "Latent map")
    wait_for_map(page)
    wait_idle(page)  # a click made while the page's run is still drawing the map can be lost
    page.wait_for_timeout(1000)
    x, y = plot_point(page, 1, 0)
    page.mouse.click(x, y)
    page.get_by_text("reconstruction", exact=True).wait_for(timeout=60_000)
    wait_idle(page)
    assert page.locator('[data-testid="stImage"] img').count() >= 2
    page.get_by_text("reconstruction", exact=True).scroll_into_view_if_needed()
    page.screenshot(path=str(tmp_path / "map-point.png"), full_page=True)

    # half way between two grid markers of an empty stretch: the farthest a click can be from one
    empty = emptiest_grid_point(page)
    (x0, y0), (x1, y1) = plot_point(page, 0, empty), plot_point(page, 0, empty + 1)
    page.mouse.click((x0 + x1) / 2, (y0 + y1) / 2)
    spot = page.get_by_role("heading", name=re.compile("^Empty spot"))
    spot.wait_for(timeout=60_000)
    wait_idle(page)
    assert "Empty spot" in page.locator("h3").first.inner_text()
    spot.scroll_into_view_if_needed()
    page.screenshot(path=str(tmp_path / "map-empty.png"), full_page=True)
    keep_screenshots(tmp_path)


def isolated_points(page, count: int) -> list[tuple[int, int]]:
    """(trace, point) of the `count` map points farthest on screen from any other point, clear
    of the map's edges."""
    return page.evaluate(
        """(count) => {
            const gd = document.querySelector('.js-plotly-plot');
            const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
            const points = gd._fullData.flatMap((t, trace) => trace === 0 || !t.customdata ? [] :
                Array.from(t.x, (x, i) => [trace, i, xa.d2p(x), ya.d2p(t.y[i])]));
            const room = points.map(([, , x, y], i) => Math.min(...points.map(([, , qx, qy], j) =>
                i === j ? Infinity : Math.hypot(x - qx, y - qy))));
            const inside = (x, y) => x > 80 && y > 60 && x < xa._length - 80 && y < ya._length - 60;
            const order = points.map((_, i) => i).filter((i) => inside(points[i][2], points[i][3]))
                .sort((i, j) => room[j] - room[i]);
            return order.slice(0, count).map((i) => points[i].slice(0, 2));
        }""",
        count,
    )


def test_the_map_draws_contours_labels_and_the_hovered_face(server, page, engine):
    """Each domain's contour lines and the clusters' labels are drawn; the picture beside the
    pointer is the hovered face's cell of the face pickers' atlas."""
    open_page(page, f"{server}/map", "Latent map")
    wait_for_map(page)
    wait_idle(page)
    page.wait_for_timeout(1000)
    labels = map_layers.cluster_labels(engine.maps.umap_xy, list(engine.dataset.tags), list(engine.dataset.name))
    shown = page.locator(".js-plotly-plot .annotation-text").evaluate_all("texts => texts.map((t) => t.textContent)")
    assert sorted(shown) == sorted(label.text for label in labels)
    assert page.locator(".js-plotly-plot .contourlines path").count() >= 4  # two lines a domain, at least
    card = page.locator("#legomoji-map-hover")
    for trace, n in isolated_points(page, 3):  # no other point within reach: the hover is that face's
        index = page.evaluate("([t, n]) => document.querySelector('.js-plotly-plot')._fullData[t].customdata[n]",
                              [trace, n])
        page.mouse.move(*plot_point(page, trace, n))
        page.wait_for_function("(i) => { const card = document.getElementById('legomoji-map-hover');"
                               " return card && card.style.display === 'block' && card.dataset.index == i; }",
                               arg=index, timeout=10_000)
        atlas = re.search(r"static/([^/\"]+\.webp)", card.locator("div").get_attribute("style")).group(1)
        listing = listing_of_atlas(atlas)
        k = [face[0] for face in listing["faces"]].index(index)
        shown = np.asarray(Image.open(io.BytesIO(card.locator("div").screenshot())).convert("RGB"), dtype=float)
        assert matches_cell(atlas_cells(listing), shown, k), (trace, n, index)
    page.mouse.move(5, 5)
    page.wait_for_function("() => document.getElementById('legomoji-map-hover').style.display === 'none'",
                           timeout=10_000)


# Keeps count of the page's running intervals and connected MutationObservers.
COUNT_WATCHERS = """
(() => {
    const intervals = new Set(), observers = new Set();
    const [setter, clearer] = [window.setInterval, window.clearInterval];
    window.setInterval = (...args) => { const id = setter(...args); intervals.add(id); return id; };
    window.clearInterval = (id) => { intervals.delete(id); return clearer(id); };
    const Observer = window.MutationObserver;
    window.MutationObserver = class extends Observer {
        observe(...args) { observers.add(this); return super.observe(...args); }
        disconnect() { observers.delete(this); return super.disconnect(); }
    };
    window.legomojiWatchers = () => [intervals.size, observers.size];
})();
"""


def test_the_hover_pictures_leave_with_the_map(server, page):
    """After a visit to the map, the page runs no more intervals and observers than before it,
    and the hover's picture is gone."""
    page.add_init_script(COUNT_WATCHERS)
    open_page(page, server, "Expression studio", pictures=3)
    page.wait_for_timeout(1000)
    before = page.evaluate("window.legomojiWatchers()")
    page.get_by_role("link", name="Latent map").click()
    page.get_by_role("heading", name="Latent map").wait_for(timeout=60_000)
    wait_for_map(page)
    wait_idle(page)
    trace, n = isolated_points(page, 1)[0]
    page.mouse.move(*plot_point(page, trace, n))
    page.wait_for_function("() => document.getElementById('legomoji-map-hover')?.style.display === 'block'",
                           timeout=10_000)  # the hover works while the map is there
    page.get_by_role("link", name="Expression studio").click()
    page.get_by_role("heading", name="Expression studio").wait_for(timeout=60_000)
    wait_idle(page)
    page.wait_for_timeout(1000)
    after = page.evaluate("window.legomojiWatchers()")
    assert after[0] <= before[0] and after[1] <= before[1], (before, after)  # (intervals, observers)
    assert page.locator("#legomoji-map-hover").count() == 0


def test_morph_strip_follows_the_picked_faces(server, page, tmp_path):
    open_page(page, f"{server}/morph", "Morph")
    strong = page.locator('[data-testid="stMain"] [data-testid="stMarkdownContainer"] strong')
    heading = strong.first
    before = heading.inner_text()
    click_face(page, 0, 3)
    wait_idle(page)
    page.wait_for_function("(old) => document.querySelector('[data-testid=\"stMain\"] "
                           "[data-testid=\"stMarkdownContainer\"] strong').innerText !== old", arg=before,
                           timeout=60_000)
    lego_pick = heading.inner_text()
    assert lego_pick != before
    emoji_before = strong.nth(1).inner_text()
    click_face(page, 1, 2)
    wait_idle(page)
    page.wait_for_function("(old) => document.querySelectorAll('[data-testid=\"stMain\"] "
                           "[data-testid=\"stMarkdownContainer\"] strong')[1].innerText !== old", arg=emoji_before,
                           timeout=60_000)
    wait_idle(page)  # the name changes before the run that redraws the strip ends
    page.locator(".pad").first.wait_for(state="visible", timeout=60_000)  # the strip: the live path's pad
    assert "lego=" in page.url and "emoji=" in page.url
    # the downloads, made on click: the strip at twice the frames' size, the GIF forth and back
    for label, name in (("Download PNG", "strip.png"), ("Download GIF", "morph.gif")):
        with page.expect_download() as download:
            page.get_by_role("button", name=label).click()
        download.value.save_as(tmp_path / name)
    with Image.open(tmp_path / "strip.png") as strip, Image.open(tmp_path / "morph.gif") as gif:
        assert strip.size == (10 * 256 + 9 * 4, 256) and gif.n_frames == 10 + 8
    # after a change, once the new strip is shown, the button downloads the new strip (a click
    # while the panel reruns can be lost: the button's callable goes with the run that made it)
    strip_before = page.locator(".pad img").first.get_attribute("src")  # the server's strip, under the live one
    page.get_by_role("slider", name="Steps").press("ArrowRight")
    page.wait_for_function("(old) => [...document.querySelectorAll('*')].some((host) => { const img = "
                           "host.shadowRoot && host.shadowRoot.querySelector('.pad img'); "
                           "return img && img.getAttribute('src') !== old; })", arg=strip_before, timeout=60_000)
    wait_idle(page)
    page.wait_for_timeout(1000)
    with page.expect_download() as download:
        page.get_by_role("button", name="Download PNG").click()
    download.value.save_as(tmp_path / "strip-after-change.png")
    with Image.open(tmp_path / "strip-after-change.png") as strip:
        assert strip.size == (11 * 256 + 10 * 4, 256)
    wait_idle(page)
    page.screenshot(path=str(tmp_path / "morph.png"), full_page=True)
    keep_screenshots(tmp_path)


def test_the_face_grid_picks_by_keyboard(server, page):
    """Tab stops on the chosen face; arrows move across and down the grid; Enter picks."""
    open_page(page, f"{server}/morph", "Morph")
    grid = page.locator(".faces").first
    chosen = grid.locator('button.face[aria-selected="true"]')
    # the grid's pictures are cells of one static atlas: each face shows its own
    assert shows_its_atlas_cell(grid, chosen) and shows_its_atlas_cell(grid, grid.locator("button.face").nth(9))
    chosen.focus()
    start = int(chosen.get_attribute("data-index"))
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowDown")
    target = int(grid.locator("button.face:focus").get_attribute("data-index"))
    faces = [int(i) for i in grid.locator("button.face").evaluate_all("cells => cells.map(c => c.dataset.index)")]
    columns = grid.locator("button.face").evaluate_all(
        "cells => cells.filter(c => c.offsetTop === cells[0].offsetTop).length")
    assert target == faces[faces.index(start) + 1 + columns]
    page.keyboard.press("Enter")
    page.wait_for_function("(index) => new URL(location.href).searchParams.get('lego') === String(index)",
                           arg=target, timeout=60_000)
    assert grid.locator('button.face[aria-selected="true"]').get_attribute("data-index") == str(target)


def test_a_pick_is_still_marked_after_a_trip_to_another_page(server, page):
    """Pick a face, visit another page and come back: the grid marks the face the caption names."""
    open_page(page, server, "Expression studio", pictures=3)
    grid = page.locator(".faces").first
    face = grid.locator("button.face").nth(5)
    face.click()
    index = face.get_attribute("data-index")
    page.wait_for_function("(index) => new URL(location.href).searchParams.get('lego') === index", arg=index,
                           timeout=60_000)
    wait_idle(page)
    page.get_by_role("link", name="Mirror").click()
    page.get_by_role("heading", name="Mirror").wait_for(timeout=60_000)
    wait_idle(page)
    page.get_by_role("link", name="Expression studio").click()
    page.get_by_role("heading", name="Expression studio").wait_for(timeout=60_000)
    marked = page.locator('.faces >> nth=0 >> button.face[aria-selected="true"]')
    marked.wait_for(timeout=60_000)
    assert marked.get_attribute("data-index") == index


def shows_its_atlas_cell(grid, cell) -> bool:
    """Whether a grid cell shows its face's cell of the atlas file the grid drew from (a
    screenshot of the cell's picture, matched against every cell of the atlas)."""
    cell.wait_for()  # drawn once the face list has come, after the grid was given its atlas
    style = grid.evaluate("grid => getComputedStyle(grid).getPropertyValue('--atlas')")
    atlas_url = re.search(r'url\("(.+)"\)', style)[1]
    grid.evaluate("(grid, url) => { const atlas = new Image(); atlas.src = url; return atlas.decode(); }", atlas_url)
    name = atlas_url.rsplit("/", 1)[1]
    listing = listing_of_atlas(name)
    k = [face[0] for face in listing["faces"]].index(int(cell.get_attribute("data-index")))
    cells = atlas_cells(listing)
    with Image.open(io.BytesIO(cell.locator(".thumb").screenshot())) as shot:
        shot = np.asarray(shot.convert("RGB"), dtype=float)
    side = listing["side"]  # a cell at a fractional position is shot a pixel larger: its best-placed crop
    crops = [shot[y:y + side, x:x + side] for y in range(len(shot) - side + 1) for x in range(shot.shape[1] - side + 1)]
    return matches_cell(cells, min(crops, key=lambda crop: np.abs(crop - cells[k]).mean()), k)


def grid_titles(page, count: str, timeout_ms: int = 60_000) -> list[str]:
    """The titles (name and tags) of the first face grid's faces, once their number meets
    `count` (a JavaScript condition on n, e.g. "n > 0"). The grid lives in its component's
    shadow root, which locators reach and document.querySelector does not."""
    grid = page.locator(".faces").first
    grid.wait_for()
    grid.evaluate(f"(grid, timeout) => new Promise((resolve, reject) => {{ const start = Date.now(); "
                  f"const poll = () => {{ const n = grid.querySelectorAll('button.face').length; "
                  f"if ({count}) resolve(); else if (Date.now() - start > timeout) reject(new Error('n = ' + n)); "
                  f"else setTimeout(poll, 50); }}; poll(); }})", timeout_ms)
    return grid.evaluate("grid => [...grid.querySelectorAll('button.face')].map(cell => cell.title)")


def test_a_search_narrows_the_face_grid_and_clearing_it_restores_every_face(server, page):
    """The grid reads its faces' names and tags from a static list; a search sends only the
    indices it shows, and the grid draws those faces from the list."""
    open_page(page, f"{server}/morph", "Morph")
    everything = grid_titles(page, "n > 0")
    search = page.get_by_label("Search lego faces")
    search.fill("sunglasses")
    search.press("Enter")
    found = grid_titles(page, f"n >= 0 && n < {len(everything)}")
    assert found and found == [title for title in everything if "sunglasses" in title.lower()]
    search.fill("")
    search.press("Enter")
    assert grid_titles(page, f"n === {len(everything)}") == everything


def slide_until_the_result_changes(page, slider_name: str, key: str, presses: int, old_result: str,
                                   result: int = 1) -> list[str]:
    """Press an arrow key on a slider, wait for the `result`-th picture (from the end when
    negative) to change; the pictures then."""
    slider = page.get_by_role("slider", name=slider_name)
    slider.scroll_into_view_if_needed()
    for _ in range(presses):
        slider.press(key)
    wait_idle(page)
    page.wait_for_function("([old, n]) => Array.from(document.querySelectorAll('[data-testid=stMain] "
                           "[data-testid=stImage] img')).at(n).src !== old", arg=[old_result, result], timeout=60_000)
    return image_sources(page)


FEWEST_PICTURES = """() => {
    const count = () => document.querySelectorAll('[data-testid=stMain] [data-testid=stImage] img').length;
    window.fewestPictures = count();
    new MutationObserver(() => { window.fewestPictures = Math.min(window.fewestPictures, count()); })
        .observe(document.body, { subtree: true, childList: true });
}"""  # from now on, the fewest pictures the page shows at any moment


def test_the_studio_walk_picks_mixes_and_shares(server, page, tmp_path):
    """Click a picture in the Lego table, move an expression slider, download the card."""
    open_page(page, server, "Expression studio", pictures=5)  # the face, its print, two redraws, the emoji
    before = image_sources(page)
    page.evaluate(FEWEST_PICTURES)
    click_face(page, 0, 1)
    page.wait_for_function("(old) => { const img = document.querySelector('[data-testid=stMain] "
                           "[data-testid=stImage] img'); return img && img.src !== old; }", arg=before[0],
                           timeout=60_000)
    wait_idle(page)
    picked = image_sources(page)
    assert picked[0] != before[0] and picked[STUDIO_RESULT] != before[STUDIO_RESULT] and "lego=" in page.url
    # the last result stays until the new pictures replace it one by one: the row is never emptied
    assert page.evaluate("() => window.fewestPictures") == len(before) == len(picked)
    page.get_by_text("Mix expressions yourself").click()
    mixed = slide_until_the_result_changes(page, "wink", "ArrowRight", 5, picked[STUDIO_RESULT], STUDIO_RESULT)
    # the face and its print stay, the redraw winks
    assert mixed[:STUDIO_RESULT] == picked[:STUDIO_RESULT] and mixed[STUDIO_RESULT] != picked[STUDIO_RESULT]
    # the card downloads the result shown, made on click (a click while the panel reruns can be
    # lost: the button's callable goes with the run that made it)
    slide_until_the_result_changes(page, "Strength", "ArrowLeft", 1, mixed[STUDIO_RESULT], STUDIO_RESULT)
    wait_idle(page)
    page.wait_for_timeout(1000)
    for name in ("card-after-slider.png", "card.png"):
        with page.expect_download() as download:
            page.get_by_role("button", name="Download the card (PNG)").click()
        download.value.save_as(tmp_path / name)
        with Image.open(tmp_path / name) as card:
            assert card.format == "PNG" and card.size[0] > 600
        wait_idle(page)
    page.screenshot(path=str(tmp_path / "studio.png"), full_page=True)
    keep_screenshots(tmp_path)


def test_surprise_me_spins_at_once_and_settles_on_the_pair_it_shows(server, page):
    """The reel spins from the click, before the server has answered; the page then shows a new
    pair, and each slot lands on its face (the atlas's cell of that face)."""
    open_page(page, server, "Expression studio", pictures=3)
    before, address = image_sources(page), page.url
    grids = page.locator(".faces")
    grids.evaluate_all("grids => grids.forEach((grid) => { grid.querySelector('.face').dataset.old = 'yes'; })")
    reel = page.locator(".reel")
    # clicked and looked at in one task of the page: no answer from the server can come between
    spinning, at_click = reel.evaluate("reel => { reel.querySelector('button').click(); const at = location.href; "
                                       "return new Promise((resolve) => setTimeout(() => "
                                       "resolve([reel.classList.contains('spinning'), at]))); }")
    assert spinning and at_click == address
    page.locator(".reel.settled").wait_for(timeout=60_000)
    pair = [int(re.search(rf"[?&]{domain}=(\d+)", page.url)[1]) for domain in ("lego", "emoji")]
    assert page.url != address
    landed = reel.evaluate("reel => [...reel.querySelectorAll('.strip')].map(strip => "
                           "[strip.lastChild.style.backgroundImage, strip.lastChild.style.backgroundPosition])")
    for index, (atlas, position) in zip(pair, landed):
        listing = listing_of_atlas(re.search(r'url\("(.+)"\)', atlas)[1].rsplit("/", 1)[1])
        k = [face[0] for face in listing["faces"]].index(index)
        column, row = k % listing["columns"], k // listing["columns"]
        assert position == f"{-column * REEL_SIDE}px {-row * REEL_SIDE}px"
    page.wait_for_function("(old) => { const img = [...document.querySelectorAll('[data-testid=stMain] "
                           f"[data-testid=stImage] img')].at({STUDIO_RESULT}); return img && img.src !== old; }}",
                           arg=before[STUDIO_RESULT], timeout=60_000)
    page.locator(".reel:not(.spinning):not(.settled)").wait_for(timeout=10_000)  # and fades
    # the grids are not drawn anew: the same cells, the mark moved to the pair
    assert grids.evaluate_all("grids => grids.map((grid) => grid.querySelector('.face').dataset.old)") == ["yes"] * 2
    marked = grids.evaluate_all("grids => grids.map((grid) => [...grid.querySelectorAll('[aria-selected=true]')]"
                                ".map((cell) => Number(cell.dataset.index)))")
    assert marked == [[index] for index in pair]


def test_a_map_region_becomes_a_direction(server, page, tmp_path):
    """Box-select two regions of the map as groups A and B, then slide a face along B - A."""
    open_page(page, f"{server}/map", "Latent map")
    page.wait_for_selector(".js-plotly-plot", timeout=60_000)
    page.wait_for_timeout(1000)
    heading = ""
    for name, (x0, x1) in (("a", (0.05, 0.45)), ("b", (0.55, 0.95))):
        page.locator('.modebar-btn[data-val="select"]').first.click()  # the tool, again after each rerun
        box = page.locator(".js-plotly-plot .nsewdrag").first.bounding_box()
        page.mouse.move(box["x"] + x0 * box["width"], box["y"] + 0.05 * box["height"])
        page.mouse.down()
        page.mouse.move(box["x"] + x1 * box["width"], box["y"] + 0.95 * box["height"], steps=8)
        page.mouse.up()
        page.wait_for_function("(old) => { const h = document.querySelector('h3'); return h && "
                               "h.innerText.includes('faces selected') && h.innerText !== old; }", arg=heading,
                               timeout=60_000)
        wait_idle(page)
        heading = page.locator("h3").first.inner_text()
        page.get_by_role("button", name=f"Keep as group {name.upper()}").click()
        wait_idle(page)
    page.get_by_role("link", name="Your own directions").click()
    page.get_by_role("heading", name="Your own directions").wait_for(timeout=60_000)
    wait_idle(page)
    for label, option in (("Group A", "map selection A"), ("Group B", "map selection B")):
        page.get_by_label(label).click()
        page.keyboard.type(option)  # the list is long and virtual: type to filter it
        page.get_by_role("option", name=option).click()
        wait_idle(page)
    before = image_sources(page)
    after = slide_until_the_result_changes(page, "How far along", "ArrowLeft", 8, before[1])
    assert after[0] == before[0] and after[1] != before[1]
    page.screenshot(path=str(tmp_path / "directions.png"), full_page=True)
    keep_screenshots(tmp_path)


def test_rapid_page_switches_land_on_the_last_page_clicked(server, page):
    """24 sidebar clicks in about 10 s, ending on Morph: the app must stay on Morph."""
    open_page(page, server, "Expression studio")
    names = ["Morph", "Latent map", "Mirror", "Expression studio", "Generate and inspect", "Your own directions"]
    for number in range(23):
        page.get_by_role("link", name=names[number % len(names)]).click()
        page.wait_for_timeout(400)
    page.get_by_role("link", name="Morph").click()
    page.get_by_role("heading", name="Morph").wait_for(timeout=60_000)
    wait_idle(page)
    page.wait_for_timeout(3000)  # anything a page being left might still send has arrived by now
    wait_idle(page)
    assert "/morph" in page.url
    assert page.locator("h1").first.inner_text() == "Morph"
    assert len(image_sources(page)) >= 1


def keep_screenshots(folder: Path) -> None:
    """Copy screenshots to $LEGOMOJI_SCREENSHOTS when set (for looking at them after CI)."""
    target = os.environ.get("LEGOMOJI_SCREENSHOTS")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        for shot in folder.glob("*.png"):
            shutil.copy(shot, Path(target) / shot.name)
