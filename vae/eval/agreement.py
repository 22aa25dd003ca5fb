"""How far to trust a judge: its verdicts beside a person's, cell by cell, on the contact sheets.

`python -m vae.eval.agreement --verdicts results/by-eye-fitted.json` rebuilds every sheet that a
person judged blind (the same real Lego faces x target emoji as `python -m vae.eval.sheet`, made the
way the file's "ways" name), asks each judge the person's two questions of every cell, and
reports how often each says yes and how often it agrees with the person:

- shown: does the result show the target expression on a Lego face (the studio's "success");
- kept: is the source face among its 5 nearest Lego originals by pixel MSE (the studio's
  "identity kept"; the person's question is whether it is still recognisably the face).

Verdicts belong to the pictures judged: a file that keeps each cell's mean grey level is
refused for a model or dataset whose sheets differ (the shipped verdicts are on `assets/`).

A judge whose "shown" agrees with a person little better than chance (Cohen's kappa near 0)
cannot carry a goal, whatever its cross-validated accuracy on real faces.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from common.cli import run_cli
from common.errors import UserError
from common.files import atomic_write_text
from data.dataset import FaceDataset
from vae.eval.alignment import Judge, identity_kept, target_expressions
from vae.eval.sheet import PRINT_ITSELF, latent_space, sheet_faces, transfer_sheet
from vae.printing import METHODS

QUESTIONS = ("shown", "kept")
DRIFT = 2.0  # grey levels a cell's mean may move (another machine's float rounding) and still be the cell judged


def agreement(judge: np.ndarray, person: np.ndarray) -> dict:
    """Yes counts, the share of cells on which the two agree, the judge's recall of the person's
    yes cells and its precision (how many of its own yes cells the person says yes to), and
    Cohen's kappa (agreement beyond what the two yes rates give by chance)."""
    judge, person = np.asarray(judge, bool).ravel(), np.asarray(person, bool).ravel()
    observed = float((judge == person).mean())
    chance = float(judge.mean() * person.mean() + (1 - judge.mean()) * (1 - person.mean()))
    kappa = (observed - chance) / (1 - chance) if chance < 1 else 1.0
    return {"cells": int(judge.size), "judge_yes": int(judge.sum()), "person_yes": int(person.sum()),
            "agree": round(observed, 3), "recall": round(float(judge[person].mean()), 3) if person.any() else None,
            "precision": round(float(person[judge].mean()), 3) if judge.any() else None, "kappa": round(kappa, 3)}


def cell_means(results: np.ndarray) -> np.ndarray:
    """Each result cell's mean grey level (rows x columns): what tells the pictures a person
    judged from another model's."""
    return results.reshape(*results.shape[:2], -1).mean(axis=2)


def load_verdicts(path: Path) -> dict:
    """The person's verdicts: {"ways": {sheet: {"method", "fit_steps"}}, sheet: {"shown": rows x
    columns of 0/1, "kept": ..., and optionally "cell_means": the judged cells' `cell_means`}}."""
    try:
        verdicts = json.loads(Path(path).read_text())
    except (OSError, ValueError) as error:
        raise UserError(f"{path} is not a readable verdicts file ({error}).") from None
    if not isinstance(verdicts, dict) or not isinstance(verdicts.get("ways"), dict) or not all(
            isinstance(verdicts.get(sheet), dict) and all(q in verdicts[sheet] for q in QUESTIONS)
            for sheet in verdicts["ways"]):
        raise UserError(f"{path} has no \"ways\" with \"shown\" and \"kept\" verdicts for each sheet they name.")
    ways = (*METHODS, PRINT_ITSELF)
    for sheet, way in verdicts["ways"].items():
        if not isinstance(way, dict) or way.get("method") not in ways:
            raise UserError(f"{path}: sheet {sheet}'s way needs a \"method\", one of {', '.join(ways)}.")
    return verdicts


def sheet_results(model, space, dataset: FaceDataset, method: str, fit_steps: int) -> tuple[np.ndarray, np.ndarray,
                                                                                             list[str]]:
    """The sheet's result cells (faces, targets, S, S, 3), each row's dataset index, the targets' tags."""
    cells, columns, tags = transfer_sheet(model, space, dataset, method=method, fit_steps=fit_steps)
    grid = cells.reshape(-1, columns, *cells.shape[1:])[1:]  # past the header row of target emoji
    return grid[:, 2:], sheet_faces(dataset, len(grid)), tags


