"""Lego-face photos such as the lego-face-VAE `dataset.zip` (128x128 JPEGs on a white backdrop)."""
from __future__ import annotations

from collections import Counter
from pathlib import PurePosixPath

from common.errors import UserError
from data.archive import Archive
from data.framing import cut_out_backdrop
from data.labels import expression_tags
from data.record import LEGO, SourceFace, decode_image

PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")


def load_lego_photos(path, problems: Counter, source: str = "lego-photos") -> list[SourceFace]:
    """Every photo in the folder or zip, cut out from its backdrop; tags come from the file name."""
    archive = Archive(path, "folder or zip of Lego-face photos (e.g. the lego-face-VAE dataset.zip)")
    names = [n for n in archive.names() if n.lower().endswith(PHOTO_SUFFIXES) and "__macosx" not in n.lower()]
    if not names:
        raise UserError(f"{archive.path} holds no .jpg/.png photos: pass the folder or zip of Lego-face photos.")
    faces = []
    for name in names:
        image = decode_image(archive.read(name), problems, "corrupt photos")
        if image is None:
            continue
        stem = PurePosixPath(name).stem.replace("_", " ").replace("-", " ")
        faces.append(SourceFace(cut_out_backdrop(image.convert("RGB")), LEGO, source, stem, expression_tags(stem)))
    return faces
