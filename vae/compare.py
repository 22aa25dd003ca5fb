"""Train the `seed` and `default` presets for the same wall-clock budget and compare them.

`python -m vae.compare --budget 240` writes results/compare.json, results/compare.md and
results/reconstructions.png (originals, seed reconstructions, default reconstructions).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

from data.atomic import atomic_path, atomic_write_text
from data.dataset import FaceDataset, contact_sheet
from data.errors import SourceError
from vae.config import preset
from vae.evaluate import evaluate

PRESETS = ("seed", "default")


def images_per_second(history: list[dict], train_images: int) -> float:
    """Training throughput from the history's cumulative seconds (first epoch, with tracing, excluded)."""
    if len(history) < 2:
        return train_images / float(history[0]["seconds"])
    return (len(history) - 1) * train_images / (float(history[-1]["seconds"]) - float(history[0]["seconds"]))


def compare(dataset: FaceDataset, budget: float, out: Path, verbose: int = 0) -> dict:
    """Train both presets for `budget` seconds each, evaluate on validation, write the report."""
    from vae.train import train

    results, models = {}, {}
    train_images = int((dataset.split == "train").sum())
    for name in PRESETS:
        started = time.perf_counter()
        model, history = train(preset(name), dataset, out / name, time_budget=budget, verbose=verbose)
        models[name] = model
        results[name] = {
            "epochs": len(history),
            "train_seconds": float(history[-1]["seconds"]),
            "wall_seconds": round(time.perf_counter() - started, 1),
            "images_per_second": round(images_per_second(history, train_images), 1),
            "validation": evaluate(model, dataset),
        }
    ratios = {}
    for domain in ("lego", "emoji", "all"):
        seed, ours = results["seed"]["validation"][domain], results["default"]["validation"][domain]
        ratios[domain] = {"mse_ratio": ours["mse"] / seed["mse"], "ssim_seed": seed["ssim"],
                          "ssim_default": ours["ssim"]}
    report = {"budget_seconds": budget, "train_images": train_images, "presets": results, "default_vs_seed": ratios,
              "command": f"python -m vae.compare --budget {budget:g}"}
    atomic_write_text(out / "compare.json", json.dumps(report, indent=2))
    atomic_write_text(out / "compare.md", format_report(report))
    write_reconstructions(dataset, models, out / "reconstructions.png")
    return report


def format_report(report: dict) -> str:
    lines = [f"Same wall-clock budget: {report['budget_seconds']:g} s of training each "
             f"on {report['train_images']} training images. Reproduce with `{report['command']}`.", "",
             "| preset | epochs | images/s | domain | val MSE | val SSIM | active units |",
             "|---|---|---|---|---|---|---|"]
    for name, r in report["presets"].items():
        for domain in ("lego", "emoji"):
            m = r["validation"][domain]
            lines.append(f"| {name} | {r['epochs']} | {r['images_per_second']:.0f} | {domain} | {m['mse']:.5f} | "
                         f"{m['ssim']:.4f} | {m['active_units']}/{m['latent_dim']} |")
    lines += ["", "| domain | MSE default / seed (goal <= 0.8) | SSIM seed | SSIM default |", "|---|---|---|---|"]
    for domain, r in report["default_vs_seed"].items():
        lines.append(f"| {domain} | {r['mse_ratio']:.3f} | {r['ssim_seed']:.4f} | {r['ssim_default']:.4f} |")
    return "\n".join(lines) + "\n"


def write_reconstructions(dataset: FaceDataset, models: dict, path: Path, per_domain: int = 8) -> None:
    """Rows: validation originals, then each model's reconstructions of them."""
    val = np.flatnonzero(dataset.split == "val")
    picks = np.concatenate([val[dataset.domain[val] == d][:per_domain] for d in ("lego", "emoji")])
    originals = dataset.images[picks]
    rows = [originals] + [np.clip(m.reconstruct(originals) * 255, 0, 255).astype(np.uint8) for m in models.values()]
    sheet = contact_sheet(np.concatenate(rows), columns=len(picks))
    sheet = sheet.resize((sheet.width * 2, sheet.height * 2), Image.NEAREST)
    with atomic_path(path) as temporary:
        sheet.save(temporary, format="PNG")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vae.compare", description=__doc__)
    parser.add_argument("--data", type=Path, default=Path("build") / "dataset-64.npz")
    parser.add_argument("--budget", type=float, default=240.0, help="seconds of training per preset")
    parser.add_argument("--out", type=Path, default=Path("results"))
    args = parser.parse_args(argv)
    try:
        report = compare(FaceDataset.load(args.data), args.budget, args.out)
    except SourceError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(format_report(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
