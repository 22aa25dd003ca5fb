"""Validation metrics per domain: `python -m vae.evaluate --model runs/default/model.keras`."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from common.cli import run_cli
from common.files import atomic_write_text
from data.dataset import FaceDataset
from vae.refine import STEPS as FIT_STEPS

ACTIVE_UNIT_THRESHOLD = 0.01  # a dimension is active when its posterior-mean variance exceeds this
BATCH = 256


def encode_in_batches(model, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Posterior means and log-variances (N, L) of uint8 images, a batch at a time."""
    parts = [model.encode(images[i:i + BATCH]) for i in range(0, len(images), BATCH)]
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def decode_in_batches(model, z: np.ndarray, domain: float) -> np.ndarray:
    return np.concatenate([model.decode(z[i:i + BATCH], domain) for i in range(0, len(z), BATCH)])


def image_metrics(model, images: np.ndarray, domain: float, fit_steps: int = 0) -> dict:
    """Pixel MSE, SSIM (TensorFlow's tf.image.ssim), KL per dimension and active units; with
    `fit_steps`, also the SSIM of the pictures drawn from codes fitted to them (vae.refine)."""
    import tensorflow as tf

    from vae.model import as_float_images, kl_per_dimension

    mean, log_var = encode_in_batches(model, images)
    reconstructions = decode_in_batches(model, mean, domain)
    originals = as_float_images(images)
    ssim = tf.image.ssim(tf.constant(originals), tf.constant(reconstructions), max_val=1.0).numpy()
    kl = np.asarray(kl_per_dimension(mean, log_var)).mean(axis=0)
    variance = mean.var(axis=0)
    fitted = {}
    if fit_steps:
        from vae.refine import fitted_codes

        redrawn = decode_in_batches(model, fitted_codes(model, images, domain, fit_steps), domain)
        fitted = {"fit_steps": fit_steps, "ssim_fitted": float(np.mean(
            tf.image.ssim(tf.constant(originals), tf.constant(redrawn), max_val=1.0).numpy()))}
    return {
        "images": int(len(images)),
        "mse": float(np.mean((originals - reconstructions) ** 2)),
        "ssim": float(np.mean(ssim)),
        "kl": float(kl.sum()),
        "kl_per_dimension": [round(float(v), 5) for v in kl],
        "active_units": int((variance > ACTIVE_UNIT_THRESHOLD).sum()),
        "latent_dim": int(mean.shape[1]),
        **fitted,
    }


def evaluate(model, dataset: FaceDataset, split: str = "val", fit_steps: int = 0) -> dict:
    """Image metrics per domain on one split, each domain reconstructed in its own domain."""
    chosen = dataset.split == split
    results = {}
    for domain in ("lego", "emoji"):
        mask = chosen & (dataset.domain == domain)
        if mask.any():
            results[domain] = image_metrics(model, dataset.images[mask], float(domain == "emoji"), fit_steps)
    return results


def format_alignment(alignment: dict) -> str:
    """The shared-space figures in a few lines."""
    d, n = alignment["domain_accuracy"], alignment["expression_neighbours"]
    lines = [f"domain accuracy from the code: {d['accuracy']:.3f} (majority class {d['majority']:.3f})",
             f"expression neighbours: {n['rate']:.3f} against chance {n['chance']:.3f} ({n['ratio']:.2f}x)"]
    if "vector_part" in alignment:
        v = alignment["vector_part"]
        lines.append(f"the code's vector part alone ({v['dims']} dims): domain accuracy "
                     f"{v['domain_accuracy']['accuracy']:.3f}, expression neighbours "
                     f"{v['expression_neighbours']['ratio']:.2f}x chance")
    for mode, r in alignment["transfer"].items():
        if isinstance(r, dict):
            lines.append(f"studio ({mode}): expression shown {r['success']:.0%}, identity kept "
                         f"{r['identity_kept']:.0%}, both {r['both']:.0%}")
    for direction, r in alignment["translation"].items():
        lines.append(f"translation {direction.replace('_', ' ')}: judged the other domain {r['other_domain']:.0%}, "
                     f"expression kept {r['expression_kept']:.0%}")
    return "\n".join(lines)


def format_table(results: dict) -> str:
    rows = [("domain", "images", "MSE", "SSIM", "SSIM, fitted codes", "KL", "active units")]
    for domain, m in results.items():
        if domain not in ("lego", "emoji"):
            continue
        fitted = f"{m['ssim_fitted']:.4f} ({m['fit_steps']} steps)" if "ssim_fitted" in m else "-"
        rows.append((domain, str(m["images"]), f"{m['mse']:.5f}", f"{m['ssim']:.4f}", fitted, f"{m['kl']:.1f}",
                     f"{m['active_units']}/{m['latent_dim']}"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)) for row in rows)


def main(argv: list[str] | None = None) -> int:
    from vae.families import load_model_folder

    parser = argparse.ArgumentParser(prog="python -m vae.evaluate", description=__doc__)
    parser.add_argument("--model", type=Path, default=Path("assets"), help="model folder or .keras file")
    parser.add_argument("--data", type=Path, help="dataset file (default build/dataset-<model size>.npz)")
    parser.add_argument("--split", default="val", choices=("train", "val"))
    parser.add_argument("--fit-steps", type=int, default=FIT_STEPS,
                        help=f"also the SSIM from codes fitted to each picture in this many steps (default "
                             f"{FIT_STEPS}, the studio's; 0: none)")
    parser.add_argument("--out", type=Path, help="JSON file to write (default: evaluation.json beside the model)")
    parser.add_argument("--no-cnn", action="store_true",
                        help="the pixel judge only: skip training the CNN judge and its cross-validation (minutes)")
    args = parser.parse_args(argv)

    def run() -> int:
        from vae.alignment import alignment_report
        from vae.judge import face_groups
        from vae.space import LatentSpace, default_strength

        model = load_model_folder(args.model)
        dataset = FaceDataset.load(args.data or Path("build") / f"dataset-{model.cfg.image_size}.npz")
        results = evaluate(model, dataset, args.split, args.fit_steps)
        originals = dataset.real()
        means = encode_in_batches(model, originals.images)[0]
        space = LatentSpace.of_model(model.cfg, means, originals.domain, originals.tag_matrix())
        results["alignment"] = alignment_report(model, space, originals.images,
                                                default_strength(model.expression_dims), cnn=not args.no_cnn,
                                                fit_steps=args.fit_steps,
                                                groups=face_groups(originals.domain, originals.name))
        folder = args.model if args.model.is_dir() else args.model.parent
        out = args.out or folder / "evaluation.json"
        atomic_write_text(out, json.dumps(results, indent=2))
        print(format_table(results))
        print(format_alignment(results["alignment"]))
        print(f"wrote {out}")
        return 0

    return run_cli(run)


if __name__ == "__main__":
    sys.exit(main())
