"""Every st.cache_resource / st.cache_data of the dashboard, in one place."""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import streamlit as st
from PIL import Image

from common.files import atomic_path, atomic_write_text
from explorer import figures, images
from explorer.engine import DEFAULT_ASSETS, Engine
from vae.latent import kl_per_dimension

MODEL_ENV = "LEGOMOJI_MODEL"
# Streamlit serves this folder (beside streamlit_app.py) at app/static/ when
# server.enableStaticServing is on: pictures there go to a browser once, as files it can cache.
STATIC_FOLDER = Path(__file__).resolve().parents[1] / "static"
STATIC_URL = "app/static"


def model_folder(argv: list[str] | None = None) -> Path:
    """`streamlit run streamlit_app.py -- --model DIR` (or `--model=DIR`), else $LEGOMOJI_MODEL,
    else the shipped assets. Streamlit's own arguments are left alone."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--model", type=Path, nargs="?")
    known, _ = parser.parse_known_args(sys.argv[1:] if argv is None else argv)
    return known.model or Path(os.environ.get(MODEL_ENV) or DEFAULT_ASSETS)


@st.cache_resource(show_spinner="Loading the model and the latent maps...")
def load_engine(folder: str) -> Engine:
    """One Engine per process, shared by every session (its model calls take a lock).

    The model loads in a background thread so that the first page draws without waiting for
    TensorFlow; pages that need the model wait for it through `ui.get_engine`."""
    return Engine(folder, background=True)


# Every cache is bounded: nothing keyed on a session's own data (an upload, a selection) is
# cached; per-session additions are made to copies in the page.


@st.cache_resource(show_spinner=False, max_entries=4)
def thumbnail_folder(folder: str, side: int = 64) -> str:
    """The URL of the folder that serves every dataset image at `side` pixels as a static file,
    image i at "<url>/i.png": a rerun sends these short names, and the browser fetches and
    caches each picture once. The files are written on first use into a folder named after the
    images' content, so new assets never meet old pictures."""
    engine = load_engine(folder)
    digest = hashlib.sha1(engine.dataset.images.tobytes()).hexdigest()[:16]
    name = f"thumbs-{digest}-{side}"
    target = STATIC_FOLDER / name
    if not target.is_dir():
        write_thumbnails(engine.dataset.images, side, target)
    return f"{STATIC_URL}/{name}"


@st.cache_resource(show_spinner=False, max_entries=4)
def thumbnail_urls(folder: str, side: int = 64) -> list[str]:
    """The URL of every dataset image at `side` pixels (see thumbnail_folder)."""
    url = thumbnail_folder(folder, side)
    return [f"{url}/{index}.png" for index in range(len(load_engine(folder).dataset))]


ATLAS_COLUMNS = 16
ATLAS_QUALITY = 90  # WebP: a 64 px face looks the same as its PNG at a third of the bytes


@st.cache_resource(show_spinner=False, max_entries=8)
def face_list_url(folder: str, domain: str, side: int = 64) -> str:
    """The URL of a static JSON file listing one domain's faces for the face picker, with the
    pictures of them all in one atlas beside it: {"atlas": the atlas's file name, "side": side,
    "columns": ATLAS_COLUMNS, "faces": [[dataset index, name, tags], ...]}, face k of the list in
    the atlas's cell (k % columns, k // columns). A browser fetches the two files once: a grid
    drawn afresh (a new search, a page opened) sends the picker a short URL and the indices it
    shows, and a cold page fetches two pictures for its grids, not one per face (a few hundred
    requests that held up the page's first pictures). Both are named after their content, so a
    new dataset never meets an old list."""
    dataset = load_engine(folder).dataset
    indices = np.flatnonzero(dataset.domain == domain)
    pictures = dataset.images[indices]
    digest = hashlib.sha1(pictures.tobytes() + f"{side} {ATLAS_COLUMNS} {ATLAS_QUALITY}".encode()).hexdigest()[:16]
    atlas = f"atlas-{domain}-{digest}-{side}.webp"
    if not (STATIC_FOLDER / atlas).is_file():
        with atomic_path(STATIC_FOLDER / atlas) as temporary:
            face_atlas(pictures, side, ATLAS_COLUMNS).save(temporary, "WEBP", quality=ATLAS_QUALITY)
    faces = [[int(i), str(dataset.name[i]), str(dataset.tags[i]).replace("|", ", ")] for i in indices]
    text = json.dumps({"atlas": atlas, "side": side, "columns": ATLAS_COLUMNS, "faces": faces}, separators=(",", ":"))
    name = f"faces-{domain}-{hashlib.sha1(text.encode()).hexdigest()[:16]}.json"
    if not (STATIC_FOLDER / name).is_file():
        atomic_write_text(STATIC_FOLDER / name, text)
    return f"{STATIC_URL}/{name}"


