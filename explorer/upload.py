"""Turn an uploaded file into a framed face exactly like the dataset's, or say clearly why not."""
from __future__ import annotations

import io
import struct
import warnings

import numpy as np
from PIL import Image, ImageOps

from data.framing import cut_out_backdrop, frame_face

MAX_UPLOAD_BYTES = 10 * 1024 * 1024  # also set as server.maxUploadSize in .streamlit/config.toml
MAX_PIXELS = 40_000_000  # beyond this Pillow's decompression-bomb guard refuses the image
SIGNATURES = {b"\x89PNG\r\n\x1a\n": "PNG", b"\xff\xd8\xff": "JPEG"}


class UploadError(ValueError):
    """An upload that cannot be used; the message is meant for the person who sent it."""


def sniff_format(raw: bytes) -> str | None:
    """PNG, JPEG or WEBP from the file's first bytes (its name is not trusted)."""
    for signature, name in SIGNATURES.items():
        if raw.startswith(signature):
            return name
    if raw[:4] == b"RIFF" and raw[8:12] == b"WEBP":
        return "WEBP"
    return None


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
    """(size, size, 3) uint8 face framed like the dataset, or UploadError with a clear reason."""
    if not raw:
        raise UploadError("The file is empty. Upload a PNG, JPEG or WebP picture of a face.")
    if len(raw) > MAX_UPLOAD_BYTES:
        raise UploadError(f"The file is {len(raw) / 1e6:.1f} MB; the limit is {MAX_UPLOAD_BYTES // 2**20} MB.")
    kind = sniff_format(raw)
    if kind is None:
        raise UploadError("This is not a PNG, JPEG or WebP image (its content says otherwise, whatever its name).")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(raw))
            if image.width * image.height > MAX_PIXELS:
                raise UploadError(f"The image is {image.width}x{image.height} pixels; the limit is "
                                  f"{MAX_PIXELS // 1_000_000} megapixels. Upload a smaller picture.")
            image.seek(0)  # animated images: the first frame
            image.load()
            image = ImageOps.exif_transpose(image)
    except UploadError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise UploadError(f"The image is too large to open safely (over {MAX_PIXELS // 1_000_000} megapixels). "
                          "Upload a smaller picture.") from error
    except (OSError, ValueError, SyntaxError, EOFError, struct.error) as error:
        raise UploadError(f"The {kind} file is damaged or truncated and cannot be read.") from error
    rgba = _to_rgba(image)
    alpha = np.asarray(rgba.getchannel("A"))
    if alpha.min() == 255:  # an opaque photo: cut the face out of its plain backdrop
        rgba = cut_out_backdrop(rgba.convert("RGB"))
    try:
        return frame_face(rgba, size)
    except ValueError as error:
        raise UploadError("No face is visible: the picture is blank or fully transparent.") from error

