"""A face picture as an LDraw part: a minifig head (3626c) with the face printed on as a texture.

A picture (S, S, 3) is what the dataset and the model draw: the front of a 3626 head rendered by
data/ldraw.py (orthographic, y in FACE_Y_RANGE) and framed by data/framing.py (the head's width
is FACE_WIDTH of the frame, its box centred). The head's side is a surface of revolution, so each
picture column is the sine of an angle round the head: the export inverts that projection into a
texture whose u is the angle (-90 to 90 degrees, left to right seen from the front) and whose v
is the height (the head's y from 0 to 21 LDU), and divides out the renderer's light so that a
CAD program's own light does not shade the face twice. The picture's outline is blurred and a
model may leave the frame's background at the head's rim: the texture shows the head's own
yellow there, so no pale band or background shows from the side.

A part is named after its picture (`face_name`: a hash of its pixels), so that different faces
get different names in a user's library. It comes two ways, both naming library parts only, so that writing
them needs no library (the user's CAD program has the parts):
- `face_part_zip`: an LDraw library folder (`parts/<name>.dat`, `parts/textures/<name>.png`), to
  unzip into a library; programs that read textures only from the library (LeoCAD) show this one.
- `face_part_mpd`: one .mpd file with the model, the part and the texture embedded with
  `0 !DATA`, for programs that read embedded textures.
The part is the library's head shell `s\\3626cs01.dat` plus 3626c's own front, textured with
`0 !TEXMAP START CYLINDRICAL`, and that same front untextured after `0 !TEXMAP FALLBACK` for
programs without textures.

The dashboard shows the part before it is downloaded (`face_part_views`). It cannot render the
part's file: the dashboard ships no LDraw library, and shipping 3626c's thirteen files would
bring their licence and credits into the package for a picture. It draws the same head from the
geometry this module already knows (the side's rings RING_Y / RING_RADIUS in 22.5-degree facets,
the stud and the neck of 3626cs02) with the same !TEXMAP and texture, through data/ldraw.py's
renderer; tests/test_ldraw_part.py holds it to a render of the part's file with the library.
"""
from __future__ import annotations

import base64
import hashlib
import io
import re
import zipfile

import numpy as np
from PIL import Image
from scipy import ndimage

from data.framing import FACE_WIDTH
from data.ldraw import (
    FACE_Y_RANGE,
    HEAD_COLOUR,
    Mesh,
    RenderStats,
    Texmap,
    render_mesh,
    sample_bilinear,
    surface_shade,
)

MIN_PICTURE = 16  # px: smaller pictures hold no face worth printing
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
NAME_PREFIX = "legomoji-"
NAME_DIGITS = 10  # hex digits of the picture's hash in its name: a collision needs ~10^6 faces in one library
HEAD_RGB = (250, 200, 10)  # LDraw colour 14 (Yellow, #FAC80A in LDConfig.ldr): the unlit plastic

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
RIM = 2.0  # picture px: how far into the head its outline is blurred (framing's resize) or pale

SHELL = r"s\3626cs01.dat"  # 3626c without its front: the stud, the neck and the back half
FRONT = (  # 3626c's front half, as 3626c.dat draws it: the cylinder, the top and chin edges
    "1 16 0 4 0 13 0 0 0 13 0 0 0 -13 2-4cyli.dat",
    "1 16 0 4 0 0 0 -8 0 -6.4 0 -8 0 0 t04o6250.dat",
    "1 16 0 4 0 8 0 0 0 -6.4 0 0 0 -8 t04o6250.dat",
    "1 16 0 17 0 0 0 8 0 6.4 0 -8 0 0 t04o6250.dat",
    "1 16 0 17 0 -8 0 0 0 6.4 0 0 0 -8 t04o6250.dat",
)
# bottom centre, top centre, the point where u = 0.5 (the middle of the face) and the angle u spans.
# The spec's words put the third point on the bottom edge; it is on the top edge here, where LeoCAD
# (21.06) needs it: with the bottom edge's point LeoCAD turns the print round the head, and its
# print overlaps this project's render by 10 % (tests/test_leocad.py's measure; 88 % as it is).
# This project's renderer reads only the point's direction from the axis: either works there.
TEXMAP = (0.0, TEXMAP_Y[1], 0.0, 0.0, TEXMAP_Y[0], 0.0, 0.0, TEXMAP_Y[0], -HEAD_RADIUS, 180.0)

# the head's files in the LDraw.org Parts Library, whose geometry the part takes (CC BY 4.0)
HEAD_CREDIT = ("3626c.dat and s\\3626cs01.dat by J.C. Tchang [tchang], s\\3626cs02.dat by "
               "Magnus Forsberg [MagFors]")
