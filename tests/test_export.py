"""`python -m vae.export` on a real (tiny) shared model: the assets the dashboard opens."""
import json

import numpy as np
import pytest

from explorer.engine import Engine
from vae.config import preset
from vae.export import main as export_main
from vae.latent import pca_project
from vae.train import train


@pytest.fixture(scope="module")
def exported(built_dataset, tmp_path_factory):
    dataset = built_dataset[0]
    rng = np.random.default_rng(2)
    keep = np.zeros(len(dataset), bool)
    keep[rng.choice(len(dataset), 600, replace=False)] = True
    small = dataset.subset(keep)
    root = tmp_path_factory.mktemp("export")
    small.save(root / "data.npz")
    train(preset("tiny-shared").override(epochs=1), small, root / "run", verbose=0)
    assert export_main(["--run", str(root / "run"), "--data", str(root / "data.npz"), "--out",
                        str(root / "assets")]) == 0
    return root / "assets", small


def test_export_writes_every_asset_with_the_attribution(exported):
    folder, small = exported
    names = {p.name for p in folder.iterdir()}
    assert {"model.keras", "config.json", "history.csv", "latents.npz", "dataset.npz", "evaluation.json",
            "ATTRIBUTION.md"} <= names
    attribution = (folder / "ATTRIBUTION.md").read_text()
    for source in ("LDraw", "Twemoji", "Noto", "OpenMoji", "CC BY-SA 4.0", "Fluent", "MIT"):
        assert source in attribution
    evaluation = json.loads((folder / "evaluation.json").read_text())
    assert set(evaluation) >= {"lego", "emoji"}
    assert not any(name.startswith(".") for name in names)  # no temporary file left behind


def test_the_exported_engine_decodes_samples_and_translates(exported):
    folder, small = exported
    engine = Engine(folder)
    real = int((~small.augmented & ~small.synthetic).sum())  # printed heads train the model, never ship
    assert small.synthetic.any() and len(engine.dataset) == real and engine.maps.means.shape[0] == real
    assert not engine.dataset.synthetic.any()
    assert set(engine.maps.mixtures) == {"lego", "emoji"}
    side = engine.dataset.size
    for prior in ("posterior", "normal"):
        assert engine.sample(3, 1.0, 0, "emoji", prior).shape == (3, side, side, 3)
    z = engine.maps.means[0]
    assert not np.array_equal(engine.translate(z, "emoji"), engine.decode(z, "lego"))


def test_an_empty_spot_next_to_a_point_decodes_close_to_that_point(exported):
    """The UMAP grid's rows are y and its columns x: a flipped grid would put a click next to a
    point as far from it as a random face is."""
    engine = Engine(exported[0])
    means, xy = engine.maps.means, engine.maps.umap_xy
    rng = np.random.default_rng(0)
    chosen = rng.choice(len(means), 30, replace=False)
    span = xy.max(axis=0) - xy.min(axis=0)
    near = engine.maps.plane_to_latent("UMAP", xy[chosen] + 0.01 * span)
    clicked = np.median(np.linalg.norm(near - means[chosen], axis=1))
    flipped = engine.maps.plane_to_latent("UMAP", xy[chosen][:, ::-1] + 0.01 * span[::-1])
    random_pairs = np.median(np.linalg.norm(means[chosen] - means[rng.permutation(chosen)], axis=1))
    assert clicked < 0.6 * random_pairs
    assert clicked < np.median(np.linalg.norm(flipped - means[chosen], axis=1))
    pca = engine.maps.plane_to_latent("PCA", engine.maps.pca_xy[chosen])
    back = pca_project(pca, engine.maps.pca_mean, engine.maps.pca_components)
    assert np.allclose(back, engine.maps.pca_xy[chosen], atol=1e-4)
