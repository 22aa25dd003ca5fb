"""Look at a trained model as a person would: `python -m vae.inspect --model runs/default`.

Writes a contact sheet (rows: Lego faces; columns: the original, its reconstruction, the face
as an emoji, then the face given each target expression) and prints the alignment figures.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from common.cli import run_cli
from common.files import atomic_path, atomic_write_text
from data.dataset import FaceDataset, contact_sheet
from vae.alignment import alignment_report, decode_uint8
from vae.evaluate import encode_in_batches
from vae.space import LatentSpace

SHEET_TAGS = ("smile", "sad", "angry", "surprised", "wink", "kiss", "sleepy", "cry", "tongue", "cool")


def latent_space(model, dataset: FaceDataset) -> LatentSpace:
    means = encode_in_batches(model, dataset.images)[0]
    return LatentSpace(means, dataset.domain, dataset.tag_matrix(), model.cfg.family, model.cfg.expression_dims)


def transfer_sheet(model, space: LatentSpace, dataset: FaceDataset, faces: int = 8, strength: float = 1.0,
                   seed: int = 0) -> np.ndarray:
    """(faces * columns, S, S, 3) images: original, reconstruction, as emoji, then one per tag."""
    tags = [t for t in SHEET_TAGS if t in space.available_expressions()]
    lego = np.flatnonzero(dataset.domain == "lego")
    chosen = np.random.default_rng(seed).choice(lego, size=faces, replace=False)
    cells = []
    for index in chosen:
        z = space.means[index]
        row = [z, space.translate(z, "lego", "emoji")] + [space.transfer(z, strength, tag=t) for t in tags]
        domains = [0.0, 1.0] + [0.0] * len(tags)
        decoded = np.concatenate([decode_uint8(model, r, d) for r, d in zip(row, domains)])
        cells.append(np.concatenate([dataset.images[index][None], decoded]))
    return np.concatenate(cells), 2 + 1 + len(tags), tags


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vae.inspect", description=__doc__)
    parser.add_argument("--model", type=Path, default=Path("assets"))
    parser.add_argument("--data", type=Path, help="dataset file (default build/dataset-<size>.npz)")
    parser.add_argument("--strength", type=float, default=1.0)
    parser.add_argument("--sheet", type=Path, help="contact sheet PNG (default: transfer-sheet.png beside the model)")
    parser.add_argument("--pairs", type=int, default=160)
    args = parser.parse_args(argv)
    return run_cli(lambda: inspect(args))


def inspect(args: argparse.Namespace) -> int:
    from vae.model import load_model_folder

    model = load_model_folder(args.model)
    data = args.data or Path("build") / f"dataset-{model.cfg.image_size}.npz"
    dataset = FaceDataset.load(data).originals()
    folder = args.model if args.model.is_dir() else args.model.parent
    space = latent_space(model, dataset)
    images, columns, tags = transfer_sheet(model, space, dataset, strength=args.strength)
    sheet = args.sheet or folder / "transfer-sheet.png"
    with atomic_path(sheet) as temporary:
        contact_sheet(images, columns=columns).save(temporary, format="PNG")
    print(f"sheet: {sheet} (columns: original, reconstruction, as emoji, {', '.join(tags)})")
    report = alignment_report(model, space, dataset.images, args.strength, args.pairs)
    atomic_write_text(folder / "alignment.json", json.dumps(report, indent=2))
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
