"""Face emoji rendered from a colour emoji font (Noto Color Emoji, Apple Color Emoji, Segoe UI Emoji)."""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from common.errors import UserError
from data.emoji_pack import EmojiEntry, is_face
from data.framing import alpha_bbox
from data.record import EMOJI, SourceFace

# Where the common colour emoji fonts live; the first one found is the default.
KNOWN_FONTS = {
    "noto-font": ("/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf", "/usr/share/fonts/noto/NotoColorEmoji.ttf"),
    "apple-font": ("/System/Library/Fonts/Apple Color Emoji.ttc",),
    "segoe-font": ("C:/Windows/Fonts/seguiemj.ttf",),
}
BITMAP_SIZES = (109, 160, 96, 64)  # bitmap colour fonts only open at their strike sizes


def find_emoji_fonts() -> dict[str, Path]:
    """Colour emoji fonts installed on this machine, by source name."""
    found = {}
    for source, paths in KNOWN_FONTS.items():
        for path in map(Path, paths):
            if path.is_file():
                found[source] = path
                break
    return found


def open_emoji_font(path: str | Path) -> ImageFont.FreeTypeFont:
    """The font at its first usable size, or a one-sentence UserError."""
    path = Path(path)
    if not path.is_file():
        raise UserError(
            f"emoji font not found at {path}: pass a colour emoji font such as NotoColorEmoji.ttf "
            "(Debian package fonts-noto-color-emoji)."
        )
    for size in BITMAP_SIZES:
        try:
            return ImageFont.truetype(str(path), size)
        except OSError:
            continue
    raise UserError(f"{path} could not be opened as a colour emoji font: pass a .ttf/.ttc colour emoji font.")


def render_emoji(font: ImageFont.FreeTypeFont, character: str) -> Image.Image:
    """RGBA rendering of one emoji with the font's embedded colour bitmaps."""
    side = int(font.size * 1.6)
    canvas = Image.new("RGBA", (side, side), (0, 0, 0, 0))
    ImageDraw.Draw(canvas).text((side // 2, side // 2), character, font=font, embedded_color=True, anchor="mm")
    return canvas


def load_font_emoji(path: str | Path, entries: list[EmojiEntry], problems: Counter, source: str = "noto-font",
                    include_animals: bool = False) -> list[SourceFace]:
    """Face emoji named in `entries` (an emoji pack's metadata) rendered from the font."""
    font = open_emoji_font(path)
    missing = np.asarray(render_emoji(font, "\U0010fffd"))  # what the font draws for a glyph it lacks
    faces = []
    for entry in entries:
        if not is_face(entry.subcategory, include_animals):
            continue
        image = render_emoji(font, entry.character)
        pixels = np.asarray(image)
        if alpha_bbox(image) is None or np.array_equal(pixels, missing) or pixels[..., :3].max() == 0:
            problems[f"emoji missing from {Path(path).name}"] += 1
            continue
        faces.append(SourceFace(image, EMOJI, source, entry.name.lower(), entry.tags))
    return faces
