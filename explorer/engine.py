"""Everything the dashboard computes, without Streamlit: load the assets once, then encode,
decode, translate, transfer expressions, morph and sample. Model calls are serialised by a
lock: neither TensorFlow models nor LiteRT interpreters are safe to call from several
sessions' threads at once.

The public calls (the same whatever model family is loaded):
    encode_means(images) -> z                  posterior means (B, L) of uint8 images
    decode(z, domain="lego") -> images         uint8 (B, S, S, 3); domain "lego", "emoji" or a mix in [0, 1]
    reconstruct(images) -> images              decode(encode_means(images)) in each image's own domain
    transfer(face_z, strength, tag=None, emoji_z=None) -> z
    translate(z, to_domain, from_domain="lego") -> images
    morph(z0, z1, steps, method, domains=("lego", "emoji")) -> images
    mirror(z, from_domain, mixes) -> images     one face from its Lego to its emoji version (mirror_ends: the line)
    move_along(z, direction, amounts, domain="lego") -> images
    sample(count, temperature, seed, domain, prior="posterior") -> images
    analogy_grid(a, b, c, steps) -> images     A + s (B - A) + t (C - A) of three dataset indices

The networks run on LiteRT where the model folder has the export's LiteRT files (vae/lite.py:
no TensorFlow in the server), else on the Keras model (see Engine's `backend`).
"""
from __future__ import annotations

import logging
import os
import threading
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from common.errors import UserError
from common.recent import Recent, image_key
from data.dataset import FaceDataset
from explorer.memory import freeze_long_lived, without_keras_extras
from vae import latent
from vae.config import read_config, read_history
from vae.fit import STEPS as FIT_STEPS
from vae.printing import StudioPrints
from vae.space import LatentSpace, default_strength, domain_value

LOG = logging.getLogger(__name__)
DEFAULT_ASSETS = Path(__file__).resolve().parents[1] / "assets"
EXPORT_HINT = "rebuild the assets with `python -m vae.export` (or restore them with `git checkout assets`)"
LATENT_KEYS = ("means", "log_vars", "pca_mean", "pca_components", "pca_xy", "umap_xy", "umap_grid", "umap_extent")
MIXTURE_KEYS = ("weights", "means", "cholesky")
PRINTS_KEPT = 256  # codes of the studio's recent prints (64-96 floats each)
PIECES_KEPT = 32  # the studio's recent prints and their pieces (vae.printing.StudioPrints, 64-160 KB each)
BACKEND_ENV = "LEGOMOJI_BACKEND"
BACKENDS = ("lite", "keras")
# Pictures decoded (and refined) per model call: the networks' activations grow with the batch,
# so a large batch decoded at once raises the server's peak memory far more than it saves time.
DECODE_CHUNK = 4


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
    mixtures: dict  # domain -> Gaussian mixture of its posterior means (weights, means, cholesky)

    @classmethod
    def load(cls, path: Path) -> "Maps":
        if not path.is_file():
            raise UserError(f"{path} is missing: {EXPORT_HINT}.")
        try:
            with np.load(path, allow_pickle=False) as archive:
                missing = set(LATENT_KEYS) - set(archive.files)
                if missing:
                    raise UserError(f"{path} lacks {', '.join(sorted(missing))}: {EXPORT_HINT}.")
                def read(key: str) -> np.ndarray:  # stored as float16 or float32, used as float32
                    return archive[key].astype(np.float32)

                mixtures = {domain: {key: read(f"mixture_{domain}_{key}") for key in MIXTURE_KEYS}
                            for domain in ("lego", "emoji") if f"mixture_{domain}_weights" in archive.files}
                return cls(**{key: read(key) for key in LATENT_KEYS}, mixtures=mixtures)
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
            raise UserError(f"{path} is not readable ({error}): {EXPORT_HINT}.") from error

    def xy(self, projection: str) -> np.ndarray:
        return self.umap_xy if projection == "UMAP" else self.pca_xy

    def plane_to_latent(self, projection: str, points: np.ndarray) -> np.ndarray:
        """Latents (P, L) for points (P, 2) of a map: PCA's exact inverse, or the UMAP grid."""
        if projection == "UMAP":
            return latent.grid_inverse(points, self.umap_grid, self.umap_extent)
        return latent.pca_inverse(points, self.pca_mean, self.pca_components)


