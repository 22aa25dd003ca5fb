"""Train a VAE, then its decoder's second stage, on a dataset built by `python -m data.build`:
`python -m vae.train --help`.

Every epoch writes a checkpoint and the CSV history atomically, so an interrupted run loses
at most the epoch in progress and `--resume` carries on from the last checkpoint. The decoder's
second stage (vae.refiner: the decoder fine-tuned with the encoder frozen, then the refiner)
runs after the VAE, or alone on a trained run with `--stage refiner --model RUN`.
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import math
import sys
import time
from pathlib import Path

from common.cli import deferred_interrupts, run_cli
from common.errors import UserError
from common.files import atomic_path, atomic_write_text
from data.dataset import FaceDataset
from vae.config import PRESETS, VAEConfig, preset, read_config, read_history

DEFAULT_DATA = Path("build") / "dataset-{size}.npz"


def parse_override(text: str) -> tuple[str, object]:
    """`key=value` with value parsed as JSON where possible (numbers, lists, booleans)."""
    key, separator, value = text.partition("=")
    if not separator:
        raise argparse.ArgumentTypeError(f"override {text!r} is not key=value")
    try:
        return key.strip(), json.loads(value)
    except json.JSONDecodeError:
        return key.strip(), value


def make_tf_dataset(dataset: FaceDataset, mask, batch_size: int, shuffle: bool, seed: int, pairs: bool = False,
                    vocabulary: tuple[str, ...] | None = None):
    """A tf.data pipeline of dict batches: float images in [0, 1], the domain (0 Lego, 1 emoji),
    the expression tags (B, T) and whether the image carries any tag; with `pairs`, also each
    image's expression and identity partner (itself, weight 0, where it has none)."""
    import numpy as np
    import tensorflow as tf

    tags = (dataset.tag_matrix(vocabulary) if vocabulary else dataset.tag_matrix())[mask].astype(np.float32)
    columns = {
        "images": dataset.images[mask],
        "domain": (dataset.domain[mask] == "emoji").astype(np.float32)[:, None],
        "tags": tags,
        "tagged": tags.any(axis=1).astype(np.float32),
    }
    image_keys = ["images"]
    if pairs:
        indices = np.flatnonzero(mask)
        for kind in ("expression", "identity"):
            partner = getattr(dataset, f"pair_{kind}")[mask]
            columns[f"{kind}_partner"] = dataset.images[np.where(partner >= 0, partner, indices)]
            columns[f"{kind}_paired"] = (partner >= 0).astype(np.float32)
            image_keys.append(f"{kind}_partner")
    data = tf.data.Dataset.from_tensor_slices(columns)
    if shuffle:
        data = data.shuffle(len(tags), seed=seed, reshuffle_each_iteration=True)
    return data.batch(batch_size).map(
        lambda b: {**b, **{key: tf.cast(b[key], tf.float32) / 255.0 for key in image_keys}}).prefetch(2)


def history_columns(model) -> tuple[str, ...]:
    names = tuple(model.loss_names)
    return ("epoch", "seconds", "kl_scale", *names, *(f"val_{n}" for n in names))


def write_history(path: Path, rows: list[dict], columns: tuple[str, ...]) -> None:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    atomic_write_text(path, buffer.getvalue())


