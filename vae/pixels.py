"""Pictures as the networks take and give them, in numpy alone (no TensorFlow): the dashboard's
LiteRT backend (vae/lite.py) converts with these and never imports the Keras model."""
from __future__ import annotations

import numpy as np


def as_float_images(images: np.ndarray) -> np.ndarray:
    """(B, S, S, 3) float32 in [0, 1] from uint8 or float input."""
    images = np.asarray(images)
    if images.dtype == np.uint8:
        return images.astype(np.float32) / 255.0
    return images.astype(np.float32)


def to_uint8(images: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(np.asarray(images) * 255.0), 0, 255).astype(np.uint8)