LICENSE = "0 !LICENSE Licensed under CC BY 4.0 : see CAreadme.txt"
DESCRIPTION = "Minifig Head with Legomoji Face Pattern"
ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # every entry's time: the same face always gives the same bytes
ZIP_README = f"""\
A minifig head printed with a face drawn by Legomoji, as an LDraw part.

parts/{NAME_PREFIX}*.dat           the part: 3626c with the face as a cylindrical !TEXMAP
parts/textures/{NAME_PREFIX}*.png  its texture

Unzip this into your LDraw library's folder (ldraw/), so that its parts/ lands on the
library's parts/, or into the library's unofficial folder: LeoCAD 21.06 on Linux reads
ldraw/unofficial spelt in lower case only. Then restart the program and find the part by
its name or its description, "{DESCRIPTION}".

Tried with LeoCAD 21.06, which shows the face. A program without textures shows a plain
yellow head. The .mpd download holds the same part with the texture inside it, for
programs that read embedded textures (0 !DATA).

The head's geometry is the LDraw.org Parts Library's ({HEAD_CREDIT}),
licensed under CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/); so is this part.
"""

# the preview's head: (radius, y) round its profile from the stud's top to the neck's bottom (3626cs02)
PREVIEW_PROFILE = np.concatenate([
    [[0, 0], [4, 0], [4, -4], [6, -4], [6, 0]],  # the hollow stud's floor, inner wall, top and side
    np.stack([RING_RADIUS, RING_Y], axis=1),  # the printed side
    [[8, 24], [0, 24]],  # the neck
])
PREVIEW_VIEWS = {"front": (0.0, 0.0), "three-quarter": (-40.0, 15.0)}  # (turn, tilt) degrees, see render_mesh


def _check_picture(picture: np.ndarray) -> None:
    if not (isinstance(picture, np.ndarray) and picture.dtype == np.uint8 and picture.ndim == 3
            and picture.shape[2] == 3 and picture.shape[0] == picture.shape[1] >= MIN_PICTURE):
        got = f"{picture.dtype} {picture.shape}" if isinstance(picture, np.ndarray) else type(picture).__name__
        raise ValueError(f"The face picture must be a square uint8 RGB array (S, S, 3) with S >= {MIN_PICTURE}, "
                         f"as the model draws it; got {got}.")


def _check_name(name: str) -> None:
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise ValueError(f"The part's name must be 1 to 64 letters, digits, '-' or '_' starting with a "
                         f"letter or digit; got {name!r}.")


def face_name(picture: np.ndarray) -> str:
    """The part's name: `legomoji-` and a hash of the picture's pixels, the same for the same face."""
    _check_picture(picture)
    digest = hashlib.sha256(f"{picture.shape}".encode() + np.ascontiguousarray(picture).tobytes()).hexdigest()
    return NAME_PREFIX + digest[:NAME_DIGITS]


def face_texture(picture: np.ndarray) -> np.ndarray:
    """(S, 2S, 3) uint8: the picture's head unwrapped from its side and unlit, its rim and
    whatever pale or background colour reaches into it from there in the head's yellow (see
    the module)."""
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
    texture = np.clip(colours / surface_shade(normals)[..., None], 0, 255).round().astype(np.uint8)
    rim = (_outline_distance(radius * np.sin(turn), y[:, None]) * scale < RIM) | (y > PICTURE_Y[1])[:, None]
    texture[_off_the_face(texture, rim)] = HEAD_RGB
    return texture


