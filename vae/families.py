"""The model families, by name: the one module that imports every family and builds or loads
any of them. No family imports it. Importing it registers every family's Keras classes, so
`keras.saving.load_model(path, safe_mode=True)` works on any Legomoji model after
`import vae.families`.
"""
from __future__ import annotations

import zipfile
from pathlib import Path

import keras
import numpy as np

from common.errors import UserError
from vae.config import VAEConfig
from vae.model import VAE
from vae.shared import SharedVAE

FAMILIES: dict[str, type[VAE]] = {"plain": VAE, "shared": SharedVAE}
MODEL_HINT = "train one with `python -m vae.train` (or restore the shipped assets with `git checkout assets`)"


def build_vae(cfg: VAEConfig) -> VAE:
    """A fresh VAE of the config's family, with every weight created."""
    keras.utils.set_random_seed(cfg.seed)
    model = FAMILIES[cfg.family](cfg)
    model(np.zeros((1, cfg.image_size, cfg.image_size, 3), np.float32))
    return model


def load_vae(path, compile: bool = False) -> VAE:
    """Load a .keras model of any family with safe_mode=True (no Lambda layers, no pickle)."""
    return keras.saving.load_model(path, safe_mode=True, compile=compile)


def load_model_folder(path) -> VAE:
    """The VAE in a folder (its model.keras) or a .keras file, or a UserError saying what is wrong."""
    path = Path(path)
    file = path / "model.keras" if path.is_dir() else path
    if not file.is_file():
        raise UserError(f"no model at {file}: {MODEL_HINT}.")
    try:
        model = load_vae(file)
    except (OSError, ValueError, TypeError, KeyError, zipfile.BadZipFile) as error:
        reason = str(error).splitlines()[0][:200] if str(error) else type(error).__name__
        raise UserError(f"{file} is not a loadable Legomoji model ({reason}): {MODEL_HINT}.") from error
    if not isinstance(model, VAE):
        raise UserError(f"{file} holds a {type(model).__name__}, not a Legomoji VAE: {MODEL_HINT}.")
    return model
