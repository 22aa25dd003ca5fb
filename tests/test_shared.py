"""The shared model family and the latent-space operations built on it."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from common.errors import UserError
from data.labels import EXPRESSIONS
from vae import latent
from vae.config import preset, read_history
from vae.eval.alignment import domain_accuracy, expression_neighbour_rate, identity_kept
from vae.families import build_vae, load_model_folder
from vae.model import kl_per_dimension
from vae.space import LatentSpace, domain_value
from vae.train import train

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def trained(small_dataset, tmp_path_factory):
    out = tmp_path_factory.mktemp("shared")
    model, history = train(preset("tiny-shared").override(epochs=3), small_dataset, out, verbose=0)
    return model, history, out


def test_the_shared_family_trains_every_term_and_its_loss_falls(trained):
    model, history, out = trained
    losses = [float(row["loss"]) for row in history]
    assert len(history) == 3 and losses[-1] < losses[0]
    for column in ("val_mse", "val_ssim", "domain_mmd", "domain_adversary", "expression", "content_adversary"):
        assert all(np.isfinite(float(row[column])) for row in history), column
    assert [int(r["epoch"]) for r in read_history(out / "history.csv")] == [1, 2, 3]


def test_a_shared_model_reloads_in_safe_mode_and_decodes_the_same(trained, small_dataset):
    model, _, out = trained
    loaded = load_model_folder(out)
    assert type(loaded).__name__ == "SharedVAE" and loaded.cfg == model.cfg
    z = model.encode(small_dataset.images[:4])[0]
    assert np.allclose(loaded.decode(z, 1.0), model.decode(z, 1.0), atol=1e-6)


def test_a_shared_run_resumes_from_its_checkpoint(small_dataset, tmp_path):
    """The checkpoint's optimizer state follows the model's weight order, adversaries included."""
    cfg = preset("tiny-shared").override(epochs=1)
    train(cfg, small_dataset, tmp_path, verbose=0)
    model, history = train(cfg.override(epochs=2), small_dataset, tmp_path, resume=True, verbose=0)
    assert [int(r["epoch"]) for r in history] == [1, 2]
    from vae.families import load_vae

    steps = -(-int((small_dataset.split == "train").sum()) // cfg.batch_size)
    assert int(load_vae(tmp_path / "checkpoint.keras", compile=True).optimizer.iterations.numpy()) == 2 * steps


def test_the_domain_condition_changes_the_picture_and_mixes_between(trained, small_dataset):
    model = trained[0]
    z = model.encode(small_dataset.images[:6])[0]
    lego, emoji, mix = model.decode(z, 0.0), model.decode(z, 1.0), model.decode(z, 0.5)
    assert np.abs(lego - emoji).mean() > 1e-4  # small after three tiny epochs, but never nothing
    assert np.abs(mix - lego).mean() < np.abs(emoji - lego).mean()
    per_image = model.decode(z, np.array([0, 1, 0, 1, 0, 1], np.float32))
    assert np.allclose(per_image[1], emoji[1], atol=1e-6) and np.allclose(per_image[0], lego[0], atol=1e-6)


def test_the_encoder_reads_each_image_domain(trained, small_dataset, engine):
    read = trained[0].domain_of(small_dataset.images)
    assert read.shape == (len(small_dataset),) and np.all((read >= 0) & (read <= 1))
    shipped = engine  # the trained domain head tells real Lego faces from emoji
    val = shipped.dataset.split == "val"
    read = shipped.domain_of(shipped.dataset.images[val])
    assert ((read > 0.5) == (shipped.dataset.domain[val] == "emoji")).mean() > 0.95


def test_numpy_and_keras_kl_per_dimension_agree():
    rng = np.random.default_rng(0)
    means, log_vars = rng.normal(size=(7, 5)), rng.normal(scale=0.5, size=(7, 5))
    keras_kl = np.asarray(kl_per_dimension(means.astype(np.float32), log_vars.astype(np.float32))).mean(axis=0)
    assert np.allclose(latent.kl_per_dimension(means, log_vars), keras_kl, atol=1e-5)


def test_domain_mmd_sees_shifted_domains_and_nothing_else():
    import tensorflow as tf

    from vae.shared import domain_mmd

    rng = np.random.default_rng(0)
    z = rng.normal(size=(64, 8)).astype(np.float32)
    domain = np.repeat([0.0, 1.0], 32).astype(np.float32)[:, None]
    same = float(domain_mmd(tf.constant(z), tf.constant(domain)))
    shifted = z.copy()
    shifted[32:, 0] += 3.0
    apart = float(domain_mmd(tf.constant(shifted), tf.constant(domain)))
    one_domain = float(domain_mmd(tf.constant(shifted), tf.constant(np.zeros_like(domain))))
    assert apart > 5 * same and one_domain == 0.0


def tagged_space(domain_conditioned: bool, expression_dims: int = 2) -> LatentSpace:
    rng = np.random.default_rng(0)
    means = rng.normal(size=(40, 6))
    domains = np.array(["lego"] * 20 + ["emoji"] * 20)
    tags = np.zeros((40, len(EXPRESSIONS)), bool)
    tags[::2, EXPRESSIONS.index("smile")] = True
    tags[1::2, EXPRESSIONS.index("sad")] = True
    return LatentSpace(means, domains, tags, domain_conditioned, expression_dims)


def test_shared_transfer_moves_only_the_expression_dims():
    space = tagged_space(True)
    face, emoji = space.means[0], space.means[25]
    moved = space.transfer(face, 1.0, emoji_z=emoji)
    assert np.allclose(moved[:2], emoji[:2]) and np.allclose(moved[2:], face[2:])
    assert np.allclose(space.transfer(face, 0.0, tag="sad"), face)
    towards = space.transfer(face, 1.0, tag="sad")
    assert np.allclose(towards[:2], space.means[space.tag_column("sad")].mean(axis=0)[:2])
    with pytest.raises(ValueError, match="either an expression tag or an emoji"):
        space.transfer(face, 1.0, tag="sad", emoji_z=emoji)
    with pytest.raises(ValueError, match="either an expression tag or an emoji"):
        space.transfer(face, 1.0)


def test_translation_keeps_a_conditioned_code_and_shifts_an_unconditioned_one():
    shared, plain = tagged_space(True), tagged_space(False, 0)
    z = shared.means[3]
    assert np.allclose(shared.translate(z, "lego", "emoji"), z)
    shift = plain.domain_mean("emoji") - plain.domain_mean("lego")
    assert np.allclose(plain.translate(z, "lego", "emoji"), z + shift)
    assert domain_value("emoji") == 1.0 and domain_value(0.25) == 0.25
    with pytest.raises(ValueError, match="unknown domain"):
        domain_value("duplo")


def test_a_conditioned_model_without_expression_dims_translates_once_and_transfers_by_attribute():
    space = tagged_space(True, expression_dims=0)
    face, emoji = space.means[0], space.means[25]
    assert np.allclose(space.translate(face, "lego", "emoji"), face)  # the condition does the work, once
    moved = space.transfer(face, 1.0, emoji_z=emoji)
    assert np.allclose(moved, face + emoji - space.domain_mean("emoji"))  # every dim moves: none is set apart


def test_the_fitted_mixture_samples_where_the_codes_are():
    rng = np.random.default_rng(0)
    codes = np.concatenate([rng.normal(-4, 0.3, (200, 3)), rng.normal(4, 0.3, (200, 3))])
    mixture = latent.fit_gaussian_mixture(codes, 4)
    samples = latent.sample_gaussian_mixture(mixture, 500, seed=1)
    assert samples.shape == (500, 3)
    assert np.all(np.min(np.abs(samples[:, :1] - np.array([[-4, 4]])), axis=1) < 2.0)  # never between the blobs
    assert np.allclose(latent.sample_gaussian_mixture(mixture, 5, seed=2), latent.sample_gaussian_mixture(mixture, 5,
                                                                                                           seed=2))


def test_alignment_measures_tell_separated_from_shared_codes():
    rng = np.random.default_rng(0)
    domains = np.array(["lego"] * 100 + ["emoji"] * 100)
    shared = rng.normal(size=(200, 4))
    apart = shared + (domains == "emoji")[:, None] * 5.0
    assert domain_accuracy(apart, domains)["accuracy"] > 0.95
    assert domain_accuracy(shared, domains)["accuracy"] < 0.7
    tags = np.zeros((200, len(EXPRESSIONS)), bool)
    tags[:, 0] = np.tile(np.arange(100) % 2 == 0, 2)
    tags[:, 1] = ~tags[:, 0]
    aligned = np.concatenate([tags[:, :2] * 3.0, rng.normal(scale=0.1, size=(200, 2))], axis=1)
    good = expression_neighbour_rate(aligned, domains, tags)
    bad = expression_neighbour_rate(shared, domains, tags)
    assert good["rate"] == 1.0 and good["ratio"] > 1.9 and bad["ratio"] < 1.3


def test_identity_is_kept_only_when_the_source_is_among_the_nearest():
    rng = np.random.default_rng(0)
    originals = rng.integers(0, 256, (10, 8, 8, 3), dtype=np.uint8)
    indices = np.arange(100, 110)
    kept = identity_kept(originals[[2, 7]], np.array([102, 103]), originals, indices, rank=1)
    assert kept.tolist() == [True, False]


def test_mirrored_strategy_learns_what_one_device_learns(small_dataset, tmp_path):
    """Two logical CPU devices under MirroredStrategy against one device, same data and seed."""
    data = tmp_path / "data.npz"
    small_dataset.save(data)
    script = """
