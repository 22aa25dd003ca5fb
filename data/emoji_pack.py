"""Face emoji from a pack in the emoji-datasource layout (`emoji.json` + `img/<set>/64/*.png`)."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from common.errors import UserError
from data.archive import Archive
from data.labels import emoji_tags
from data.record import EMOJI, SourceFace, decode_image

ANIMAL_FACE_SUBCATEGORIES = ("cat-face", "monkey-face")


@dataclass(frozen=True)
class EmojiEntry:
    """The metadata of one emoji that the dataset needs."""

    name: str
    unified: str  # code points, e.g. "1F600" or "2639-FE0F"
    image: str
    subcategory: str
    short_names: tuple[str, ...]

    @property
    def character(self) -> str:
        return "".join(chr(int(cp, 16)) for cp in self.unified.split("-"))

    @property
    def tags(self) -> tuple[str, ...]:
        return emoji_tags(self.name, self.short_names, self.subcategory)


def is_face(subcategory: str, include_animals: bool = False) -> bool:
    """Face emoji only: `face-*` subcategories, optionally cat and monkey faces."""
    return subcategory.startswith("face-") or (include_animals and subcategory in ANIMAL_FACE_SUBCATEGORIES)


def read_emoji_metadata(archive: Archive, problems: Counter) -> tuple[str, list[EmojiEntry]]:
    """The folder that holds emoji.json, and its well-formed entries (malformed ones are counted)."""
    found, raw = archive.read_json_list(
        "emoji.json", "an emoji-datasource pack (emoji.json plus img/<set>/64/*.png, e.g. from "
                      "`npm pack emoji-datasource-twitter`)")
    entries = []
    for item in raw:
        try:
            entry = EmojiEntry(
                name=str(item.get("name") or item["short_name"]).strip(),
                unified=str(item["unified"]),
                image=str(item["image"]),
                subcategory=str(item.get("subcategory", "")),
                short_names=tuple(str(s) for s in item.get("short_names", ())),
            )
            _ = entry.character  # the code points must parse
        except (KeyError, TypeError, AttributeError, ValueError):
            problems["malformed emoji.json entries"] += 1
            continue
        entries.append(entry)
    return found.rpartition("/")[0], entries


def load_emoji_pack(path, problems: Counter, include_animals: bool = False) -> list[SourceFace]:
    """Face emoji images of every set found in the pack (source name = the set, e.g. `twitter`)."""
    return load_emoji_pack_and_metadata(path, problems, include_animals)[0]


def load_emoji_pack_and_metadata(path, problems: Counter,
                                 include_animals: bool = False) -> tuple[list[SourceFace], list[EmojiEntry]]:
    """The pack's face images and its metadata, read once (the font source needs the metadata too)."""
    with Archive(path, "emoji-datasource pack (folder or zip with emoji.json and img/<set>/64/)") as archive:
        root, entries = read_emoji_metadata(archive, problems)
        prefix = f"{root}/img/" if root else "img/"
        sets = sorted({n[len(prefix):].split("/")[0] for n in archive.names() if n.startswith(prefix)})
        if not sets:
            raise UserError(f"{archive.path} has emoji.json but no img/<set>/64/ images: pass the whole pack.")
        available = set(archive.names())
        faces = []
        for emoji_set in sets:
            for entry in entries:
                if not is_face(entry.subcategory, include_animals):
                    continue
                name = f"{prefix}{emoji_set}/64/{entry.image}"
                if name not in available:
                    problems["emoji images missing from the pack"] += 1
                    continue
                image = decode_image(archive.read(name), problems, "corrupt emoji images")
                if image is not None:
                    faces.append(SourceFace(image, EMOJI, emoji_set, entry.name.lower(), entry.tags))
        return faces, entries
