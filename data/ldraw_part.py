"""A face picture as an LDraw part: a minifig head (3626c) with the face printed on as a texture.

A picture (S, S, 3) is what the dataset and the model draw: the front of a 3626 head rendered by
data/ldraw.py (orthographic, y in FACE_Y_RANGE) and framed by data/framing.py (the head's width
is FACE_WIDTH of the frame, its box centred). The head's side is a surface of revolution, so each
picture column is the sine of an angle round the head: the export inverts that projection into a
texture whose u is the angle (-90 to 90 degrees, left to right seen from the front) and whose v
is the height (the head's y from 0 to 21 LDU), and divides out the renderer's light so that a
CAD program's own light does not shade the face twice.

The .mpd file holds three blocks: the model (the part in yellow), the part (the library's head
shell `s\\3626cs01.dat` plus 3626c's own front, textured with `0 !TEXMAP START CYLINDRICAL`, and
that same front untextured after `0 !TEXMAP FALLBACK` for programs without textures) and the
texture as a PNG embedded with `0 !DATA`. It names library parts only, so writing it needs no
library: the user's CAD program has them.
"""
from __future__ import annotations

import base64
import io
import re

import numpy as np
from PIL import Image

from data.framing import FACE_WIDTH
from data.ldraw import FACE_Y_RANGE, HEAD_COLOUR, sample_bilinear, surface_shade

MIN_PICTURE = 16  # px: smaller pictures hold no face worth printing
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")

# 3626c's side, in LDU: a cylinder of radius 13 from y = 4 to 17, and rounded top and chin edges
# (t04o6250 scaled 8 x 6.4: quarter tubes of 5 x 4 LDU in 4 facets) narrowing to radius 8 at
# y = 0 and y = 21. Round the head both are cut in facets of 22.5 degrees (2-4cyli, t04o6250).
HEAD_RADIUS = 13.0
FACET = np.radians(22.5)
_TURNS = np.arange(5) * FACET
RING_Y = np.concatenate([4 - 4 * np.sin(_TURNS[::-1]), 17 + 4 * np.sin(_TURNS)])  # top to bottom
RING_RADIUS = np.concatenate([8 + 5 * np.cos(_TURNS[::-1]), 8 + 5 * np.cos(_TURNS)])
TEXMAP_Y = (float(RING_Y[0]), float(RING_Y[-1]))  # the height the texture spans
# a picture shows the rings FACE_Y_RANGE keeps: from the top rim down to this one of the chin's
PICTURE_Y = (float(RING_Y[0]), float(RING_Y[RING_Y <= FACE_Y_RANGE[1]].max()))

SHELL = r"s\3626cs01.dat"  # 3626c without its front: the stud, the neck and the back half
FRONT = (  # 3626c's front half, as 3626c.dat draws it: the cylinder, the top and chin edges
    "1 16 0 4 0 13 0 0 0 13 0 0 0 -13 2-4cyli.dat",
    "1 16 0 4 0 0 0 -8 0 -6.4 0 -8 0 0 t04o6250.dat",
    "1 16 0 4 0 8 0 0 0 -6.4 0 0 0 -8 t04o6250.dat",
    "1 16 0 17 0 0 0 8 0 6.4 0 -8 0 0 t04o6250.dat",
    "1 16 0 17 0 -8 0 0 0 6.4 0 0 0 -8 t04o6250.dat",
)
# bottom centre, top centre, the point where u = 0.5 (the middle of the face) and the angle u spans
TEXMAP = (0.0, TEXMAP_Y[1], 0.0, 0.0, TEXMAP_Y[0], 0.0, 0.0, TEXMAP_Y[0], -HEAD_RADIUS, 180.0)


def _check_picture(picture: np.ndarray) -> None:
    if not (isinstance(picture, np.ndarray) and picture.dtype == np.uint8 and picture.ndim == 3
            and picture.shape[2] == 3 and picture.shape[0] == picture.shape[1] >= MIN_PICTURE):
        got = f"{picture.dtype} {picture.shape}" if isinstance(picture, np.ndarray) else type(picture).__name__
        raise ValueError(f"The face picture must be a square uint8 RGB array (S, S, 3) with S >= {MIN_PICTURE}, "
                         f"as the model draws it; got {got}.")


