"""Which change bought what: `python -m vae.eval.ablation --budget 150`.

Trains, for the same wall-clock budget on the 64 px build, the first round's model and the
shared design with its parts added one at a time, and writes results/ablation.md (and .json,
and reconstructions.png) with reconstruction and shared-space figures for each.

`--study printed` instead trains `fast` with and without the printed heads and with and without
the pair terms, and writes results/ablation-printed.md (every figure on real faces only).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from common.cli import run_cli
from common.files import atomic_write_text
from data.dataset import FaceDataset
from vae.config import preset
from vae.eval.compare import compare, format_report
from vae.fit import STEPS as FIT_STEPS

FAST = preset("fast")
NO_ADVERSARIES = dict(domain_mmd_weight=0.0, domain_adversary_weight=0.0, content_adversary_weight=0.0)
VARIANTS = {
    "plain (first round)": preset("plain"),
    "+ domain condition, code split, adversaries": FAST.override(reconstruction_loss="weighted", frequency_weight=0.0,
                                                                 ssim_weight=0.0, edge_weight=0.0, beta=0.5),
    "+ calibrated decoder variance (sigma-VAE)": FAST.override(frequency_weight=0.0),
    "+ focal frequency loss (= fast)": FAST,
    "fast without the domain terms": FAST.override(**NO_ADVERSARIES),
    "fast without the expression dims": FAST.override(expression_dims=0, expression_weight=0.0,
                                                      content_adversary_weight=0.0),
}


PRINTED_VARIANTS = {  # name -> (config, train on the printed heads too)
    "fast (printed heads and pair terms)": (FAST, True),
    "fast without the pair terms": (FAST.override(pair_weight=0.0), True),
    "fast without printed heads (real pairs only)": (FAST, False),
    "fast without either": (FAST.override(pair_weight=0.0), False),
}


def printed_study(dataset: FaceDataset, budget: float, out: Path, cnn: bool = True, pairs: int = 160,
                  fit_steps: int = FIT_STEPS) -> dict:
    """The PRINTED_VARIANTS at one budget, merged into one report."""
    merged, counts = None, []
    for printed in (True, False):
        data = dataset if printed else dataset.subset(~dataset.synthetic)
        configs = {name: cfg for name, (cfg, uses) in PRINTED_VARIANTS.items() if uses == printed}
        report = compare(data, budget, out / ("with-printed" if printed else "without-printed"), configs=configs,
                         cnn=cnn, pairs=pairs, fit_steps=fit_steps)
        counts.append(report["train_images"])
        if merged is None:
            merged = report
        else:
            merged["presets"].update(report["presets"])
    merged["train_images"] = f"{counts[0]} (with printed heads) or {counts[1]} (without)"
    merged["command"] = f"python -m vae.eval.ablation --study printed --budget {budget:g}" + (
        f" --fit-steps {fit_steps}" if fit_steps != FIT_STEPS else "")
    return merged


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vae.eval.ablation", description=__doc__)
    parser.add_argument("--data", type=Path, default=Path("build") / "dataset-64.npz")
    parser.add_argument("--budget", type=float, default=150.0, help="seconds of training per variant")
    parser.add_argument("--study", choices=("design", "printed"), default="design")
    parser.add_argument("--out", type=Path, default=Path("results"), help="writes ablation.md and ablation.json here")
    parser.add_argument("--no-cnn", action="store_true",
                        help="the pixel judge only: skip training the CNN judge (minutes)")
    parser.add_argument("--pairs", type=int, default=160,
                        help="random (Lego face, target) pairs the studio is judged on, per variant; each "
                             "printed pair's code is fitted (--fit-steps), the most of the time after training")
    parser.add_argument("--fit-steps", type=int, default=FIT_STEPS,
                        help=f"steps each studio print's code is fitted (default {FIT_STEPS}, the studio's)")
    args = parser.parse_args(argv)

    def run() -> int:
        dataset = FaceDataset.load(args.data)
        if args.study == "printed":
            report = printed_study(dataset, args.budget, args.out / "ablation-printed", cnn=not args.no_cnn,
                                   pairs=args.pairs, fit_steps=args.fit_steps)
            name, title = "ablation-printed", "# Ablation: printed heads and pair terms"
        else:
            report = compare(dataset, args.budget, args.out / "ablation", configs=VARIANTS, cnn=not args.no_cnn,
                             pairs=args.pairs, fit_steps=args.fit_steps)
            name, title = "ablation", "# Ablation"
        atomic_write_text(args.out / f"{name}.md", f"{title}\n\n" + format_report(report))
        atomic_write_text(args.out / f"{name}.json", json.dumps(report, indent=2))
        print(format_report(report))
        return 0

    return run_cli(run)


if __name__ == "__main__":
    sys.exit(main())
