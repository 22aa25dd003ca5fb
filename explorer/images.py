"""Pictures as files: PNG for the pages and the downloads, a morph strip, an animated GIF."""
from __future__ import annotations

import io

import numpy as np
from PIL import Image


def strip_image(frames: np.ndarray, scale: int = 2, gap: int = 4) -> Image.Image:
    """Frames side by side on white, enlarged `scale` times without smoothing."""
    count, size = len(frames), frames.shape[1] * scale
    strip = Image.new("RGB", (count * size + (count - 1) * gap, size), (255, 255, 255))
    for i, frame in enumerate(frames):
        strip.paste(Image.fromarray(frame).resize((size, size), Image.NEAREST), (i * (size + gap), 0))
    return strip


def grid_image(cells: np.ndarray, scale: int = 1, gap: int = 4) -> Image.Image:
    """Cells (R, C, S, S, 3) as one picture of R rows and C columns on white, enlarged `scale`
    times without smoothing."""
    rows, columns, side = cells.shape[0], cells.shape[1], cells.shape[2] * scale
    grid = Image.new("RGB", (columns * side + (columns - 1) * gap, rows * side + (rows - 1) * gap), (255, 255, 255))
    for row in range(rows):
        grid.paste(strip_image(cells[row], scale, gap), (0, row * (side + gap)))
    return grid


def png_bytes(image: Image.Image | np.ndarray) -> bytes:
    """PNG at zlib level 1: a decoded face (and the studio's card) encodes in well under half the
    time of the default level 6, for files at most a quarter larger."""
    image = Image.fromarray(image) if isinstance(image, np.ndarray) else image
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def face_png(image: np.ndarray, width: int) -> bytes:
    """PNG of a face no wider than `width`: a wider one is shrunk here, since Streamlit would
    shrink it itself and encode it a second time."""
    picture = Image.fromarray(image)
    if picture.width > width:
        picture = picture.resize((width, round(picture.height * width / picture.width)), Image.LANCZOS)
    return png_bytes(picture)


def gif_bytes(frames: np.ndarray, scale: int = 2, frame_ms: int = 120) -> bytes:
    """An animated GIF that plays the morph forward and back, at the PNG strip's scale. Each frame
    gets its palette at its own size by a fast octree, then is enlarged: it is made on every run
    of the morph panel, and palettising the enlarged frames by median cut costs several times
    the time and bytes for frames that look the same."""
    images = [Image.fromarray(f).quantize(256, method=Image.Quantize.FASTOCTREE)
              .resize((f.shape[1] * scale,) * 2, Image.NEAREST) for f in frames]
    loop = images + images[-2:0:-1]
    buffer = io.BytesIO()
    loop[0].save(buffer, format="GIF", save_all=True, append_images=loop[1:], duration=frame_ms, loop=0)
    return buffer.getvalue()


def morph_files(frames: np.ndarray) -> tuple[bytes, bytes, bytes]:
    """A morph's files: the strip as the page shows it (PNG, the frames' own size), the strip to
    download (PNG, twice as large) and the animated GIF."""
    return png_bytes(strip_image(frames, scale=1)), png_bytes(strip_image(frames)), gif_bytes(frames)
