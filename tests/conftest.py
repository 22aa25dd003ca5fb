"""Shared fixtures: the real source archives beside the repo and a dataset built from them."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
LDRAW_ZIP = SHARED_DATA / "ldraw-minifig-heads.zip"
TWITTER_ZIP = SHARED_DATA / "emoji-datasource-twitter-faces.zip"
GOOGLE_ZIP = SHARED_DATA / "emoji-datasource-google-faces.zip"
OPENMOJI_ZIP = SHARED_DATA / "openmoji-faces.zip"
FLUENT_ZIP = SHARED_DATA / "fluentui-emoji-faces.zip"

# What the shared archives hold; a changed archive changes these and nothing else.
PRINTED_HEADS = 341  # parts/3626*p*.dat with a printed face
TWO_SIDED_HEADS = 57
LEGO_IMAGES = PRINTED_HEADS + TWO_SIDED_HEADS  # each front, and the back of each two-sided head
PACK_FACES = 118  # face emoji in each emoji-datasource pack
OPENMOJI_FACES = 119
FLUENT_FACES = 81


def pytest_configure(config):
    if not LDRAW_ZIP.is_file():
        raise pytest.UsageError(f"the source archives are missing: expected {SHARED_DATA} beside the repo")


@pytest.fixture(scope="session")
def built_dataset(tmp_path_factory):
    """The full default build (both packs, the Noto font, augmentation) written to a temp file."""
    from data.build import main
    from data.dataset import FaceDataset

    out = tmp_path_factory.mktemp("dataset") / "dataset-64.npz"
    preview = out.with_name("preview.png")
    assert main(["--quiet", "--out", str(out), "--preview", str(preview)]) == 0
    return FaceDataset.load(out), preview


@pytest.fixture(scope="session")
def small_dataset(built_dataset):
    """Real images: 256 training and 64 validation images of both domains."""
    import numpy as np

    dataset = built_dataset[0]
    rng = np.random.default_rng(0)
    train_idx = rng.choice(np.flatnonzero(dataset.split == "train"), 256, replace=False)
    val_idx = np.flatnonzero(dataset.split == "val")[::2][:64]
    mask = np.zeros(len(dataset), bool)
    mask[np.concatenate([train_idx, val_idx])] = True
    return dataset.subset(mask)


@pytest.fixture(scope="session")
def engine():
    """The shipped model's Engine, loaded once for every test that only reads it."""
    from explorer.engine import DEFAULT_ASSETS, Engine

    return Engine(DEFAULT_ASSETS)


@pytest.fixture(scope="session")
def plain_exported(built_dataset, tmp_path_factory):
    """A tiny `plain`-family model (no domain condition, no expression dims), exported."""
    from tests.tiny import export_tiny

    return export_tiny(built_dataset[0], "tiny", 500, 5, tmp_path_factory.mktemp("plain"))[0]


@pytest.fixture(scope="session")
def plain_engine(plain_exported):
    """The tiny plain-family model's Engine, loaded once."""
    from explorer.engine import Engine

    engine = Engine(plain_exported)
    assert not engine.domain_conditioned and engine.expression_dims == 0
    return engine