def _outline_distance(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """LDU from points (x, y) of the picture's head, each (H, W), to its outline there: the
    rings it shows, the top and the cut below them."""
    shown = RING_Y <= PICTURE_Y[1]
    corners = np.concatenate([[[0, PICTURE_Y[0]]], np.stack([RING_RADIUS[shown], RING_Y[shown]], axis=1),
                              [[0, PICTURE_Y[1]]]])  # (K, 2) round the right half
    start, along = corners[:-1], np.diff(corners, axis=0)  # (K-1, 2) each
    points = np.stack(np.broadcast_arrays(np.abs(x), y), axis=-1)[..., None, :]  # (H, W, 1, 2)
    t = np.clip(((points - start) * along).sum(-1) / (along ** 2).sum(-1), 0, 1)  # (H, W, K-1)
    return np.linalg.norm(points - (start + t[..., None] * along), axis=-1).min(axis=-1)


def _off_the_face(texture: np.ndarray, rim: np.ndarray) -> np.ndarray:
    """(H, W) bool: the rim's texels (given) and every pale or background-coloured region that
    touches it. Yellow plastic has almost no blue; the frame's background and the pale blend of
    the two at a blurred outline have much, as has light print (white, tan), which is kept where
    the face's yellow surrounds it."""
    red, green, blue = np.moveaxis(texture.astype(int), -1, 0)
    pale = (blue > 40) & (np.minimum(red, green) > 150)
    regions, _ = ndimage.label(pale | rim)
    touching = np.unique(regions[rim])
    return rim | (np.isin(regions, touching[touching > 0]) & pale)


def _texture_png(picture: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(face_texture(picture), "RGB").save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def _texmap_start(name: str) -> str:
    return f"0 !TEXMAP START CYLINDRICAL {' '.join(f'{value:g}' for value in TEXMAP)} {name}.png"


def _part_lines(name: str) -> list[str]:
    """The part file's lines (see the module), its header per the LDraw File Header spec."""
    return [
        f"0 {DESCRIPTION}",
        f"0 Name: {name}.dat",
        "0 Author: Legomoji",
        "0 !LDRAW_ORG Unofficial_Part",
        LICENSE,
        "",
        "0 BFC CERTIFY CCW",
        "",
        f"0 // The head's geometry is the LDraw.org Parts Library's: {HEAD_CREDIT};",
        "0 // programs without textures draw the plain head after FALLBACK.",
        f"1 16 0 0 0 1 0 0 0 1 0 0 0 1 {SHELL}",
        _texmap_start(name),
        *(f"0 !: {line}" for line in FRONT),
        "0 !TEXMAP FALLBACK",
        *FRONT,
        "0 !TEXMAP END",
    ]


def _ldraw_bytes(lines: list[str]) -> bytes:
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")  # LDraw files: UTF-8, CRLF


def face_part_mpd(picture: np.ndarray, name: str | None = None) -> bytes:
    """The LDraw .mpd file of a minifig head printed with the picture's face, its texture
    inside it (`0 !DATA`); `name` (letters, digits, '-' and '_'; the picture's face_name when
    not given) names its model, part and texture."""
    name = face_name(picture) if name is None else name
    _check_name(name)
    png = _texture_png(picture)
    return _ldraw_bytes([
        f"0 FILE {name}.ldr",
        f"0 {DESCRIPTION}",
        f"0 Name: {name}.ldr",
        "0 Author: Legomoji",
        LICENSE,
        f"1 {HEAD_COLOUR} 0 0 0 1 0 0 0 1 0 0 0 1 {name}.dat",
        "",
        f"0 FILE {name}.dat",
        *_part_lines(name),
        "",
        f"0 !DATA {name}.png",
        *(f"0 !: {row}" for row in base64.encodebytes(png).decode("ascii").split()),
    ])


def face_part_zip(picture: np.ndarray, name: str | None = None) -> bytes:
    """A zip laid out as an LDraw library folder: `parts/<name>.dat` (the part), its texture
    `parts/textures/<name>.png` and a README.txt saying where to unzip it. The same picture
    always gives the same bytes."""
    name = face_name(picture) if name is None else name
    _check_name(name)
    files = {
        f"parts/{name}.dat": _ldraw_bytes(_part_lines(name)),
        f"parts/textures/{name}.png": _texture_png(picture),
        "README.txt": ZIP_README.replace("\n", "\r\n").encode("utf-8"),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, data in files.items():
            entry = zipfile.ZipInfo(path, ZIP_TIME)
            entry.external_attr = 0o644 << 16  # rw-r--r-- where unzipped
            archive.writestr(entry, data, zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def _preview_mesh(texture: np.ndarray) -> Mesh:
    """The part's head (see the module) as triangles, its side textured as the part's !TEXMAP says."""
    turns = np.arange(16 + 1) * FACET  # (17,) round the head
    radii, heights = PREVIEW_PROFILE[:, 0], PREVIEW_PROFILE[:, 1]
    # (P, 17, 3) the profile's points turned round the vertical axis
    points = np.stack([radii[:, None] * np.sin(turns), np.broadcast_to(heights[:, None], (len(radii), 17)),
                       -radii[:, None] * np.cos(turns)], axis=-1)
    a, b, c, d = points[:-1, :-1], points[:-1, 1:], points[1:, 1:], points[1:, :-1]  # (P-1, 16, 3) each
    triangles = np.concatenate([np.stack([a, b, c], axis=2), np.stack([a, c, d], axis=2)]).reshape(-1, 3, 3)
    middle = triangles[:, :, 1].mean(axis=1)
    printed = (middle > TEXMAP_Y[0]) & (middle < TEXMAP_Y[1])  # the side; its back falls outside the picture
    rgba = np.concatenate([texture, np.full(texture.shape[:2] + (1,), 255, np.uint8)], axis=-1)
    values = np.array(TEXMAP)
    texmap = Texmap(rgba, values[0:3], values[3:6], values[6:9], float(values[9]))
    return Mesh(triangles.astype(np.float32), np.full(len(triangles), HEAD_COLOUR, np.int64), (texmap,),
                np.where(printed, 0, -1).astype(np.int64))


def face_part_views(picture: np.ndarray, size: int) -> dict[str, Image.Image]:
    """RGBA renders (size, size) of the part, by view name (PREVIEW_VIEWS), as the dashboard
    shows them before the download."""
    mesh = _preview_mesh(face_texture(picture))
    colours = {HEAD_COLOUR: HEAD_RGB + (255,)}
    return {view: render_mesh(mesh, colours, size, RenderStats(), turn=turn, tilt=tilt)
            for view, (turn, tilt) in PREVIEW_VIEWS.items()}
