"""Every st.cache_resource / st.cache_data of the dashboard, in one place."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from common import static_files
from explorer import figures, images, map_layers
from explorer.engine import DEFAULT_ASSETS, Engine
from explorer.live import affine_inverse, grid_inverse
from explorer.vendor_litert import FOLDER as LITERT_FOLDER
from vae.latent import direction_coordinates, direction_inverse, kl_per_dimension, pca_inverse

MODEL_ENV = "LEGOMOJI_MODEL"
LIVE_ENV = "LEGOMOJI_LIVE"  # "0": every face is drawn by the server (explorer/live.py)
DIRECTIONS = "Directions"  # the map's projection whose axes are two directions a person names


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
    it; pages that need the model wait for it through `ui.get_engine`. A model that failed to
    load leaves this cache (ui.require_model), so the next session tries again."""
    return Engine(folder, background=True)


# Every cache is bounded: nothing keyed on a session's own data (an upload, a selection) is
# cached; per-session additions are made to copies in the page.


@st.cache_resource(show_spinner=False, max_entries=4)
def thumbnail_urls(folder: str) -> list[str]:
    """The URL of every dataset image as a small picture for the map drawn with faces: the
    static files the export wrote ("app/static/thumbs-.../i.png"), which a browser fetches once,
    or, for a model exported without them, data URLs sent with the figure."""
    images = load_engine(folder).dataset.images
    name = static_files.thumbnail_folder_name(images)
    if (static_files.STATIC_FOLDER / name).is_dir():
        return [f"{static_files.STATIC_URL}/{name}/{index}.png" for index in range(len(images))]
    return static_files.inline_thumbnails(images)


@st.cache_resource(show_spinner=False, max_entries=8)
def face_list_url(folder: str, domain: str) -> str:
    """The URL of a domain's face list for the face pickers, with the pictures of them all in one
    atlas beside it (static_files.FaceList). A browser fetches the two files once: a grid drawn
    afresh (a new search, a page opened) sends the picker a short URL and the indices it shows,
    and a cold page fetches two pictures for its grids, not one per face. For a model exported
    without its static files, the list and its atlas travel as one data URL instead."""
    listing = static_files.face_list(load_engine(folder).dataset, domain)
    if (static_files.STATIC_FOLDER / listing.name).is_file() and \
            (static_files.STATIC_FOLDER / listing.atlas_name).is_file():
        return f"{static_files.STATIC_URL}/{listing.name}"
    return static_files.inline_face_list(listing)


def _map_groups(engine: Engine, colour_by: str) -> np.ndarray:
    if colour_by == "domain":
        return engine.dataset.domain
    if colour_by == "source":
        return engine.dataset.source
    return np.array([t.split("|")[0] if t else "untagged" for t in engine.dataset.tags])


@st.cache_resource(show_spinner=False, max_entries=16)
def direction_axes(folder: str, axes: tuple[str, str, str, str]) -> tuple[np.ndarray, np.ndarray]:
    """The Directions projection's axes, named by their groups (across from, to, up from, to;
    vae.space.LatentSpace.group_names): their directions (2, L) and the plane's centre (L,),
    the mean code."""
    space = load_engine(folder).space
    directions = np.stack([space.group_direction(space.group_mask(start), space.group_mask(end))
                           for start, end in (axes[:2], axes[2:])])
    return directions, space.means.mean(axis=0)


def map_points(folder: str, projection: str, axes: tuple[str, str, str, str] | None = None) -> np.ndarray:
    """(N, 2) places of the dataset's images on a map: UMAP, PCA, or two named directions."""
    engine = load_engine(folder)
    if projection == DIRECTIONS:
        directions, centre = direction_axes(folder, axes)
        return direction_coordinates(engine.maps.means, centre, directions)
    return engine.maps.xy(projection)


def map_to_latent(folder: str, projection: str, points: np.ndarray,
                  axes: tuple[str, str, str, str] | None = None) -> np.ndarray:
    """Latents (P, L) for points (P, 2) of a map (Maps.plane_to_latent; the Directions plane's
    pseudo-inverse)."""
    if projection == DIRECTIONS:
        directions, centre = direction_axes(folder, axes)
        return direction_inverse(points, centre, directions)
    return load_engine(folder).maps.plane_to_latent(projection, points)


