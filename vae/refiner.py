"""The refiner: a small U-Net that draws the VAE's picture sharply, the second stage's last step.

A VAE's decoder with a Gaussian likelihood draws the average of the faces a code could be, so
its pictures are soft. The second stage first fine-tunes the decoder (vae.decoder_tuning, on
`sharpness_loss` below). Then the refiner is trained on pairs (the VAE's picture of a training image,
that image) to add back the detail the average lost, as a residual on the VAE's picture,
conditioned on the domain (0 Lego, 1 emoji, a mix in between). Its inputs are drawn from codes
sampled from q(z|x), not only its mean, and from codes part-way to a face of the other domain,
drawn at the blended domain value, so that pictures of codes with no original behind them (a
morph's middle frames, a click in an empty spot of the map, a sample) come out clean too.

It sharpens; it does not move a point in the space: the codes, the map, the histograms and
every direction are the VAE's. Being convolutional, it trains on random crops and runs on whole
pictures. `python -m vae.train --stage refiner --model runs/X` runs the stage on an existing run.
"""
from __future__ import annotations

import csv
import functools
import io
import json
import os
import tempfile
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np

from common.errors import UserError
from common.files import atomic_write_text

CONFIG_FILE = "refiner.json"
WEIGHTS_FILE = "refiner.weights.h5"
HISTORY_FILE = "refiner-history.csv"
CHECKPOINT_FILE = "refiner-checkpoint.weights.h5"


