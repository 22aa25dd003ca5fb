"""A face exported as an LDraw part: the file follows the !TEXMAP, MPD and !DATA specs, and the
project's own renderer draws the face back from it (and a plain head without textures)."""
import base64
import io
import re
import zipfile

import numpy as np
import pytest
from PIL import Image
from scipy.ndimage import gaussian_filter

from data.framing import BACKGROUND, frame_face
from data.ldraw import (
    FACE_Y_RANGE,
    HeadPart,
    LDrawLibrary,
    RenderStats,
    Texmap,
    read_document,
    render_mesh,
    render_minifig_head,
    render_plain_head,
)
from data.ldraw_part import (
    FRONT,
    HEAD_RGB,
    PREVIEW_VIEWS,
    SHELL,
    face_name,
    face_part_mpd,
    face_part_views,
    face_part_zip,
    face_texture,
)
from tests.conftest import FIXTURE

SIZE = 128  # the pictures the model draws
RENDER = 2 * SIZE  # the export is drawn at twice that, then framed as the dataset frames its heads
NAME = "legomoji-face"


@pytest.fixture(scope="module")
def library():
    return LDrawLibrary(FIXTURE.ldraw)


@pytest.fixture(scope="module")
def picture(library) -> np.ndarray:
    """A real face as the dataset draws it; its print is not symmetric (a headset on one side,
    one eyebrow raised), so a mirrored texture shows."""
    head = HeadPart("3626cp75.dat", "Minifig Head with Black Angry Eyebrows, Scowl and Headset Pattern")
    return frame_face(render_minifig_head(library, head, 4 * SIZE, RenderStats()), SIZE)


@pytest.fixture(scope="module")
def exported(picture) -> bytes:
    return face_part_mpd(picture, NAME)


