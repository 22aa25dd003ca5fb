"""The refiner (vae.refiner), the decoder's second stage: trained on a real (tiny) run, shipped
by the export, and what every picture of the engine goes through."""
from __future__ import annotations

import numpy as np
import pytest

from common.static_files import live_names
from explorer.engine import Engine
from vae.decoder_tuning import DECODER_HISTORY_FILE
from vae.refiner import (
    CONFIG_FILE,
    HISTORY_FILE,
    WEIGHTS_FILE,
    Refiner,
    RefinerConfig,
    build_refiner,
    fine_detail,
    read_refiner_history,
    refiner_loss,
    sharpness_loss,
)

TINY = ["--refiner-set", "decoder_minutes=0", "--refiner-set", "max_steps=6", "--refiner-set", "log_every=3",
        "--refiner-set", "samples_per_image=1", "--refiner-set", "crop=32", "--refiner-set", "batch_size=8"]


@pytest.fixture(scope="module")
def refined_run(plain_exported, tmp_path_factory):
    """The tiny plain run of `plain_exported` with a refiner trained for six steps, exported
    into a model folder of its own."""
    import shutil

    from vae.export import main as export_main
    from vae.train import main as train_main

    root = plain_exported.parent
    run = tmp_path_factory.mktemp("refined") / "run"
    shutil.copytree(root / "run", run)
    assert train_main(["--stage", "refiner", "--model", str(run), "--data", str(root / "data.npz"), *TINY]) == 0
    folder = tmp_path_factory.mktemp("refined-assets") / "assets"
    shutil.copytree(plain_exported, folder)
    static = folder.parent / "static"  # the browser's copy of the new refiner goes here, not into the checkout
    assert export_main(["--run", str(run), "--out", str(folder), "--refiner-only", "--static", str(static)]) == 0
    assert (static / live_names(folder)["refiner"]).is_file()
    return run, folder


def test_a_refiner_trains_resumes_and_writes_its_files(refined_run, plain_exported):
    from vae.train import main as train_main

    run, _ = refined_run
    assert {CONFIG_FILE, WEIGHTS_FILE, HISTORY_FILE} <= {p.name for p in run.iterdir()}
    assert [int(row["step"]) for row in read_refiner_history(run / HISTORY_FILE)] == [3, 6]
    assert train_main(["--stage", "refiner", "--model", str(run), "--data", str(plain_exported.parent / "data.npz"),
                       "--resume", *TINY[:2], "--refiner-set", "max_steps=9"]) == 0
    rows = read_refiner_history(run / HISTORY_FILE)
    assert [int(row["step"]) for row in rows] == [3, 6, 9]
    assert float(rows[-1]["seconds"]) > float(rows[1]["seconds"])  # the clock carries on
    assert all(np.isfinite(float(row["loss"])) for row in rows)


def test_training_trains_the_vae_then_its_refiner(plain_exported, tmp_path):
    from vae.train import main as train_main

    out = tmp_path / "run"
    assert train_main(["--data", str(plain_exported.parent / "data.npz"), "--preset", "tiny", "--epochs", "1",
                       "--out", str(out), "--quiet", *TINY]) == 0
    assert {"model.keras", "history.csv", CONFIG_FILE, WEIGHTS_FILE} <= {p.name for p in out.iterdir()}
    assert Refiner.load(out).refine(np.zeros((1, 64, 64, 3), np.float32), 0.0).shape == (1, 64, 64, 3)


