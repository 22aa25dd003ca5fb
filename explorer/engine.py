"""Everything the dashboard computes, without Streamlit: load the assets once, then decode,
morph, transfer expressions and map points. Model calls are serialised by a lock because
TensorFlow models are not safe to call from several sessions' threads at once."""
from __future__ import annotations

import csv
import io
import threading
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from data.dataset import FaceDataset
from data.errors import SourceError
from data.labels import EXPRESSIONS
from explorer import latent

DEFAULT_ASSETS = Path(__file__).resolve().parents[1] / "assets"
EXPORT_HINT = "rebuild the assets with `python -m vae.export` (or restore them with `git checkout assets`)"
DEFAULT_STRENGTH = 1.5  # the studio's starting strength: visible on most faces before they blur
LATENT_KEYS = ("means", "log_vars", "pca_mean", "pca_components", "pca_xy", "umap_xy", "umap_grid", "umap_extent")


@dataclass
class Maps:
    """The precomputed latent maps of the dataset's images."""

    means: np.ndarray  # (N, L) posterior means
    log_vars: np.ndarray  # (N, L)
    pca_mean: np.ndarray  # (L,)
    pca_components: np.ndarray  # (2, L)
    pca_xy: np.ndarray  # (N, 2)
    umap_xy: np.ndarray  # (N, 2)
    umap_grid: np.ndarray  # (G, G, L) latents on a regular grid of the UMAP plane
    umap_extent: np.ndarray  # (x0, x1, y0, y1) of that grid

    @classmethod
    def load(cls, path: Path) -> "Maps":
        if not path.is_file():
            raise SourceError(f"{path} is missing: {EXPORT_HINT}.")
        try:
            with np.load(path, allow_pickle=False) as archive:
                missing = set(LATENT_KEYS) - set(archive.files)
                if missing:
                    raise SourceError(f"{path} lacks {', '.join(sorted(missing))}: {EXPORT_HINT}.")
                return cls(**{key: archive[key] for key in LATENT_KEYS})
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
            raise SourceError(f"{path} is not readable ({error}): {EXPORT_HINT}.") from error

    def xy(self, projection: str) -> np.ndarray:
        return self.umap_xy if projection == "UMAP" else self.pca_xy

    def plane_to_latent(self, projection: str, points: np.ndarray) -> np.ndarray:
        """Latents (P, L) for points (P, 2) of a map: PCA's exact inverse, or the UMAP grid."""
        if projection == "UMAP":
            return latent.grid_inverse(points, self.umap_grid, self.umap_extent)
        return latent.pca_inverse(points, self.pca_mean, self.pca_components)


