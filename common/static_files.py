"""The dashboard's static pictures of a dataset: written by the export, served by Streamlit.

Streamlit serves the `static/` folder beside `streamlit_app.py` at `app/static/`
(`server.enableStaticServing`): a browser fetches each file there once and caches it. What
depends only on a model's dataset goes there when the model is exported, so that the running
app writes nothing: for each domain, the face pickers' list of faces and an atlas of their
pictures, and one small PNG per face for the map drawn with faces; and what the browser draws
faces with (explorer/live.py): the decoder and refiner's LiteRT files, gzipped, and the UMAP
map's grid of codes. Every name carries a hash
of its content, so a new dataset never meets an old picture and several models share the
folder. Where a model's files are missing (a model exported before they existed), the app
sends the same content inline instead (`inline_*`), in memory.
"""
from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from common.files import atomic_path, atomic_write_text

STATIC_FOLDER = Path(__file__).resolve().parents[1] / "static"
STATIC_URL = "app/static"
DOMAINS = ("lego", "emoji")
ATLAS_SIDE = 64  # the face pickers' cells: large enough to pick a face by sight
ATLAS_COLUMNS = 16
ATLAS_QUALITY = 90  # WebP: a 64 px face looks the same as its PNG at a third of the bytes
MAP_THUMBNAIL_SIDE = 32  # the map drawn with faces


def thumbnail(picture: np.ndarray, side: int) -> Image.Image:
    return Image.fromarray(picture).resize((side, side), Image.LANCZOS)


