import numpy as np
import pytest

from common.errors import UserError
from vae.config import PRESETS, VAEConfig, preset, read_history
from vae.families import build_vae, load_model_folder, load_vae
from vae.metrics import evaluate
from vae.train import main as train_main
from vae.train import train


def test_seed_preset_is_the_baseline_architecture():
    cfg = preset("seed")
    model = build_vae(cfg)
    convs = [layer for layer in model.encoder.layers if layer.name.startswith("enc_conv")]
    assert [c.filters for c in convs] == [32, 64, 64, 64] and all(c.strides == (2, 2) for c in convs)
    assert cfg.latent_dim == 200 and cfg.dropout == 0.25 and cfg.batch_norm
    assert cfg.reconstruction_weight == 10000 and cfg.beta == 1.0 and cfg.batch_size == 512 and cfg.epochs == 250
    assert model.decoder.output_shape == (None, 64, 64, 3)


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_maps_images_to_images(name):
    cfg = preset(name)
    model = build_vae(cfg)
    side = cfg.image_size
    images = np.random.default_rng(0).integers(0, 256, (3, side, side, 3), dtype=np.uint8)
    mean, log_var = model.encode(images)
    assert mean.shape == log_var.shape == (3, cfg.latent_dim)
    out = model.reconstruct(images)
    assert out.shape == (3, side, side, 3) and np.all((out >= 0) & (out <= 1))
    assert model.sample(5, temperature=0.5).shape == (5, side, side, 3)


def test_config_round_trips_through_json(tmp_path):
    cfg = preset("default").override(latent_dim=32)
    cfg.save(tmp_path / "config.json")
    assert VAEConfig.load(tmp_path / "config.json") == cfg
    with pytest.raises(ValueError, match="unknown config keys"):
        VAEConfig.from_dict({"latent_size": 3})


def test_tiny_preset_trains_and_its_loss_falls(small_dataset, tmp_path):
    model, history = train(preset("tiny").override(epochs=3), small_dataset, tmp_path, verbose=0)
    losses = [float(row["loss"]) for row in history]
    assert len(history) == 3 and losses[-1] < losses[0]
    assert all(np.isfinite(float(row[k])) for row in history for k in ("val_mse", "val_kl", "val_ssim"))
    written = read_history(tmp_path / "history.csv")
    assert [int(r["epoch"]) for r in written] == [1, 2, 3]


def test_a_diverging_run_stops_with_one_sentence_and_writes_no_model(small_dataset, tmp_path):
    # a step far too large: the loss leaves the finite numbers within the first epoch
    with pytest.raises(UserError, match="diverged in epoch 1 .* no epoch finished"):
        train(preset("tiny").override(epochs=2, learning_rate=1e4), small_dataset, tmp_path, verbose=0)
    assert not (tmp_path / "model.keras").exists() and not (tmp_path / "checkpoint.keras").exists()
    assert not (tmp_path / "history.csv").exists()


def test_save_load_decode_is_bit_identical(tmp_path):
    model = build_vae(preset("tiny"))
    model.save(tmp_path / "model.keras")
    loaded = load_vae(tmp_path / "model.keras")
    z = np.random.default_rng(1).standard_normal((4, model.cfg.latent_dim)).astype(np.float32)
    np.testing.assert_array_equal(model.decode(z), loaded.decode(z))
    assert loaded.cfg == model.cfg


def test_evaluate_figures_are_finite_and_in_range(small_dataset):
    model = build_vae(preset("tiny"))
    results = evaluate(model, small_dataset)
    assert set(results) == {"lego", "emoji"}
    for domain in ("lego", "emoji"):
        m = results[domain]
        assert 0 <= m["mse"] <= 1 and -1 <= m["ssim"] <= 1 and m["kl"] >= 0
        assert 0 <= m["active_units"] <= m["latent_dim"] == 16
        assert len(m["kl_per_dimension"]) == 16 and all(np.isfinite(m["kl_per_dimension"]))


