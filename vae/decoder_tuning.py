"""The second stage's first step: the VAE's decoder fine-tuned to draw each code's face sharply.

A VAE's decoder with a Gaussian likelihood draws the average of the faces a code could be, so
its pictures are soft. This fine-tunes the decoder alone on L1, SSIM and the detail terms of
vae.refiner's `sharpness_loss`, the encoder frozen: every code stays where it was (the map, the
histograms and every direction are unchanged), and the decoder learns to draw each code's face,
not the blur of its neighbours'. Its codes are drawn from q(z|x) at a random fraction of its
spread, so that it keeps drawing faces between the codes of the training images. The refiner
(vae.refiner) is trained after it, on its pictures. Its settings are the decoder_* fields of
the second stage's config, vae.refiner.RefinerConfig.
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from common.files import atomic_path
from vae.refiner import RefinerConfig, read_refiner_history, sharpness_loss, write_refiner_history

DECODER_HISTORY_FILE = "decoder-history.csv"  # written last: it marks a run whose decoder is tuned
DECODER_WARMUP_STEPS = 200


def decoder_is_tuned(out: Path) -> bool:
    """Whether the run in `out` has had its decoder fine-tuned (`tune_decoder`)."""
    return bool(read_refiner_history(Path(out) / DECODER_HISTORY_FILE))


def tune_decoder(vae, dataset, out: Path, cfg: RefinerConfig | None = None, verbose: bool = True) -> dict:
    """Fine-tune the decoder of the VAE `vae` for cfg.decoder_minutes (or decoder_max_steps) on `dataset`'s training
    images (and their mirror images), the encoder frozen; then write the VAE (model.keras) and
    decoder-history.csv into `out`, atomically. A run tuned already (`decoder_is_tuned`) is left
    as it is, and so is one with decoder_minutes 0. Returns the last history row ({} if none)."""
    import keras
    import tensorflow as tf

    cfg, out = cfg or RefinerConfig(), Path(out)
    if cfg.decoder_minutes <= 0 or decoder_is_tuned(out):
        history = read_refiner_history(out / DECODER_HISTORY_FILE)
        return history[-1] if history else {}
    keras.utils.set_random_seed(cfg.seed)
    train = np.flatnonzero(dataset.split == "train")
    domains = (dataset.domain[train] == "emoji").astype(np.float32).reshape(-1, 1)
    codes = []  # (mean, log_var) of the images, then of their mirror images: the encoder is frozen
    for mirrored in (False, True):
        parts = []
        for start in range(0, len(train), 64):
            images = dataset.images[train[start:start + 64]]
            mean, log_var = vae.encode(images[:, :, ::-1] if mirrored else images)[:2]
            parts.append((np.asarray(mean, np.float32), np.asarray(log_var, np.float32)))
        codes.append(tuple(np.concatenate(column) for column in zip(*parts)))
    conditioned = bool(getattr(vae, "domain_conditioned", False))
    decoder = vae.decoder
    optimizer = keras.optimizers.Adam(cfg.decoder_learning_rate)
    optimizer.build(decoder.trainable_variables)

    @tf.function(reduce_retracing=True)
    def train_step(z, domain, target):
        with tf.GradientTape() as tape:
            drawn = decoder([z, domain], training=True) if conditioned else decoder(z, training=True)
            loss, l1, ssim = sharpness_loss(drawn, target, cfg)
        optimizer.apply_gradients(zip(tape.gradient(loss, decoder.trainable_variables), decoder.trainable_variables))
        return loss, l1, ssim

    rng = np.random.default_rng(cfg.seed + 2)
    history, losses, step, budget = [], [], 0, cfg.decoder_minutes * 60
    clock = time.perf_counter()
    while step < cfg.decoder_max_steps and (seconds := time.perf_counter() - clock) < budget:
        # the learning rate warms up over the first steps (Adam's first steps are as large as the rate
        # whatever the gradient, and would blur a trained decoder), then follows a cosine over the time
        # budget down to 5 %
        warm = min(1.0, (step + 1) / DECODER_WARMUP_STEPS)
        cosine = 0.05 + 0.475 * (1 + np.cos(np.pi * seconds / budget))
        optimizer.learning_rate.assign(cfg.decoder_learning_rate * warm * cosine)
        batch, mirrored = rng.integers(len(train), size=cfg.batch_size), bool(rng.random() < 0.5)
        mean, log_var = (part[batch] for part in codes[mirrored])
        spread = rng.uniform(0.0, 1.0, (len(batch), 1)).astype(np.float32)  # 0: the mean, 1: a draw of q(z|x)
        z = mean + spread * np.exp(0.5 * log_var) * rng.standard_normal(mean.shape).astype(np.float32)
        target = dataset.images[train[batch]]
        target = target[:, :, ::-1] if mirrored else target
        losses.append([float(v) for v in train_step(tf.constant(z), tf.constant(domains[batch]),
                                                    tf.constant(target.astype(np.float32) / 255.0))])
        step += 1
        if step % cfg.log_every == 0:
            loss, l1, ssim = np.mean(losses, axis=0)
            history.append({"step": step, "seconds": round(time.perf_counter() - clock, 1), "loss": round(loss, 5),
                            "l1": round(l1, 5), "ssim": round(ssim, 4)})
            losses = []
            if verbose:
                print(f"decoder step {step}: loss {loss:.4f}, SSIM {ssim:.3f} ({history[-1]['seconds']:.0f} s)")
    if not history or history[-1]["step"] != step:
        loss, l1, ssim = np.mean(losses, axis=0) if losses else (np.nan,) * 3
        history.append({"step": step, "seconds": round(time.perf_counter() - clock, 1), "loss": round(loss, 5),
                        "l1": round(l1, 5), "ssim": round(ssim, 4)})
    with atomic_path(out / "model.keras") as temporary:
        vae.save(temporary)
    write_refiner_history(out / DECODER_HISTORY_FILE, history)  # last: it marks the run tuned
    return history[-1]