@st.cache_resource(show_spinner=False, max_entries=4)
def live_files(folder: str) -> dict | None:
    """Where the browser finds what it draws the model's faces with (explorer/live.py): the
    vendored LiteRT runtime, the scripts that run it (static/live/) and the model's networks
    among the static files the export writes, with the pictures' side and the code's length;
    None where one is missing (a model exported without them) or $LEGOMOJI_LIVE is 0: the
    server then draws every face."""
    scripts = [static_files.STATIC_FOLDER / "live" / name for name in ("runtime.js", "worker.js")]
    if os.environ.get(LIVE_ENV) == "0" or not (LITERT_FOLDER / "SHA256SUMS").is_file() or \
            not all(script.is_file() for script in scripts):
        return None
    names = static_files.live_names(Path(folder))
    if "decoder" not in names or not all((static_files.STATIC_FOLDER / name).is_file() for name in names.values()):
        return None
    engine = load_engine(folder)
    files = {role: f"{static_files.STATIC_URL}/{name}" for role, name in names.items()}
    served = {name: f"{static_files.STATIC_URL}/{path.relative_to(static_files.STATIC_FOLDER).as_posix()}"
              for name, path in (("runtime", LITERT_FOLDER), ("module", scripts[0]), ("worker", scripts[1]))}
    return {"refiner": None, **files, **served, "size": int(engine.dataset.size),
            "latent": int(engine.maps.means.shape[1])}


def _affine(inverse) -> dict:
    """An affine map plane's inverse (points (P, 2) -> codes (P, L)) as its offset and matrix."""
    offset = inverse(np.zeros((1, 2)))[0]
    return affine_inverse(offset, inverse(np.eye(2)) - offset)


@st.cache_resource(show_spinner=False, max_entries=16)
def map_inverse(folder: str, projection: str, axes: tuple[str, str, str, str] | None = None) -> dict:
    """What the browser needs to find the code at any point of a map (explorer/live.py), as
    map_to_latent finds it: the UMAP grid, or the PCA or Directions plane's affine inverse."""
    engine = load_engine(folder)
    if projection == DIRECTIONS:
        directions, centre = direction_axes(folder, axes)
        return _affine(lambda points: direction_inverse(points, centre, directions))
    if projection == "PCA":
        return _affine(lambda points: pca_inverse(points, engine.maps.pca_mean, engine.maps.pca_components))
    files = live_files(folder)
    return grid_inverse(files["umap_grid"], engine.maps.umap_grid.shape, engine.maps.umap_extent)


@st.cache_resource(show_spinner="Finding the map's clusters...", max_entries=8)
def map_overlays(folder: str, projection: str, axes: tuple[str, str, str, str] | None = None
                 ) -> tuple[dict[str, map_layers.Contours], list[map_layers.ClusterLabel]]:
    """Each domain's density contours and the clusters' labels of a map, once per projection."""
    engine = load_engine(folder)
    xy = map_points(folder, projection, axes)
    contours = map_layers.density_contours(xy, {domain: engine.dataset.domain == domain
                                                for domain in ("lego", "emoji")})
    return contours, map_layers.cluster_labels(xy, list(engine.dataset.tags), list(engine.dataset.name))


# Plotly figures are not safe to share between sessions' threads: the caches below hold each
# figure as JSON (figures.shareable), and each call gives its session a figure of its own
# (figures.own_figure).


@st.cache_resource(show_spinner=False, max_entries=8)
def _map_spec(folder: str, projection: str, colour_by: str, layers: tuple[str, ...],
              axes: tuple[str, str, str, str] | None) -> str:
    engine = load_engine(folder)
    hover = [f"{engine.dataset.name[i]}<br>{engine.dataset.source[i]} · {engine.dataset.tags[i] or 'no tag'}"
             for i in range(len(engine.dataset))]
    contours, labels = map_overlays(folder, projection, axes) if layers else ({}, [])
    titles = (f"{axes[0]} → {axes[1]}", f"{axes[2]} → {axes[3]}") if projection == DIRECTIONS else None
    return figures.shareable(figures.map_figure(
        map_points(folder, projection, axes), _map_groups(engine, colour_by), hover,
        contours if "contours" in layers else None, labels if "labels" in layers else None, titles))


@st.cache_resource(show_spinner="Placing every face on the map...", max_entries=4)
def _faces_map_spec(folder: str, projection: str, colour_by: str, layers: tuple[str, ...],
                    axes: tuple[str, str, str, str] | None) -> str:
    plain = figures.own_figure(_map_spec(folder, projection, colour_by, layers, axes))
    return figures.shareable(figures.add_faces(plain, map_points(folder, projection, axes), thumbnail_urls(folder)))


