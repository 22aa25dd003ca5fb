"""The labelled face every source hands to the dataset builder."""
from __future__ import annotations

import io
import warnings
from collections import Counter
from dataclasses import dataclass

from PIL import Image

LEGO, EMOJI = "lego", "emoji"


@dataclass
class SourceFace:
    """One face cut out on a transparent background, with its labels."""

    rgba: Image.Image
    domain: str  # LEGO or EMOJI
    source: str  # ldraw, twitter, google, noto-font, openmoji, fluent, printed, ...
    name: str
    tags: tuple[str, ...]
    part: str = ""  # the physical part an image shows: the two sides of one LDraw head share it


def decode_image(raw: bytes, problems: Counter, what: str = "corrupt images") -> Image.Image | None:
    """RGBA image from bytes, or None (counted under `what`) when the bytes are not a valid image."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(raw))
            image.load()
        return image.convert("RGBA")
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        problems[what] += 1
        return None