def test_the_stage_tunes_the_decoder_once_and_every_code_stays(plain_exported, tmp_path, capsys):
    """First the decoder alone, the encoder frozen: the codes stay, the pictures change. A
    resumed stage does not tune it again, and shipping the refiner alone into the folder of the
    untuned decoder is refused in one sentence."""
    import shutil

    from data.dataset import FaceDataset
    from vae.export import main as export_main
    from vae.families import load_model_folder
    from vae.train import main as train_main

    root = plain_exported.parent
    run = tmp_path / "run"
    shutil.copytree(root / "run", run)
    images = FaceDataset.load(root / "data.npz").images[:8]
    domains = np.zeros(8, np.float32)
    before = load_model_folder(run)
    codes = np.asarray(before.encode(images)[0])
    pictures = np.asarray(before.decode(codes, domains))
    stage = ["--stage", "refiner", "--model", str(run), "--data", str(root / "data.npz"), "--quiet"]
    assert train_main([*stage, *TINY[2:], "--refiner-set", "decoder_max_steps=4"]) == 0
    rows = read_refiner_history(run / DECODER_HISTORY_FILE)
    assert [int(row["step"]) for row in rows] == [3, 4] and all(np.isfinite(float(row["loss"])) for row in rows)
    tuned = load_model_folder(run)
    assert all(np.array_equal(a, b) for a, b in zip(tuned.encoder.get_weights(), before.encoder.get_weights()))
    np.testing.assert_array_equal(np.asarray(tuned.encode(images)[0]), codes)
    assert sum(not np.array_equal(a, b) for a, b in zip(tuned.decoder.get_weights(), before.decoder.get_weights())) \
        == len(before.decoder.get_weights())  # every weight of the decoder moved (a few small steps)
    tuned_pictures = np.asarray(tuned.decode(codes, domains))
    assert not np.array_equal(tuned_pictures, pictures)
    assert train_main([*stage, "--resume", "--refiner-set", "max_steps=9"]) == 0
    assert read_refiner_history(run / DECODER_HISTORY_FILE) == rows
    assert [int(row["step"]) for row in read_refiner_history(run / HISTORY_FILE)] == [3, 6, 9]
    np.testing.assert_array_equal(np.asarray(load_model_folder(run).decode(codes, domains)), tuned_pictures)
    folder = tmp_path / "assets"
    shutil.copytree(plain_exported, folder)
    capsys.readouterr()
    assert export_main(["--run", str(run), "--out", str(folder), "--refiner-only", "--static", str(tmp_path)]) == 2
    error = capsys.readouterr().err.strip()
    assert error.count("\n") == 0 and "export the whole run" in error


def test_the_refiner_stage_without_a_run_is_one_sentence(tmp_path, capsys):
    from vae.train import main as train_main

    assert train_main(["--stage", "refiner", "--model", str(tmp_path)]) == 2
    error = capsys.readouterr().err.strip()
    assert error.count("\n") == 0 and "model.keras" in error


def test_the_engine_draws_through_its_refiner_and_raw_is_the_vaes_own(refined_run):
    from vae.model import to_uint8

    engine = Engine(refined_run[1])
    assert engine.refined
    z = engine.maps.means[:4]
    raw = engine.decode(z, "emoji", raw=True)
    assert np.array_equal(raw, to_uint8(engine.model.decode(z, np.ones(4, np.float32))))
    refined = engine.decode(z, "emoji")
    expected = to_uint8(Refiner.load(refined_run[1]).refine(engine.model.decode(z, np.ones(4, np.float32)), 1.0))
    assert np.abs(refined.astype(int) - expected).max() <= 1  # the shipped weights are float16
    assert not np.array_equal(refined, raw)
    assert np.array_equal(engine.sample(3, seed=1, domain="emoji", prior="normal", raw=True),
                          engine.decode(np.random.default_rng(1).standard_normal((3, z.shape[1])), "emoji", raw=True))


def test_the_domain_reaches_the_refiner(refined_run, monkeypatch):
    engine = Engine(refined_run[1])
    seen = []
    refine = engine._refiner.refine
    monkeypatch.setattr(engine._refiner, "refine", lambda pictures, domains: seen.append(domains) or
                        refine(pictures, domains))
    engine.decode(engine.maps.means[:3], [0.0, 0.5, 1.0])
    assert np.allclose(np.ravel(seen[0]), [0.0, 0.5, 1.0])
    # and the network reads it: with weights that are not all zero, the domain changes the picture
    network = build_refiner(RefinerConfig(filters=(4, 8)))
    rng = np.random.default_rng(0)
    network.set_weights([rng.normal(0, 0.3, w.shape).astype(np.float32) for w in network.get_weights()])
    picture = rng.random((1, 16, 16, 3)).astype(np.float32)
    lego, emoji = (np.asarray(network([picture, np.array([[d]], np.float32)])) for d in (0.0, 1.0))
    assert np.abs(lego - emoji).mean() > 1e-3


