"""Hostile and unusual uploads: every one is framed correctly or refused with a clear message."""
from __future__ import annotations

import io

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from data.framing import BACKGROUND
from explorer.upload import MAX_UPLOAD_BYTES, UploadError, prepare_upload

SIZE = 64


def encode(image: Image.Image, fmt: str = "PNG", **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def face(size=(120, 90), colour=(242, 205, 55)) -> Image.Image:
    """A yellow rounded face with two dark eyes on white: what a user might upload."""
    image = Image.new("RGB", size, (255, 255, 255))
    w, h = size
    image.paste(colour, (w // 8, h // 8, w - w // 8, h - h // 8))
    image.paste((20, 20, 30), (w // 3, h // 3, w // 3 + 6, h // 3 + 6))
    image.paste((20, 20, 30), (2 * w // 3, h // 3, 2 * w // 3 + 6, h // 3 + 6))
    return image


def framed_ok(result: np.ndarray) -> None:
    assert result.shape == (SIZE, SIZE, 3) and result.dtype == np.uint8
    assert np.all(result[0, 0] == BACKGROUND)  # the dataset's backdrop
    assert np.abs(result.astype(int) - BACKGROUND).max() > 60  # a face is there


def test_plain_png_and_jpeg_and_webp_are_framed():
    for fmt in ("PNG", "JPEG", "WEBP"):
        framed_ok(prepare_upload(encode(face(), fmt), SIZE))


def test_animated_png_and_webp_use_the_first_frame():
    frames = [face(colour=(242, 205, 55)), face(colour=(40, 90, 220))]
    for fmt in ("PNG", "WEBP"):
        raw = encode(frames[0], fmt, save_all=True, append_images=frames[1:], duration=100, loop=0, lossless=True)
        result = prepare_upload(raw, SIZE)
        framed_ok(result)
        centre = result[SIZE // 2, SIZE // 2].astype(int)
        assert centre[0] > centre[2]  # yellow (first frame), not blue


@pytest.mark.parametrize("mode", ["CMYK", "L", "LA", "RGBA", "P"])
def test_colour_modes(mode):
    image = face().convert(mode)
    fmt = "JPEG" if mode == "CMYK" else "PNG"
    framed_ok(prepare_upload(encode(image, fmt), SIZE))


def test_palette_with_transparency_uses_its_alpha():
    image = Image.new("P", (100, 100), 0)
    image.putpalette([255, 255, 255, 242, 205, 55] + [0] * 762)
    image.paste(1, (20, 30, 80, 70))
    result = prepare_upload(encode(image, transparency=0), SIZE)
    framed_ok(result)
    assert np.all(result[SIZE // 2, SIZE // 2] == (242, 205, 55))


def test_sixteen_bit_greyscale_is_rescaled_not_clipped():
    pixels = np.full((80, 80), 65535, np.uint16)
    pixels[20:60, 20:60] = 20000
    result = prepare_upload(encode(Image.fromarray(pixels)), SIZE)
    framed_ok(result)
    value = result[SIZE // 2, SIZE // 2, 0]
    assert 60 < value < 100  # 20000 / 65535 * 255 = 78, not 255


def test_exif_rotation_is_applied():
    wide = face(size=(160, 80))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise when shown
    result = prepare_upload(encode(wide, "JPEG", exif=exif), SIZE)
    framed_ok(result)
    mask = np.abs(result.astype(int) - BACKGROUND).max(axis=2) > 30
    ys, xs = np.nonzero(mask)
    assert (ys.max() - ys.min()) > (xs.max() - xs.min())  # now taller than wide


@pytest.mark.parametrize("raw,message", [
    (b"", "empty"),
    (encode(face())[:200], "damaged or truncated"),
    (bytes(np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8)), "not a PNG, JPEG or WebP"),
    (b'<svg xmlns="http://www.w3.org/2000/svg"><circle r="5"/></svg>', "not a PNG, JPEG or WebP"),
    (b"<!DOCTYPE html><html><body>hello</body></html>", "not a PNG, JPEG or WebP"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "not a PNG, JPEG or WebP image, or its header is damaged"),
])
def test_bad_files_get_a_clear_message(raw, message):
    with pytest.raises(UploadError, match=message):
        prepare_upload(raw, SIZE)


def test_a_100_megapixel_image_is_refused_before_decoding():
    raw = encode(Image.new("L", (10_000, 10_000), 255), optimize=False)
    with pytest.raises(UploadError, match="megapixels"):
        prepare_upload(raw, SIZE)


def small_png(width: int, height: int) -> bytes:
    """A PNG of a few hundred bytes that declares width x height black pixels (a decompression
    trap: the file passes every size check, the decoded image does not)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    packer = zlib.compressobj(9)
    row = b"\x00" * (width + 1)  # filter byte + one grey byte per pixel
    body = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")


@pytest.mark.parametrize(("width", "height", "message"), [
    (7000, 5700, "megapixels"),  # 40 MP in a file of about 40 KB
    (6300, 6300, "megapixels"),
    (1, 100_000, "far from square"),  # once accepted, and framed 51 times too wide
    (1, 1_000_000, "far from square"),  # once an uncaught MemoryError
])
def test_small_files_declaring_huge_or_thin_pictures_are_refused_from_the_header(width, height, message):
    raw = small_png(width, height)
    assert len(raw) < MAX_UPLOAD_BYTES
    with pytest.raises(UploadError, match=message):
        prepare_upload(raw, SIZE)


def test_a_thin_strip_inside_a_square_picture_is_not_a_face():
    image = Image.new("RGBA", (400, 400), (0, 0, 0, 0))
    image.paste((240, 200, 40, 255), (0, 198, 400, 202))
    with pytest.raises(UploadError, match="thin strip"):
        prepare_upload(encode(image), SIZE)


def test_the_largest_accepted_picture_is_reduced_before_it_is_copied():
    """3400 x 3400 (11.6 MP, just under the cap) still frames, through the reduced working copy."""
    image = Image.new("RGB", (3400, 3400), (255, 255, 255))
    image.paste((242, 205, 55), (400, 600, 3000, 2800))
    framed = prepare_upload(encode(image, optimize=False), SIZE)
    assert framed.shape == (SIZE, SIZE, 3) and tuple(framed[SIZE // 2, SIZE // 2]) != BACKGROUND


def test_oversized_files_and_blank_images():
    with pytest.raises(UploadError, match="limit"):
        prepare_upload(b"\x89PNG\r\n\x1a\n" + b"\x00" * MAX_UPLOAD_BYTES, SIZE)
    with pytest.raises(UploadError, match="No face"):
        prepare_upload(encode(Image.new("RGBA", (50, 50), (0, 0, 0, 0))), SIZE)


VALID = [encode(face(), "PNG"), encode(face(), "JPEG"), encode(face(), "WEBP")]


@st.composite
def hostile_bytes(draw):
    """Random bytes, truncations, byte flips and disguises of valid images."""
    kind = draw(st.sampled_from(["random", "truncated", "flipped", "disguised", "header"]))
    base = draw(st.sampled_from(VALID))
    if kind == "random":
        return draw(st.binary(min_size=0, max_size=4096))
    if kind == "truncated":
        return base[:draw(st.integers(0, len(base) - 1))]
    if kind == "flipped":
        data = bytearray(base)
        for _ in range(draw(st.integers(1, 20))):
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
        return bytes(data)
    if kind == "disguised":
        return draw(st.sampled_from([b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"RIFF\x00\x00\x00\x00WEBP"])) + \
            draw(st.binary(max_size=2048))
    return base[:draw(st.integers(8, 64))] + draw(st.binary(max_size=512))


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hostile_bytes())
def test_fuzz_preprocessing_never_crashes(raw):
    try:
        result = prepare_upload(raw, SIZE)
    except UploadError as error:
        assert str(error) and "\n" not in str(error)
    else:
        assert result.shape == (SIZE, SIZE, 3) and result.dtype == np.uint8


def test_the_upload_page_refuses_hostile_files_and_keeps_the_face_it_had():
    """Five distinct hostile files after a good one, then another good one, through the real page:
    each refusal is one sentence and leaves the earlier face in place; a good file replaces it.
    (The preprocessing fuzz above gives the breadth; this gives the page.)"""
    from streamlit.testing.v1 import AppTest

    app = AppTest.from_string("from explorer.pages.your_image import render_your_image\nrender_your_image()\n",
                              default_timeout=120)
    app.run()
    png = VALID[0]
    header_flipped = bytearray(png)
    header_flipped[16:24] = b"\xff" * 8  # width and height in IHDR: the chunk's checksum no longer matches
    hostile = {
        "random.png": bytes(np.random.default_rng(7).integers(0, 256, 3000, dtype=np.uint8)),
        "truncated.png": png[:len(png) // 2],
        "header.png": bytes(header_flipped),
        "html.png": b"\x89PNG\r\n\x1a\n<html><script>alert(1)</script></html>",
        "empty.jpg": b"",
    }

    def upload(name: str, raw: bytes) -> None:
        app.file_uploader(key="upload_file").set_value((name, raw, "image/png"))
        app.run()
        assert not app.exception, app.exception[0].message

    upload("first.webp", VALID[2])
    first = app.session_state["uploaded_face"]
    assert not app.error and first["name"] == "first.webp" and np.all(np.isfinite(first["z"]))
    for name, raw in hostile.items():
        upload(name, raw)
        assert len(app.error) == 1, name
        message = app.error[0].value
        assert message.endswith(".") and len(message) < 200 and "\n" not in message and "Traceback" not in message
        kept = app.session_state["uploaded_face"]
        assert kept["name"] == "first.webp" and np.array_equal(kept["image"], first["image"])  # nothing lost
    upload("last.jpg", VALID[1])
    assert not app.error and app.session_state["uploaded_face"]["name"] == "last.jpg"
