from pathlib import Path

import numpy as np
import pytest

from common.errors import UserError
from data.ldraw import FACE_Y_RANGE, LDrawLibrary, RenderStats, render_mesh, render_minifig_head
from tests.conftest import FIXTURE, matches

LDCONFIG = "0 !COLOUR Yellow CODE 14 VALUE #F2CD37 EDGE #333333\n0 !COLOUR Black CODE 0 VALUE #1B2A34 EDGE #808080\n"
QUAD = "4 16 -10 0 0 10 0 0 10 20 0 -10 20 0\n"


@pytest.fixture(scope="module")
def library():
    return LDrawLibrary(FIXTURE.ldraw)


def test_finds_every_printed_head_and_the_two_sided_ones(sources):
    heads = LDrawLibrary(sources.ldraw).printed_heads()
    assert matches(len(heads), sources.printed_heads)
    assert matches(sum(h.two_sided for h in heads), sources.two_sided_heads)
    assert not any(h.description.lower().startswith("moved to") for h in heads)


def test_standard_grin_is_a_yellow_head_with_dark_features(library):
    head = next(h for h in library.printed_heads() if h.filename == "3626bp01.dat")
    stats = RenderStats()
    image = np.asarray(render_minifig_head(library, head, 128, stats))
    assert image.shape == (128, 128, 4) and not stats.counts
    opaque = image[..., 3] > 200
    rgb = image[..., :3].astype(int)
    yellow = opaque & (rgb[..., 0] > 150) & (rgb[..., 1] > 110) & (rgb[..., 2] < 90)
    dark = opaque & (rgb.sum(axis=2) < 150)
    assert yellow.sum() > 0.6 * opaque.sum()
    # eyes and mouth sit in the middle of the face, not on its rim
    centre = np.zeros_like(dark)
    centre[32:96, 32:96] = True
    assert (dark & centre).sum() > 100
    assert (dark & ~centre).sum() < 0.1 * (dark & centre).sum()


def test_back_of_a_two_sided_head_differs_from_its_front(library):
    head = next(h for h in library.printed_heads() if h.two_sided)
    stats = RenderStats()
    front = np.asarray(render_minifig_head(library, head, 64, stats, side="front"), dtype=int)
    back = np.asarray(render_minifig_head(library, head, 64, stats, side="back"), dtype=int)
    assert np.abs(front - back).mean() > 3


def make_library(tmp_path: Path, part: str, extra: dict[str, str] | None = None) -> LDrawLibrary:
    root = tmp_path / "ldraw"
    (root / "parts" / "s").mkdir(parents=True)
    (root / "p").mkdir()
    (root / "LDConfig.ldr").write_text(LDCONFIG)
    (root / "parts" / "3626zp01.dat").write_text("0 Minifig Head with Test Smile Pattern\n" + part)
    for name, text in (extra or {}).items():
        (root / name).write_text(text)
    return LDrawLibrary(tmp_path)


def test_resolves_subfiles_case_insensitively_with_either_slash(tmp_path):
    part = "1 16 0 0 0 1 0 0 0 1 0 0 0 1 S\\Face.DAT\n1 0 0 0 0 1 0 0 0 1 0 0 0 1 p/quad.dat\n"
    library = make_library(tmp_path, part,
                           {"parts/s/face.dat": QUAD, "p/QUAD.dat": QUAD})
    stats = RenderStats()
    mesh = library.head_mesh(library.printed_heads()[0], stats)
    assert len(mesh.triangles) == 4 and not stats.counts
    assert sorted(set(mesh.colours.tolist())) == [0, 14]  # inherited 16 -> yellow, explicit black


def test_direct_colour_renders_its_rgb(tmp_path):
    library = make_library(tmp_path, "4 0x2FF0000 -10 0 0 10 0 0 10 20 0 -10 20 0\n")
    stats = RenderStats()
    image = np.asarray(render_mesh(library.head_mesh(library.printed_heads()[0], stats), library.colours, 32, stats))
    centre = image[16, 16]
    assert centre[3] == 255 and centre[0] > 100 and centre[1] < 30 and centre[2] < 30


def test_malformed_input_is_skipped_and_counted(tmp_path):
    part = (
        QUAD
        + "3 16 1 2 three 4 5 6 7 8 9\n"  # malformed number
        + "3 16 1 2\n"  # too few fields
        + "3 99999 0 0 0 1 0 0 0 1 0\n"  # unknown colour
        + "1 16 0 0 0 1 0 0 0 1 0 0 0 1 nowhere.dat\n"  # missing sub-file
        + "1 16 0 0 0 1 0 0 0 1 0 0 0 1 s\\loop.dat\n"  # cyclic reference
        + "1 16 0 0 0 1 0 0 0 1 0 0 0 1 huge.dat\n"  # oversized file
    )
    library = make_library(tmp_path, part, {
        "parts/s/loop.dat": "1 16 0 0 0 1 0 0 0 1 0 0 0 1 s\\loop.dat\n" + QUAD,
        "parts/huge.dat": "0 " + "x" * (5 * 1024 * 1024) + "\n",
    })
    stats = RenderStats()
    mesh = library.head_mesh(library.printed_heads()[0], stats)
    render_mesh(mesh, library.colours, 32, stats, y_range=FACE_Y_RANGE)
    assert stats.counts == {"malformed lines": 2, "missing sub-files": 1, "cyclic references": 1,
                            "oversized files": 1, "unknown colours": 1}
    assert len(mesh.triangles) == 5  # two quads and the triangle of unknown colour survive parsing


@pytest.mark.parametrize("path", ["does/not/exist.zip", "README.md"])
def test_wrong_library_path_is_one_clear_sentence(tmp_path, path):
    with pytest.raises(UserError, match="pass the"):
        LDrawLibrary(path if path != "README.md" else Path(__file__))


def test_folder_that_is_not_a_library(tmp_path):
    (tmp_path / "something.txt").write_text("hi")
    with pytest.raises(UserError, match="not an LDraw library"):
        LDrawLibrary(tmp_path)
