"""Turn an uploaded file into a framed face exactly like the dataset's, or say clearly why not."""
from __future__ import annotations

import io
import struct
import warnings

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from data.framing import alpha_bbox, cut_out_backdrop, frame_face

# server.maxUploadSize in .streamlit/config.toml says the same number; the browser counts it in
# decimal megabytes (10 MB = 10,000,000 bytes), and so does every message here
MAX_UPLOAD_MB = 10
MAX_UPLOAD_BYTES = MAX_UPLOAD_MB * 1000 * 1000
MAX_PIXELS = 12_000_000  # decoded RGBA stays under 50 MB; larger pictures are refused before decoding
MAX_ASPECT = 6.0  # a face picture is roughly square; a 1 x 100000 strip is refused before decoding
WORKING_SIDE = 1024  # pictures are reduced to this side right after decoding, before any copy is made
ACCEPTED = ("PNG", "JPEG", "WEBP")  # recognised by content (Pillow's own checks), never by the file's name


class UploadError(ValueError):
    """An upload that cannot be used; the message is meant for the person who sent it."""


def _to_rgba(image: Image.Image) -> Image.Image:
    """RGBA from any mode: 16-bit and 32-bit greyscale are rescaled rather than clipped."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        pixels = np.asarray(image, dtype=np.float64)
        top = 65535.0 if image.mode.startswith("I;16") or pixels.max() > 255 else 255.0
        image = Image.fromarray(np.clip(pixels / top * 255.0, 0, 255).astype(np.uint8), "L")
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    return image.convert("RGBA")


def prepare_upload(raw: bytes, size: int) -> np.ndarray:
    """(size, size, 3) uint8 face framed like the dataset, or UploadError with a clear reason.

    Work and memory are bounded by what a face needs: sizes and shapes are checked from the
    header before decoding, JPEGs decode at a reduced scale, and every picture is shrunk to
    WORKING_SIDE pixels before the backdrop cut or the framing copies it."""
    if not raw:
        raise UploadError("The file is empty. Upload a PNG, JPEG or WebP picture of a face.")
    if len(raw) > MAX_UPLOAD_BYTES:
        raise UploadError(f"The file is {len(raw) / 1e6:.1f} MB; the limit is {MAX_UPLOAD_MB} MB.")
    kind = "image"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            try:  # reads the header only: nothing is decoded yet
                image = Image.open(io.BytesIO(raw), formats=ACCEPTED)
            except UnidentifiedImageError as error:
                raise UploadError("This is not a PNG, JPEG or WebP image, or its header is damaged (its content "
                                  "says so, whatever its name).") from error
            kind = image.format
            _check_dimensions(image.width, image.height)
            image.seek(0)  # animated images: the first frame
            if kind == "JPEG":
                image.draft("RGB", (WORKING_SIDE, WORKING_SIDE))  # decode at 1/2, 1/4 or 1/8 scale
            image.load()
            image = ImageOps.exif_transpose(image)
            image.thumbnail((WORKING_SIDE, WORKING_SIDE), Image.LANCZOS, reducing_gap=2.0)
    except UploadError:
        raise
    except MemoryError as error:
        raise UploadError("The image is too large to process. Upload a smaller picture.") from error
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise UploadError(f"The image is too large to open safely (over {MAX_PIXELS // 1_000_000} megapixels). "
                          "Upload a smaller picture.") from error
    except (OSError, ValueError, SyntaxError, EOFError, struct.error) as error:
        raise UploadError(f"The {kind} file is damaged or truncated and cannot be read.") from error
    rgba = _to_rgba(image)
    alpha = np.asarray(rgba.getchannel("A"))
    if alpha.min() == 255:  # an opaque photo: cut the face out of its plain backdrop
        rgba = cut_out_backdrop(rgba.convert("RGB"))
    box = alpha_bbox(rgba)
    if box is not None and max(box[2] - box[0], box[3] - box[1]) > MAX_ASPECT * min(box[2] - box[0], box[3] - box[1]):
        raise UploadError("The visible part of the picture is a thin strip, not a face. Upload a picture of a "
                          "face.")
    try:
        return frame_face(rgba, size)
    except ValueError as error:
        raise UploadError("No face is visible: the picture is blank or fully transparent.") from error


def _check_dimensions(width: int, height: int) -> None:
    """Refuse, from the header alone, pictures too large or too thin to be a face."""
    if width * height > MAX_PIXELS:
        raise UploadError(f"The image is {width}x{height} pixels; the limit is {MAX_PIXELS // 1_000_000} "
                          "megapixels. Upload a smaller picture.")
    if max(width, height) > MAX_ASPECT * max(1, min(width, height)):
        raise UploadError(f"The image is {width}x{height} pixels, far from square: a face picture is at most "
                          f"{MAX_ASPECT:g} times as wide as it is tall (or the other way round).")
