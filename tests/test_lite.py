"""The networks as LiteRT files (vae/lite.py): the same answers as the Keras model, and a
dashboard engine that never imports TensorFlow."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from common.errors import UserError
from explorer.engine import BACKEND_ENV, DEFAULT_ASSETS, Engine, choose_backend
from vae.lite import FILES, LiteModel, LiteRefiner

ROOT = Path(__file__).resolve().parents[1]
pytest.importorskip("ai_edge_litert")


@pytest.fixture(scope="module")
def keras_pair():
    from vae.families import load_model_folder
    from vae.refiner import Refiner

    return load_model_folder(DEFAULT_ASSETS), Refiner.load(DEFAULT_ASSETS)


def test_the_lite_files_answer_as_the_keras_model(keras_pair, engine):
    """The float16 files (decoder, fit) to rounding; the int8 ones (encoder, refiner) within a
    few levels of a picture and a hundredth of a code's spread."""
    model, refiner = keras_pair
    lite, lite_refiner = LiteModel(DEFAULT_ASSETS), LiteRefiner.load(DEFAULT_ASSETS)
    z, domains = engine.maps.means[:4], np.array([0.0, 1.0, 0.5, 0.25], np.float32)
    pictures = model.decode(z, domains)
    np.testing.assert_allclose(lite.decode(z, domains), pictures, atol=1e-4)
    refined = refiner.refine(pictures, domains)
    error = lite_refiner.refine(pictures, domains) - refined
    assert np.abs(error).max() < 0.05 and np.sqrt(np.mean(error ** 2)) < 0.005  # 0.05: 13 of 255 levels
    assert np.sqrt(np.mean((refined - pictures) ** 2)) > 0.01  # what the refiner does is far larger
    images = engine.dataset.images[:5]
    (mean, log_var), (their_mean, their_log_var) = lite.encode(images), model.encode(images)
    for ours, theirs in ((mean, their_mean), (log_var, their_log_var)):
        assert np.sqrt(np.mean((ours - theirs) ** 2)) < 0.02 * np.std(theirs)
    np.testing.assert_allclose(lite.domain_of(images), model.domain_of(images), atol=0.02)


def test_the_lite_fit_takes_the_same_steps(keras_pair, engine, monkeypatch):
    """The LiteRT fit (Adam in numpy on the file's gradient) against the Keras one, 10 steps from
    the same codes (the LiteRT encoder's): they move the same way and gain as much on the fit's
    objective, as each backend reckons it. (Adam steps as far along a dimension whose gradient is
    rounding noise, so the codes may differ there.)"""
    import tensorflow as tf

    from vae.fit import fit_objective, fitted_codes

    model, _ = keras_pair
    lite, pictures = LiteModel(DEFAULT_ASSETS), engine.dataset.images[[0, 100, 500]]
    x = pictures.astype(np.float32) / 255.0
    domains = np.zeros((1, 1), np.float32)

    def keras_objective(z):  # per picture, through the Keras decoder
        draw = lambda codes: model.decoder([codes, tf.zeros((len(z), 1))], training=False)  # noqa: E731
        return fit_objective(draw, tf.constant(z, tf.float32), tf.constant(x)).numpy()

    def lite_objective(z):  # per picture, from the LiteRT fit file
        return np.array([float(lite._networks["fit"](z=row[None], images=picture[None], domains=domains)["objective"])
                         for row, picture in zip(np.asarray(z, np.float32), x)])

    start = lite.encode(pictures)[0]
    np.testing.assert_allclose(lite_objective(start), keras_objective(start), rtol=1e-3)  # the same objective
    monkeypatch.setattr(model, "encode", lite.encode)  # the Keras fit starts where the LiteRT one does
    ours, theirs = fitted_codes(lite, pictures, 0.0, 10), fitted_codes(model, pictures, 0.0, 10)
    moved, gained = theirs - start, keras_objective(start) - keras_objective(theirs)
    assert np.all(np.linalg.norm(moved, axis=1) > 0.1) and np.all(gained > 0)  # the fit moves the codes...
    cosine = ((ours - start) * moved).sum(axis=1) / np.linalg.norm(ours - start, axis=1) / np.linalg.norm(moved, axis=1)
    assert np.all(cosine > 0.95)  # ...the same way
    assert np.all(np.abs(lite_objective(start) - lite_objective(ours) - gained) < 0.1 * gained)