class Engine:
    """The loaded model, dataset and maps, with the operations the pages need."""

    def __init__(self, folder: str | Path = DEFAULT_ASSETS, background: bool = False):
        """Load the dataset and maps now and the model too, or, with `background`, in a thread:
        TensorFlow takes seconds to import, and the map can be drawn without it."""
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise SourceError(f"model folder {self.folder} does not exist: {EXPORT_HINT}.")
        self.dataset = FaceDataset.load(self.folder / "dataset.npz")
        self.maps = Maps.load(self.folder / "latents.npz")
        if len(self.maps.means) != len(self.dataset):
            raise SourceError(f"{self.folder}: latents.npz does not match dataset.npz: {EXPORT_HINT}.")
        self.lock = threading.Lock()
        self.tags = self.dataset.tag_matrix()  # (N, E) bool
        self.history = read_history(self.folder / "history.csv")
        self._vectors: dict[str, np.ndarray] = {}
        self._model = None
        self._model_error: SourceError | None = None
        self._loader = threading.Thread(target=self._load_model, name="legomoji-model-loader", daemon=True)
        self._loader.start()
        if not background:
            self.wait_for_model()

    def _load_model(self) -> None:
        from vae.model import load_model_folder

        try:
            model = load_model_folder(self.folder)
            if model.cfg.latent_dim != self.maps.means.shape[1] or model.cfg.image_size != self.dataset.size:
                raise SourceError(f"{self.folder}: the model does not match latents.npz or dataset.npz: "
                                  f"{EXPORT_HINT}.")
            model.decode(self.maps.means[:1])  # trace the decoder once, before the first click
            self._model = model
        except SourceError as error:
            self._model_error = error
        except Exception as error:  # noqa: BLE001 - reported to the user as a clear message, never lost
            self._model_error = SourceError(f"the model in {self.folder} could not be loaded ({error}): {EXPORT_HINT}.")

    def wait_for_model(self):
        """The loaded model, waiting for the loader thread; SourceError when it could not load."""
        self._loader.join()
        if self._model_error is not None:
            raise self._model_error
        return self._model

    @property
    def model(self):
        return self.wait_for_model()

    @property
    def model_loading(self) -> bool:
        return self._loader.is_alive()

    # --- model calls (serialised) -----------------------------------------------------------

    def decode(self, z: np.ndarray) -> np.ndarray:
        """uint8 images (B, S, S, 3) for latents (B, L) or (L,)."""
        from vae.model import to_uint8

        with self.lock:
            return to_uint8(self.model.decode(np.atleast_2d(z)))

    def encode(self, images: np.ndarray) -> np.ndarray:
        """Posterior means (B, L) of uint8 images."""
        with self.lock:
            return self.model.encode(images)[0]

    # --- operations ---------------------------------------------------------------------------

    def indices(self, domain: str) -> np.ndarray:
        return np.flatnonzero(self.dataset.domain == domain)

    def label(self, index: int) -> str:
        return f"{self.dataset.name[index]} [{self.dataset.source[index]}]"

    def neighbours(self, z: np.ndarray, k: int, exclude: int | None = None) -> np.ndarray:
        return latent.nearest_neighbours(self.maps.means, z, k, exclude)

    def morph(self, z0: np.ndarray, z1: np.ndarray, steps: int, method: str) -> np.ndarray:
        """uint8 frames (steps, S, S, 3) from z0 to z1."""
        return self.decode(latent.interpolate_latents(z0, z1, steps, method))

    def expression_vector(self, tag: str) -> np.ndarray:
        if tag not in self._vectors:
            column = self.tags[:, EXPRESSIONS.index(tag)]
            self._vectors[tag] = latent.expression_vector(self.maps.means, column, self.dataset.domain)
        return self._vectors[tag]

    def emoji_expression_vector(self, emoji_z: np.ndarray) -> np.ndarray:
        """What sets one emoji apart from the average emoji: its expression, not its emoji-ness."""
        return emoji_z - self.maps.means[self.indices("emoji")].mean(axis=0)

    def transfer(self, face_z: np.ndarray, strength: float, tag: str | None = None,
                 emoji_z: np.ndarray | None = None) -> np.ndarray:
        """The face's latent moved towards an expression tag or a given emoji's expression."""
        if (tag is None) == (emoji_z is None):
            raise ValueError("give either an expression tag or an emoji latent")
        vector = self.expression_vector(tag) if tag is not None else self.emoji_expression_vector(emoji_z)
        return latent.apply_expression(face_z, vector, strength)

    def available_expressions(self) -> list[str]:
        """Expressions carried by images of both domains (the ones a vector can be built for)."""
        lego, emoji = self.dataset.domain == "lego", self.dataset.domain == "emoji"
        return [t for j, t in enumerate(EXPRESSIONS) if self.tags[lego, j].any() and self.tags[emoji, j].any()]


def read_history(path: Path) -> dict[str, np.ndarray]:
    """Columns of the training history CSV as float arrays (empty when the file is missing)."""
    if not path.is_file():
        return {}
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    return {key: np.array([float(r[key]) for r in rows if r.get(key)]) for key in (rows[0] if rows else {})}


def strip_image(frames: np.ndarray, scale: int = 2, gap: int = 4) -> Image.Image:
    """Frames side by side on white, enlarged `scale` times without smoothing."""
    count, size = len(frames), frames.shape[1] * scale
    strip = Image.new("RGB", (count * size + (count - 1) * gap, size), (255, 255, 255))
    for i, frame in enumerate(frames):
        strip.paste(Image.fromarray(frame).resize((size, size), Image.NEAREST), (i * (size + gap), 0))
    return strip


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def gif_bytes(frames: np.ndarray, scale: int = 4, frame_ms: int = 120) -> bytes:
    """An animated GIF that plays the morph forward and back."""
    images = [Image.fromarray(f).resize((f.shape[1] * scale,) * 2, Image.NEAREST) for f in frames]
    loop = images + images[-2:0:-1]
    buffer = io.BytesIO()
    loop[0].save(buffer, format="GIF", save_all=True, append_images=loop[1:], duration=frame_ms, loop=0)
    return buffer.getvalue()