def map_figure(folder: str, projection: str, colour_by: str, layers: tuple[str, ...] = (),
               axes: tuple[str, str, str, str] | None = None, faces: bool = False) -> go.Figure:
    """The session's own map, built once per (projection, colouring, layers, axes) and shared
    as JSON (rebuilding it would clear the selection). `layers` holds "contours" and/or
    "labels"; with `faces`, every image is drawn at its point (32 px thumbnails)."""
    return figures.own_figure((_faces_map_spec if faces else _map_spec)(folder, projection, colour_by, layers, axes))


@st.cache_resource(show_spinner=False, max_entries=8)
def map_trace_members(folder: str, colour_by: str) -> list[np.ndarray]:
    """The dataset rows of each point trace of the map (figures.map_trace_members)."""
    return figures.map_trace_members(_map_groups(load_engine(folder), colour_by))


@st.cache_resource(show_spinner="Drawing the histograms...", max_entries=16)
def _histogram_spec(folder: str, dimensions: int, split_domains: bool) -> str:
    engine = load_engine(folder)
    domain = engine.dataset.domain
    groups = {"lego": domain == "lego", "emoji": domain == "emoji"} if split_domains \
        else {"all": np.ones(len(domain), bool)}
    return figures.shareable(figures.histogram_figure(engine.maps.means, groups, dimensions))


def histogram_figure(folder: str, dimensions: int, split_domains: bool) -> go.Figure:
    """The latent histograms (figures.histogram_figure), the session's own."""
    return figures.own_figure(_histogram_spec(folder, dimensions, split_domains))


@st.cache_resource(show_spinner=False, max_entries=4)
def _kl_spec(folder: str, active_threshold: float) -> str:
    engine = load_engine(folder)
    return figures.shareable(figures.kl_figure(kl_per_dimension(engine.maps.means, engine.maps.log_vars),
                                               engine.maps.means.var(axis=0) > active_threshold))


def kl_figure(folder: str, active_threshold: float) -> go.Figure:
    """KL per latent dimension, dimensions whose posterior-mean variance is at most
    `active_threshold` greyed; built once (a third of the page's run), the session's own."""
    return figures.own_figure(_kl_spec(folder, active_threshold))


# The Generate page's pictures depend on its controls alone, and most visits keep the defaults:
# decoded once, they make a switch to the page a lookup (48 faces, two-thirds of its run).
@st.cache_data(show_spinner=False, max_entries=8)  # 0.6 MB each
def samples(folder: str, count: int, temperature: float, seed: int, domain: str, prior: str,
            raw: bool = False) -> np.ndarray:
    """(count, S, S, 3) uint8 random faces of a domain (Engine.sample; `raw`: the VAE's own)."""
    return load_engine(folder).sample(count, temperature, seed, domain, prior, raw=raw)


@st.cache_data(show_spinner=False, max_entries=8)  # 1.2 MB each
def gallery(folder: str, split: str, shuffle: int, count: int = 12) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                                              np.ndarray]:
    """(dataset indices, originals, reconstructions, the VAE's own reconstructions) of `count`
    images of a split, drawn by `shuffle`."""
    engine = load_engine(folder)
    pool = np.flatnonzero(engine.dataset.split == split)
    picks = np.random.default_rng(shuffle).choice(pool, size=min(count, len(pool)), replace=False)
    domains = (engine.dataset.domain[picks] == "emoji").astype(float)
    return (picks, engine.dataset.images[picks], engine.decode(engine.maps.means[picks], domains),
            engine.decode(engine.maps.means[picks], domains, raw=True))


@st.cache_data(show_spinner=False, max_entries=8)
def morph_files(folder: str, lego: int, emoji: int, steps: int, method: str) -> tuple[bytes, bytes, bytes]:
    """The files of a dataset pair's morph (images.morph_files): a switch to the Morph page on its
    default pair, or back to a pair seen before, decodes and encodes nothing (about 1 MB each)."""
    engine = load_engine(folder)
    return images.morph_files(engine.morph(engine.maps.means[lego], engine.maps.means[emoji], steps, method))


@st.cache_resource(show_spinner=False, max_entries=4)
def _training_spec(folder: str) -> str:
    return figures.shareable(figures.training_figure(load_engine(folder).history))


def training_figure(folder: str) -> go.Figure:
    """The model's training curves, built once (a third of the Generate page's run), the session's own."""
    return figures.own_figure(_training_spec(folder))