def face_atlas(pictures: np.ndarray, side: int, columns: int) -> Image.Image:
    """The pictures (N, S, S, 3) at `side` pixels in one image, `columns` to a row, in order."""
    rows = -(-len(pictures) // columns)
    atlas = Image.new("RGB", (columns * side, rows * side), "white")
    for k, picture in enumerate(pictures):
        atlas.paste(thumbnail(picture, side), (k % columns * side, k // columns * side))
    return atlas


@dataclass(frozen=True)
class FaceList:
    """One domain's face list: {"atlas": the atlas's file name, "side", "columns", "faces":
    [[dataset index, name, tags], ...]}, face k of the list in the atlas's cell
    (k % columns, k // columns)."""

    name: str  # faces-<domain>-<hash>.json
    text: str
    atlas_name: str  # atlas-<domain>-<hash>-<side>.webp
    pictures: np.ndarray  # (N, S, S, 3): the faces in the list's order
    side: int

    def atlas(self) -> bytes:
        """The atlas as WebP bytes."""
        buffer = io.BytesIO()
        face_atlas(self.pictures, self.side, ATLAS_COLUMNS).save(buffer, "WEBP", quality=ATLAS_QUALITY)
        return buffer.getvalue()


def face_list(dataset, domain: str, side: int = ATLAS_SIDE) -> FaceList:
    """The face list and atlas of a dataset's faces of one domain (see FaceList)."""
    indices = np.flatnonzero(dataset.domain == domain)
    pictures = dataset.images[indices]
    digest = hashlib.sha1(pictures.tobytes() + f"{side} {ATLAS_COLUMNS} {ATLAS_QUALITY}".encode()).hexdigest()[:16]
    atlas_name = f"atlas-{domain}-{digest}-{side}.webp"
    faces = [[int(i), str(dataset.name[i]), str(dataset.tags[i]).replace("|", ", ")] for i in indices]
    text = json.dumps({"atlas": atlas_name, "side": side, "columns": ATLAS_COLUMNS, "faces": faces},
                      separators=(",", ":"))
    name = f"faces-{domain}-{hashlib.sha1(text.encode()).hexdigest()[:16]}.json"
    return FaceList(name, text, atlas_name, pictures, side)


def thumbnail_folder_name(images: np.ndarray, side: int = MAP_THUMBNAIL_SIDE) -> str:
    """The folder holding image i of `images` at `side` pixels as "<folder>/i.png"."""
    return f"thumbs-{hashlib.sha1(images.tobytes()).hexdigest()[:16]}-{side}"


def write_static_files(dataset, folder: Path = STATIC_FOLDER) -> list[str]:
    """Write every static file the dashboard shows for `dataset` into `folder` (each atomically;
    the thumbnails as one folder renamed into place whole); files already there are kept.
    Returns the names written or found."""
    names = []
    for domain in DOMAINS:
        listing = face_list(dataset, domain)
        if not (folder / listing.atlas_name).is_file():
            with atomic_path(folder / listing.atlas_name) as temporary:
                temporary.write_bytes(listing.atlas())
        if not (folder / listing.name).is_file():
            atomic_write_text(folder / listing.name, listing.text)
        names += [listing.name, listing.atlas_name]
    thumbs = thumbnail_folder_name(dataset.images)
    if not (folder / thumbs).is_dir():
        write_thumbnails(dataset.images, MAP_THUMBNAIL_SIDE, folder / thumbs)
    return names + [thumbs]


def write_thumbnails(images: np.ndarray, side: int, target: Path) -> None:
    """One PNG per image at `side` pixels, written into a temporary folder renamed into place
    whole, so an export that stops half way leaves no half-written folder behind."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=".writing-"))
    try:
        for index, image in enumerate(images):
            thumbnail(image, side).save(staging / f"{index}.png", optimize=True)
        staging.chmod(0o755)  # mkdtemp makes 0700; the folder is served to everyone
        staging.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def data_url(data: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def inline_face_list(listing: FaceList) -> str:
    """The face list as a data URL whose atlas is a data URL too: what a browser fetches from the
    static files, sent with the page instead."""
    content = json.loads(listing.text)
    content["atlas"] = data_url(listing.atlas(), "image/webp")
    return data_url(json.dumps(content, separators=(",", ":")).encode(), "application/json")


def inline_thumbnails(images: np.ndarray, side: int = MAP_THUMBNAIL_SIDE) -> list[str]:
    """Each image at `side` pixels as a PNG data URL."""
    urls = []
    for image in images:
        buffer = io.BytesIO()
        thumbnail(image, side).save(buffer, "PNG", optimize=True)
        urls.append(data_url(buffer.getvalue(), "image/png"))
    return urls


LIVE_NETWORKS = {"decoder": "decoder.tflite", "refiner": "refiner.tflite"}  # role -> the model folder's file
UMAP_GRID = "umap_grid"


def _live_contents(model_folder: Path) -> dict[str, tuple[str, bytes]]:
    """{role: (static name, bytes)} of a model folder's live files (see live_names); a ".gz"
    name's bytes are stored gzipped (write_live_files), which only writing them pays for."""
    contents = {}
    for role, file in LIVE_NETWORKS.items():
        path = Path(model_folder) / file
        if path.is_file():
            raw = path.read_bytes()
            contents[role] = (f"{role}-{hashlib.sha1(raw).hexdigest()[:16]}.tflite.gz", raw)
    latents = Path(model_folder) / "latents.npz"
    if latents.is_file():
        with np.load(latents, allow_pickle=False) as archive:
            if UMAP_GRID in archive.files:
                grid = np.ascontiguousarray(archive[UMAP_GRID], "<f2").tobytes()  # (G, G, L) little-endian float16
                contents[UMAP_GRID] = (f"umap-grid-{hashlib.sha1(grid).hexdigest()[:16]}.f16", grid)
    return contents


def live_names(model_folder: Path) -> dict[str, str]:
    """The static files the browser draws a model's faces with, by role: "decoder" and
    "refiner" (its LiteRT files, gzipped: Streamlit sends static files uncompressed) and
    "umap_grid" (the UMAP map's (G, G, L) codes as little-endian float16), each where the
    model folder has it."""
    return {role: name for role, (name, _) in _live_contents(model_folder).items()}


def write_live_files(model_folder: Path, folder: Path = STATIC_FOLDER) -> list[str]:
    """Write a model folder's live files (live_names) into `folder`, each atomically; files
    already there are kept. Returns the names written or found."""
    names = []
    for name, data in _live_contents(model_folder).values():
        if not (folder / name).is_file():
            with atomic_path(folder / name) as temporary:
                temporary.write_bytes(gzip.compress(data, compresslevel=9, mtime=0) if name.endswith(".gz") else data)
        names.append(name)
    return names
