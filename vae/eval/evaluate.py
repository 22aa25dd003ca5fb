"""Validation metrics per domain and the shared-space figures (see vae.eval.alignment):
`python -m vae.eval.evaluate --model runs/default/model.keras`.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from common.cli import run_cli
from common.files import atomic_write_text
from data.dataset import FaceDataset
from vae.fit import STEPS as FIT_STEPS
from vae.metrics import encode_in_batches, evaluate


def format_alignment(alignment: dict) -> str:
    """The shared-space figures in a few lines."""
    d, n = alignment["domain_accuracy"], alignment["expression_neighbours"]
    lines = [f"domain accuracy from the code: {d['accuracy']:.3f} (majority class {d['majority']:.3f})",
             f"expression neighbours: {n['rate']:.3f} against chance {n['chance']:.3f} ({n['ratio']:.2f}x)"]
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

    parser = argparse.ArgumentParser(prog="python -m vae.eval.evaluate", description=__doc__)
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
        from vae.eval.alignment import alignment_report
        from vae.eval.judge import face_groups
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