class Engine:
    """The loaded model, dataset and maps, with the operations the pages need."""

    def __init__(self, folder: str | Path = DEFAULT_ASSETS, background: bool = False, backend: str | None = None):
        """Load the dataset and maps now and the model too, or, with `background`, in a thread:
        the model takes seconds to load, and the map can be drawn without it. `backend` is how
        the networks run: "lite" (the export's LiteRT files, vae/lite.py: no TensorFlow in the
        server, about 600 MB less), "keras" (model.keras through TensorFlow, for a model folder
        without LiteRT files) or, by default, $LEGOMOJI_BACKEND, else "lite" (see choose_backend)."""
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise UserError(f"model folder {self.folder} does not exist: {EXPORT_HINT}.")
        self.backend = choose_backend(self.folder, backend)
        self.dataset = FaceDataset.load(self.folder / "dataset.npz")
        self.maps = Maps.load(self.folder / "latents.npz")
        if len(self.maps.means) != len(self.dataset):
            raise UserError(f"{self.folder}: latents.npz does not match dataset.npz: {EXPORT_HINT}.")
        self.config = read_config(self.folder / "config.json", EXPORT_HINT)
        self.tags = self.dataset.tag_matrix()  # (N, E) bool
        self.space = LatentSpace.of_model(self.config, self.maps.means, self.dataset.domain, self.tags)
        self.history = training_history(self.folder / "history.csv")
        self.lock = threading.Lock()
        # the studio's recent prints: their codes, and the pieces a new pair with one side seen reuses
        self._prints = Recent(PRINTS_KEPT)
        self._fitted = Recent(PRINTS_KEPT)  # the same prints' codes fitted to them (vae.fit)
        self.fit_steps = FIT_STEPS
        self.prints = StudioPrints(PIECES_KEPT)  # the prints themselves: the studio shows one on every rerun
        self._model = None
        self._refiner = None  # the decoder's second stage (vae.refiner), where the folder has one
        self._model_error: UserError | None = None
        self._loader = threading.Thread(target=self._load_model, name="legomoji-model-loader", daemon=True)
        self._loader.start()
        if not background:
            self.wait_for_model()

    def _load_model(self) -> None:
        try:
            if self.backend == "lite":
                from vae.lite import LiteModel, LiteRefiner

                model, refiner = LiteModel(self.folder), LiteRefiner.load(self.folder)
            else:
                with without_keras_extras():  # scikit-learn and IPython: see explorer/memory.py
                    from vae.families import load_model_folder
                    from vae.refiner import Refiner

                model, refiner = load_model_folder(self.folder), Refiner.load(self.folder)
            if model.cfg.latent_dim != self.maps.means.shape[1] or model.cfg.image_size != self.dataset.size:
                raise UserError(f"{self.folder}: the model does not match latents.npz or dataset.npz: "
                                  f"{EXPORT_HINT}.")
            picture = model.decode(self.maps.means[:1], 0.0)  # trace the graphs once, before the first click
            if refiner is not None:
                refiner.refine(picture, 0.0)
            model.encode(self.dataset.images[:1])
            self._model, self._refiner = model, refiner
            freeze_long_lived()  # TensorFlow's objects out of the full collection after every run
        except UserError as error:
            LOG.error("The model in %s could not be loaded: %s", self.folder, error, exc_info=True)
            self._model_error = error
        except Exception as error:  # noqa: BLE001 - logged with its traceback, and one sentence on the page
            LOG.error("The model in %s could not be loaded", self.folder, exc_info=True)
            self._model_error = UserError(f"the model in {self.folder} could not be loaded ({error}): {EXPORT_HINT}.")

    def wait_for_model(self):
        """The loaded model, waiting for the loader thread; UserError when it could not load."""
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

    @property
    def refined(self) -> bool:
        """Whether pictures go through a refiner (vae.refiner): a model folder without one draws
        the VAE's own pictures."""
        self.wait_for_model()
        return self._refiner is not None

    @property
    def domain_conditioned(self) -> bool:
        """Whether the model draws a code in either domain (its decoder takes the domain)."""
        return self.space.domain_conditioned

    @property
    def expression_dims(self) -> int:
        """How many leading code dims hold the expression (0: the model sets none apart)."""
        return self.space.expression_dims

    @property
    def default_strength(self) -> float:
        return default_strength(self.expression_dims)

    # Model calls, serialised by the lock.

    def decode(self, z: np.ndarray, domain="lego", raw: bool = False) -> np.ndarray:
        """uint8 images (B, S, S, 3) for latents (B, L) or (L,), in a domain ("lego", "emoji",
        a mix in [0, 1], or one value per latent): the VAE's pictures through its refiner, or,
        with `raw` (or where the model has no refiner), the VAE's own."""
        from vae.pixels import to_uint8

        z = np.atleast_2d(z)
        domain = np.ascontiguousarray(np.broadcast_to(np.asarray(domain_value(domain), np.float32), (len(z),)))
        pictures = np.empty((len(z), self.dataset.size, self.dataset.size, 3), np.uint8)
        for start in range(0, len(z), DECODE_CHUNK):
            rows = slice(start, start + DECODE_CHUNK)
            with self.lock:  # a chunk at a time: another session's call waits for one chunk, not the batch
                drawn = self.model.decode(z[rows], domain[rows])
                if self._refiner is not None and not raw:
                    drawn = self._refiner.refine(drawn, domain[rows])
            pictures[rows] = to_uint8(drawn)
        return pictures

    def encode_means(self, images: np.ndarray) -> np.ndarray:
        """Posterior means (B, L) of uint8 images (the model's `encode` answers (mean, log_var))."""
        with self.lock:
            return self.model.encode(images)[0]

    def domain_of(self, images: np.ndarray) -> np.ndarray:
        """Emoji-ness in [0, 1] of each image as the encoder reads it (NaN for a model without a domain head)."""
        with self.lock:
            return self.model.domain_of(images)

    def reconstruct(self, images: np.ndarray) -> np.ndarray:
        """uint8 reconstructions, each decoded in its own (read) domain."""
        domains = np.nan_to_num(np.round(self.domain_of(images)), nan=0.0)
        return self.decode(self.encode_means(images), domains)

    # Operations built on them.

    def indices(self, domain: str) -> np.ndarray:
        return np.flatnonzero(self.dataset.domain == domain)

    def label(self, index: int) -> str:
        return f"{self.dataset.name[index]} [{self.dataset.source[index]}]"

    def neighbours(self, z: np.ndarray, k: int, exclude: int | None = None) -> np.ndarray:
        return latent.nearest_neighbours(self.maps.means, z, k, exclude)

    def morph(self, z0: np.ndarray, z1: np.ndarray, steps: int, method: str,
              domains: tuple = ("lego", "emoji")) -> np.ndarray:
        """uint8 frames (steps, S, S, 3) from z0 to z1, the domain sliding from domains[0] to
        domains[1] with the content."""
        start, end = (domain_value(d) for d in domains)
        return self.decode(latent.interpolate_latents(z0, z1, steps, method), np.linspace(start, end, steps))

    def transfer(self, face_z: np.ndarray, strength: float, tag: str | None = None,
                 emoji_z: np.ndarray | None = None) -> np.ndarray:
        """The face's latent given an expression tag's or an emoji's expression; with expression
        dims only those move, so the face keeps its identity."""
        return self.space.transfer(face_z, strength, tag=tag, emoji_z=emoji_z)

    def printed_transfer(self, face_image: np.ndarray, face_z: np.ndarray, emoji_image: np.ndarray,
                         strength: float, fitted: bool = True) -> np.ndarray | None:
        """The face's latent given an emoji's expression by printing (see vae.printing): the
        emoji's features printed on the face, encoded, the code fitted to the print (`fit_steps`
        steps, vae.fit; `fitted=False`: the encoder's code, at once), and the face's code
        moved `strength` of the way there; None when the emoji has no face fill to lift its
        features from. Codes of recent prints are kept (a strength change prints nothing again)."""
        face_key, emoji_key = image_key(face_image), image_key(emoji_image)
        steps = self.fit_steps if fitted else 0
        recent = self._fitted if steps else self._prints
        code = recent.get((face_key, emoji_key, steps),  # the steps too: a code fitted longer is another code
                          lambda: self._print_code(face_image, face_key, emoji_image, emoji_key, steps))
        return None if code is None else latent.lerp(np.asarray(face_z, np.float64), code, strength)

    def print_is_fitted(self, face_image: np.ndarray, emoji_image: np.ndarray) -> bool:
        """Whether `printed_transfer(..., fitted=True)` for this pair answers at once (kept, or
        nothing to fit)."""
        return not self.fit_steps or (image_key(face_image), image_key(emoji_image), self.fit_steps) in self._fitted

    def can_print(self, emoji_image: np.ndarray) -> bool:
        """Whether the emoji has a face fill to lift its features from (its lifted features are
        kept for the print that follows)."""
        return self.prints.can_print(emoji_image, image_key(emoji_image))

    def print_picture(self, face_image: np.ndarray, emoji_image: np.ndarray) -> np.ndarray | None:
        """uint8 (S, S, 3): the face with the emoji's features printed on it in place of its own
        (vae.printing.StudioPrints), the picture the studio's printed way redraws; None when the
        emoji has no face fill to lift its features from."""
        return self.prints.picture(face_image, image_key(face_image), emoji_image, image_key(emoji_image))

    def _print_code(self, face_image: np.ndarray, face_key: bytes, emoji_image: np.ndarray,
                    emoji_key: bytes, steps: int = 0) -> np.ndarray | None:
        """The code of the face with the emoji printed on it: the encoder's, or fitted by `steps`."""
        picture = self.prints.picture(face_image, face_key, emoji_image, emoji_key)
        if picture is None:
            return None
        if not steps:
            return self.encode_means(picture[None])[0]
        from vae.fit import fitted_codes

        return fitted_codes(self.model, picture[None], 0.0, steps, lock=self.lock)[0]

    def translate(self, z: np.ndarray, to_domain="emoji", from_domain: str = "lego") -> np.ndarray:
        """uint8 images of faces shown in another domain (or a mix in [0, 1])."""
        z = np.atleast_2d(z)
        if isinstance(to_domain, str):
            z = np.stack([self.space.translate(row, from_domain, to_domain) for row in z])
        return self.decode(z, to_domain)

    def mirror_ends(self, z: np.ndarray, from_domain: str) -> tuple[np.ndarray, np.ndarray]:
        """The codes of one face's Lego and emoji versions: the mirror's line runs between them."""
        return tuple(self.space.translate(z, from_domain, target) for target in ("lego", "emoji"))

    def mirror(self, z: np.ndarray, from_domain: str, mixes) -> np.ndarray:
        """uint8 images of one face at each domain mix (0 its Lego version, 1 its emoji version):
        the code `mix` of the way along the mirror's line, drawn at domain `mix`."""
        mixes = np.atleast_1d(np.asarray(mixes, np.float64))
        as_lego, as_emoji = self.mirror_ends(z, from_domain)
        return self.decode(latent.lerp(as_lego, as_emoji, mixes), mixes)

    def move_along(self, z: np.ndarray, direction: np.ndarray, amounts, domain="lego") -> np.ndarray:
        """uint8 images of a face moved by each amount along a latent direction."""
        amounts = np.atleast_1d(np.asarray(amounts, np.float64))[:, None]
        return self.decode(np.asarray(z) + amounts * np.asarray(direction), domain)

    def sample(self, count: int, temperature: float = 1.0, seed: int = 0, domain: str = "lego",
               prior: str = "posterior", raw: bool = False) -> np.ndarray:
        """uint8 random faces (`sample_codes`), drawn in `domain`; `raw` as in decode."""
        return self.decode(self.sample_codes(count, temperature, seed, domain, prior), domain, raw=raw)

    def sample_codes(self, count: int, temperature: float = 1.0, seed: int = 0, domain: str = "lego",
                     prior: str = "posterior") -> np.ndarray:
        """(count, L) random codes: from the domain's fitted mixture of posterior means
        ("posterior", ex-post density estimation) or from the VAE's N(0, I) prior ("normal"). For
        one seed, each code moves on a line as the temperature changes."""
        if prior == "posterior":
            if domain not in self.maps.mixtures:
                raise UserError(f"{self.folder} has no fitted mixture of {domain} codes: export the model again "
                                f"(`python -m vae.export`) or sample from prior='normal'.")
            return latent.sample_gaussian_mixture(self.maps.mixtures[domain], count, temperature, seed)
        if prior == "normal":
            return np.random.default_rng(seed).standard_normal((count, self.maps.means.shape[1])) * temperature
        raise ValueError(f"unknown prior {prior!r}: use 'posterior' or 'normal'")

    def available_expressions(self) -> list[str]:
        """Expressions carried by images of both domains (the ones a target can be built for)."""
        return self.space.available_expressions()

    def analogy_point(self, picks: list[int], s: float, t: float) -> tuple[np.ndarray, float]:
        """The code and the domain of the point (s, t) of the analogy grid of three dataset
        images (`analogy_grid`): A + s (B − A) + t (C − A), its domain by the same rule from the
        three images' domains, clipped to [0, 1]; on the grid's steps, its cells exactly."""
        domains = [domain_value(domain) for domain in self.dataset.domain[picks]]
        return latent.analogy_point(*self.maps.means[picks], s, t), float(np.clip(latent.analogy_point(*domains, s, t),
                                                                                   0.0, 1.0))

    def analogy_grid(self, a_index: int, b_index: int, c_index: int, steps: int) -> np.ndarray:
        """uint8 (steps, steps, S, S, 3): the analogy grid of three dataset images (latent.analogy_codes),
        A top left, B top right, C bottom left, B + C - A bottom right, decoded in one batch. Each
        cell's domain follows the same rule from the three images' domains, clipped to [0, 1]."""
        picks = [a_index, b_index, c_index]
        codes = latent.analogy_codes(*self.maps.means[picks], steps)  # (steps, steps, L)
        domains = np.array([domain_value(domain) for domain in self.dataset.domain[picks]])[:, None]  # (3, 1)
        mixes = np.clip(latent.analogy_codes(*domains, steps)[..., 0], 0.0, 1.0)  # (steps, steps)
        pictures = self.decode(codes.reshape(steps * steps, -1), mixes.reshape(-1))  # (steps * steps, S, S, 3)
        return pictures.reshape(steps, steps, *pictures.shape[1:])


