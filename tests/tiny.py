"""Tiny models trained and exported in a few seconds, for tests that need a whole asset folder."""
from __future__ import annotations

import numpy as np

from vae.config import preset
from vae.export import main as export_main
from vae.train import train


def export_tiny(dataset, family_preset: str, count: int, seed: int, root):
    """Every real face of `dataset` and random others to `count` images, a one-epoch
    `family_preset` model trained on them,
    exported into root / "assets" (its static pictures into root / "static", so that the app sends
    them inline) with `python -m vae.export`: (assets folder, the subset)."""
    keep = ~dataset.augmented & ~dataset.synthetic  # the faces an exported model ships
    others = np.flatnonzero(~keep)
    keep[np.random.default_rng(seed).choice(others, max(0, count - keep.sum()), replace=False)] = True
    small = dataset.subset(keep)
    small.save(root / "data.npz")
    train(preset(family_preset).override(epochs=1), small, root / "run", verbose=0)
    assert export_main(["--run", str(root / "run"), "--data", str(root / "data.npz"), "--out",
                        str(root / "assets"), "--static", str(root / "static")]) == 0
    return root / "assets", small
