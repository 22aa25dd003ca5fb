"""Plotly figure builders and their helpers: arrays in, figures out, no Streamlit."""
from __future__ import annotations

import numpy as np


def gaussian_density(x: np.ndarray) -> np.ndarray:
    """Standard normal density, overlaid on the latent histograms."""
    return np.exp(-0.5 * np.square(x)) / np.sqrt(2 * np.pi)
