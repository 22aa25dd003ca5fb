"""Faces drawn in the browser as a code moves: the model's decoder and refiner run in the page,
on LiteRT.js, from the same LiteRT files the server runs (static/, written by the export), so
that the face under the pointer is drawn as the pointer moves, with no round trip to the server.

The server stays the source of truth for everything else (encoding, printing, fitting, the maps
and shared links); a click still reruns the page as before. Where the browser cannot draw (no
WebAssembly, the runtime or a network fails to load, a script error), the live face stays
hidden and the page keeps the server's pictures. The component's scripts are
explorer/web/live_runtime.js (loading the runtime and the networks, once per tab),
explorer/web/live_map.js and explorer/web/live_slider.js.
"""
from __future__ import annotations

import numpy as np
import streamlit as st

from explorer.web_assets import web_file

LIVE_MAP = st.components.v2.component(
    "legomoji.live_map", css=web_file("live.css"), js=web_file("live_runtime.js") + web_file("live_map.js"))
LIVE_SLIDER = st.components.v2.component(
    "legomoji.live_slider", css=web_file("live.css"), js=web_file("live_runtime.js") + web_file("live_slider.js"))


def affine_inverse(offset: np.ndarray, matrix: np.ndarray) -> dict:
    """A map plane's inverse, z = offset + [x, y] @ matrix ((L,) and (2, L)), as the browser reads it."""
    return {"kind": "affine", "offset": np.asarray(offset, np.float64).round(6).tolist(),
            "matrix": np.asarray(matrix, np.float64).round(6).tolist()}


def grid_inverse(url: str, shape: tuple[int, int, int], extent: np.ndarray) -> dict:
    """The UMAP map's inverse: a (G, G, L) grid of codes over `extent` (x0, x1, y0, y1) at `url`
    (little-endian float16), looked up bilinearly as vae.latent.grid_inverse does."""
    return {"kind": "grid", "url": url, "shape": list(shape), "extent": [float(v) for v in extent]}


def live_map_face(files: dict, inverse: dict, meta: str, domains: list[float], captions: list[str],
                  key: str) -> None:
    """Mount the map's live face: the face at the point under the pointer of the map whose
    layout's meta is `meta`, drawn in each of `domains` (0 Lego, 1 emoji) with its caption.
    `files` says where the runtime and the networks are (cache.live_files); `inverse` maps a
    point of the map to its code (affine_inverse, grid_inverse)."""
    data = {"files": files, "inverse": inverse, "meta": meta, "domains": domains, "captions": captions,
            "title": "Under the pointer"}
    LIVE_MAP(data=data, key=key, width="stretch")


def live_slider(files: dict, label: str, bounds: tuple[float, float, float], value: float, start: np.ndarray,
                end: np.ndarray, domains: tuple[float, float], caption: str, key: str) -> float:
    """A slider (bounds: low, high, step) whose face is drawn in the browser as it moves: the
    code slides from `start` to `end` and the domain from domains[0] to domains[1] as the value
    goes from low to high. Returns the value the slider was let go at (`value` until then),
    which is all the server hears of it."""
    low, high, step = bounds
    data = {"files": files, "label": label, "min": low, "max": high, "step": step, "value": value,
            "start": np.asarray(start, np.float64).round(6).tolist(),
            "end": np.asarray(end, np.float64).round(6).tolist(), "domains": [float(d) for d in domains],
            "caption": caption}
    LIVE_SLIDER(data=data, key=key, default={"value": value}, on_value_change=lambda: None)
    chosen = (st.session_state.get(key) or {}).get("value", value)
    if not isinstance(chosen, (int, float)) or isinstance(chosen, bool) or not np.isfinite(chosen):
        return value  # not a value this slider sends
    return float(np.clip(round(low + round((chosen - low) / step) * step, 6), low, high))
