"""Face emoji from the Kaggle "Full Emoji Image Dataset" CSV (one base64 PNG column per vendor)."""
from __future__ import annotations

import base64
import binascii
import csv
import sys
from collections import Counter
from pathlib import Path

from common.errors import UserError
from data.labels import expression_tags
from data.record import EMOJI, SourceFace, decode_image

DATA_URL_PREFIX = "data:image/png;base64,"
NOT_FACES = ("clock", "moon", "sun with face", "dog face", "cat face", "monkey face", "tiger face", "horse face",
             "cow face", "pig face", "rabbit face", "dragon face", "mouse face", "bear face", "wolf face",
             "fox face", "frog face", "hamster face", "panda face", "unicorn face", "lion face")


def is_face_name(name: str) -> bool:
    """A human face emoji by name (the CSV has no category column)."""
    lowered = name.lower()
    return ("face" in lowered or bool(expression_tags(lowered))) and not any(n in lowered for n in NOT_FACES)


def load_kaggle_csv(path: str | Path, problems: Counter, vendors: tuple[str, ...] = ()) -> list[SourceFace]:
    """Face emoji of every vendor column (or only `vendors`); source names are `kaggle-<vendor>`."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path} does not exist: pass the Kaggle full_emoji.csv file.")
    csv.field_size_limit(sys.maxsize)
    with open(path, newline="", encoding="utf-8", errors="replace") as handle:
        reader = csv.DictReader(handle)
        columns = reader.fieldnames or []
        name_column = next((c for c in columns if c.strip().lower() == "name"), None)
        if name_column is None:
            raise UserError(f"{path} has no 'name' column: pass the Kaggle full_emoji.csv file.")
        known = {c.strip().lower(): c for c in columns}
        wanted = [known[v.lower()] for v in vendors if v.lower() in known] if vendors else None
        faces = []
        for row in reader:
            name = (row.get(name_column) or "").strip()
            if not name or None in row or any(v is None for v in row.values()):
                problems["malformed CSV rows"] += 1
                continue
            if not is_face_name(name):
                continue
            for column in wanted or columns:
                cell = (row.get(column) or "").strip()
                if not cell.startswith(DATA_URL_PREFIX):
                    continue
                try:
                    raw = base64.b64decode(cell[len(DATA_URL_PREFIX):], validate=True)
                except (binascii.Error, ValueError):
                    problems["malformed CSV cells"] += 1
                    continue
                image = decode_image(raw, problems, "corrupt CSV images")
                if image is not None:
                    source = f"kaggle-{column.strip().lower()}"
                    faces.append(SourceFace(image, EMOJI, source, name.lower(), expression_tags(name)))
    if not faces and problems["malformed CSV rows"] == 0:
        raise UserError(f"{path} holds no face emoji images: pass the Kaggle full_emoji.csv file.")
    return faces


def encode_data_url(png: bytes) -> str:
    """The CSV's cell format for a PNG: used to write small files of the same format."""
    return DATA_URL_PREFIX + base64.b64encode(png).decode("ascii")


