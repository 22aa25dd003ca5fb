"""Faces drawn in the browser as a code moves: the model's decoder and refiner run in the page,
on LiteRT.js, from the same LiteRT files the server runs (static/, written by the export), so
that the face under the pointer is drawn as the pointer moves, with no round trip to the server.

The server stays the source of truth for everything else (encoding, printing, fitting, the maps
and shared links); a click still reruns the page as before. Where the browser cannot draw (no
WebAssembly, the runtime or a network fails to load, a script error), the live face stays
hidden and the page keeps the server's pictures. The component's scripts are
explorer/web/live_runtime.js (loading the runtime and the networks, once per tab),
explorer/web/live_map.js and explorer/web/live_controls.js.
"""
from __future__ import annotations

import base64
from dataclasses import dataclass

import numpy as np
import streamlit as st

from explorer.web_assets import web_file

LIVE_MAP = st.components.v2.component(
    "legomoji.live_map", css=web_file("live.css"), js=web_file("live_runtime.js") + web_file("live_map.js"))
LIVE_CONTROLS = st.components.v2.component(
    "legomoji.live_controls", css=web_file("live.css"), js=web_file("live_runtime.js") + web_file("live_controls.js"))


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


@dataclass(frozen=True)
class Control:
    """A live slider: its label, its bounds and step, and the value it shows until moved."""
    label: str
    low: float
    high: float
    step: float
    value: float

    def snap(self, value) -> float | None:
        """`value` as the slider can hold it (on its steps, within its bounds); None if it is not a number."""
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not np.isfinite(value):
            return None
        steps = round((value - self.low) / self.step)
        return float(np.clip(round(self.low + steps * self.step, 6), self.low, self.high))


def _numbers(values) -> list:
    return np.asarray(values, np.float64).round(6).tolist()


def line(code, count: int) -> dict:
    """How a code follows `count` sliders, for the browser: `code(values)`, a function of the
    values that is affine in them (a lerp, a move along directions: every live slider here), is
    read at 0 and at each slider's unit, so the browser draws exactly the server's codes."""
    origin = np.asarray(code(np.zeros(count)), np.float64)
    axes = [np.asarray(code(np.eye(count)[i]), np.float64) - origin for i in range(count)]
    if not np.allclose(code(np.full(count, 0.5)), origin + 0.5 * np.sum(axes, axis=0), atol=1e-6):
        raise ValueError("a live slider's code must move on a line: this one does not")
    return {"origin": _numbers(origin), "axes": [_numbers(axis) if np.any(axis) else None for axis in axes]}


def path(start: np.ndarray, end: np.ndarray, method: str, control: int | None = None, at: float | None = None) -> dict:
    """A code on the way from `start` to `end` (vae.latent.interpolate_latents' "lerp" or
    "slerp"), at the fraction a slider gives (`control`, its index) or at a fixed one (`at`)."""
    return {"from": _numbers(start), "to": _numbers(end), "method": method, "control": control, "at": at}


def domain_line(origin: float, axes) -> dict:
    """A face's domain (0 Lego, 1 emoji): `origin` plus each slider's value times its entry of
    `axes`, clipped to [0, 1]."""
    return {"origin": float(origin), "axes": [float(a) for a in axes]}


def face(code: dict, domain: dict, caption: str) -> dict:
    """A face the sliders move: its code (`line`, `path`), its domain (`domain_line`) and caption."""
    return {"code": code, "domain": domain, "caption": caption}


class Vectors:
    """The codes' vectors as the browser receives them: each one once (the faces of one result
    in two domains, a morph's frames share theirs), named by its place in `sent`."""

    def __init__(self):
        self.sent, self._places = [], {}

    def place(self, vector: list | None) -> int | None:
        if vector is None:
            return None
        key = tuple(vector)
        if key not in self._places:
            self._places[key] = len(self.sent)
            self.sent.append(vector)
        return self._places[key]

    def face(self, entry: dict) -> dict:
        code = dict(entry["code"])
        for name in ("origin", "from", "to"):
            if name in code:
                code[name] = self.place(code[name])
        if "axes" in code:
            code["axes"] = [self.place(axis) for axis in code["axes"]]
        return entry | {"code": code}


def live_values(controls: list[Control], key: str) -> list[float]:
    """The values the sliders of `key` were let go at, or the controls' own values before that
    (readable before the sliders are drawn, for pages whose faces' lines need them)."""
    sent = (st.session_state.get(key) or {}).get("values")
    if not isinstance(sent, list) or len(sent) != len(controls):
        return [control.value for control in controls]
    chosen = [control.snap(value) for control, value in zip(controls, sent)]
    return [control.value if value is None else value for control, value in zip(controls, chosen)]


def live_controls(files: dict, controls: list[Control], faces: list[dict], key: str, columns: int = 1,
                  reset: str | None = None, pad: dict | None = None, frames: list[dict] | None = None,
                  per_row: int | None = None) -> list[float]:
    """Sliders whose `faces` (`face`) are drawn in the browser as they move (`per_row` of them
    to a row where given), the sliders in a grid of `columns`, with a button that sets them all
    to 0 when `reset` names it. A `pad` (`pad`) shows a picture of the server's on which the
    pointer moves the sliders; its `frames` (faces with fixed codes) are then drawn in the
    browser in the picture's place. Returns the values the sliders were let go at (the
    controls' own until then): all the server hears of them."""
    vectors = Vectors()
    data = {"files": files, "controls": [vars(control) | {"min": control.low, "max": control.high}
                                         for control in controls],
            "faces": [vectors.face(entry) for entry in faces], "columns": columns, "reset": reset, "pad": pad,
            "frames": [vectors.face(entry) for entry in frames] if frames else None, "perRow": per_row}
    data["vectors"] = vectors.sent
    values = live_values(controls, key)
    for entry, value in zip(data["controls"], values):
        entry["value"] = value
    LIVE_CONTROLS(data=data, key=key, default={"values": None}, on_values_change=lambda: None)
    return values


def pad(picture: bytes, controls: list[int], cells: tuple[int, int], size: int, gap: int, alt: str, key: str) -> dict:
    """A picture of cells (a PNG of `cells` columns and rows of `size` pixels, `gap` apart, as
    explorer.images draws strips and grids) on which the pointer sets sliders `controls` (across,
    then down): each cell's centre is a step of the way between the sliders' ends. The picture
    is served as st.image serves its own (`key` names its place), not sent over the websocket."""
    return {"picture": served_png(picture, key), "controls": list(controls), "cells": list(cells), "size": size,
            "gap": gap, "alt": alt}


def served_png(picture: bytes, key: str) -> str:
    """The URL of a PNG among Streamlit's media files, as st.image serves its pictures: fetched
    over HTTP, and kept while the session's page at `key` shows it (the next one there replaces
    it); a data URL where no Streamlit runtime runs."""
    from streamlit import runtime

    if not runtime.exists():
        return "data:image/png;base64," + base64.b64encode(picture).decode()
    return runtime.get_instance().media_file_mgr.add(picture, "image/png", f"legomoji.{key}")


def live_slider(files: dict, label: str, bounds: tuple[float, float, float], value: float, code, domain: dict,
                caption: str, key: str) -> float:
    """One slider (bounds: low, high, step) whose face is drawn in the browser as it moves:
    `code(value)` (affine in the value, see `line`), in `domain` (`domain_line`). Returns the
    value it was let go at (`value` until then)."""
    control = Control(label, *bounds, value)
    return live_controls(files, [control], [face(line(lambda v: code(v[0]), 1), domain, caption)], key)[0]