def test_the_engine_on_lite_files_never_imports_tensorflow():
    code = ("import sys\nfrom explorer.engine import Engine\ne = Engine()\n"
            "lego = int(e.indices('lego')[0])\n"
            "emoji = next(int(i) for i in e.indices('emoji') if e.can_print(e.dataset.images[i]))\n"
            "e.decode(e.maps.means[:3], 'emoji'); e.reconstruct(e.dataset.images[:2])\n"
            "e.printed_transfer(e.dataset.images[lego], e.maps.means[lego], e.dataset.images[emoji], 1.0)\n"
            "print(e.backend, 'tensorflow' in sys.modules, 'keras' in sys.modules)\n")
    env = {key: value for key, value in __import__("os").environ.items() if key != BACKEND_ENV}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split()[-3:] == ["lite", "False", "False"], out.stderr[-2000:]


def test_a_plain_family_export_runs_on_its_lite_files(plain_exported, plain_engine):
    from vae.families import load_model_folder

    assert all((Path(plain_exported) / name).is_file() for name in FILES.values())
    assert plain_engine.backend == "lite"
    model = load_model_folder(plain_exported)
    z = plain_engine.maps.means[:3]
    np.testing.assert_allclose(LiteModel(plain_exported).decode(z, 1.0), model.decode(z), atol=1e-4)
    assert np.all(np.isnan(LiteModel(plain_exported).domain_of(plain_engine.dataset.images[:2])))


@pytest.mark.parametrize("folder", ["shipped", "exported"])
def test_the_lite_files_take_one_row_and_answer_a_batch_row_by_row(folder, plain_exported):
    """A free batch dimension keeps LiteRT's fast kernels off the graph (five times slower)."""
    from ai_edge_litert.interpreter import Interpreter

    folder = DEFAULT_ASSETS if folder == "shipped" else Path(plain_exported)
    for path in sorted(folder.glob("*.tflite")):
        shapes = [detail["shape_signature"] for detail in Interpreter(model_path=str(path)).get_input_details()]
        assert all(shape[0] == 1 for shape in shapes), (path.name, shapes)
    lite = LiteModel(folder)
    z = np.random.default_rng(0).standard_normal((3, lite.cfg.latent_dim)).astype(np.float32)
    pictures = lite.decode(z, 1.0)
    assert pictures.shape == (3, lite.cfg.image_size, lite.cfg.image_size, 3)
    np.testing.assert_array_equal(pictures, np.concatenate([lite.decode(row[None], 1.0) for row in z]))
    assert lite.decode(z[:0], 1.0).shape == (0, *pictures.shape[1:])


def test_the_backend_is_chosen_by_files_and_environment(tmp_path, monkeypatch):
    monkeypatch.delenv(BACKEND_ENV, raising=False)
    assert choose_backend(DEFAULT_ASSETS) == "lite"
    with pytest.raises(UserError, match=f"no LiteRT files .* or set {BACKEND_ENV}=keras"):
        choose_backend(tmp_path)  # a folder without the files is not served on TensorFlow unasked
    monkeypatch.setitem(sys.modules, "ai_edge_litert.interpreter", None)  # the package will not import
    with pytest.raises(UserError, match=f"ai-edge-litert, .* is not installed: .*{BACKEND_ENV}=keras"):
        choose_backend(DEFAULT_ASSETS)
    monkeypatch.setenv(BACKEND_ENV, "keras")
    assert choose_backend(DEFAULT_ASSETS) == "keras" and Engine(DEFAULT_ASSETS).backend == "keras"
    monkeypatch.setenv(BACKEND_ENV, "lite")
    with pytest.raises(UserError, match="no LiteRT files"):
        choose_backend(tmp_path)
    monkeypatch.setenv(BACKEND_ENV, "onnx")
    with pytest.raises(UserError, match="unknown backend 'onnx'"):
        choose_backend(DEFAULT_ASSETS)