def check_sheet(sheet: str, verdicts: dict, results: np.ndarray) -> None:
    """Refuse verdicts that were not given on these pictures: another size of sheet, or (where
    the file keeps each cell's mean grey level) other pictures, another model's or dataset's."""
    for q in QUESTIONS:
        if np.asarray(verdicts[q]).shape != results.shape[:2]:
            raise UserError(f"sheet {sheet} has {np.asarray(verdicts[q]).shape} \"{q}\" verdicts for "
                            f"{results.shape[:2]} cells: the verdicts were given on another dataset or sheet.")
    if "cell_means" in verdicts:
        drift = float(np.abs(cell_means(results) - np.asarray(verdicts["cell_means"], float)).max())
        if drift > DRIFT:
            raise UserError(f"sheet {sheet}'s pictures are not the ones the person judged (a cell's mean moved "
                            f"{drift:.1f} grey levels): give the model and dataset the verdicts were given on.")


def judge_sheets(model, dataset: FaceDataset, verdicts: dict, cnn: bool = True) -> dict:
    """Per judge (the pixel judge; with `cnn` the CNN judge too) and sheet, and over every sheet
    together, each question's agreement with the person."""
    from vae.eval.judge import CNNJudge

    space = latent_space(model, dataset)
    sheets = {sheet: sheet_results(model, space, dataset, way["method"], int(way.get("fit_steps", 0)))
              for sheet, way in verdicts["ways"].items()}
    for sheet, (results, _, _) in sheets.items():  # refused before the judges train, not after
        check_sheet(sheet, verdicts[sheet], results)
    expressions = target_expressions(space)
    judges = {"pixel": Judge(dataset.images, space.domains, space.tags, expressions)}
    if cnn:
        judges["cnn"] = CNNJudge(dataset.images, space.domains, space.tags, expressions)
    lego = np.flatnonzero(dataset.domain == "lego")
    said = {name: {q: [] for q in QUESTIONS} for name in judges}
    heard = {q: [] for q in QUESTIONS}
    report: dict = {"judges": {name: judge.description for name, judge in judges.items()}, "sheets": {}}
    for sheet, (results, faces, tags) in sheets.items():
        person = {q: np.asarray(verdicts[sheet][q], bool) for q in QUESTIONS}
        judged = [c for c, tag in enumerate(tags) if tag in expressions]  # tags the judges were taught
        flat = results[:, judged].reshape(-1, *results.shape[2:])
        rows = np.repeat(faces, len(judged))
        kept = identity_kept(flat, rows, dataset.images[lego], lego)
        report["sheets"][sheet] = {"way": verdicts["ways"][sheet], "targets": [tags[c] for c in judged]}
        for q in QUESTIONS:
            heard[q].append(person[q][:, judged].ravel())
        for name, judge in judges.items():
            lego_like = judge.is_lego(flat)
            expression = np.zeros(len(flat), bool)
            for column, c in enumerate(judged):  # the cells are face by face, target by target
                cells = np.arange(column, len(flat), len(judged))
                expression[cells] = judge.shows(flat[cells], tags[c])
            said[name]["shown"].append(expression & lego_like)
            said[name]["kept"].append(kept)
            report["sheets"][sheet][name] = {q: agreement(said[name][q][-1], heard[q][-1]) for q in QUESTIONS}
            # which half of "shown" says no: the expression, or the Lego face
            report["sheets"][sheet][name].update(judged_lego=int(lego_like.sum()),
                                                 expression_alone=agreement(expression, heard["shown"][-1]))
    report["all_sheets"] = {name: {q: agreement(np.concatenate(said[name][q]), np.concatenate(heard[q]))
                                   for q in QUESTIONS} for name in judges}
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vae.eval.agreement", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--verdicts", type=Path, required=True, help="a person's blind verdicts (JSON)")
    parser.add_argument("--model", type=Path, default=Path("assets"))
    parser.add_argument("--data", type=Path, help="dataset file (default build/dataset-<size>.npz)")
    parser.add_argument("--out", type=Path, help="report (JSON; default: printed only)")
    parser.add_argument("--no-cnn", action="store_true", help="the pixel judge only (the CNN judge trains for minutes)")
    args = parser.parse_args(argv)

    def run() -> int:
        from vae.families import load_model_folder

        verdicts = load_verdicts(args.verdicts)
        model = load_model_folder(args.model)
        data = args.data or Path("build") / f"dataset-{model.cfg.image_size}.npz"
        report = judge_sheets(model, FaceDataset.load(data).real(), verdicts, cnn=not args.no_cnn)
        text = json.dumps(report, indent=1)
        if args.out:
            atomic_write_text(args.out, text)
        print(text)
        return 0

    return run_cli(run)


if __name__ == "__main__":
    sys.exit(main())
