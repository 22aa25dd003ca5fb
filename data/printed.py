"""Printed heads: each emoji's features printed on Lego heads, as synthetic Lego training faces.

The Lego side of the dataset has almost no winks, kisses or tears, so a Lego-conditioned
decoder has never drawn them. Every emoji has them, and the two domains draw a face the same
way: dark eyes, brows and a mouth on a yellow fill. This module

1. lifts an emoji's features off its face fill (whatever inside the face is not the fill:
   eyes, brows, mouth, tears, tongue, glasses, hands over the face), as a soft RGBA layer;
2. erases the eyes, brows and mouth of a rendered Lego head (small marks inside the face zone;
   hair, beards, face paint and the head's shading stay) to make a base;
3. prints the layer on the base the way a print sits on a head: wrapped around the cylinder
   (orthographic, x = R sin(u / R)) and shaded by the base's own column shading.

Every printed head is flagged synthetic and keeps its pairing: the emoji it came from and
the base it was printed on.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image
from scipy import ndimage
from scipy.spatial import ConvexHull, QhullError

from data.framing import BACKGROUND
from data.record import LEGO, SourceFace

LIFT_SIZE = 256  # emoji are lifted at this side, whatever their source resolution
FILL_HUE = (22.0, 62.0)  # degrees: yellow to orange, the fill of every face style
SOFT_EDGE = 6.0  # degrees / percent over which fill-ness fades, a soft mask for shaded styles
# where a print sits on the head's face, as fractions of the head's box (left, top, right, bottom)
PRINT_BOX = (0.16, 0.10, 0.84, 0.96)
# marks of a real head that are erased: inside this zone and small (eyes, brows, mouth)
ERASE_ZONE = (0.14, 0.12, 0.86, 0.94)
EYE_BAND = (0.22, 0.25, 0.78, 0.55)  # where the eyes sit: a base keeps none of its own there
MOUTH_BAND = (0.30, 0.62, 0.70, 0.88)  # where the mouth sits: nor of its own mouth (a beard's teeth)
DARK = 0.3  # luminance under which a head's colour is dark: a dark feature printed there turns light
SKIN_TOLERANCE = 40  # RGB distance (after removing the column's shading) that still counts as skin


@dataclass
class PrintBase:
    """A Lego head ready to take a print: its erased render and where it came from."""

    rgba: Image.Image
    name: str
    index: int  # the source face this base was erased from, or -1 for the plain head


def _hsv(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Hue in degrees, saturation and value in [0, 1] of float RGB (..., 3) in [0, 1]."""
    high, low = rgb.max(-1), rgb.min(-1)
    chroma = high - low
    safe = np.where(chroma > 1e-6, chroma, 1.0)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    hue = np.where(high == r, ((g - b) / safe) % 6, np.where(high == g, (b - r) / safe + 2, (r - g) / safe + 4))
    hue = np.where(chroma > 1e-6, hue * 60.0, 0.0)
    return hue, np.where(high > 1e-6, chroma / np.maximum(high, 1e-6), 0.0), high


def _ramp(x: np.ndarray, start: float, width: float) -> np.ndarray:
    """0 below start, 1 above start + width, linear between."""
    return np.clip((x - start) / width, 0.0, 1.0)


def fill_likeness(rgb: np.ndarray) -> np.ndarray:
    """(H, W) in [0, 1]: how much each pixel looks like a face fill (saturated yellow to orange)."""
    hue, saturation, value = _hsv(rgb)
    in_hue = _ramp(hue, FILL_HUE[0] - SOFT_EDGE, SOFT_EDGE) * (1.0 - _ramp(hue, FILL_HUE[1], SOFT_EDGE))
    return in_hue * _ramp(saturation, 0.30, 0.15) * _ramp(value, 0.50, 0.15)


def _hull_mask(mask: np.ndarray) -> np.ndarray:
    """The filled convex hull of a boolean mask's pixels."""
    ys, xs = np.nonzero(mask)
    if len(xs) < 3:
        return mask
    points = np.stack([xs, ys], axis=1).astype(float)
    try:
        hull = points[ConvexHull(points).vertices]
    except QhullError:
        return mask
    canvas = Image.new("L", (mask.shape[1], mask.shape[0]), 0)
    from PIL import ImageDraw

    ImageDraw.Draw(canvas).polygon([tuple(p) for p in hull], fill=255)
    return np.asarray(canvas) > 127


