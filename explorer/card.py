"""A shareable "polaroid" card: the face, the target and the result on white, with a caption."""
from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFont

CARD_FACE = 220  # each face's side on the card, in pixels
MARGIN = 24
CAPTION_HEIGHT = 74


def _font(size: int):
    for name in ("DejaVuSans.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"):
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    return ImageFont.load_default(size)


def polaroid_card(faces: list[np.ndarray], labels: list[str], caption: str) -> Image.Image:
    """Faces side by side with a small label under each and one caption below, like a polaroid."""
    if not faces or len(faces) != len(labels):
        raise ValueError("a card needs at least one face and one label per face")
    count = len(faces)
    width = count * CARD_FACE + (count + 1) * MARGIN
    height = MARGIN + CARD_FACE + 26 + CAPTION_HEIGHT
    card = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(card)
    small, large = _font(15), _font(20)
    for i, (face, label) in enumerate(zip(faces, labels)):
        left = MARGIN + i * (CARD_FACE + MARGIN)
        card.paste(Image.fromarray(face).resize((CARD_FACE, CARD_FACE), Image.LANCZOS), (left, MARGIN))
        draw.text((left + CARD_FACE / 2, MARGIN + CARD_FACE + 6), label[:32], fill=(90, 95, 110), font=small,
                  anchor="mt")
    draw.text((width / 2, MARGIN + CARD_FACE + 40), caption[:80], fill=(29, 34, 48), font=large, anchor="mt")
    draw.text((width - MARGIN, height - 10), "legomoji", fill=(200, 90, 60), font=small, anchor="rb")
    return card