def face_texture(picture: np.ndarray) -> np.ndarray:
    """(S, 2S, 3) uint8: the picture's head unwrapped from its side and unlit (see the module)."""
    _check_picture(picture)
    size = picture.shape[0]
    turn = ((np.arange(2 * size) + 0.5) / (2 * size) - 0.5) * np.pi  # (W,) radians, 0 at the front
    y = TEXMAP_Y[0] + (np.arange(size) + 0.5) / size * (TEXMAP_Y[1] - TEXMAP_Y[0])  # (H,) LDU
    radius = np.interp(y, RING_Y, RING_RADIUS)[:, None]  # (H, 1)
    scale = FACE_WIDTH * size / (2 * HEAD_RADIUS)  # px per LDU
    inside = 1.0 / scale  # read one pixel inside the head's outline, never its blurred rim
    x = np.clip(radius * np.sin(turn), inside - radius, radius - inside)  # (H, W)
    y_seen = np.clip(y, PICTURE_Y[0] + inside, PICTURE_Y[1] - inside)[:, None]  # rows below show the lowest
    columns = size / 2 + x * scale - 0.5
    rows = size / 2 + (y_seen - sum(PICTURE_Y) / 2) * scale - 0.5
    colours = sample_bilinear(picture, np.broadcast_to(rows, x.shape), columns)  # (H, W, 3)
    # the light fell on the picture's head facet by facet: divide out each facet's shading
    facet = (np.floor(turn / FACET + 4) - 3.5) * FACET  # (W,) the middle of each 22.5-degree facet
    band = np.clip(np.searchsorted(RING_Y, y, side="right") - 1, 0, len(RING_Y) - 2)  # (H,)
    slope = np.diff(RING_RADIUS)[band] / np.maximum(np.diff(RING_Y)[band], 1e-9)  # dr/dy of each band
    normals = np.stack(np.broadcast_arrays(np.sin(facet)[None], -slope[:, None], -np.cos(facet)[None]), axis=-1)
    normals /= np.linalg.norm(normals, axis=-1, keepdims=True)
    return np.clip(colours / surface_shade(normals)[..., None], 0, 255).round().astype(np.uint8)


def face_part_mpd(picture: np.ndarray, name: str = "legomoji-face") -> bytes:
    """The LDraw .mpd file (UTF-8, CRLF) of a minifig head printed with the picture's face;
    `name` names its model, part and texture (letters, digits, '-' and '_')."""
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise ValueError(f"The part's name must be 1 to 64 letters, digits, '-' or '_' starting with a "
                         f"letter or digit; got {name!r}.")
    buffer = io.BytesIO()
    Image.fromarray(face_texture(picture), "RGB").save(buffer, format="PNG", optimize=True)
    numbers = " ".join(f"{value:g}" for value in TEXMAP)
    lines = [
        f"0 FILE {name}.ldr",
        f"0 {name}",
        f"0 Name: {name}.ldr",
        "0 Author: Legomoji",
        f"1 {HEAD_COLOUR} 0 0 0 1 0 0 0 1 0 0 0 1 {name}.dat",
        "",
        f"0 FILE {name}.dat",
        "0 Minifig Head with Legomoji Face Pattern",
        f"0 Name: {name}.dat",
        "0 Author: Legomoji",
        "0 !LDRAW_ORG Unofficial_Part",
        "",
        "0 BFC CERTIFY CCW",
        "",
        "0 // The head's geometry is 3626c.dat's (J.C. Tchang, LDraw.org Parts Library, CC BY 4.0);",
        "0 // programs without textures draw the plain head after FALLBACK.",
        f"1 16 0 0 0 1 0 0 0 1 0 0 0 1 {SHELL}",
        f"0 !TEXMAP START CYLINDRICAL {numbers} {name}.png",
        *(f"0 !: {line}" for line in FRONT),
        "0 !TEXMAP FALLBACK",
        *FRONT,
        "0 !TEXMAP END",
        "",
        f"0 !DATA {name}.png",
        *(f"0 !: {row}" for row in base64.encodebytes(buffer.getvalue()).decode("ascii").split()),
    ]
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")
