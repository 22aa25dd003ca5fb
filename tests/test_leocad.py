"""The downloads tried in a real LDraw program: LeoCAD (Debian's 21.06) renders the part from a
library folder that the zip was unzipped into, and shows the face where this project's own
renderer draws it, with nothing but the head's yellow at the texture's rim; and it opens the .mpd.

Each face is rendered once, from three-quarters (the camera turned TURN degrees from the face
towards +X): the print shows, and so does the texture's +X edge, well inside the outline."""
from __future__ import annotations

import io
import math
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from data.framing import frame_face
from data.ldraw import HEAD_COLOUR, HeadPart, LDrawLibrary, RenderStats, read_document, render_mesh, render_minifig_head
from data.ldraw_part import HEAD_RADIUS, face_name, face_part_mpd, face_part_zip
from tests.conftest import FIXTURE

SIZE = 128  # the pictures the model draws
IMAGE = 384  # px of each render, LeoCAD's and ours
TURN = 45.0  # degrees
CAMERA = 60.0  # LDU from the head's middle: LeoCAD's orthographic view then holds the whole head
MIDDLE = 10.0  # LDU: the head's middle, between its stud (y = -4) and its neck (y = 24)
CYLINDER_MIDDLE = 10.5  # LDU: the middle of the head's cylinder (y = 4 to 17), the widest part seen
RIM_TURN = 70.0  # degrees from the face's middle: the rim checked is the texture's outer 20 degrees and beyond
DARK = 100  # a red channel below this is print: the head's yellow keeps its red high in any light
OFF_YELLOW = 24  # a pixel further than this (in any channel) from the plain head's is neither yellow nor print
GRID = 0.1  # LDU between the points where the two renders' prints are compared


@pytest.fixture(scope="module")
def leocad() -> None:
    """LeoCAD under a virtual X server; a skip where they are not installed, a failure in CI,
    which installs them (.ci/run)."""
    missing = [tool for tool in ("leocad", "xvfb-run", "xauth") if shutil.which(tool) is None]
    if missing:
        message = f"{', '.join(missing)} not installed (apt-get install leocad xvfb xauth)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