def make_callbacks(model, cfg: VAEConfig, out: Path, history: list[dict], time_budget: float | None):
    """KL and adversary warm-ups, per-epoch checkpoint + history, an optional wall-clock budget,
    and a stop at the first step whose loss is not finite (the epoch's checkpoint is then not
    written, so the last one is the last good epoch; `diverged` holds the epoch)."""
    import keras

    columns = history_columns(model)

    class TrainingLog(keras.callbacks.Callback):
        diverged: int | None = None

        def on_train_begin(self, logs=None):
            self.started = time.perf_counter()
            self.elapsed_before = float(history[-1]["seconds"]) if history else 0.0

        def on_train_batch_end(self, batch, logs=None):
            if not math.isfinite(float((logs or {}).get("loss", 0.0))):
                self.diverged = self.epoch + 1
                model.stop_training = True

        def on_epoch_begin(self, epoch, logs=None):
            warmup = cfg.kl_warmup_epochs
            model.kl_scale.assign(min(1.0, (epoch + 1) / warmup) if warmup else 1.0)
            if hasattr(model, "adversary_scale"):
                warmup = cfg.adversary_warmup_epochs
                model.adversary_scale.assign(min(1.0, (epoch + 1) / warmup) if warmup else 1.0)
            self.epoch, self.epoch_started = epoch, time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            if self.diverged is not None:
                return
            elapsed = self.elapsed_before + time.perf_counter() - self.started
            row = {"epoch": epoch + 1, "seconds": round(elapsed, 2), "kl_scale": float(model.kl_scale.numpy())}
            row.update({k: float(v) for k, v in (logs or {}).items() if k in columns})
            history.append(row)
            with deferred_interrupts():  # a kill now lands after both files are whole and agree
                with atomic_path(out / "checkpoint.keras") as temporary:
                    model.save(temporary)
                write_history(out / "history.csv", history, columns)
            if time_budget is not None and time.perf_counter() - self.started >= time_budget:
                model.stop_training = True

    return [TrainingLog()]


def distribution_strategy(name: str):
    """The tf.distribute strategy for --strategy: "default" (one device) or "mirrored"
    (data-parallel over every local GPU, or the logical CPU devices configured)."""
    import tensorflow as tf

    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "default":
        return tf.distribute.get_strategy()
    raise ValueError(f"unknown strategy {name!r}: use 'default' or 'mirrored'")


def warm_start(model, source: Path, verbose: int = 1) -> list[str]:
    """Copy into `model` every network (encoder, decoder, adversaries, ...) of the trained model
    in `source` (a run folder or a .keras file) that has the same name and weight shapes; any
    other starts fresh. Returns the names copied; UserError when none could be."""
    from vae.families import load_model_folder

    trained = {layer.name: layer for layer in load_model_folder(source).layers if layer.weights}
    copied, fresh = [], []
    for layer in model.layers:
        if not layer.weights:
            continue
        match = trained.get(layer.name)
        if match is not None and [w.shape for w in match.weights] == [w.shape for w in layer.weights]:
            layer.set_weights(match.get_weights())
            copied.append(layer.name)
        else:
            fresh.append(layer.name)
    if not copied:
        raise UserError(f"{source} holds no network this model shares (another family or size?): "
                        "start without --init-from.")
    if verbose:
        print(f"started from {source}: {', '.join(copied)}" + (f"; fresh: {', '.join(fresh)}" if fresh else ""))
    return copied


def resume_hint(out: Path) -> str:
    return f"resume needs the config.json that {out} was trained with; start a new run with another --out"