import json, sys
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from pathlib import Path
from data.dataset import FaceDataset
from vae.config import preset
from vae.train import train
strategy, out = sys.argv[1], Path(sys.argv[2])
_, history = train(preset("tiny-shared").override(epochs=2), FaceDataset.load(sys.argv[3]), out, verbose=0,
                   strategy=strategy)
print(json.dumps({"replicas": tf.distribute.MirroredStrategy().num_replicas_in_sync if strategy == "mirrored" else 1,
                  "history": history}))
"""
    runs = {strategy: subprocess.Popen([sys.executable, "-c", script, strategy, str(tmp_path / strategy), str(data)],
                                       cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for strategy in ("default", "mirrored")}  # side by side: most of each is starting TensorFlow
    results = {}
    for strategy, run in runs.items():
        out, err = run.communicate(timeout=600)
        assert run.returncode == 0, err[-2000:]
        results[strategy] = json.loads(out.strip().splitlines()[-1])
    assert results["mirrored"]["replicas"] == 2
    one, two = (results[s]["history"] for s in ("default", "mirrored"))
    # the same data, seed and global batch: the same reconstruction error and structure, up to
    # the per-replica batch statistics (sigma-VAE's batch MSE, the domain discrepancy)
    one_mse, two_mse = float(one[-1]["val_mse"]), float(two[-1]["val_mse"])
    assert abs(one_mse - two_mse) / one_mse < 0.2, (one_mse, two_mse)
    assert abs(float(one[-1]["val_ssim"]) - float(two[-1]["val_ssim"])) < 0.05
    assert float(two[-1]["loss"]) < float(two[0]["loss"])


def test_a_run_started_from_a_trained_run_copies_every_network_the_two_share(trained, small_dataset, tmp_path):
    """--init-from copies each network of the same name and shape; the others start fresh."""
    from vae.train import warm_start

    model, _, run = trained
    cfg = model.cfg.override(expression_dims=2, epochs=1)  # a narrower expression part
    fresh = build_vae(cfg)
    copied = warm_start(fresh, run, verbose=0)
    assert {"encoder", "decoder", "domain_adversary", "domain_probe"} <= set(copied)
    assert not {"expression_classifier", "content_adversary"} & set(copied)
    z = model.encode(small_dataset.images[:4])[0]
    assert np.allclose(fresh.decode(z, 0.0), model.decode(z, 0.0), atol=1e-6)
    tuned, history = train(cfg, small_dataset, tmp_path, verbose=0, init_from=run)
    assert np.isfinite(float(history[-1]["loss"]))
    assert np.allclose(load_model_folder(tmp_path).decode(z, 0.0), tuned.decode(z, 0.0), atol=1e-6)
    other = build_vae(preset("tiny"))
    with pytest.raises(UserError, match="shares"):
        warm_start(other, run, verbose=0)


def test_the_alignment_report_judges_the_space_the_studio_and_translation(trained, small_dataset):
    from vae.eval.alignment import alignment_report
    from vae.eval.evaluate import format_alignment

    model = trained[0]
    real = small_dataset.real()
    # codes that tell the domain by themselves
    means = np.random.default_rng(0).standard_normal((len(real), model.cfg.latent_dim))
    means[:, 8:] += 3.0 * (real.domain == "emoji")[:, None]
    space = LatentSpace.of_model(model.cfg, means, real.domain, real.tag_matrix())
    report = alignment_report(model, space, real.images, 1.0, pairs=8, cnn=False)
    assert report["domain_accuracy"]["accuracy"] == 1.0
    transfer = report["transfer"]
    assert 0 < transfer["printed_share"] <= 1 and transfer["fit_steps"] > 0  # the printed way's share
    assert set(transfer) >= {"printed", "printed_encoder", "emoji", "tag", "print_itself", "unchanged"}
    assert set(report["translation"]) == {"lego_to_emoji", "emoji_to_lego"}
    assert "domain accuracy from the code: 1.000" in format_alignment(report)


def test_the_judges_accuracy_is_scored_on_each_domains_faces_alone(small_dataset):
    from vae.eval.judge import MIN_DOMAIN_POSITIVES, cross_validate, face_groups, per_domain_line, tag_accuracy

    tags = np.zeros((4, len(EXPRESSIONS)), np.float32)
    tags[:2, 0] = 1  # two smiling faces of four: the first found, the third wrongly seen smiling
    guesses = np.zeros_like(tags)
    guesses[[0, 2], 0] = 0.9
    assert tag_accuracy(tags, guesses) == {"smile": {"positives": 2, "balanced_accuracy": 0.5, "recall": 0.5}}
    dataset = small_dataset.subset(~small_dataset.augmented)
    report = cross_validate(dataset.images, dataset.domain, dataset.tag_matrix(),
                            face_groups(dataset.domain, dataset.name), folds=2, epochs=1)
    for domain in ("lego", "emoji"):
        matrix = dataset.tag_matrix()[dataset.domain == domain]
        scored = {t for t, count in zip(EXPRESSIONS, matrix.sum(axis=0)) if count >= MIN_DOMAIN_POSITIVES}
        assert set(report["per_domain"][domain]["tags"]) == scored and scored
        assert 0 <= report["per_domain"][domain]["mean_balanced_accuracy"] <= 1
    line = per_domain_line(report)
    assert "lego faces alone" in line and "emoji faces alone" in line
    report["per_domain"]["lego"] = {"tags": {}, "mean_balanced_accuracy": None}  # no tag on 3 Lego faces
    assert "lego faces alone: no tag" in per_domain_line(report)