def test_resume_continues_epochs_and_history(small_dataset, tmp_path):
    data = tmp_path / "data.npz"
    small_dataset.save(data)
    out = tmp_path / "run"
    # a list override must survive the round trip through config.json, or --resume refuses the run
    args = ["--data", str(data), "--preset", "tiny", "--out", str(out), "--quiet", "--stage", "vae",
            "--set", "encoder_filters=[8, 16, 16, 16]"]
    assert train_main(args + ["--epochs", "2"]) == 0
    first = read_history(out / "history.csv")
    # continue the finished 2-epoch run to 3 epochs
    assert train_main(args + ["--epochs", "3", "--resume"]) == 0
    history = read_history(out / "history.csv")
    assert [int(r["epoch"]) for r in history] == [1, 2, 3]
    assert history[:2] == first
    assert float(history[2]["seconds"]) > float(history[1]["seconds"])
    saved = VAEConfig.load(out / "config.json")
    assert saved.epochs == 3 and saved.schedule_epochs == 2  # the schedule that ran, not the new count
    refused = train_main(args + ["--epochs", "4", "--resume", "--set", "beta=0.25"])
    assert refused == 2
    # `--resume` alone carries on with the run's own config, its --set included
    assert train_main(["--data", str(data), "--out", str(out), "--quiet", "--stage", "vae", "--epochs", "4",
                       "--resume"]) == 0
    assert [int(r["epoch"]) for r in read_history(out / "history.csv")] == [1, 2, 3, 4]
    assert VAEConfig.load(out / "config.json") == saved.override(epochs=4)


@pytest.mark.parametrize("override, named", [("beta=abc", "beta must be a number"),
                                              ("encoder_filters=7", "encoder_filters must be a list"),
                                              ("batch_size=2.5", "batch_size must be a whole number"),
                                              ("nonsense=1", "unknown config keys: nonsense")])
def test_a_bad_override_is_one_sentence(tmp_path, capsys, override, named):
    with pytest.raises(SystemExit) as stopped:
        train_main(["--out", str(tmp_path / "run"), "--set", override])
    assert stopped.value.code == 2
    assert named in capsys.readouterr().err


def test_a_shared_config_refuses_the_fields_its_family_never_reads():
    with pytest.raises(ValueError, match="does not use ssim_weight"):
        preset("default").override(ssim_weight=300.0)
    with pytest.raises(ValueError, match="does not use batch_norm, dropout"):
        preset("tiny-shared").override(batch_norm=True, dropout=0.1)


def test_a_saved_model_keeps_the_vocabulary_it_was_built_for(tmp_path):
    cfg = preset("tiny-shared").override(expressions=["smile", "sad", "wink"])
    build_vae(cfg).save(tmp_path / "model.keras")
    loaded = load_vae(tmp_path / "model.keras")
    assert loaded.cfg.expressions == ("smile", "sad", "wink") and loaded.tag_count == 3
    assert loaded.expression_logits(np.zeros(cfg.latent_dim)).shape == (1, 3)


def test_resume_without_the_runs_config_is_one_sentence(small_dataset, tmp_path, capsys):
    data = tmp_path / "data.npz"
    small_dataset.save(data)
    out = tmp_path / "run"
    args = ["--data", str(data), "--preset", "tiny", "--out", str(out), "--quiet", "--epochs", "1", "--stage", "vae"]
    assert train_main(args) == 0
    (out / "config.json").unlink()
    assert train_main(args + ["--resume"]) == 2
    assert "config.json" in capsys.readouterr().err


def test_a_latent_of_the_wrong_width_is_refused():
    model = build_vae(preset("tiny-shared"))
    with pytest.raises(ValueError, match="latents must have shape"):
        model.decode(np.zeros((2, model.cfg.latent_dim + 1)))
    assert model.decode(np.zeros(model.cfg.latent_dim)).shape[0] == 1