def leocad_render(library: Path, model: Path) -> np.ndarray:
    """(IMAGE, IMAGE, 4) uint8: LeoCAD's orthographic render of a model file, from three-quarters
    (TURN), on a transparent background, without edge lines."""
    angle = math.radians(TURN)
    camera = (CAMERA * math.sin(angle), MIDDLE, -CAMERA * math.cos(angle), 0, MIDDLE, 0, 0, -1, 0)  # LDraw: -Y up
    out = model.with_suffix(".png")
    result = subprocess.run(
        ["xvfb-run", "-a", "leocad", "-l", str(library), "-i", str(out), "--width", str(IMAGE), "--height",
         str(IMAGE), "--orthographic", "--line-width", "0", "--camera-position-ldraw", *map(str, camera), str(model)],
        capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and out.is_file(), result.stdout + result.stderr
    with Image.open(out) as image:
        return np.asarray(image.convert("RGBA"))


def render_part(library: Path, tmp_path: Path, part: str) -> np.ndarray:
    """LeoCAD's render of a one-line model of the part (in yellow, as the .mpd's model places it)."""
    model = tmp_path / f"{Path(part).stem}-model.ldr"
    model.write_text(f"1 {HEAD_COLOUR} 0 0 0 1 0 0 0 1 0 0 0 1 {part}\r\n")
    return leocad_render(library, model)


def library_copy(tmp_path: Path) -> Path:
    """A library folder to unzip parts into: the fixture's, a subset of the real library."""
    return Path(shutil.copytree(FIXTURE.ldraw, tmp_path / "ldraw"))


def cylinder_frame(image: np.ndarray) -> tuple[float, float, float]:
    """(px per LDU, column of the head's axis, row of y = CYLINDER_MIDDLE) of a render of the
    head: seen from any side, the head is widest (2 HEAD_RADIUS) along its cylinder."""
    head = image[..., 3] > 128
    widths = head.sum(axis=1)
    rows = np.flatnonzero(widths >= 0.985 * widths.max())
    columns = np.flatnonzero(head[rows].any(axis=0))
    scale = (columns[-1] + 1 - columns[0]) / (2 * HEAD_RADIUS)
    return scale, (columns[-1] + 1 + columns[0]) / 2, (rows[-1] + 1 + rows[0]) / 2


def sample(image: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """(..., 4) the render's pixels at screen points x, y in LDU (x right from the axis, y the head's)."""
    scale, column, row = cylinder_frame(image)
    columns = np.clip(np.floor(column + x * scale).astype(int), 0, image.shape[1] - 1)
    rows = np.clip(np.floor(row + (y - CYLINDER_MIDDLE) * scale).astype(int), 0, image.shape[0] - 1)
    return image[rows, columns]


def print_overlap(ours: np.ndarray, theirs: np.ndarray) -> float:
    """The shared part (intersection over union) of two renders' dark print, on the printed side."""
    x, y = np.meshgrid(np.arange(-HEAD_RADIUS + 1, HEAD_RADIUS - 1, GRID), np.arange(1, 20, GRID))
    a, b = (sample(image, x, y) for image in (ours, theirs))
    dark_a, dark_b = (a[..., 0] < DARK) & (a[..., 3] > 128), (b[..., 0] < DARK) & (b[..., 3] > 128)
    return float((dark_a & dark_b).sum() / max((dark_a | dark_b).sum(), 1))


def our_render(picture: np.ndarray) -> np.ndarray:
    """This project's render of the face's part, from LeoCAD's camera: the .mpd's, which holds
    the zip's part and texture (tests/test_ldraw_part.py), with the fixture's library."""
    library = LDrawLibrary(FIXTURE.ldraw)
    document = read_document(face_part_mpd(picture).decode("utf-8"))
    stats = RenderStats()
    mesh = library.document_mesh(document, stats)
    mesh.colours = np.where(mesh.colours == 16, HEAD_COLOUR, mesh.colours)
    image = render_mesh(mesh, library.colours, IMAGE, stats, turn=TURN)
    assert not stats.counts
    return np.asarray(image)


@pytest.fixture(scope="module")
def plain_head(leocad, tmp_path_factory) -> np.ndarray:
    """LeoCAD's render of the unprinted head, 3626c."""
    folder = tmp_path_factory.mktemp("plain")
    return render_part(library_copy(folder), folder, "3626c.dat")


@pytest.fixture(scope="module")
def faces(engine) -> dict[str, np.ndarray]:
    """A face as the dataset draws it (a real head of the library, rendered) and one the model
    draws (the code of a Lego face, decoded)."""
    library = LDrawLibrary(FIXTURE.ldraw)
    head = HeadPart("3626cp75.dat", "Minifig Head with Black Angry Eyebrows, Scowl and Headset Pattern")
    lego = int(engine.indices("lego")[3])
    return {"dataset": frame_face(render_minifig_head(library, head, 4 * SIZE, RenderStats()), SIZE),
            "model": engine.decode(engine.maps.means[lego], "lego")[0]}


@pytest.mark.parametrize("face, folder", [("dataset", ""), ("model", "unofficial")],
                         ids=["dataset face in the library", "model face in unofficial"])
def test_leocad_shows_the_face_from_the_zip(leocad, plain_head, faces, face, folder, tmp_path):
    picture = faces[face]
    name = face_name(picture)
    library = library_copy(tmp_path)
    with zipfile.ZipFile(io.BytesIO(face_part_zip(picture))) as archive:
        archive.extractall(library / folder)
    theirs = render_part(library, tmp_path, f"{name}.dat")

    overlap = print_overlap(our_render(picture), theirs)
    assert overlap >= 0.7, f"LeoCAD's print overlaps ours by {overlap:.0%}"

    # the rim: from the texture's last 20 degrees round to the back, each pixel is the plain head's or print
    x, y = np.meshgrid(np.arange(HEAD_RADIUS * math.sin(math.radians(RIM_TURN - TURN)), HEAD_RADIUS - 0.5, GRID),
                       np.arange(0.5, 20.5, GRID))
    seen, plain = sample(theirs, x, y).astype(int), sample(plain_head, x, y).astype(int)
    stained = (seen[..., 0] >= DARK) & (np.abs(seen[..., :3] - plain[..., :3]).max(axis=-1) > OFF_YELLOW)
    assert stained.mean() < 0.002, f"{stained.mean():.1%} of the rim is neither the head's yellow nor print"


def test_leocad_opens_the_mpd(leocad, plain_head, faces, tmp_path):
    """LeoCAD reads the .mpd's model and part; it reads no `0 !DATA`, so it shows the head plain."""
    model = tmp_path / "face.mpd"
    model.write_bytes(face_part_mpd(faces["dataset"]))
    drawn = leocad_render(library_copy(tmp_path), model)
    head, plain = drawn[..., 3] > 128, plain_head[..., 3] > 128  # a part LeoCAD cannot read is drawn as a box
    assert (head & plain).sum() / (head | plain).sum() > 0.98
