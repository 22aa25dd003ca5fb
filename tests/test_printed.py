"""Printed heads on real art: an emoji's features lifted off its fill, a real head's own
features erased, and the print wrapped on a rendered head."""
from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from PIL import Image

from data.emoji_pack import load_emoji_pack
from data.framing import BACKGROUND, frame_face
from data.ldraw import LDrawLibrary, RenderStats, render_minifig_head, render_plain_head
from data.printed import erase_features, fill_likeness, lift_features, print_expression, print_on_head
from tests.conftest import FIXTURE

SIZE = 256


@pytest.fixture(scope="module")
def library():
    return LDrawLibrary(FIXTURE.ldraw)


@pytest.fixture(scope="module")
def twemoji():
    return {face.name: face for face in load_emoji_pack(FIXTURE.twitter, Counter())}


def dark(rgba) -> np.ndarray:
    """Dark pixels inside the face (the rim's own shading left out)."""
    pixels = np.asarray(rgba.convert("RGBA"), np.float32) / 255.0
    inner = np.zeros(pixels.shape[:2], bool)
    inner[SIZE // 6:-SIZE // 6, SIZE // 6:-SIZE // 6] = True
    return (pixels[..., :3].mean(-1) < 0.28) & (pixels[..., 3] > 0.5) & inner



def test_an_emojis_features_are_lifted_and_its_fill_left_behind(twemoji):
    layer = lift_features(twemoji["winking face"].rgba)
    pixels = np.asarray(layer, np.float32) / 255.0
    alpha, rgb = pixels[..., 3], pixels[..., :3]
    fill = fill_likeness(rgb) > 0.97
    assert alpha[fill].mean() < 0.01 and np.percentile(alpha[fill], 99) < 0.1  # no yellow fill comes along
    features = alpha > 0.5
    assert 0.02 < features.mean() < 0.3  # eyes, a wink and a mouth: a small share of the face
    assert rgb[features].mean() < 0.5  # and they are dark
    left, right = features[:, : layer.width // 2], features[:, layer.width // 2:]
    assert left.sum() != right.sum()  # a wink is not symmetric


def test_a_face_that_is_not_yellow_has_nothing_to_lift(twemoji):
    blank = twemoji["winking face"].rgba.copy()
    blank.putalpha(0)
    assert lift_features(blank) is None


def test_a_real_heads_eyes_and_mouth_are_erased_and_its_hair_stays(library):
    heads = {h.description: h for h in library.printed_heads()}
    standard = next(h for h in library.printed_heads() if h.filename == "3626bp01.dat")  # the standard grin
    grin = render_minifig_head(library, standard, SIZE, RenderStats())
    erased, remaining = erase_features(grin)
    assert dark(grin).sum() > 100 and dark(erased).sum() < 0.05 * dark(grin).sum() and remaining < 0.01
    haired = next(h for name, h in heads.items() if "Hair" in name and "Eyebrows" not in name)
    before = render_minifig_head(library, haired, SIZE, RenderStats())
    kept = np.asarray(erase_features(before)[0], np.float32)
    top = slice(0, SIZE // 4)  # hair sits above the face zone and is kept
    assert np.abs(kept[top] - np.asarray(before, np.float32)[top]).mean() < 1.0


def test_a_bearded_head_that_keeps_its_own_mouth_is_no_base(library):
    """Its teeth sit inside the beard, which is too large to erase: a print on it would have two
    mouths, so the mouth band counts as much as the eye band."""
    heads = {h.filename: h for h in library.printed_heads()}
    for name in ("3626bp39.dat", "3626bp80.dat"):  # a grin in a grey beard, a white smile in an orange one
        _, remaining = erase_features(render_minifig_head(library, heads[name], SIZE, RenderStats()))
        assert remaining > 0.3, name


def test_dark_features_on_a_dark_part_of_the_head_are_printed_light(library, twemoji):
    plain = render_plain_head(library, SIZE, RenderStats())
    pixels = np.asarray(plain, np.float32)
    masked = pixels.copy()
    masked[..., :3] *= 0.15  # a dark head, as under a mask or a balaclava
    layer = lift_features(twemoji["winking face"].rgba)
    on_yellow = np.asarray(print_on_head(plain, layer), np.float32)
    on_dark = np.asarray(print_on_head(Image.fromarray(masked.astype(np.uint8), "RGBA"), layer), np.float32)
    changed = np.abs(on_yellow - pixels)[..., :3].max(-1) > 60  # where the print sits
    assert changed.sum() > 200
    assert on_yellow[changed][:, :3].mean() < 90  # dark brown eyes and mouth on yellow
    assert on_dark[changed][:, :3].mean() > 150  # light on the dark head, where they stay visible


def test_a_print_sits_on_the_face_and_bends_with_the_head(library, twemoji):
    plain = render_plain_head(library, SIZE, RenderStats())
    assert plain is not None and dark(plain).sum() == 0
    printed = print_on_head(plain, lift_features(twemoji["face with stuck-out tongue"].rgba))
    marks = dark(printed)
    ys, xs = np.nonzero(marks)
    assert marks.sum() > 200
    opaque = np.asarray(plain)[..., 3] > 127
    columns = np.flatnonzero(opaque.any(axis=0))
    centre = (columns[0] + columns[-1]) / 2
    assert abs(xs.mean() - centre) < 0.05 * SIZE  # centred on the face
    red = np.asarray(printed, np.float32)[..., :3]
    tongue = (red[..., 0] > 150) & (red[..., 1] < 120)
    assert tongue.sum() > 20  # the tongue comes along in its own colour
    assert (np.asarray(printed)[..., 3] == np.asarray(plain)[..., 3]).all()  # the head's outline is untouched


def test_an_emoji_printed_on_a_framed_face_replaces_its_features_and_nothing_else(library, twemoji):
    """The studio's print works on the dataset's framed pictures: the backdrop is untouched, the
    emoji's tongue and its white mask come along (white inside the face is no backdrop)."""
    standard = next(h for h in library.printed_heads() if h.filename == "3626bp01.dat")
    face = frame_face(render_minifig_head(library, standard, SIZE, RenderStats()), 128)
    backdrop = np.all(face == BACKGROUND, axis=-1)
    tongue = print_expression(face, frame_face(twemoji["face with stuck-out tongue"].rgba, 128))
    assert tongue.shape == face.shape and tongue.dtype == np.uint8
    assert (tongue[backdrop] == face[backdrop]).all()

    def red(image):
        return ((image[..., 0] > 150) & (image[..., 1] < 120) & (image[..., 2] < 150)).sum()

    assert red(tongue) > red(face) + 20
    masked = print_expression(face, frame_face(twemoji["face with medical mask"].rgba, 128))

    def white(image):
        return ((image.min(-1) > 225) & ~backdrop).sum()

    assert white(masked) > white(face) + 150
    assert print_expression(face, np.full_like(face, BACKGROUND)) is None  # no fill, nothing to print