def choose_backend(folder: Path, backend: str | None = None) -> str:
    """The backend an Engine runs its networks on: `backend`, else $LEGOMOJI_BACKEND, else
    "lite". The Keras backend is never chosen for the user: it loads TensorFlow, about 600 MB
    more than a small host has."""
    from vae.lite import has_lite_files, lite_runtime_available

    backend = backend or os.environ.get(BACKEND_ENV) or "lite"
    if backend not in BACKENDS:
        raise UserError(f"unknown backend {backend!r}: set {BACKEND_ENV} to one of {', '.join(BACKENDS)}.")
    if backend == "lite" and not has_lite_files(folder):
        raise UserError(f"{folder} has no LiteRT files for the lite backend: {EXPORT_HINT}, or set "
                        f"{BACKEND_ENV}=keras to run its model.keras on TensorFlow (about 600 MB more memory).")
    if backend == "lite" and not lite_runtime_available():
        raise UserError(f"the package ai-edge-litert, which runs the model, is not installed: install it with "
                        f"`python -m pip install -r requirements.txt`, or set {BACKEND_ENV}=keras to run the model "
                        f"on TensorFlow (about 600 MB more memory).")
    return backend


def training_history(path: Path) -> dict[str, np.ndarray]:
    """Columns of the training history (vae.train's CSV) as float arrays; empty when missing,
    a UserError when it cannot be read as numbers."""
    try:
        rows = read_history(path)
        return {key: np.array([float(r[key]) for r in rows if r.get(key)]) for key in (rows[0] if rows else {})}
    except (OSError, ValueError, TypeError, UnicodeDecodeError) as error:
        raise UserError(f"{path} is not a readable training history ({error}): {EXPORT_HINT}.") from error
