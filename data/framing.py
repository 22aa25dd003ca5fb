"""One framing for both domains: the face centred on one background at the same width.

Every source hands over its face as RGBA on a transparent background (photos are cut out
from their plain backdrop first). The face's bounding box is scaled so that its width
fills FACE_WIDTH of the frame and its centre sits at the frame's centre, so a morph from a
Lego face to an emoji lines up eye to eye.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageEnhance

BACKGROUND = (238, 240, 243)
FACE_WIDTH = 0.80
ALPHA_THRESHOLD = 16


@dataclass(frozen=True)
class Jitter:
    """Small augmentation applied while framing; the identity by default."""

    yaw: float = 0.0  # degrees; approximated by horizontal foreshortening
    roll: float = 0.0  # degrees of in-plane rotation
    scale: float = 1.0
    brightness: float = 1.0
    saturation: float = 1.0
    shift: tuple[float, float] = (0.0, 0.0)  # fraction of the frame


def alpha_bbox(rgba: Image.Image) -> tuple[int, int, int, int] | None:
    """Bounding box (left, top, right, bottom) of the clearly opaque pixels."""
    alpha = np.asarray(rgba.getchannel("A"))
    ys, xs = np.nonzero(alpha > ALPHA_THRESHOLD)
    if len(xs) == 0:
        return None
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


def cut_out_backdrop(rgb: Image.Image, tolerance: int = 24) -> Image.Image:
    """RGBA of a photo on a plain backdrop: pixels close to the corner colour become transparent."""
    pixels = np.asarray(rgb.convert("RGB"), dtype=np.int16)
    corners = np.stack([pixels[0, 0], pixels[0, -1], pixels[-1, 0], pixels[-1, -1]])
    backdrop = np.median(corners, axis=0)
    distance = np.abs(pixels - backdrop).max(axis=2)
    alpha = np.clip((distance - tolerance // 2) * (255.0 / tolerance), 0, 255).astype(np.uint8)
    rgba = Image.fromarray(pixels.astype(np.uint8), "RGB").convert("RGBA")
    rgba.putalpha(Image.fromarray(alpha, "L"))
    return rgba


def frame_face(rgba: Image.Image, size: int, jitter: Jitter = Jitter()) -> np.ndarray:
    """(size, size, 3) uint8 image of the face framed on the shared background."""
    rgba = rgba.convert("RGBA")
    box = alpha_bbox(rgba)
    if box is None:
        raise ValueError("the image has no visible face (it is fully transparent or blank)")
    face = rgba.crop(box)
    if jitter.brightness != 1.0 or jitter.saturation != 1.0:
        alpha = face.getchannel("A")
        rgb = ImageEnhance.Brightness(face.convert("RGB")).enhance(jitter.brightness)
        face = ImageEnhance.Color(rgb).enhance(jitter.saturation).convert("RGBA")
        face.putalpha(alpha)
    width = FACE_WIDTH * size * jitter.scale
    factor = width / face.width
    squeeze = np.cos(np.radians(jitter.yaw))
    new_size = (max(1, round(face.width * factor * squeeze)), max(1, round(face.height * factor)))
    face = face.resize(new_size, Image.LANCZOS)
    if jitter.roll:
        face = face.rotate(jitter.roll, resample=Image.BICUBIC, expand=True)
    canvas = Image.new("RGBA", (size, size), BACKGROUND + (255,))
    left = round((size - face.width) / 2 + jitter.shift[0] * size)
    top = round((size - face.height) / 2 + jitter.shift[1] * size)
    canvas.alpha_composite(face, (left, top)) if left >= 0 and top >= 0 else canvas.paste(face, (left, top), face)
    return np.asarray(canvas.convert("RGB"), dtype=np.uint8)


def random_jitter(rng: np.random.Generator) -> Jitter:
    """A small random augmentation: yaw, roll, scale, shift and colour."""
    return Jitter(
        yaw=float(rng.uniform(-20, 20)),
        roll=float(rng.uniform(-6, 6)),
        scale=float(rng.uniform(0.92, 1.06)),
        brightness=float(rng.uniform(0.88, 1.12)),
        saturation=float(rng.uniform(0.85, 1.15)),
        shift=(float(rng.uniform(-0.02, 0.02)), float(rng.uniform(-0.02, 0.02))),
    )