@dataclass(frozen=True)
class RefinerConfig:
    """One refiner run, saved as refiner.json beside its weights; it rebuilds the network."""

    decoder_minutes: float = 11.0  # first, the VAE's decoder fine-tuned this long, its encoder frozen (0: not)
    decoder_learning_rate: float = 2e-4  # cosine-decayed to 5 % over decoder_minutes
    decoder_max_steps: int = 100_000  # stops at whichever comes first
    filters: tuple[int, ...] = (24, 48, 96)  # per U-Net level; each level halves H and W
    crop: int = 64  # training crops (pixels); the network runs on whole pictures
    batch_size: int = 16
    learning_rate: float = 1e-3  # cosine-decayed to 5 % over max_steps; each step's gradient clipped to norm 1
    max_steps: int = 8000
    minutes: float = 16.5  # stops at whichever comes first
    samples_per_image: int = 3  # codes drawn from q(z|x) per training image, besides its mean
    blends_per_image: int = 1  # codes part-way to a training face of the other domain (a morph's frames)
    max_blend: float = 0.4  # how far at most, drawn in the blended domain; the target stays the image
    ssim_weight: float = 0.5  # both networks' loss = L1 + ssim_weight * (1 - SSIM) + the two detail terms
    edge_weight: float = 1.0  # L1 between the Laplacians of the picture drawn and the original
    detail_weight: float = 2.0  # |mean |Laplacian| of the picture drawn - the original's|, per picture
    no_worse_weight: float = 4.0  # the refiner's: how far its picture's SSIM falls below its input's, per picture
    log_every: int = 250  # steps between history rows (and checkpoints)
    seed: int = 0

    def override(self, **changes) -> "RefinerConfig":
        known = {f.name for f in fields(self)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise UserError(f"unknown refiner setting(s) {', '.join(unknown)}: use one of {', '.join(sorted(known))}.")
        values = {**asdict(self), **changes}
        values["filters"] = tuple(values["filters"])
        return RefinerConfig(**values)


def resumed_config(out: Path, overrides: dict) -> RefinerConfig:
    """The config a resumed refiner run carries on with: the one it was trained with, where its
    folder has one, with `overrides` (a longer max_steps or minutes) on top."""
    stored = read_refiner_config(out / CONFIG_FILE) if (Path(out) / CONFIG_FILE).is_file() else RefinerConfig()
    return stored.override(**overrides)


def read_refiner_config(path: Path) -> RefinerConfig:
    try:
        raw = json.loads(path.read_text())
        return RefinerConfig().override(**raw)
    except (OSError, json.JSONDecodeError, TypeError) as error:
        raise UserError(f"{path} is not a refiner config ({error}): train the refiner again "
                        "(`python -m vae.train --stage refiner --model RUN`).") from error


def build_refiner(cfg: RefinerConfig):
    """(picture (B, H, W, 3) in [0, 1], domain (B, 1)) -> picture (B, H, W, 3) in [0, 1]: the
    input plus a residual from a U-Net that also sees the domain as a constant plane. H and W
    are free (multiples of 2 ** (levels - 1))."""
    import keras
    from keras import layers

    domain_plane, clipped_sum = _custom_layers()
    picture = keras.Input((None, None, 3), name="picture")
    domain = keras.Input((1,), name="domain")
    plane = domain_plane(name="domain_plane")([picture, domain])  # (B, H, W, 1)
    x = layers.Concatenate(name="inputs")([picture, plane])  # (B, H, W, 4)
    skips = []
    for level, filters in enumerate(cfg.filters):
        if level:
            x = layers.MaxPooling2D(2, name=f"down{level}")(x)
        x = _conv_pair(x, filters, f"enc{level}")
        skips.append(x)
    for level in range(len(cfg.filters) - 2, -1, -1):
        x = layers.UpSampling2D(2, interpolation="bilinear", name=f"up{level}")(x)
        x = layers.Concatenate(name=f"skip{level}")([x, skips[level]])
        x = _conv_pair(x, cfg.filters[level], f"dec{level}")
    residual = layers.Conv2D(3, 3, padding="same", kernel_initializer="zeros", name="residual")(x)
    refined = clipped_sum(name="refined")([picture, residual])
    return keras.Model([picture, domain], refined, name="refiner")


def _conv_pair(x, filters: int, name: str):
    from keras import layers

    for k in (1, 2):
        x = layers.Conv2D(filters, 3, padding="same", name=f"{name}_conv{k}")(x)
        x = layers.LeakyReLU(negative_slope=0.2, name=f"{name}_act{k}")(x)
    return x


@functools.cache
def _custom_layers():
    """The refiner's two small layers, defined once Keras is imported (the dashboard reads this
    module before TensorFlow has loaded)."""
    import keras

    @keras.saving.register_keras_serializable(package="legomoji")
    class DomainPlane(keras.layers.Layer):
        """A (B, H, W, 1) plane holding each picture's domain value."""

        def call(self, inputs):
            picture, domain = inputs
            return keras.ops.ones_like(picture[..., :1]) * keras.ops.reshape(domain, (-1, 1, 1, 1))

    @keras.saving.register_keras_serializable(package="legomoji")
    class ClippedSum(keras.layers.Layer):
        """picture + residual, kept in [0, 1]."""

        def call(self, inputs):
            return keras.ops.clip(inputs[0] + inputs[1], 0.0, 1.0)

    return DomainPlane, ClippedSum


class Refiner:
    """A trained refiner: `refine(pictures, domains)` on float pictures in [0, 1]."""

    def __init__(self, network, cfg: RefinerConfig):
        import tensorflow as tf

        self.network, self.cfg = network, cfg
        self._multiple = 2 ** (len(cfg.filters) - 1)
        self._call = tf.function(lambda p, d: network([p, d], training=False), reduce_retracing=True)

    @classmethod
    def load(cls, folder: Path) -> "Refiner | None":
        """The refiner stored in a model folder, or None where it has none."""
        folder = Path(folder)
        if not (folder / WEIGHTS_FILE).is_file():
            return None
        cfg = read_refiner_config(folder / CONFIG_FILE)
        network = build_refiner(cfg)
        try:
            network.load_weights(folder / WEIGHTS_FILE)
        except (OSError, ValueError) as error:
            raise UserError(f"{folder / WEIGHTS_FILE} does not match {CONFIG_FILE} ({error}): train the "
                            "refiner again (`python -m vae.train --stage refiner --model RUN`).") from error
        return cls(network, cfg)

    def refine(self, pictures: np.ndarray, domains) -> np.ndarray:
        """float32 pictures (B, S, S, 3) in [0, 1] -> the refined pictures, same shape."""
        pictures = np.asarray(pictures, np.float32)
        if pictures.shape[1] % self._multiple or pictures.shape[2] % self._multiple:
            raise ValueError(f"picture sides must be multiples of {self._multiple}, got {pictures.shape[1:3]}")
        domains = np.broadcast_to(np.asarray(domains, np.float32).reshape(-1, 1), (len(pictures), 1))
        return self._call(pictures, np.ascontiguousarray(domains)).numpy()


def fine_detail(images: np.ndarray) -> float:
    """Mean absolute 4-neighbour Laplacian of the grey pictures (uint8 or float in [0, 1]):
    how much fine detail they hold. Compare sets by its ratio to the originals'."""
    images = np.asarray(images)
    grey = images.astype(np.float32).mean(axis=-1) / (255.0 if images.dtype == np.uint8 else 1.0)
    laplacian = (4 * grey[:, 1:-1, 1:-1] - grey[:, :-2, 1:-1] - grey[:, 2:, 1:-1]
                 - grey[:, 1:-1, :-2] - grey[:, 1:-1, 2:])
    return float(np.abs(laplacian).mean())


def training_pairs(vae, dataset, samples: int, seed: int, blends: int = 0,
                   max_blend: float = 0.4) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The refiner's training inputs: for each training image, the VAE's picture of its mean
    code and of `samples` codes drawn from q(z|x), each decoded in the image's domain, and of
    `blends` codes a fraction t ~ U(0, max_blend) of the way to the mean of a random training
    image of the other domain, decoded at the domain value blended alike (what a morph strip
    draws; the image stays the target, the face the blend is nearest).
    Returns (pictures (M, S, S, 3) uint8, the dataset index each is of (M,), domains (M,))."""
    from vae.model import to_uint8

    train = np.flatnonzero(dataset.split == "train")
    domains = (dataset.domain[train] == "emoji").astype(np.float32)
    rng = np.random.default_rng(seed)
    pictures, owners, owner_domains, means = [], [], [], []
    for start in range(0, len(train), 64):
        chunk, chunk_domains = train[start:start + 64], domains[start:start + 64]
        mean, log_var = (np.asarray(a, np.float32) for a in vae.encode(dataset.images[chunk]))
        means.append(mean)
        for draw in range(samples + 1):
            z = mean if draw == 0 else mean + np.exp(0.5 * log_var) * rng.standard_normal(mean.shape, np.float32)
            pictures.append(to_uint8(vae.decode(z, chunk_domains)))
            owners.append(chunk)
            owner_domains.append(chunk_domains)
    means = np.concatenate(means)
    by_domain = [np.flatnonzero(domains == value) for value in (0.0, 1.0)]
    for _ in range(blends if all(len(rows) for rows in by_domain) else 0):
        partners = np.array([rng.choice(by_domain[int(value == 0.0)]) for value in domains])
        t = rng.uniform(0.0, max_blend, (len(train), 1)).astype(np.float32)
        codes = (1 - t) * means + t * means[partners]
        blended = ((1 - t[:, 0]) * domains + t[:, 0] * domains[partners]).astype(np.float32)
        for start in range(0, len(train), 64):
            pictures.append(to_uint8(vae.decode(codes[start:start + 64], blended[start:start + 64])))
        owners.append(train)
        owner_domains.append(blended)
    return np.concatenate(pictures), np.concatenate(owners), np.concatenate(owner_domains)


def validation_figures(vae, refiner: Refiner | None, dataset) -> dict:
    """SSIM to the originals and fine detail (as a ratio to the originals') of the VAE's
    reconstructions of the real validation faces, raw and refined, per domain."""
    import tensorflow as tf

    figures = {}
    for domain in ("lego", "emoji"):
        picks = np.flatnonzero((dataset.split == "val") & (dataset.domain == domain) & ~dataset.synthetic
                               & ~dataset.augmented)
        if not len(picks):
            continue
        originals = dataset.images[picks].astype(np.float32) / 255.0
        value = float(domain == "emoji")
        raw = np.concatenate([np.asarray(vae.decode(np.asarray(vae.encode(dataset.images[picks[i:i + 64]])[0]),
                                                    np.full(len(picks[i:i + 64]), value, np.float32)))
                              for i in range(0, len(picks), 64)])
        rows = {"raw": raw}
        if refiner is not None:
            rows["refined"] = np.concatenate([refiner.refine(raw[i:i + 64], value) for i in range(0, len(raw), 64)])
        detail = fine_detail(originals)
        for name, pictures in rows.items():
            ssim = tf.image.ssim(tf.constant(originals), tf.constant(pictures.astype(np.float32)), max_val=1.0).numpy()
            figures[f"{domain}_{name}_ssim"] = round(float(ssim.mean()), 4)
            figures[f"{domain}_{name}_detail"] = round(fine_detail(pictures) / detail, 3)
            figures[f"_{domain}_{name}_per_face"] = ssim
        if refiner is not None:
            worse = figures[f"_{domain}_refined_per_face"] < figures[f"_{domain}_raw_per_face"]
            figures[f"{domain}_worse_share"] = round(float(worse.mean()), 3)
    return {key: value for key, value in figures.items() if not key.startswith("_")}


def train_refiner(vae, dataset, out: Path, cfg: RefinerConfig = RefinerConfig(), resume: bool = False,
                  verbose: bool = True) -> dict:
    """Train (or, with `resume`, carry on from the checkpoint and history in `out`, with `cfg`:
    see `resumed_config`) the refiner of the VAE `vae` on `dataset`'s training images; writes
    refiner.json, refiner.weights.h5 and refiner-history.csv into `out` atomically (a
    checkpoint every cfg.log_every steps). Returns the last history row."""
    import keras
    import tensorflow as tf

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    history = read_refiner_history(out / HISTORY_FILE) if resume else []
    done = int(history[-1]["step"]) if history else 0
    elapsed = float(history[-1]["seconds"]) if history else 0.0
    if done >= cfg.max_steps:
        return history[-1]
    atomic_write_text(out / CONFIG_FILE, json.dumps(asdict(cfg), indent=2))
    keras.utils.set_random_seed(cfg.seed + done)
    started = time.perf_counter()
    inputs, owners, domains = training_pairs(vae, dataset, cfg.samples_per_image, cfg.seed, cfg.blends_per_image,
                                             cfg.max_blend)
    if verbose:
        print(f"refiner: {len(inputs)} training pictures drawn in {time.perf_counter() - started:.0f} s")
    network = build_refiner(cfg)
    checkpoint = out / CHECKPOINT_FILE
    if done and checkpoint.is_file():
        network.load_weights(checkpoint)
    optimizer = keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(cfg.learning_rate, cfg.max_steps,
                                                                             alpha=0.05),
                                      global_clipnorm=1.0)
    optimizer.build(network.trainable_variables)
    optimizer.iterations.assign(done)  # the schedule carries on; Adam's moments start afresh

    @tf.function(reduce_retracing=True)
    def train_step(picture, target, domain):
        with tf.GradientTape() as tape:
            loss, l1, ssim = refiner_loss(network([picture, domain], training=True), picture, target, cfg)
        optimizer.apply_gradients(zip(tape.gradient(loss, network.trainable_variables), network.trainable_variables))
        return loss, l1, ssim

    rng = np.random.default_rng(cfg.seed + 1 + done)
    side, crop = dataset.images.shape[1], min(cfg.crop, dataset.images.shape[1])
    losses = []
    clock = time.perf_counter()
    step = done
    while step < cfg.max_steps and elapsed + time.perf_counter() - clock < cfg.minutes * 60:
        batch = rng.integers(len(inputs), size=cfg.batch_size)
        y, x = rng.integers(side - crop + 1, size=2)
        picture = inputs[batch, y:y + crop, x:x + crop].astype(np.float32) / 255.0
        target = dataset.images[owners[batch], y:y + crop, x:x + crop].astype(np.float32) / 255.0
        if rng.random() < 0.5:  # mirrored faces are faces too
            picture, target = picture[:, :, ::-1], target[:, :, ::-1]
        losses.append([float(v) for v in train_step(tf.constant(picture), tf.constant(target),
                                                    tf.constant(domains[batch].reshape(-1, 1)))])
        step += 1
        if step % cfg.log_every == 0 or step == cfg.max_steps:
            seconds = elapsed + time.perf_counter() - clock
            loss, l1, ssim = np.mean(losses, axis=0)
            history.append({"step": step, "seconds": round(seconds, 1), "loss": round(loss, 5),
                            "l1": round(l1, 5), "crop_ssim": round(ssim, 4)})
            losses = []
            save_weights(network, checkpoint)
            write_refiner_history(out / HISTORY_FILE, history)
            if verbose:
                print(f"refiner step {step}: loss {loss:.4f}, crop SSIM {ssim:.3f} ({seconds:.0f} s)")
    save_weights(network, out / WEIGHTS_FILE)
    if history and int(history[-1]["step"]) != step:
        history.append({"step": step, "seconds": round(elapsed + time.perf_counter() - clock, 1),
                        "loss": "", "l1": "", "crop_ssim": ""})
        write_refiner_history(out / HISTORY_FILE, history)
    return history[-1] if history else {"step": step}


def refiner_loss(drawn, picture, target, cfg: RefinerConfig):
    """The refiner's (loss, L1, SSIM): `sharpness_loss`, plus cfg.no_worse_weight times how far
    each refined picture's SSIM to its original falls below that of the picture it was given, so
    that it learns to leave alone what it cannot improve."""
    import tensorflow as tf

    loss, l1, ssim = _sharpness_terms(drawn, target, cfg)
    if cfg.no_worse_weight:
        shortfall = tf.image.ssim(picture, target, max_val=1.0, filter_size=7) - ssim
        loss += cfg.no_worse_weight * tf.reduce_mean(tf.nn.relu(shortfall))
    return loss, l1, tf.reduce_mean(ssim)


def sharpness_loss(drawn, target, cfg: RefinerConfig):
    """(loss, its L1, its SSIM) of pictures drawn against their originals (B, H, W, 3) in [0, 1]."""
    import tensorflow as tf

    loss, l1, ssim = _sharpness_terms(drawn, target, cfg)
    return loss, l1, tf.reduce_mean(ssim)


def _sharpness_terms(drawn, target, cfg: RefinerConfig):
    """`sharpness_loss`, with the SSIM of each picture (B,) instead of their mean."""
    import tensorflow as tf

    l1 = tf.reduce_mean(tf.abs(drawn - target))
    ssim = tf.image.ssim(drawn, target, max_val=1.0, filter_size=7)
    edges, target_edges = laplacian(drawn), laplacian(target)
    edge = tf.reduce_mean(tf.abs(edges - target_edges))
    # L1 and SSIM alone settle for the average of the likely pictures, which is soft: this term
    # asks for as much fine detail as the original has
    detail = tf.reduce_mean(tf.abs(tf.reduce_mean(tf.abs(edges), axis=[1, 2, 3])
                                   - tf.reduce_mean(tf.abs(target_edges), axis=[1, 2, 3])))
    loss = l1 + cfg.ssim_weight * (1.0 - tf.reduce_mean(ssim)) + cfg.edge_weight * edge + cfg.detail_weight * detail
    return loss, l1, ssim


def save_weights(network, path: Path) -> None:
    """network.save_weights(path), atomically (Keras wants the name to end in .weights.h5)."""
    handle, temporary = tempfile.mkstemp(prefix=".refiner-", suffix=".weights.h5", dir=path.parent)
    os.close(handle)
    try:
        network.save_weights(temporary)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def laplacian(pictures):
    """The 4-neighbour Laplacian (B, H-2, W-2, 1) of the grey pictures (B, H, W, 3), as fine_detail."""
    import tensorflow as tf

    grey = tf.reduce_mean(pictures, axis=-1, keepdims=True)
    return (4 * grey[:, 1:-1, 1:-1] - grey[:, :-2, 1:-1] - grey[:, 2:, 1:-1]
            - grey[:, 1:-1, :-2] - grey[:, 1:-1, 2:])


def read_refiner_history(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def write_refiner_history(path: Path, rows: list[dict]) -> None:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    atomic_write_text(path, buffer.getvalue())
