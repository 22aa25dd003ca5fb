"""Click to updated image, in headless Chromium: what a person waits for after each action.

Each figure is the time from the input event (a click or a key press) to the moment the
picture that depends on it has changed in the page, over `repeats` actions after a warm-up.
"""
from __future__ import annotations

import numpy as np

from tests.browser import (
    PICTURE_CHANGED,
    STUDIO_RESULT,
    face_clicker,
    image_sources,
    input_to,
    launch_chromium,
    open_page,
    picture_at,
    plot_point,
    streamlit_server,
    wait_for_map,
    wait_idle,
)


def _timed(page, action, index: int) -> float:
    """Seconds from the input event of `action` to the index-th image of the main area (from
    the end when negative) showing a new picture, on the page's clock."""
    old = picture_at(image_sources(page), index)
    elapsed = input_to(page, action, PICTURE_CHANGED, [old, index]) / 1000
    wait_idle(page)
    return elapsed


def _summary(samples: list[float]) -> dict:
    ms = np.array(samples) * 1000.0
    return {"p50_ms": round(float(np.median(ms)), 1), "p95_ms": round(float(np.percentile(ms, 95)), 1),
            "actions": len(samples)}


def _measured(results: dict, name: str, measure) -> None:
    """Record one action's figures, or the reason it could not be measured (the rest go on)."""
    try:
        results[name] = _summary(measure())
    except Exception as error:  # noqa: BLE001 - a failed measurement is reported, never hidden
        results[name] = {"error": str(error).splitlines()[0][:120]}


def measure_clicks(repeats: int = 15) -> dict:
    from playwright.sync_api import sync_playwright

    results = {}
    with streamlit_server() as (url, _), sync_playwright() as p:
        browser = launch_chromium(p)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})

        open_page(page, url, "Expression studio", pictures=3)
        click_face = face_clicker(page, 0)
        # faces in view; each click picks a face that looks different from the one before (and from the default)
        rows = [0, 2, 1, 3] * (repeats // 4 + 2)
        _measured(results, "studio pick",
                  lambda: [_timed(page, lambda r=r: click_face(r), STUDIO_RESULT) for r in rows][5:5 + repeats])
        slider = page.get_by_role("slider", name="Strength")
        slider.scroll_into_view_if_needed()
        keys = ["ArrowLeft", "ArrowRight"] * (repeats // 2 + 3)
        _measured(results, "strength change",
                  lambda: [_timed(page, lambda k=k: slider.press(k), STUDIO_RESULT) for k in keys][4:])

        open_page(page, f"{url}/morph", "Morph", pictures=1)
        click_face = face_clicker(page, 0)
        morph_rows = [2, 1, 3, 0] * (repeats // 4 + 2)
        _measured(results, "morph pick",
                  lambda: [_timed(page, lambda r=r: click_face(r), 0) for r in morph_rows][5:5 + repeats])

        open_page(page, f"{url}/map", "Latent map")
        wait_for_map(page)
        page.wait_for_timeout(1000)
        # a Lego face, then an emoji, and so on: neighbouring clicks never show the same picture
        points = [plot_point(page, 1 + i % 2, 11 * i) for i in range(repeats + 3)]
        _measured(results, "map click",
                  lambda: [_timed(page, lambda xy=xy: page.mouse.click(*xy), 0) for xy in points][3:])

        open_page(page, url, "Expression studio", pictures=3)
        links = ["Mirror", "Expression studio"] * (repeats // 2 + 2)
        # the first picture can be the same face on both pages: the second one tells them apart
        _measured(results, "page switch (sidebar)",
                  lambda: [_timed(page, page.get_by_role("link", name=name).click, 1) for name in links][2:])
        browser.close()
    return results


if __name__ == "__main__":
    import json

    print(json.dumps(measure_clicks(5), indent=2))