def _round_face(fill: np.ndarray, opaque: np.ndarray) -> np.ndarray:
    """The face as the fill's hull, or, where something covers a large part of the fill (a mask
    over the mouth, a hand), the disc as wide as the fill and centred on the opaque emoji."""
    ys, xs = np.nonzero(fill)
    width, height = xs.max() + 1 - xs.min(), ys.max() + 1 - ys.min()
    if height >= 0.85 * width:
        return fill
    columns = opaque[:, xs.min():xs.max() + 1].any(axis=1)
    rows = np.flatnonzero(columns)
    centre_y, centre_x = (rows[0] + rows[-1] + 1) / 2.0, (xs.min() + xs.max() + 1) / 2.0
    yy, xx = np.mgrid[:fill.shape[0], :fill.shape[1]]
    return fill | ((yy + 0.5 - centre_y) ** 2 + (xx + 0.5 - centre_x) ** 2 <= (width / 2.0) ** 2) & opaque


def lift_features(rgba: Image.Image) -> Image.Image | None:
    """The emoji's features on transparency, cropped to its face's box; None when the emoji
    has no face fill to lift from (a skull, a ghost, a face that is not yellow)."""
    image = rgba.convert("RGBA").resize((LIFT_SIZE, LIFT_SIZE), Image.LANCZOS)
    pixels = np.asarray(image, dtype=np.float32) / 255.0  # (S, S, 4)
    rgb, alpha = pixels[..., :3], pixels[..., 3]
    fill = fill_likeness(rgb) * alpha
    solid = fill > 0.5
    labels, count = ndimage.label(solid)
    if count == 0:
        return None
    sizes = ndimage.sum(solid, labels, index=np.arange(1, count + 1))
    face = labels == 1 + int(np.argmax(sizes))
    if face.sum() < 0.15 * LIFT_SIZE ** 2:  # too little fill: no face to lift features from
        return None
    face = _round_face(_hull_mask(face), alpha > 0.5)
    face = ndimage.binary_erosion(face, iterations=max(1, LIFT_SIZE // 96))  # off the outline's rim
    inside = ndimage.gaussian_filter(face.astype(np.float32), 1.0)
    feature_alpha = np.clip((1.0 - fill) * alpha * inside, 0.0, 1.0)
    ys, xs = np.nonzero(face)
    box = (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)
    layer = np.dstack([rgb, feature_alpha])
    return Image.fromarray((layer * 255).round().astype(np.uint8), "RGBA").crop(box)


def _column_skin(rgb: np.ndarray, opaque: np.ndarray, skin: np.ndarray, rows: slice) -> np.ndarray:
    """(W, 3) the plain skin colour of each column (the facets shade a head column by column)."""
    band = rgb[rows]  # (h, W, 3)
    brightness = band.mean(-1, keepdims=True) / max(float(skin.mean()), 1e-3)
    unshaded = band / np.maximum(brightness, 1e-3)
    close = (np.abs(unshaded - skin).max(-1) < SKIN_TOLERANCE / 255.0) & opaque[rows]
    columns = np.empty((band.shape[1], 3), np.float32)
    for x in range(band.shape[1]):
        chosen = band[close[:, x], x]
        columns[x] = np.median(chosen, axis=0) if len(chosen) else np.nan
    valid = ~np.isnan(columns[:, 0])
    if not valid.any():
        return np.broadcast_to(skin, columns.shape).copy()
    for channel in range(3):  # fill columns without skin (all print) from their neighbours
        columns[:, channel] = np.interp(np.arange(len(columns)), np.flatnonzero(valid), columns[valid, channel])
    return columns


def erase_features(rgba: Image.Image) -> tuple[Image.Image, float]:
    """A head with its small marks inside the face zone painted over in its own skin, and the
    share of the eye or mouth band still marked, whichever is larger (0: no eyes or mouth left;
    large: hair, a beard, paint or a patch there)."""
    pixels = np.asarray(rgba.convert("RGBA"), dtype=np.float32) / 255.0
    rgb, opaque = pixels[..., :3].copy(), pixels[..., 3] > 0.5
    ys, xs = np.nonzero(opaque)
    top, bottom, left, right = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    height, width = bottom - top, right - left
    zone = np.zeros_like(opaque)
    zone_box = (left + int(ERASE_ZONE[0] * width), top + int(ERASE_ZONE[1] * height),
                left + int(ERASE_ZONE[2] * width), top + int(ERASE_ZONE[3] * height))
    zone[zone_box[1]:zone_box[3], zone_box[0]:zone_box[2]] = True
    # the skin is the commonest colour of the face zone, once shading is divided out
    quantised = (rgb[zone & opaque] * 15).round().astype(int)
    codes, counts = np.unique(quantised[:, 0] * 256 + quantised[:, 1] * 16 + quantised[:, 2], return_counts=True)
    mode = codes[np.argmax(counts)]
    skin = np.median(rgb[zone & opaque][(quantised[:, 0] * 256 + quantised[:, 1] * 16 + quantised[:, 2]) == mode],
                     axis=0)
    rows = slice(zone_box[1], zone_box[3])
    plain = _column_skin(rgb, opaque, skin, rows)  # (W, 3)
    marks = (np.abs(rgb - plain[None]).max(-1) > SKIN_TOLERANCE / 255.0) & opaque
    marks[:top + int(0.04 * height)] = False  # the top rim's own shading is not a mark
    labels, count = ndimage.label(ndimage.binary_dilation(marks, iterations=2))
    erased = np.zeros_like(marks)
    for index, region in enumerate(ndimage.find_objects(labels), start=1):
        y0, y1, x0, x1 = region[0].start, region[0].stop, region[1].start, region[1].stop
        inside = y0 >= zone_box[1] and y1 <= zone_box[3] and x0 >= zone_box[0] and x1 <= zone_box[2]
        if inside and (y1 - y0) < 0.45 * height and (x1 - x0) < 0.72 * width:
            erased |= labels == index
    erased = ndimage.binary_dilation(erased, iterations=2) & opaque
    rgb[erased] = np.broadcast_to(plain[None], rgb.shape)[erased]
    remaining = 0.0
    for box in (EYE_BAND, MOUTH_BAND):
        band = np.zeros_like(zone)
        band[top + int(box[1] * height):top + int(box[3] * height),
             left + int(box[0] * width):left + int(box[2] * width)] = True
        remaining = max(remaining, (marks & ~erased & band).sum() / max(1, band.sum()))
    out = np.dstack([rgb, pixels[..., 3]])
    return Image.fromarray((out * 255).round().astype(np.uint8), "RGBA"), float(remaining)


def print_on_head(base: Image.Image, layer: Image.Image) -> Image.Image:
    """The feature layer printed on a base head: wrapped around its cylinder, shaded like it."""
    head = np.asarray(base.convert("RGBA"), dtype=np.float32) / 255.0
    opaque = head[..., 3] > 0.5
    ys, xs = np.nonzero(opaque)
    top, bottom, left, right = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    width, height = right - left, bottom - top
    box = (left + int(PRINT_BOX[0] * width), top + int(PRINT_BOX[1] * height),
           left + int(PRINT_BOX[2] * width), top + int(PRINT_BOX[3] * height))
    flat = np.asarray(layer.resize((box[2] - box[0], box[3] - box[1]), Image.LANCZOS), np.float32) / 255.0
    # orthographic cylinder: screen x = R sin(u / R) for arc length u from the head's axis
    radius, centre = width / 2.0, (left + right) / 2.0
    screen_x = np.arange(box[0], box[2]) + 0.5 - centre
    arc = radius * np.arcsin(np.clip(screen_x / radius, -1.0, 1.0))
    flat_x = arc + (box[2] - box[0]) / 2.0 - (box[0] + box[2]) / 2.0 + centre - 0.5
    source = np.clip(np.round(flat_x).astype(int), 0, flat.shape[1] - 1)
    inside = (flat_x >= 0) & (flat_x <= flat.shape[1] - 1)
    wrapped = flat[:, source] * inside[None, :, None]  # (h, w, 4)
    # the head's facets shade whole columns: the print takes each column's light
    mid = slice(top + height // 3, top + 2 * height // 3)
    column_light = np.median(head[mid, box[0]:box[2], :3].mean(-1), axis=0)
    shade = column_light / max(float(np.median(column_light)), 1e-3)
    region = head[box[1]:box[3], box[0]:box[2]]
    alpha = wrapped[..., 3:4] * region[..., 3:4]
    colour = _legible(wrapped[..., :3], region[..., :3])
    colour = np.clip(colour * shade[None, :, None], 0.0, 1.0)
    region[..., :3] = region[..., :3] * (1.0 - alpha) + colour * alpha
    head[box[1]:box[3], box[0]:box[2]] = region
    return Image.fromarray((head * 255).round().astype(np.uint8), "RGBA")


def cut_out_framed(image: np.ndarray, tolerance: int = 6) -> Image.Image:
    """RGBA of a framed face (a dataset picture): the shared backdrop, wherever it reaches the
    frame's border, turns transparent; white inside the face (eyes, a mask) stays opaque. The
    tolerance is small: a pale grey mask whose straps reach the outline is no backdrop."""
    pixels = np.asarray(image, np.uint8)[..., :3]
    close = np.abs(pixels.astype(np.int16) - np.array(BACKGROUND, np.int16)).max(-1) <= tolerance
    labels, _ = ndimage.label(close)
    border = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    backdrop = np.isin(labels, border[border > 0])
    return Image.fromarray(np.dstack([pixels, np.where(backdrop, 0, 255).astype(np.uint8)]), "RGBA")


def lifted_layer(emoji: np.ndarray) -> Image.Image | None:
    """A framed emoji's (uint8 (S, S, 3)) features on transparency; None when it has no face
    fill to lift them from."""
    return lift_features(cut_out_framed(emoji))


def erased_base(face: np.ndarray) -> Image.Image:
    """A framed Lego face (uint8 (S, S, 3)) cut from its backdrop, its eyes, brows and mouth
    erased where they erase."""
    return erase_features(cut_out_framed(face))[0]


def printed_picture(base: Image.Image, layer: Image.Image) -> np.ndarray:
    """uint8 (S, S, 3): `layer` printed on `base`, back in the frame's backdrop."""
    return np.asarray(print_on_head(base, layer))[..., :3].copy()


def print_expression(face: np.ndarray, emoji: np.ndarray) -> np.ndarray | None:
    """A framed Lego face (uint8 (S, S, 3)) with a framed emoji's features printed on it in place
    of its own eyes, brows and mouth, in the same frame; None when the emoji has no face fill to
    lift its features from. Marks that do not erase (a beard, glasses) stay under the print."""
    layer = lifted_layer(emoji)
    return None if layer is None else printed_picture(erased_base(face), layer)


def print_or_keep(face: np.ndarray, emoji: np.ndarray) -> np.ndarray:
    """`print_expression`, or the face as it is where the emoji cannot be printed."""
    printed = print_expression(face, emoji)
    return face if printed is None else printed


def _luminance(rgb: np.ndarray) -> np.ndarray:
    return rgb @ np.array([0.299, 0.587, 0.114], np.float32)


def _legible(feature: np.ndarray, under: np.ndarray) -> np.ndarray:
    """Dark features over a dark part of the head printed light grey, as Lego prints eyes on a
    mask or a dark face; lighter features (tears, a tongue, blush) keep their colour."""
    lightness = _luminance(feature)
    flip = (lightness < DARK) & (_luminance(under) < DARK)
    return np.where(flip[..., None], (1.0 - 0.8 * lightness)[..., None], feature)


def choose_bases(lego_faces: list[tuple[int, SourceFace]], plain: Image.Image | None, count: int,
                 max_remaining: float = 0.03) -> list[PrintBase]:
    """The plain head (when given) and up to `count` real heads whose marks erase cleanly,
    preferring heads that keep something of their own (hair, beard, paint, a colour)."""
    bases = [PrintBase(plain, "plain head", -1)] if plain is not None else []
    candidates = []
    for index, face in lego_faces:
        erased, remaining = erase_features(face.rgba)
        if remaining > max_remaining:
            continue
        pixels = np.asarray(erased, np.float32)[..., :3]
        opaque = np.asarray(erased)[..., 3] > 127
        keeps = float(np.std(pixels[opaque], axis=0).mean())  # more print left: more identity to keep
        candidates.append((keeps, index, face.name, erased))
    candidates.sort(key=lambda c: -c[0])
    bases += [PrintBase(erased, name, index) for _, index, name, erased in candidates[:count]]
    return bases


def printed_heads(emoji: list[tuple[int, SourceFace]], bases: list[PrintBase], per_emoji: int,
                  rng: np.random.Generator) -> list[tuple[SourceFace, int, int]]:
    """Each emoji printed on `per_emoji` bases (the plain head first, then random real ones).

    Returns (face, emoji index, base index or -1) triples; emoji without a fill are skipped.
    """
    plain = [b for b in bases if b.index < 0]
    real = [b for b in bases if b.index >= 0]
    out = []
    for index, face in emoji:
        layer = lift_features(face.rgba)
        if layer is None:
            continue
        chosen = plain[:1] + [real[i] for i in rng.choice(len(real), size=min(len(real), per_emoji - len(plain[:1])),
                                                          replace=False)] if real else plain[:1]
        for base in chosen[:per_emoji]:
            name = f"{face.name} printed on {base.name} ({face.source})"
            out.append((SourceFace(print_on_head(base.rgba, layer), LEGO, "printed", name, face.tags),
                        index, base.index))
    return out


PREVIEW_EMOJI = ("winking face", "kissing face", "sleeping face", "face screaming in fear", "loudly crying face",
                 "face with tongue", "grinning face with big eyes", "smiling face with sunglasses")


def preview_cells(emoji: list[tuple[int, SourceFace]], bases: list[PrintBase], frame, per_row: int = 4) -> list:
    """Images for a preview sheet: per row an emoji (one of PREVIEW_EMOJI, in the first art
    style that has it), then its prints on the plain head and on `per_row - 1` real bases."""
    shown = [b for b in bases if b.index < 0][:1] + [b for b in bases if b.index >= 0][:per_row - 1]
    cells = []
    for name in PREVIEW_EMOJI:
        found = [face for _, face in emoji if face.name == name]
        layer = lift_features(found[0].rgba) if found else None
        if layer is None:
            continue
        cells.append(frame(found[0].rgba))
        cells += [frame(print_on_head(base.rgba, layer)) for base in shown]
    return cells
