"""Which change bought what: `python -m vae.ablation --budget 150`.

Trains, for the same wall-clock budget on the 64 px build, the first round's model and the
shared design with its parts added one at a time, and writes results/ablation.md (and .json,
and reconstructions.png) with reconstruction and shared-space figures for each.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from common.cli import run_cli
from common.files import atomic_write_text
from data.dataset import FaceDataset
from vae.compare import compare, format_report
from vae.config import preset

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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vae.ablation", description=__doc__)
    parser.add_argument("--data", type=Path, default=Path("build") / "dataset-64.npz")
    parser.add_argument("--budget", type=float, default=150.0, help="seconds of training per variant")
    parser.add_argument("--out", type=Path, default=Path("results"), help="writes ablation.md and ablation.json here")
    args = parser.parse_args(argv)

    def run() -> int:
        report = compare(FaceDataset.load(args.data), args.budget, args.out / "ablation", configs=VARIANTS)
        atomic_write_text(args.out / "ablation.md", "# Ablation\n\n" + format_report(report))
        atomic_write_text(args.out / "ablation.json", json.dumps(report, indent=2))
        print(format_report(report))
        return 0

    return run_cli(run)


if __name__ == "__main__":
    sys.exit(main())