def test_training_cli_errors_are_one_line(tmp_path, capsys):
    assert train_main(["--data", str(tmp_path / "missing.npz"), "--out", str(tmp_path / "run")]) == 2
    assert "python -m data.build" in capsys.readouterr().err


def test_broken_model_file_gives_a_clear_error(tmp_path):
    (tmp_path / "model.keras").write_bytes(b"PK\x03\x04 not really a model")
    with pytest.raises(UserError, match="not a loadable Legomoji model"):
        load_model_folder(tmp_path)
    with pytest.raises(UserError, match="no model at"):
        load_model_folder(tmp_path / "nowhere")


def test_training_is_deterministic_for_a_seed(small_dataset, tmp_path):
    cfg = preset("tiny").override(epochs=1)
    first, _ = train(cfg, small_dataset, tmp_path / "a", verbose=0)
    second, _ = train(cfg, small_dataset, tmp_path / "b", verbose=0)
    for a, b in zip(first.get_weights(), second.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_shipped_assets_load_and_decode(engine):
    """The pretrained default in assets/ opens in safe mode and reconstructs its own dataset well."""
    from explorer.engine import DEFAULT_ASSETS

    assert engine.model.cfg == VAEConfig.load(DEFAULT_ASSETS / "config.json")
    images = engine.dataset.images[::50]
    decoded = engine.decode(engine.maps.means[::50], (engine.dataset.domain[::50] == "emoji").astype(float))
    assert decoded.shape == images.shape and decoded.dtype == np.uint8
    mse = np.mean((decoded.astype(np.float32) - images) ** 2) / 255.0 ** 2
    assert mse < 0.02
    # the shipped codes are the Keras encoder's, stored as float16 (vae.export); the served
    # encoder stores int8 weights (vae/lite_export.py), whose codes stay within a hundredth of their spread
    codes, shipped = engine.encode_means(images), engine.maps.means[::50]
    assert np.sqrt(np.mean((codes - shipped) ** 2)) < 0.01 * np.std(shipped)
    assert (DEFAULT_ASSETS / "ATTRIBUTION.md").is_file()
    # a guard against accidental bloat: the Keras model and its LiteRT files (vae/lite.py) are
    # about 23 and 21 MB; the bench measures the size against its goal
    assert sum(p.stat().st_size for p in DEFAULT_ASSETS.iterdir()) < 45 * 2**20


def test_a_shipped_model_loads_with_plain_keras_after_importing_the_registry():
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    script = ("import keras, vae.families\n"
              "model = keras.saving.load_model('assets/model.keras', safe_mode=True)\n"
              "print(type(model).__name__, model.domain_conditioned, model.expression_dims)\n")
    done = subprocess.run([sys.executable, "-c", script], cwd=root, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split()[-3:] == ["SharedVAE", "True", str(VAEConfig.load(root / "assets" / "config.json")
                                                                 .expression_dims)]


def test_no_family_imports_the_registry_or_a_subclass():
    import ast
    from pathlib import Path

    def imported(module: str) -> set[str]:
        tree = ast.parse((Path(__file__).resolve().parents[1] / "vae" / f"{module}.py").read_text())
        return {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)} | {
            alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}

    assert not imported("model") & {"vae.shared", "vae.families"}
    assert "vae.families" not in imported("shared")


def test_neither_the_model_nor_the_app_imports_the_research_tools():
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    sources = [p for folder in ("vae", "explorer", "data", "common") for p in (root / folder).rglob("*.py")
               if "eval" not in p.relative_to(root).parts] + [root / "streamlit_app.py"]
    found = {}
    for path in sources:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)} | {
            alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
        found[path.relative_to(root).as_posix()] = {n for n in names if n == "vae.eval" or n.startswith("vae.eval.")}
    assert "vae/export.py" in found and "explorer/engine.py" in found  # the walk reached both sides
    assert not {path: names for path, names in found.items() if names}


@pytest.mark.parametrize("name", ["tiny", "tiny-shared"])
def test_a_built_model_has_the_capabilities_its_config_promises(name):
    cfg = preset(name)
    model = build_vae(cfg)
    assert model.domain_conditioned == cfg.domain_conditioned
    assert model.expression_dims == cfg.expression_part
    assert cfg.expression_part == (cfg.expression_dims if name == "tiny-shared" else 0)


def test_half_precision_weights_halve_the_file_and_decode_alike(tmp_path):
    from vae.export import write_half_precision_model

    model = build_vae(preset("tiny-shared"))
    model.save(tmp_path / "full.keras")
    write_half_precision_model(tmp_path / "full.keras", tmp_path / "half.keras")
    assert (tmp_path / "half.keras").stat().st_size < 0.6 * (tmp_path / "full.keras").stat().st_size
    half = load_vae(tmp_path / "half.keras")
    assert all(w.dtype == np.float32 for w in half.get_weights())
    z = np.random.default_rng(0).normal(size=(4, model.cfg.latent_dim)).astype(np.float32)
    assert np.abs(half.decode(z, 1.0) - model.decode(z, 1.0)).max() < 0.01


def test_a_config_saved_with_a_retired_experiment_off_loads_and_one_with_it_on_is_refused(tmp_path):
    import json

    from vae.config import RETIRED_FIELDS, read_config

    cfg = preset("tiny-shared")
    saved = {**json.loads(cfg.to_json()), **RETIRED_FIELDS}  # a config written while they existed
    (tmp_path / "off.json").write_text(json.dumps(saved))
    assert read_config(tmp_path / "off.json", "train it again") == cfg
    assert VAEConfig.from_dict(saved) == cfg  # as a saved model.keras rebuilds its config
    (tmp_path / "on.json").write_text(json.dumps({**saved, "spatial_channels": 2}))
    with pytest.raises(UserError, match=r"on.json turns on spatial_channels=2, an experiment this version no longer"):
        read_config(tmp_path / "on.json", "train it again")


@pytest.mark.parametrize("name", ["tiny", "tiny-shared"])
def test_a_fitted_code_draws_its_picture_closer_than_the_encoders_guess(name, small_dataset):
    from vae.fit import fitted_codes

    model = build_vae(preset(name))
    images = small_dataset.images[:3]
    guess = fitted_codes(model, images, 1.0, steps=0)
    assert np.allclose(guess, model.encode(images)[0])
    fitted = fitted_codes(model, images, 1.0, steps=25)
    errors = [np.mean((model.decode(z, 1.0) - images / 255.0) ** 2, axis=(1, 2, 3)) for z in (guess, fitted)]
    assert fitted.shape == guess.shape and np.isfinite(fitted).all()
    assert (errors[1] < errors[0]).all(), errors
    # with a lock, each model call holds it for a slice of steps only, and the fit is the same
    from vae.fit import SLICE

    class Counted:
        held = 0

        def __enter__(self):
            Counted.held += 1

        def __exit__(self, *exc):
            return False

    assert np.allclose(fitted_codes(model, images, 1.0, steps=25, lock=Counted()), fitted, atol=1e-5)
    assert Counted.held == 1 + -(-25 // SLICE) > 2
    # the evaluation reports the SSIM of the same fitted redraws beside the encoder's
    import tensorflow as tf

    from vae.metrics import image_metrics

    metrics = image_metrics(model, images, 1.0, fit_steps=25)
    redrawn = tf.image.ssim(tf.constant(images / 255.0, tf.float32), tf.constant(model.decode(fitted, 1.0)), 1.0)
    assert metrics["fit_steps"] == 25 and np.isclose(metrics["ssim_fitted"], float(np.mean(redrawn)), atol=1e-4)
    assert "ssim_fitted" not in image_metrics(model, images, 1.0)
