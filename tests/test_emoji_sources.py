import io
import json
from collections import Counter

import numpy as np
import pytest
from PIL import Image

from common.errors import UserError
from data.archive import Archive
from data.emoji_font import find_emoji_fonts, load_font_emoji
from data.emoji_pack import load_emoji_pack, read_emoji_metadata
from data.emoji_svg import load_fluent, load_openmoji
from tests.conftest import matches


def png_bytes(colour=(250, 200, 40, 255), size=32, mode="RGBA") -> bytes:
    image = Image.new(mode, (size, size), (0, 0, 0, 0) if mode == "RGBA" else (255, 255, 255))
    image.paste(colour[: len(mode)], (4, 4, size - 4, size - 4))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG" if mode == "RGBA" else "JPEG")
    return buffer.getvalue()


@pytest.mark.parametrize("source", ["twitter", "google"])
def test_packs_give_their_face_emoji_and_nothing_else(sources, source):
    problems = Counter()
    faces = load_emoji_pack(getattr(sources, source), problems)
    assert matches(len(faces), sources.pack_faces) and not problems
    assert {f.source for f in faces} == {source}
    names = {f.name for f in faces}
    assert "grinning face" in names and "heavy black heart" not in names and "red heart" not in names
    assert sum(bool(f.tags) for f in faces) > 0.7 * len(faces)


def test_animal_faces_are_optional(sources):
    with_animals = len(load_emoji_pack(sources.twitter, Counter(), include_animals=True))
    assert matches(with_animals - len(load_emoji_pack(sources.twitter, Counter())), sources.animal_faces)


def test_noto_font_renders_the_face_emoji(sources):
    fonts = find_emoji_fonts()
    assert "noto-font" in fonts, "install fonts-noto-color-emoji"
    entries = read_emoji_metadata(Archive(sources.google, "pack"), Counter())[1]
    problems = Counter()
    faces = load_font_emoji(fonts["noto-font"], entries, problems)
    assert matches(len(faces) + sum(problems.values()), sources.pack_faces)
    assert len(faces) >= 0.9 * (len(faces) + sum(problems.values()))
    pixels = np.asarray(faces[0].rgba)
    assert pixels[..., 3].max() == 255 and len(np.unique(pixels[..., 0])) > 20  # colour, not a tofu box


def write_pack(tmp_path, metadata, images: dict[str, bytes]):
    root = tmp_path / "pack" / "emoji-datasource"
    (root / "img" / "twitter" / "64").mkdir(parents=True)
    (root / "emoji.json").write_text(metadata if isinstance(metadata, str) else json.dumps(metadata))
    for name, raw in images.items():
        (root / "img" / "twitter" / "64" / name).write_bytes(raw)
    return tmp_path / "pack"


def test_malformed_entries_and_corrupt_pngs_are_counted(tmp_path):
    good = {"name": "GRINNING FACE", "unified": "1F600", "image": "1f600.png", "subcategory": "face-smiling"}
    metadata = [good, {"name": "BROKEN"}, "not a dict", {**good, "unified": "ZZZZ"},
                {**good, "name": "BAD PNG", "unified": "1F601", "image": "1f601.png"},
                {**good, "name": "RED HEART", "subcategory": "heart", "image": "2764.png"}]
    pack = write_pack(tmp_path, metadata, {"1f600.png": png_bytes(), "1f601.png": b"\x89PNG\r\n\x1a\nbroken",
                                           "2764.png": png_bytes()})
    problems = Counter()
    faces = load_emoji_pack(pack, problems)
    assert [f.name for f in faces] == ["grinning face"]
    assert problems == {"malformed emoji.json entries": 3, "corrupt emoji images": 1}


def test_pack_errors_are_one_sentence(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        load_emoji_pack(tmp_path / "nope.zip", Counter())
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="no emoji.json"):
        load_emoji_pack(tmp_path / "empty", Counter())
    with pytest.raises(UserError, match="not valid JSON"):
        load_emoji_pack(write_pack(tmp_path, "{oops", {}), Counter())


def test_font_path_error(tmp_path):
    with pytest.raises(UserError, match="emoji font not found"):
        load_font_emoji(tmp_path / "missing.ttf", [], Counter())


@pytest.mark.parametrize("source", ["openmoji", "fluent"])
def test_svg_packs_are_drawn_and_labelled(sources, source):
    problems = Counter()
    if source == "openmoji":
        faces, count = load_openmoji(sources.openmoji, problems), sources.openmoji_faces
    else:
        entries = read_emoji_metadata(Archive(sources.twitter, "pack"), Counter())[1]
        faces, count = load_fluent(sources.fluent, problems, entries), sources.fluent_faces
    assert matches(len(faces), count) and not problems
    assert all(f.source == source and f.domain == "emoji" for f in faces)
    grinning = next(f for f in faces if f.name == "grinning face")
    assert {"smile", "grin"} <= set(grinning.tags)
    alpha = np.asarray(grinning.rgba.getchannel("A"))
    assert alpha.min() == 0 and alpha.max() == 255 and (alpha > 0).mean() > 0.25  # a drawn disc on transparency
    rgb = np.asarray(grinning.rgba.convert("RGB"))[alpha > 200]
    assert np.median(rgb[:, 0]) > 200 and np.median(rgb[:, 2]) < 120  # mostly yellow, outlines aside


def test_svg_packs_with_a_broken_drawing_or_a_wrong_path(tmp_path):
    folder = tmp_path / "openmoji"
    (folder / "color" / "svg").mkdir(parents=True)
    (folder / "data").mkdir()
    (folder / "color" / "svg" / "1F600.svg").write_text("<svg this is not svg")
    (folder / "color" / "svg" / "1F641.svg").write_bytes(
        b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><circle cx="5" cy="5" r="4" fill="#fc0"/></svg>')
    (folder / "data" / "openmoji.json").write_text(json.dumps([
        {"hexcode": "1F600", "annotation": "grinning face", "subgroups": "face-smiling"},
        {"hexcode": "1F641", "annotation": "slightly frowning face", "subgroups": "face-concerned"},
        {"annotation": "no hexcode"},
    ]))
    problems = Counter()
    faces = load_openmoji(folder, problems)
    assert [f.name for f in faces] == ["slightly frowning face"]
    assert problems == {"unreadable emoji SVGs": 1, "malformed OpenMoji metadata entries": 1}
    with pytest.raises(UserError, match="does not exist: pass the Fluent Emoji pack"):
        load_fluent(tmp_path / "nowhere", Counter())
    with pytest.raises(UserError, match="no icons/modern"):
        load_fluent(folder, Counter())
