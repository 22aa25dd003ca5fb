"""Look at a trained model as a person would: `python -m vae.eval.sheet --model runs/default`.

Writes a contact sheet of real Lego faces given every expression, the way the studio does it
(from an emoji: the top row shows each target emoji; then one row per face: the original, its
reconstruction, and the face with each emoji's expression), and prints the alignment figures.
`--method print` draws the prints themselves, before the model redraws them: what the judges
are given in the alignment report's "print_itself" reference.
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
from data.labels import EXPRESSIONS
from data.printed import print_or_keep
from vae.eval.alignment import alignment_report, decode_uint8
from vae.eval.judge import face_groups
from vae.fit import STEPS as FIT_STEPS
from vae.fit import fitted_codes
from vae.metrics import encode_in_batches
from vae.printing import METHODS, studio_codes
from vae.space import LatentSpace

# the emoji that stands for each expression on the sheet (the first one found, Twemoji first)
SHEET_EMOJI = {
    "smile": "smiling face with smiling eyes", "grin": "grinning face", "laugh": "face with tears of joy",
    "sad": "disappointed face", "angry": "angry face", "scared": "face screaming in fear",
    "surprised": "astonished face", "wink": "winking face", "tongue": "face with stuck-out tongue",
    "sleepy": "sleeping face", "cry": "loudly crying face", "cool": "smiling face with sunglasses",
    "kiss": "kissing face", "smirk": "smirking face", "neutral": "neutral face", "worried": "worried face",
    "sick": "face with medical mask",
}
SOURCE_ORDER = ("twitter", "google", "noto-font", "openmoji", "fluent")
PRINT_ITSELF = "print"  # a sheet of the prints themselves, not redrawn


def latent_space(model, dataset: FaceDataset) -> LatentSpace:
    means = encode_in_batches(model, dataset.images)[0]
    return LatentSpace.of_model(model.cfg, means, dataset.domain, dataset.tag_matrix())


def sheet_emoji(dataset: FaceDataset, space: LatentSpace) -> dict[str, int]:
    """Expression -> the dataset index of the emoji that stands for it."""
    chosen = {}
    for tag in EXPRESSIONS:  # every expression an emoji shows, whether or not a real Lego face has it
        column = space.tag_column(tag)
        candidates = [i for source in SOURCE_ORDER for i in np.flatnonzero(
            (dataset.domain == "emoji") & (dataset.source == source) & column)]
        named = [i for i in candidates if dataset.name[i] == SHEET_EMOJI.get(tag)]
        if candidates:
            chosen[tag] = int((named or candidates)[0])
    return chosen


def sheet_faces(dataset: FaceDataset, faces: int = 8, seed: int = 0) -> np.ndarray:
    """The dataset indices of the sheet's real Lego faces, one per row."""
    return np.random.default_rng(seed).choice(np.flatnonzero(dataset.domain == "lego"), size=faces, replace=False)


def transfer_sheet(model, space: LatentSpace, dataset: FaceDataset, faces: int = 8, strength: float = 1.0,
                   seed: int = 0, method: str = "printed",
                   fit_steps: int = FIT_STEPS) -> tuple[np.ndarray, int, list[str]]:
    """(rows * columns, S, S, 3) images: a header row of target emoji, then per face its
    original, its reconstruction (the encoder's code) and the face with each emoji's
    expression, by the studio's `method` (see vae.printing; a print's code fitted by
    `fit_steps` steps, vae.fit), or printed and not redrawn (PRINT_ITSELF)."""
    targets = sheet_emoji(dataset, space)
    tags = list(targets)
    chosen = sheet_faces(dataset, faces, seed)
    blank = np.full_like(dataset.images[0], 255)
    cells = [blank, blank, *(dataset.images[targets[t]] for t in tags)]
    for index in chosen:
        face = dataset.images[index]
        reconstruction = decode_uint8(model, space.means[index], "lego")[0]
        if method == PRINT_ITSELF:  # an emoji that cannot be printed leaves the face as it is
            results = [print_or_keep(face, dataset.images[targets[t]]) for t in tags]
        else:
            z, _ = studio_codes(lambda batch: fitted_codes(model, batch, 0.0, fit_steps), space, dataset.images,
                                np.full(len(tags), index), np.array([targets[t] for t in tags]), strength, method)
            results = list(decode_uint8(model, z, "lego"))
        cells += [face, reconstruction, *results]
    return np.stack(cells), 2 + len(tags), tags


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vae.eval.sheet", description=__doc__)
    parser.add_argument("--model", type=Path, default=Path("assets"))
    parser.add_argument("--data", type=Path, help="dataset file (default build/dataset-<size>.npz)")
    parser.add_argument("--strength", type=float, default=1.0)
    parser.add_argument("--sheet", type=Path, help="contact sheet PNG (default: transfer-sheet.png beside the model)")
    parser.add_argument("--method", choices=(*METHODS, PRINT_ITSELF), default=METHODS[0],
                        help="the studio's way to give a face an emoji's expression (default: print, then redraw); "
                             "print: the prints themselves, not redrawn")
    parser.add_argument("--pairs", type=int, default=160)
    parser.add_argument("--fit-steps", type=int, default=FIT_STEPS,
                        help=f"steps that fit a print's code to the print (default {FIT_STEPS}, the studio's; "
                             "0: the encoder's code alone)")
    parser.add_argument("--no-cnn", action="store_true",
                        help="the pixel judge only: skip training the CNN judge and its cross-validation (minutes)")
    args = parser.parse_args(argv)
    return run_cli(lambda: write_sheet(args))


def write_sheet(args: argparse.Namespace) -> int:
    from vae.families import load_model_folder

    model = load_model_folder(args.model)
    data = args.data or Path("build") / f"dataset-{model.cfg.image_size}.npz"
    dataset = FaceDataset.load(data).real()
    folder = args.model if args.model.is_dir() else args.model.parent
    space = latent_space(model, dataset)
    images, columns, tags = transfer_sheet(model, space, dataset, strength=args.strength, method=args.method,
                                             fit_steps=args.fit_steps)
    sheet = args.sheet or folder / "transfer-sheet.png"
    with atomic_path(sheet) as temporary:
        contact_sheet(images, columns=columns).save(temporary, format="PNG")
    print(f"sheet: {sheet} (top row: target emoji; columns: original, reconstruction, {', '.join(tags)})")
    report = alignment_report(model, space, dataset.images, args.strength, args.pairs, cnn=not args.no_cnn,
                              fit_steps=args.fit_steps,
                              groups=face_groups(dataset.domain, dataset.name))
    atomic_write_text(folder / "alignment.json", json.dumps(report, indent=2))
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