def ssim(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(H, W, 3) SSIM map of two uint8 pictures (Wang et al. 2004, Gaussian window of sigma 1.5)."""
    a, b = a / 255.0, b / 255.0
    blur = lambda x: gaussian_filter(x, (1.5, 1.5, 0), truncate=3.5)  # noqa: E731
    mean_a, mean_b = blur(a), blur(b)
    var_a, var_b, cov = blur(a * a) - mean_a ** 2, blur(b * b) - mean_b ** 2, blur(a * b) - mean_a * mean_b
    c1, c2 = 0.01 ** 2, 0.03 ** 2
    return (2 * mean_a * mean_b + c1) * (2 * cov + c2) / ((mean_a ** 2 + mean_b ** 2 + c1) * (var_a + var_b + c2))


def face_box(picture: np.ndarray) -> tuple[slice, slice]:
    """The box of the picture's head: its pixels off the background."""
    rows, columns = np.nonzero(np.abs(picture.astype(int) - BACKGROUND).max(axis=2) > 8)
    return slice(rows.min(), rows.max() + 1), slice(columns.min(), columns.max() + 1)


def test_file_follows_the_texmap_mpd_and_data_specs(exported, picture):
    text = exported.decode("utf-8")
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    document = read_document(text)
    assert document.main == f"{NAME}.ldr" and set(document.files) == {f"{NAME}.ldr", f"{NAME}.dat"}
    assert f"{NAME}.dat" in document.files[document.main]

    part = document.files[f"{NAME}.dat"].splitlines()
    commands = [(number, line.split()) for number, line in enumerate(part) if line.startswith("0 !TEXMAP")]
    assert [words[2] for _, words in commands] == ["START", "FALLBACK", "END"]
    start = commands[0][1]
    assert start[3] == "CYLINDRICAL" and len(start) == 4 + 9 + 1 + 1
    values = np.array([float(v) for v in start[4:14]])
    bottom, top, front, angle = values[0:3], values[3:6], values[6:9], values[9]
    assert bottom[1] > top[1] and front[2] < 0 and angle == 180  # -Y is up; the face looks to -Z
    assert np.isclose(np.linalg.norm(front - top), 13)  # on the head's cylinder, at its top
    assert start[14] == f"{NAME}.png"

    # textured geometry between START and FALLBACK, the same geometry plain up to END
    (opened, _), (fallback, _), (ended, _) = commands
    assert [line.removeprefix("0 !: ") for line in part[opened + 1:fallback]] == part[fallback + 1:ended] == list(FRONT)
    assert all(line.startswith("0 !: ") for line in part[opened + 1:fallback])

    rows = text.split(f"0 !DATA {NAME}.png\r\n")[1].splitlines()
    assert rows and all(row.startswith("0 !: ") and len(row) <= len("0 !: ") + 76 for row in rows)
    png = base64.b64decode("".join(row.removeprefix("0 !: ") for row in rows))
    assert png == document.data[f"{NAME}.png"]
    with Image.open(io.BytesIO(png)) as image:
        assert image.format == "PNG"
        assert np.array_equal(np.asarray(image.convert("RGB")), face_texture(picture))


def test_export_refers_to_parts_every_library_has(sources):
    library = LDrawLibrary(sources.ldraw)
    for reference in (SHELL, *(line.split()[-1] for line in FRONT)):
        assert library.resolve(reference), reference


def test_rendered_export_shows_the_face(library, exported, picture):
    stats = RenderStats()
    mesh = library.document_mesh(read_document(exported.decode("utf-8")), stats)
    drawn = frame_face(render_mesh(mesh, library.colours, RENDER, stats, y_range=FACE_Y_RANGE), SIZE)
    assert not stats.counts  # every referenced part found in the library, the texture read
    box = face_box(picture)
    similarity = float(ssim(drawn, picture)[box].mean())
    mirrored = float(ssim(drawn, picture[:, ::-1])[box].mean())
    assert similarity >= 0.8, similarity
    assert similarity > mirrored + 0.1, (similarity, mirrored)  # printed the right way round


def test_without_textures_the_export_is_a_plain_head(library, exported):
    stats = RenderStats()
    document = read_document(exported.decode("utf-8"))
    fallback = library.document_mesh(document, stats, textures=False)
    plain = np.asarray(render_plain_head(library, SIZE, stats), dtype=int)  # 3626c: the shell and its front
    drawn = np.asarray(render_mesh(fallback, library.colours, SIZE, stats, y_range=FACE_Y_RANGE), dtype=int)
    assert not stats.counts and (fallback.texmap_index < 0).all()
    assert np.abs(drawn - plain).mean() < 1

    textured = library.document_mesh(document, stats)  # the fallback is skipped: the front is drawn once
    assert len(textured.triangles) == len(fallback.triangles)
    assert 0 < (textured.texmap_index >= 0).sum() < len(textured.triangles)

    document.data.clear()  # a texmap without its picture is drawn by its fallback, as LDView does
    assert (library.document_mesh(document, stats).texmap_index < 0).all()
    assert not stats.counts


def test_cylindrical_uv_follows_the_spec():
    # bottom centre (0, 10, 0), top centre (0, 0, 0), u = 0.5 towards -Z, 180 degrees round
    texmap = Texmap(np.zeros((1, 1, 4), np.uint8), np.array([0.0, 10, 0]), np.zeros(3), np.array([0.0, 0, -5]), 180.0)
    u, v = texmap.uv(np.array([[0.0, 0, -10], [10, 10, 0], [-10, 5, 0], [0, 2.5, 10]]))
    assert np.allclose(u[:3], [0.5, 1, 0]) and np.allclose(v, [0, 1, 0.5, 0.25])  # +X, right seen from -Z: u = 1
    assert abs(u[3] - 0.5) == pytest.approx(1)  # the back lies outside a 180-degree texture


def test_transparent_texture_shows_the_geometry_colour(library):
    # a half cylinder in yellow, textured with a picture red on its left and clear on its right
    texture = np.zeros((1, 2, 4), np.uint8)
    texture[0, 0] = (255, 0, 0, 255)
    png = io.BytesIO()
    Image.fromarray(texture, "RGBA").save(png, format="PNG")
    text = "\n".join([
        "0 FILE Test.ldr",
        "0 !TEXMAP START CYLINDRICAL 0 10 0 0 0 0 0 0 -10 180 Half.png",
        "0 !: 1 14 0 0 0 10 0 0 0 10 0 0 0 -10 2-4cyli.dat",
        "0 !TEXMAP END",
        "0 !DATA half.png",
        *(f"0 !: {row}" for row in base64.encodebytes(png.getvalue()).decode().split()),
    ])
    stats = RenderStats()
    drawn = np.asarray(render_mesh(library.document_mesh(read_document(text), stats), library.colours, 64, stats))
    assert not stats.counts
    left, right = drawn[32, 12, :3].astype(int), drawn[32, 52, :3].astype(int)
    assert left[0] > 150 and left[1] < 60 and left[2] < 60  # red
    assert right[0] > 150 and right[1] > 110 and right[2] < 90  # yellow


def test_mpd_blocks_are_split_as_the_spec_says():
    text = ("a mail's greeting\n0 FILE Main.ldr\n1 16 0 0 0 1 0 0 0 1 0 0 0 1 sub\\Part.dat\n0 NOFILE\nsignature\n"
            "0 FILE sub/part.dat\n3 16 0 0 0 1 0 0 0 1 0\n0 !DATA Broken.png\n0 !: not base64!\n")
    document = read_document(text)
    assert document.main == "main.ldr" and set(document.files) == {"main.ldr", "sub/part.dat"}
    assert "signature" not in document.files["main.ldr"] and "greeting" not in document.files["main.ldr"]
    assert document.data == {"broken.png": b""}
    plain = read_document("3 16 0 0 0 1 0 0 0 1 0\n", "Plain.dat")
    assert plain.main == "plain.dat" and plain.files["plain.dat"].startswith("3 16")


@pytest.mark.parametrize("bad", [
    np.zeros((SIZE, SIZE, 3), np.float32), np.zeros((SIZE, SIZE, 4), np.uint8),
    np.zeros((SIZE, SIZE // 2, 3), np.uint8), np.zeros((8, 8, 3), np.uint8), [[0, 0, 0]],
], ids=["float", "rgba", "not square", "tiny", "list"])
def test_bad_picture_is_one_clear_sentence(bad):
    with pytest.raises(ValueError, match=r"^The face picture must be a square uint8 RGB array .*; got [^.]*\.$"):
        face_part_mpd(bad)


@pytest.mark.parametrize("name", ["my face", "", "../face", "x" * 65, "face.png"])
def test_bad_name_is_one_clear_sentence(picture, name):
    with pytest.raises(ValueError, match=r"^The part's name must be"):
        face_part_mpd(picture, name)


def zip_files(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {entry.filename: archive.read(entry) for entry in archive.infolist()}


@pytest.fixture(scope="module")
def other_picture(library) -> np.ndarray:
    head = HeadPart("3626cp81.dat", "another printed head")
    return frame_face(render_minifig_head(library, head, 4 * SIZE, RenderStats()), SIZE)


def test_each_face_is_named_after_its_picture(picture, other_picture):
    name = face_name(picture)
    assert re.fullmatch(r"legomoji-[0-9a-f]{10}", name)
    assert face_name(picture.copy()) == name and face_name(other_picture) != name
    assert face_name(picture[::2, ::2]) != name  # the same face drawn smaller is another texture
    assert read_document(face_part_mpd(picture).decode()).main == f"{name}.ldr"
    assert set(zip_files(face_part_zip(picture))) == {f"parts/{name}.dat", f"parts/textures/{name}.png", "README.txt"}
    assert set(zip_files(face_part_zip(other_picture))) >= {f"parts/{face_name(other_picture)}.dat"}


def author(key: str) -> str:
    """The real name on a library file's `0 Author:` line, without its [username]."""
    text = (FIXTURE.ldraw / key).read_text()
    return re.search(r"^0 Author: ([^\[\r\n]+)", text, re.MULTILINE).group(1).strip()


def test_header_follows_the_file_header_spec_and_credits_the_head(picture):
    name = face_name(picture)
    part = zip_files(face_part_zip(picture))[f"parts/{name}.dat"].decode("utf-8").splitlines()
    official = (FIXTURE.ldraw / "parts" / "3626c.dat").read_text().splitlines()
    assert part[:5] == [part[0], f"0 Name: {name}.dat", part[2], "0 !LDRAW_ORG Unofficial_Part",
                        next(line for line in official if line.startswith("0 !LICENSE"))]
    assert re.fullmatch(r"0 \w.*", part[0]) and re.fullmatch(r"0 Author: \S.*", part[2])
    credits = " ".join(line for line in part if line.startswith("0 //"))
    for key in ("parts/3626c.dat", "parts/s/3626cs01.dat", "parts/s/3626cs02.dat"):  # what the part draws of 3626c
        assert author(key) in credits, key
    document = read_document(face_part_mpd(picture).decode("utf-8"))
    assert document.files[f"{name}.dat"].splitlines() == part  # the .mpd holds the same part
    model = document.files[document.main].splitlines()
    assert [line.split()[1] for line in model[:4]] == ["Minifig", "Name:", "Author:", "!LICENSE"]


def test_zip_is_a_library_folder_with_the_same_bytes_each_time(picture):
    data = face_part_zip(picture)
    assert face_part_zip(picture.copy()) == data
    name = face_name(picture)
    files = zip_files(data)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert {entry.date_time for entry in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    part = files[f"parts/{name}.dat"].decode("utf-8")
    assert part.endswith("\r\n") and "\n" not in part.replace("\r\n", "")
    assert re.search(rf"^0 !TEXMAP START CYLINDRICAL [-0-9. ]+ {name}\.png\r$", part, re.MULTILINE)
    assert "!DATA" not in part  # the texture is the library's file
    with Image.open(io.BytesIO(files[f"parts/textures/{name}.png"])) as texture:
        assert np.array_equal(np.asarray(texture.convert("RGB")), face_texture(picture))
    readme = files["README.txt"].decode("utf-8")
    assert "unofficial" in readme and "LeoCAD" in readme and "CC BY 4.0" in readme


def test_texture_shows_the_heads_yellow_at_its_rim(library, picture):
    assert HEAD_RGB + (255,) == library.colours[14]
    texture = face_texture(picture)
    for edge in (texture[:, 0], texture[:, -1], texture[0], texture[-1]):  # both sides, the top and the chin
        assert (edge == HEAD_RGB).all()

    # a model-drawn face can leave the frame's background inside the head's outline, at its rim
    stained = picture.copy()
    rows, columns = face_box(picture)
    middle = (rows.start + rows.stop) // 2
    stained[middle - 6:middle + 6, columns.start:columns.start + 4] = BACKGROUND
    stained_texture = face_texture(stained).astype(int)
    pale = (stained_texture[..., 2] > 40) & (stained_texture[..., :2].min(axis=2) > 150)
    assert not pale[:, :stained_texture.shape[1] // 4].any()  # none left on that side
    assert (stained_texture[:, :stained_texture.shape[1] // 2] != texture[:, :texture.shape[1] // 2]).any()
    white = (texture.astype(int).min(axis=2) > 200)  # the eyes' highlights stay: the face surrounds them
    assert white[:, texture.shape[1] // 4:3 * texture.shape[1] // 4].sum() >= 4


def test_preview_is_the_part_as_the_library_draws_it(library, picture):
    stats = RenderStats()
    mesh = library.document_mesh(read_document(face_part_mpd(picture).decode("utf-8")), stats)
    mesh.colours = np.where(mesh.colours == 16, 14, mesh.colours)
    views = face_part_views(picture, SIZE)
    assert list(views) == list(PREVIEW_VIEWS) and not stats.counts
    for view, (turn, tilt) in PREVIEW_VIEWS.items():
        drawn = np.asarray(render_mesh(mesh, library.colours, SIZE, stats, turn=turn, tilt=tilt), dtype=int)
        preview = np.asarray(views[view], dtype=int)
        assert np.abs(preview - drawn).mean() < 1, view
        assert (np.abs(preview - drawn).max(axis=2) > 40).mean() < 0.01, view


def test_a_half_turn_is_the_back(library):
    stats = RenderStats()
    mesh = library.head_mesh(HeadPart("3626cp75.dat", "a printed head"), stats)
    back = np.asarray(render_mesh(mesh, library.colours, 64, stats, side="back"))
    assert np.array_equal(np.asarray(render_mesh(mesh, library.colours, 64, stats, turn=180)), back)


def test_a_page_shows_the_part_when_asked_and_draws_it_once(engine, made_on_click, monkeypatch):
    import explorer.ui
    from explorer.ui import LDRAW_LABEL, LDRAW_ZIP_LABEL
    from tests.conftest import downloads
    from tests.test_app import page, run

    drawn = []
    views = explorer.ui.face_part_views
    monkeypatch.setattr(explorer.ui, "face_part_views", lambda *args: drawn.append(1) or views(*args))
    app = run(page("mirror"))
    shown = len(app.get("image"))
    links = downloads(app, made_on_click)
    (zipped, zip_name), (mpd, mpd_name) = links[LDRAW_ZIP_LABEL], links[LDRAW_LABEL]
    name = zip_name.removesuffix(".zip")
    assert re.fullmatch(r"legomoji-[0-9a-f]{10}", name) and mpd_name == f"{name}.mpd"
    assert f"parts/{name}.dat" in zip_files(zipped.getvalue())
    assert read_document(mpd.getvalue().decode("utf-8")).main == f"{name}.ldr"
    assert not drawn  # nothing drawn until asked for

    app.toggle(key="mirror_ldraw_preview").set_value(True)
    run(app)
    run(app)  # a rerun shows the part kept for this face
    assert len(app.get("image")) == shown + 1 and drawn == [1]
    assert name in app.get("image")[-1].proto.imgs[0].caption