def train(cfg: VAEConfig, dataset: FaceDataset, out: Path, resume: bool = False, time_budget: float | None = None,
          verbose: int = 1, strategy: str = "default", init_from: Path | None = None):
    """Train (or resume) and write model.keras, config.json and history.csv into `out`; a new
    run starts from the weights of `init_from` where it can (see warm_start)."""
    import keras
    import tensorflow as tf

    from vae.families import build_vae, load_vae

    pairs = bool(cfg.pair_weight) and cfg.domain_conditioned

    if dataset.size != cfg.image_size:
        raise UserError(f"the dataset holds {dataset.size}px images but the model expects {cfg.image_size}px: "
                          f"rebuild with `python -m data.build --size {cfg.image_size}` or pass --set image_size=...")
    out.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(cfg.seed)
    if strategy == "default":
        tf.config.experimental.enable_op_determinism()
    distribution = distribution_strategy(strategy)
    train_mask, val_mask = dataset.split == "train", dataset.split == "val"
    steps = -(-int(train_mask.sum()) // cfg.batch_size)

    history: list[dict] = []
    initial_epoch = 0
    with distribution.scope():
        if resume and (out / "checkpoint.keras").is_file():
            saved = read_config(out / "config.json", resume_hint(out))
            # only the number of epochs may change on resume; the schedule stays the one that ran
            cfg = cfg.override(schedule_epochs=saved.schedule_length)
            if saved.override(epochs=cfg.epochs, schedule_epochs=saved.schedule_length) != cfg:
                raise UserError(f"{out} holds a run with another config: resume without overrides or pick a "
                                  "new --out.")
            cfg.save(out / "config.json")
            model = load_vae(out / "checkpoint.keras", compile=True)  # with its optimizer state
            # the checkpoint's own optimizer step count says how many epochs it holds
            initial_epoch = int(model.optimizer.iterations.numpy()) // steps
            history = read_history(out / "history.csv")[:initial_epoch]
        else:
            if resume and verbose:
                print(f"no checkpoint in {out}: starting from scratch")
            cfg = cfg.override(schedule_epochs=cfg.schedule_length)  # what the optimizer will follow
            model = build_vae(cfg)
            if init_from is not None:
                warm_start(model, init_from, verbose)
            learning_rate = cfg.learning_rate if cfg.lr_schedule == "constant" else \
                keras.optimizers.schedules.CosineDecay(cfg.learning_rate, decay_steps=cfg.schedule_length * steps,
                                                       alpha=0.05)
            model.compile(optimizer=keras.optimizers.Adam(learning_rate))
            cfg.save(out / "config.json")
    if initial_epoch >= cfg.epochs:
        if verbose:
            print(f"{out} already finished its {cfg.epochs} epochs")
    else:
        model.fit(
            make_tf_dataset(dataset, train_mask, cfg.batch_size, True, cfg.seed, pairs, cfg.expressions),
            validation_data=make_tf_dataset(dataset, val_mask, cfg.batch_size, False, cfg.seed, pairs, cfg.expressions)
            if val_mask.any() else None,
            epochs=cfg.epochs, initial_epoch=initial_epoch, verbose=verbose,
            callbacks=(callbacks := make_callbacks(model, cfg, out, history, time_budget)),
        )
        if callbacks[0].diverged is not None:
            kept = f"its checkpoint holds epoch {len(history)}: `--resume` carries on from it" if history \
                else "no epoch finished"
            raise UserError(f"training diverged in epoch {callbacks[0].diverged} (its loss is no longer a finite "
                            f"number) and stopped; {kept}; a lower learning rate (--set learning_rate=...) is "
                            "steadier.")
    final = build_vae(cfg)  # a copy without optimizer state: what the dashboard loads
    final.set_weights(model.get_weights())
    with atomic_path(out / "model.keras") as temporary:
        final.save(temporary)
    return final, history


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vae.train", description=__doc__)
    parser.add_argument("--data", type=Path, help=f"dataset file (default {DEFAULT_DATA}, size from the preset)")
    parser.add_argument("--preset", choices=sorted(PRESETS), help="the config to start from (default: default)")
    parser.add_argument("--set", dest="overrides", type=parse_override, action="append", default=[],
                        metavar="KEY=VALUE", help="override a config field, e.g. --set latent_dim=32")
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--out", type=Path, help="output folder (default runs/<preset>)")
    parser.add_argument("--resume", action="store_true",
                        help="continue from the checkpoint in --out with the config it was trained with (a --preset "
                             "or --set given too must agree with it); only --epochs may change")
    parser.add_argument("--init-from", type=Path, help="a trained run (or .keras file) to start a new run from: "
                        "every network it shares with the new model starts with its weights")
    parser.add_argument("--time-budget", type=float, help="stop after this many seconds of training")
    parser.add_argument("--strategy", default="default", choices=("default", "mirrored"),
                        help="mirrored: data-parallel over the local devices (tf.distribute.MirroredStrategy)")
    parser.add_argument("--stage", choices=("all", "vae", "refiner"), default="all",
                        help="all: the VAE, then its second stage (default); vae: the VAE alone; refiner: the second "
                             "stage alone (the decoder fine-tuned once, then the refiner), on the trained run in "
                             "--model (with --resume, carry on its refiner)")
    parser.add_argument("--model", type=Path, help="with --stage refiner: the trained run (or exported model "
                        "folder) whose refiner to train; its refiner files are written there")
    parser.add_argument("--refiner-set", dest="refiner_overrides", type=parse_override, action="append", default=[],
                        metavar="KEY=VALUE", help="override a refiner setting, e.g. --refiner-set minutes=10")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    if args.stage == "refiner":
        if args.model is None:
            parser.error("--stage refiner needs --model RUN: the trained run whose refiner to train")
        return train_refiner_stage(args.model, args.data, dict(args.refiner_overrides), args.resume, args.quiet)
    overrides = dict(args.overrides)
    if args.epochs:
        overrides["epochs"] = args.epochs
    if args.batch_size:
        overrides["batch_size"] = args.batch_size
    out = args.out or Path("runs") / (args.preset or "default")
    # `--resume` alone (perhaps with --epochs) carries on with the config the run was trained with
    own_config = args.resume and args.preset is None and overrides.keys() <= {"epochs"}
    own_config = own_config and (out / "config.json").is_file()
    try:
        cfg = None if own_config else preset(args.preset or "default").override(**overrides)
    except (TypeError, ValueError) as error:
        parser.error(str(error))

    def run() -> int:
        config = cfg or read_config(out / "config.json", resume_hint(out)).override(**overrides)
        dataset = FaceDataset.load(args.data or Path(str(DEFAULT_DATA).format(size=config.image_size)))
        model, _ = train(config, dataset, out, resume=args.resume, time_budget=args.time_budget,
                         verbose=0 if args.quiet else 1, strategy=args.strategy, init_from=args.init_from)
        print(f"wrote {out / 'model.keras'}, {out / 'history.csv'}")
        if args.stage == "all":
            refine_run(model, dataset, out, dict(args.refiner_overrides), resume=args.resume, quiet=args.quiet)
        return 0

    return run_cli(run, on_interrupt=f"the last finished epoch is saved in {out}; continue with --resume")


def refine_run(model, dataset: FaceDataset, out: Path, overrides: dict, resume: bool, quiet: bool) -> None:
    """The decoder's second stage on `model` into `out`: its decoder fine-tuned (once per run),
    then its refiner trained (or carried on); prints the validation figures."""
    from vae.decoder_tuning import decoder_is_tuned, tune_decoder
    from vae.refiner import Refiner, RefinerConfig, resumed_config, train_refiner, validation_figures

    cfg = resumed_config(out, overrides) if resume else RefinerConfig().override(**overrides)
    if cfg.decoder_minutes > 0 and not decoder_is_tuned(out):
        before = validation_figures(model, None, dataset)
        tuned = tune_decoder(model, dataset, out, cfg, verbose=not quiet)
        after = validation_figures(model, None, dataset)
        print(f"decoder: fine-tuned {tuned['step']} steps in {tuned['seconds']} s; validation SSIM "
              + ", ".join(f"{d} {before[f'{d}_raw_ssim']} -> {after[f'{d}_raw_ssim']}" for d in ("lego", "emoji")
                          if f"{d}_raw_ssim" in before))
        resume = False  # a refiner trained on the decoder's old pictures does not carry over
    last = train_refiner(model, dataset, out, cfg, resume=resume, verbose=not quiet)
    figures = validation_figures(model, Refiner.load(out), dataset)
    print(f"refiner: {last.get('step')} steps in {last.get('seconds', 0)} s; validation SSIM "
          + ", ".join(f"{d} {figures[f'{d}_raw_ssim']} -> {figures[f'{d}_refined_ssim']}" for d in ("lego", "emoji")
                      if f"{d}_raw_ssim" in figures))


def train_refiner_stage(run: Path, data: Path | None, overrides: dict, resume: bool, quiet: bool) -> int:
    """`--stage refiner --model RUN`: the refiner alone, on a trained run's VAE."""

    def stage() -> int:
        from vae.families import load_model_folder

        if not (run / "model.keras").is_file():
            raise UserError(f"{run} holds no model.keras: pass a run trained by `python -m vae.train` to --model.")
        model = load_model_folder(run)
        dataset = FaceDataset.load(data or Path(str(DEFAULT_DATA).format(size=model.cfg.image_size)))
        if dataset.size != model.cfg.image_size:
            raise UserError(f"{data} holds {dataset.size} px images and the model draws {model.cfg.image_size} px: "
                            f"build the dataset with --size {model.cfg.image_size}.")
        refine_run(model, dataset, run, overrides, resume, quiet)
        return 0

    return run_cli(stage, on_interrupt=f"the refiner's last checkpoint is saved in {run}; continue with --resume")


if __name__ == "__main__":
    sys.exit(main())