def test_a_model_folder_without_a_refiner_opens_with_its_notice(plain_engine, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from explorer.cache import MODEL_ENV
    from explorer.ui import NO_REFINER

    assert not plain_engine.refined
    z = plain_engine.maps.means[:2]
    assert np.array_equal(plain_engine.decode(z, "lego"), plain_engine.decode(z, "lego", raw=True))
    monkeypatch.setenv(MODEL_ENV, str(plain_engine.folder))
    app = AppTest.from_string("from explorer.pages.generate import render_generate\nrender_generate()\n",
                              default_timeout=120)
    app.run()
    assert not app.exception
    assert [c.value for c in app.sidebar.caption].count(NO_REFINER) == 1


def test_fine_detail_grows_with_edges_and_ignores_flat_colour():
    flat = np.full((2, 16, 16, 3), 200, np.uint8)
    stripes = flat.copy()
    stripes[:, :, ::2] = 20
    assert fine_detail(flat) == pytest.approx(0.0, abs=1e-6) and fine_detail(stripes) > 0.5
    assert fine_detail(stripes) == pytest.approx(fine_detail(stripes.astype(np.float32) / 255.0))


def test_the_refiner_pays_for_a_face_it_draws_worse_than_it_was_given(engine):
    """Real faces: a blurred copy is the refiner's input; drawing it sharper costs only the
    sharpness loss, drawing it blurrier costs no_worse_weight times the SSIM it lost on top."""
    import tensorflow as tf
    from PIL import Image, ImageFilter

    faces = engine.dataset.images[engine.indices("lego")[:4]]

    def blurred(radius):
        return tf.constant(np.stack([np.asarray(Image.fromarray(face).filter(ImageFilter.GaussianBlur(radius)))
                                     for face in faces]).astype(np.float32) / 255.0)

    target, picture, worse = tf.constant(faces.astype(np.float32) / 255.0), blurred(1.0), blurred(2.5)
    cfg = RefinerConfig(no_worse_weight=4.0)
    lost = float(tf.reduce_mean(tf.image.ssim(picture, target, 1.0, filter_size=7)
                                - tf.image.ssim(worse, target, 1.0, filter_size=7)))
    assert lost > 0.05
    extra = float(refiner_loss(worse, picture, target, cfg)[0] - sharpness_loss(worse, target, cfg)[0])
    assert extra == pytest.approx(4.0 * lost, rel=1e-3)
    assert float(refiner_loss(target, picture, target, cfg)[0]) == pytest.approx(
        float(sharpness_loss(target, target, cfg)[0]), abs=1e-6)  # better than given: nothing extra
    off = RefinerConfig(no_worse_weight=0.0)
    assert float(refiner_loss(worse, picture, target, off)[0]) == pytest.approx(float(sharpness_loss(worse, target,
                                                                                                     off)[0]))


def test_blended_training_pictures_lie_between_the_domains_and_keep_their_image_as_target(plain_exported):
    """Blends: a code part-way to a face of the other domain, drawn at the blended domain value,
    the image it starts from as its target (what a morph strip's frames look like)."""
    from data.dataset import FaceDataset
    from vae.families import load_model_folder
    from vae.refiner import training_pairs

    dataset = FaceDataset.load(plain_exported.parent / "data.npz")
    model = load_model_folder(plain_exported.parent / "run")
    train = np.flatnonzero(dataset.split == "train")
    plain, owners, domains = training_pairs(model, dataset, 1, 0)
    pictures, owners_blended, blended = training_pairs(model, dataset, 1, 0, blends=1, max_blend=0.4)
    assert len(plain) == 2 * len(train) and len(pictures) == 3 * len(train)
    np.testing.assert_array_equal(pictures[:len(plain)], plain)  # the same pictures first, then the blends
    np.testing.assert_array_equal(owners_blended[len(plain):], train)
    emoji = dataset.domain[train] == "emoji"
    tail = blended[len(plain):]
    assert np.all(tail[~emoji] <= 0.4 + 1e-6) and np.all(tail[emoji] >= 0.6 - 1e-6)
    assert 0.05 < tail[~emoji].mean() < 0.35 and not np.isin(tail, [0.0, 1.0]).all()
    # each chunk of 64 images is drawn from its means first: those pictures against the blends'
    means = np.concatenate([plain[2 * start:2 * start + len(train[start:start + 64])]
                            for start in range(0, len(train), 64)])
    moved = np.abs(pictures[len(plain):].astype(int) - means.astype(int)).mean(axis=(1, 2, 3))
    assert (moved > 0).mean() > 0.9