def face_atlas(pictures: np.ndarray, side: int, columns: int) -> Image.Image:
    """The pictures at `side` pixels in one image, `columns` to a row, in order."""
    rows = -(-len(pictures) // columns)
    atlas = Image.new("RGB", (columns * side, rows * side), "white")
    for k, picture in enumerate(pictures):
        atlas.paste(thumbnail(picture, side), (k % columns * side, k // columns * side))
    return atlas


def thumbnail(picture: np.ndarray, side: int) -> Image.Image:
    return Image.fromarray(picture).resize((side, side), Image.LANCZOS)


def write_thumbnails(images: np.ndarray, side: int, target: Path) -> None:
    """One PNG per image at `side` pixels, written into a temporary folder renamed into place
    whole, so a server that stops half way leaves no half-written folder behind."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=".writing-"))
    try:
        for index, image in enumerate(images):
            thumbnail(image, side).save(staging / f"{index}.png", optimize=True)
        staging.rename(target)
    except OSError:
        if not target.is_dir():  # another process won the race: its folder is as good as ours
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _map_groups(engine: Engine, colour_by: str) -> np.ndarray:
    if colour_by == "domain":
        return engine.dataset.domain
    if colour_by == "source":
        return engine.dataset.source
    return np.array([t.split("|")[0] if t else "untagged" for t in engine.dataset.tags])


@st.cache_resource(show_spinner=False, max_entries=8)
def map_figure(folder: str, projection: str, colour_by: str) -> go.Figure:
    """The map, built once per (projection, colouring) and shared: rebuilding it would clear
    the selection. Never modify it: `figures.with_star` copies it."""
    engine = load_engine(folder)
    hover = [f"{engine.dataset.name[i]}<br>{engine.dataset.source[i]} · {engine.dataset.tags[i] or 'no tag'}"
             for i in range(len(engine.dataset))]
    return figures.map_figure(engine.maps.xy(projection), _map_groups(engine, colour_by), hover)


@st.cache_resource(show_spinner="Placing every face on the map...", max_entries=4)
def faces_map_figure(folder: str, projection: str, colour_by: str) -> go.Figure:
    """The map with every image drawn at its point (32 px thumbnails)."""
    engine = load_engine(folder)
    return figures.with_faces(map_figure(folder, projection, colour_by), engine.maps.xy(projection),
                              thumbnail_urls(folder, 32))


@st.cache_resource(show_spinner="Drawing the histograms...", max_entries=16)
def histogram_figure(folder: str, dimensions: int, split_domains: bool) -> go.Figure:
    engine = load_engine(folder)
    domain = engine.dataset.domain
    groups = {"lego": domain == "lego", "emoji": domain == "emoji"} if split_domains \
        else {"all": np.ones(len(domain), bool)}
    return figures.histogram_figure(engine.maps.means, groups, dimensions)


@st.cache_resource(show_spinner=False, max_entries=4)
def kl_figure(folder: str, active_threshold: float) -> go.Figure:
    """KL per latent dimension, dimensions whose posterior-mean variance is at most
    `active_threshold` greyed (building the figure took a third of the page's run)."""
    engine = load_engine(folder)
    return figures.kl_figure(kl_per_dimension(engine.maps.means, engine.maps.log_vars),
                             engine.maps.means.var(axis=0) > active_threshold)


# The Generate page's pictures depend on its controls alone, and most visits keep the defaults:
# decoded once, they make a switch to the page a lookup (48 faces, two-thirds of its run).
@st.cache_data(show_spinner=False, max_entries=8)  # 0.6 MB each
def samples(folder: str, count: int, temperature: float, seed: int, domain: str, prior: str) -> np.ndarray:
    """(count, S, S, 3) uint8 random faces of a domain (Engine.sample)."""
    return load_engine(folder).sample(count, temperature, seed, domain, prior)


@st.cache_data(show_spinner=False, max_entries=8)  # 1.2 MB each
def gallery(folder: str, split: str, shuffle: int, count: int = 12) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(dataset indices, originals, reconstructions) of `count` images of a split, drawn by `shuffle`."""
    engine = load_engine(folder)
    pool = np.flatnonzero(engine.dataset.split == split)
    picks = np.random.default_rng(shuffle).choice(pool, size=min(count, len(pool)), replace=False)
    reconstructions = engine.decode(engine.maps.means[picks], (engine.dataset.domain[picks] == "emoji").astype(float))
    return picks, engine.dataset.images[picks], reconstructions


@st.cache_data(show_spinner=False, max_entries=8)
def morph_files(folder: str, lego: int, emoji: int, steps: int, method: str) -> tuple[bytes, bytes, bytes]:
    """The files of a dataset pair's morph (images.morph_files): a switch to the Morph page on its
    default pair, or back to a pair seen before, decodes and encodes nothing (about 1 MB each)."""
    engine = load_engine(folder)
    return images.morph_files(engine.morph(engine.maps.means[lego], engine.maps.means[emoji], steps, method))


@st.cache_resource(show_spinner=False, max_entries=4)
def training_figure(folder: str) -> go.Figure:
    """The model's training curves (building the figure took a third of the Generate page's run)."""
    return figures.training_figure(load_engine(folder).history)
