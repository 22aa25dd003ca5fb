"""Reconstruction metrics per domain (the export writes them to evaluation.json), and encoding
and decoding a whole image set a batch at a time."""
from __future__ import annotations

import numpy as np

from data.dataset import FaceDataset

ACTIVE_UNIT_THRESHOLD = 0.01  # a dimension is active when its posterior-mean variance exceeds this
BATCH = 256


def encode_in_batches(model, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Posterior means and log-variances (N, L) of uint8 images, a batch at a time."""
    parts = [model.encode(images[i:i + BATCH]) for i in range(0, len(images), BATCH)]
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def decode_in_batches(model, z: np.ndarray, domain: float) -> np.ndarray:
    return np.concatenate([model.decode(z[i:i + BATCH], domain) for i in range(0, len(z), BATCH)])


def image_metrics(model, images: np.ndarray, domain: float, fit_steps: int = 0) -> dict:
    """Pixel MSE, SSIM (TensorFlow's tf.image.ssim), KL per dimension and active units; with
    `fit_steps`, also the SSIM of the pictures drawn from codes fitted to them (vae.fit)."""
    import tensorflow as tf

    from vae.model import as_float_images, kl_per_dimension

    mean, log_var = encode_in_batches(model, images)
    reconstructions = decode_in_batches(model, mean, domain)
    originals = as_float_images(images)
    ssim = tf.image.ssim(tf.constant(originals), tf.constant(reconstructions), max_val=1.0).numpy()
    kl = np.asarray(kl_per_dimension(mean, log_var)).mean(axis=0)
    variance = mean.var(axis=0)
    fitted = {}
    if fit_steps:
        from vae.fit import fitted_codes

        redrawn = decode_in_batches(model, fitted_codes(model, images, domain, fit_steps), domain)
        fitted = {"fit_steps": fit_steps, "ssim_fitted": float(np.mean(
            tf.image.ssim(tf.constant(originals), tf.constant(redrawn), max_val=1.0).numpy()))}
    return {
        "images": int(len(images)),
        "mse": float(np.mean((originals - reconstructions) ** 2)),
        "ssim": float(np.mean(ssim)),
        "kl": float(kl.sum()),
        "kl_per_dimension": [round(float(v), 5) for v in kl],
        "active_units": int((variance > ACTIVE_UNIT_THRESHOLD).sum()),
        "latent_dim": int(mean.shape[1]),
        **fitted,
    }


def evaluate(model, dataset: FaceDataset, split: str = "val", fit_steps: int = 0) -> dict:
    """Image metrics per domain on one split, each domain reconstructed in its own domain."""
    chosen = dataset.split == split
    results = {}
    for domain in ("lego", "emoji"):
        mask = chosen & (dataset.domain == domain)
        if mask.any():
            results[domain] = image_metrics(model, dataset.images[mask], float(domain == "emoji"), fit_steps)
    return results
