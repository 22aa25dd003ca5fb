"""Train several presets for the same wall-clock budget on one dataset and compare them.

`python -m vae.eval.compare --budget 240` trains `seed` (the seed project's VAE), `plain` (the first
round's model) and `fast` (the shared design at 64 px) and writes results/compare.json,
results/compare.md and results/reconstructions.png (originals, then each preset's
reconstructions). Beside reconstruction, it measures how shared each model's latent space is
(vae.eval.alignment).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

from common.cli import run_cli
from common.files import atomic_path, atomic_write_text
from data.dataset import FaceDataset, contact_sheet
from vae.config import PRESETS as PRESET_NAMES
from vae.config import preset
from vae.fit import STEPS as FIT_STEPS
from vae.metrics import evaluate
from vae.space import default_strength

PRESETS = ("seed", "plain", "fast")


def images_per_second(history: list[dict], train_images: int) -> float:
    """Training throughput from the history's cumulative seconds (first epoch, with tracing, excluded)."""
    if len(history) < 2:
        return train_images / float(history[0]["seconds"])
    return (len(history) - 1) * train_images / (float(history[-1]["seconds"]) - float(history[0]["seconds"]))


def compare(dataset: FaceDataset, budget: float, out: Path, presets: tuple[str, ...] = PRESETS,
            verbose: int = 0, pairs: int = 160, configs: dict | None = None, cnn: bool = True,
            fit_steps: int = FIT_STEPS) -> dict:
    """Train each preset (or each named config of `configs`) for `budget` seconds, evaluate on
    validation, write the report; `cnn=False` judges with the pixel judge only; `fit_steps` is
    how far each studio print's code is fitted (vae.fit)."""
    from data.labels import EXPRESSIONS
    from vae.eval.alignment import alignment_report
    from vae.eval.judge import CNNJudge
    from vae.eval.sheet import latent_space
    from vae.train import train

    results, models = {}, {}
    train_images = int((dataset.split == "train").sum())
    originals = dataset.real()
    cnn_judge = CNNJudge(originals.images, originals.domain, originals.tag_matrix(), list(EXPRESSIONS)) if cnn else None
    configs = configs or {name: preset(name) for name in presets}
    for name, cfg in configs.items():
        cfg = cfg.override(image_size=dataset.size)
        started = time.perf_counter()
        model, history = train(cfg, dataset, out / name, time_budget=budget, verbose=verbose)
        models[name] = model
        space = latent_space(model, originals)
        results[name] = {
            "epochs": len(history),
            "train_seconds": float(history[-1]["seconds"]),
            "wall_seconds": round(time.perf_counter() - started, 1),
            "images_per_second": round(images_per_second(history, train_images), 1),
            "validation": evaluate(model, dataset),
            "alignment": alignment_report(model, space, originals.images, default_strength(cfg.expression_part), pairs,
                                          cnn=cnn, cnn_judge=cnn_judge, fit_steps=fit_steps),
        }
    tool = "ablation" if configs.keys() - set(PRESET_NAMES) else "compare"
    command = f"python -m vae.eval.{tool} --budget {budget:g}" + (f" --fit-steps {fit_steps}" if fit_steps != FIT_STEPS
                                                                  else "")
    report = {"budget_seconds": budget, "train_images": train_images, "image_size": dataset.size,
              "presets": results, "command": command}
    atomic_write_text(out / "compare.json", json.dumps(report, indent=2))
    atomic_write_text(out / "compare.md", format_report(report))
    write_reconstructions(dataset, models, out / "reconstructions.png")
    return report


def alignment_row(alignment: dict) -> str:
    """Domain accuracy, neighbour ratio, studio success / identity and translation, as table cells."""
    transfer = alignment["transfer"]["emoji"]
    to_emoji, to_lego = alignment["translation"]["lego_to_emoji"], alignment["translation"]["emoji_to_lego"]
    return (f"{alignment['domain_accuracy']['accuracy']:.2f} | {alignment['expression_neighbours']['ratio']:.2f}x | "
            f"{transfer['success']:.0%} / {transfer['identity_kept']:.0%} | "
            f"{to_emoji['other_domain']:.0%} / {to_emoji['expression_kept']:.0%} | "
            f"{to_lego['other_domain']:.0%} / {to_lego['expression_kept']:.0%}")


ALIGNMENT_HEADER = ("domain accuracy from the code | expression neighbours / chance | studio: expression shown / "
                    "identity kept | Lego -> emoji: judged emoji / expression kept | emoji -> Lego: judged Lego / "
                    "expression kept")


def format_report(report: dict) -> str:
    lines = [f"Same wall-clock budget: {report['budget_seconds']:g} s of training each on {report['train_images']} "
             f"training images of {report['image_size']} px. Reproduce with `{report['command']}`.", "",
             "| preset | epochs | images/s | domain | val MSE | val SSIM | active units |",
             "|---|---|---|---|---|---|---|"]
    for name, r in report["presets"].items():
        for domain in ("lego", "emoji"):
            m = r["validation"][domain]
            lines.append(f"| {name} | {r['epochs']} | {r['images_per_second']:.0f} | {domain} | {m['mse']:.5f} | "
                         f"{m['ssim']:.4f} | {m['active_units']}/{m['latent_dim']} |")
    lines += ["", f"| preset | {ALIGNMENT_HEADER} |", "|---|---|---|---|---|---|"]
    for name, r in report["presets"].items():
        lines.append(f"| {name} | {alignment_row(r['alignment'])} |")
    judged = {name: r["alignment"]["cnn"] for name, r in report["presets"].items() if "cnn" in r["alignment"]}
    if judged:
        lines += ["", "By the CNN judge (vae/eval/judge.py):", "",
                  "| preset | studio: expression shown / identity kept / both | Lego -> emoji: judged emoji / "
                  "expression kept | emoji -> Lego: judged Lego / expression kept |", "|---|---|---|---|"]
        for name, cnn in judged.items():
            studio, tr = cnn["transfer"]["emoji"], cnn["translation"]
            lines.append(f"| {name} | {studio['success']:.0%} / {studio['identity_kept']:.0%} / {studio['both']:.0%} | "
                         f"{tr['lego_to_emoji']['other_domain']:.0%} / {tr['lego_to_emoji']['expression_kept']:.0%} | "
                         f"{tr['emoji_to_lego']['other_domain']:.0%} / {tr['emoji_to_lego']['expression_kept']:.0%} |")
    return "\n".join(lines) + "\n"


def write_reconstructions(dataset: FaceDataset, models: dict, path: Path, per_domain: int = 8) -> None:
    """Rows: validation originals, then each model's reconstructions of them."""
    from vae.model import to_uint8

    val = np.flatnonzero(dataset.split == "val")
    picks = np.concatenate([val[dataset.domain[val] == d][:per_domain] for d in ("lego", "emoji")])
    originals = dataset.images[picks]
    domains = (dataset.domain[picks] == "emoji").astype(np.float32)
    rows = [originals] + [to_uint8(m.reconstruct(originals, domains)) for m in models.values()]
    sheet = contact_sheet(np.concatenate(rows), columns=len(picks))
    sheet = sheet.resize((sheet.width * 2, sheet.height * 2), Image.NEAREST)
    with atomic_path(path) as temporary:
        sheet.save(temporary, format="PNG")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vae.eval.compare", description=__doc__)
    parser.add_argument("--data", type=Path, default=Path("build") / "dataset-64.npz")
    parser.add_argument("--presets", nargs="+", default=list(PRESETS), choices=sorted(PRESET_NAMES))
    parser.add_argument("--budget", type=float, default=240.0, help="seconds of training per preset")
    parser.add_argument("--out", type=Path, default=Path("results"))
    parser.add_argument("--fit-steps", type=int, default=FIT_STEPS,
                        help=f"steps each studio print's code is fitted (default {FIT_STEPS}, the studio's)")
    args = parser.parse_args(argv)
    return run_cli(lambda: print(format_report(compare(FaceDataset.load(args.data), args.budget, args.out,
                                                       tuple(args.presets), fit_steps=args.fit_steps))))


if __name__ == "__main__":
    sys.exit(main())
