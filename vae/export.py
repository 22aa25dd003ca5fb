"""Write the dashboard's assets from a trained run: `python -m vae.export --run runs/default`.

assets/ then holds the model, its config, history and evaluation, the un-augmented dataset,
every image's posterior mean and log-variance, 2-D PCA and UMAP maps, and a precomputed UMAP
inverse grid so that a click anywhere on the map decodes without running UMAP. The pictures the
dashboard serves as static files (the face pickers' lists and atlases, the map's thumbnails) go
to static/ (common/static_files.py), so that the running dashboard writes nothing.
"""
from __future__ import annotations

import argparse
import io
import json
import shutil
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np

from common.cli import run_cli
from common.errors import UserError
from common.files import atomic_path, atomic_write_text
from common.static_files import STATIC_FOLDER, write_live_files, write_static_files
from data.dataset import FaceDataset
from vae.config import read_config
from vae.latent import fit_gaussian_mixture, fit_pca, pca_project
from vae.lite import REFINER_FILE
from vae.lite_export import export_lite, export_lite_refiner
from vae.metrics import encode_in_batches, evaluate

GRID_SIZE = 40
MIXTURE_COMPONENTS = 6
ATTRIBUTION = """# Attribution of the shipped data

`dataset.npz` holds images rendered or resized from these sources:

- **Lego faces**: rendered by Legomoji from the LDraw.org Parts Library (update 2024-05),
  licensed CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/). The parts' authors are
  named in each part file's header; see the library's CAreadme.txt. LDraw is a trademark of
  the Estate of James Jessiman. LEGO is a trademark of the LEGO Group, which does not sponsor,
  authorise or endorse this project.
- **Twemoji** graphics (source `twitter`), copyright Twitter, Inc. and other contributors,
  licensed CC BY 4.0, from the npm package emoji-datasource-twitter.
- **Noto Emoji** graphics (sources `google` and `noto-font`), copyright Google LLC, licensed
  Apache 2.0, from the npm package emoji-datasource-google and the Noto Color Emoji font.
- **OpenMoji** graphics (source `openmoji`), by OpenMoji, the open-source emoji and icon
  project of HfG Schwäbisch Gmünd, licensed CC BY-SA 4.0
  (https://creativecommons.org/licenses/by-sa/4.0/), from the npm package openmoji. The
  OpenMoji images in `dataset.npz` are resized copies and are shared under the same licence.
- **Microsoft Fluent Emoji** graphics (source `fluent`), copyright Microsoft Corporation,
  licensed MIT, from the npm package fluentui-emoji.

The model weights in this folder were trained by Legomoji on these images and on synthetic
"printed heads" made from them (each training emoji's features printed on LDraw-rendered
heads); the printed heads are not shipped. Since the OpenMoji images are CC BY-SA 4.0, the
model trained on them is shared under CC BY-SA 4.0 too.
"""
WEIGHTS_FILE = "model.weights.h5"  # inside a .keras zip


def write_half_precision_model(source: Path, target: Path) -> None:
    """A copy of a .keras file whose float32 weights are stored as float16, zip-compressed:
    half the bytes; Keras casts them back to float32 when it loads the model."""
    with zipfile.ZipFile(source) as archive:
        members = {info.filename: archive.read(info) for info in archive.infolist()}
    members[WEIGHTS_FILE] = half_precision_weights(members[WEIGHTS_FILE])
    with atomic_path(target) as temporary:
        with zipfile.ZipFile(temporary, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, data in members.items():
                archive.writestr(name, data)


def half_precision_weights(data: bytes) -> bytes:
    """An HDF5 weights file (Keras's .weights.h5) with its float32 arrays stored as float16."""
    import h5py

    buffer = io.BytesIO()
    with h5py.File(io.BytesIO(data), "r") as weights, h5py.File(buffer, "w") as half:
        def copy(name, item):
            if isinstance(item, h5py.Dataset):
                array = item[()]
                half.create_dataset(name, data=array.astype(np.float16) if array.dtype == np.float32 else array)
            else:
                half.require_group(name)
            for key, value in item.attrs.items():
                half[name].attrs[key] = value

        for key, value in weights.attrs.items():
            half.attrs[key] = value
        weights.visititems(copy)
    return buffer.getvalue()


def ship_refiner(run: Path, out: Path) -> bool:
    """Copy a run's refiner (vae.refiner: its config, history and weights, stored as float16)
    into `out`; False where the run has none (the model then draws its raw pictures)."""
    from vae.decoder_tuning import DECODER_HISTORY_FILE
    from vae.refiner import CONFIG_FILE, HISTORY_FILE
    from vae.refiner import WEIGHTS_FILE as REFINER_WEIGHTS

    if not (run / REFINER_WEIGHTS).is_file():
        return False
    with atomic_path(out / REFINER_WEIGHTS) as temporary:
        temporary.write_bytes(half_precision_weights((run / REFINER_WEIGHTS).read_bytes()))
    (out / DECODER_HISTORY_FILE).unlink(missing_ok=True)  # shipped only with a decoder that was fine-tuned
    tuned = (DECODER_HISTORY_FILE,) if (run / DECODER_HISTORY_FILE).is_file() else ()
    for name in (CONFIG_FILE, HISTORY_FILE) + tuned:
        with atomic_path(out / name) as temporary:
            shutil.copyfile(run / name, temporary)
    return True


def umap_maps(latents: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """UMAP embedding (N, 2), and its inverse on a grid: (G, G, L) latents over extent (4,)."""
    import umap  # slow to import (numba); only the export pays for it, never the dashboard

    reducer = umap.UMAP(n_neighbors=15, min_dist=0.15, random_state=seed).fit(latents)
    embedding = reducer.embedding_.astype(np.float32)
    low, high = embedding.min(axis=0), embedding.max(axis=0)
    margin = 0.05 * (high - low)
    extent = np.array([low[0] - margin[0], high[0] + margin[0], low[1] - margin[1], high[1] + margin[1]])
    xs = np.linspace(extent[0], extent[1], GRID_SIZE)
    ys = np.linspace(extent[2], extent[3], GRID_SIZE)
    plane = np.stack(np.meshgrid(xs, ys), axis=-1).reshape(-1, 2)  # row i = y_i, column j = x_j
    grid = reducer.inverse_transform(plane).reshape(GRID_SIZE, GRID_SIZE, -1).astype(np.float32)
    return embedding, grid, extent.astype(np.float32)


def posterior_mixtures(model, dataset: FaceDataset, seed: int) -> dict[str, np.ndarray]:
    """Per domain, a Gaussian mixture fitted to the posterior means of all its real images
    (augmented copies included, printed heads not), as flat arrays named mixture_<domain>_<part>."""
    arrays = {}
    for domain in ("lego", "emoji"):
        images = dataset.images[(dataset.domain == domain) & ~dataset.synthetic]
        if len(images):
            mixture = fit_gaussian_mixture(encode_in_batches(model, images)[0], MIXTURE_COMPONENTS, seed)
            arrays.update({f"mixture_{domain}_{key}": value for key, value in mixture.items()})
    return arrays


def export(run: Path, dataset: FaceDataset, out: Path, seed: int = 0, static: Path = STATIC_FOLDER) -> dict:
    from vae.families import load_model_folder
    from vae.refiner import Refiner

    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    # the shipped weights are float16: every code and figure below comes from that model, which
    # replaces the folder's model last, once everything that goes with it is written
    staging = Path(tempfile.mkdtemp(dir=out, prefix=".export-"))
    try:
        half = staging / "model.keras"
        write_half_precision_model(run / "model.keras", half)
        model = load_model_folder(half)
        originals = dataset.real()  # the dashboard shows and maps real faces only
        means, log_vars = encode_in_batches(model, originals.images)
        mixtures = posterior_mixtures(model, dataset, seed)
        pca_mean, pca_components = fit_pca(means)
        pca_xy = pca_project(means, pca_mean, pca_components).astype(np.float32)
        umap_xy, umap_grid, umap_extent = umap_maps(means, seed)
        # the code-sized arrays in float16 (the dashboard reads them back as float32): the
        # differences are far below what a decoded face shows
        stored = {key: value.astype(np.float16) for key, value in
                  dict(means=means, log_vars=log_vars, umap_grid=umap_grid, **mixtures).items()}
        with atomic_path(out / "latents.npz") as temporary:
            with open(temporary, "wb") as handle:
                np.savez_compressed(handle, pca_mean=pca_mean, pca_components=pca_components, pca_xy=pca_xy,
                                    umap_xy=umap_xy, umap_extent=umap_extent, **stored)
        originals.save(out / "dataset.npz", compact=True)
        for name in ("config.json", "history.csv"):
            with atomic_path(out / name) as temporary:
                shutil.copyfile(run / name, temporary)
        evaluation = evaluate(model, dataset)
        atomic_write_text(out / "evaluation.json", json.dumps(evaluation, indent=2))
        atomic_write_text(out / "ATTRIBUTION.md", ATTRIBUTION)
        write_static_files(FaceDataset.load(out / "dataset.npz"), static)
        ship_refiner(run, out)
        # the networks as LiteRT files (vae/lite_export.py), moved in beside the model they come from
        refiner = Refiner.load(out)
        for name in export_lite(model, refiner, staging):
            (staging / name).replace(out / name)
        if refiner is None:
            (out / REFINER_FILE).unlink(missing_ok=True)
        half.replace(out / "model.keras")
        write_live_files(out, static)  # the browser's copies of the networks and of the UMAP grid
    finally:
        shutil.rmtree(staging, ignore_errors=True)  # also when the export stops half way
    sizes = {p.name: p.stat().st_size for p in out.iterdir() if p.is_file()}
    return {"seconds": round(time.perf_counter() - started, 1), "bytes": sizes, "total_bytes": sum(sizes.values())}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vae.export", description=__doc__)
    parser.add_argument("--run", type=Path, default=Path("runs") / "default", help="trained run folder")
    parser.add_argument("--data", type=Path, help="dataset file (default build/dataset-<model size>.npz)")
    parser.add_argument("--out", type=Path, default=Path("assets"))
    parser.add_argument("--static", type=Path, default=STATIC_FOLDER,
                        help="where the dashboard's static pictures go (default: static/ beside streamlit_app.py)")
    parser.add_argument("--static-only", action="store_true",
                        help="only write the static pictures of the model already exported to --out")
    parser.add_argument("--refiner-only", action="store_true",
                        help="only ship the run's refiner (trained by `python -m vae.train --stage refiner`) into "
                             "the model already exported to --out")
    parser.add_argument("--lite-only", action="store_true",
                        help="only write the LiteRT files (vae/lite_export.py) of the model already exported to --out")
    args = parser.parse_args(argv)

    def run() -> int:
        if args.refiner_only:
            from vae.decoder_tuning import DECODER_HISTORY_FILE

            if (args.run / DECODER_HISTORY_FILE).is_file() and not (args.out / DECODER_HISTORY_FILE).is_file():
                raise UserError(f"the decoder of {args.run} was fine-tuned with its refiner, and {args.out} holds "
                                f"the decoder from before: export the whole run (`python -m vae.export --run "
                                f"{args.run}`).")
            if not ship_refiner(args.run, args.out):
                raise UserError(f"{args.run} has no refiner: train one with `python -m vae.train --stage refiner "
                                f"--model {args.run}`.")
            from vae.refiner import Refiner

            export_lite_refiner(Refiner.load(args.out), args.out,
                                read_config(args.out / "config.json", "export the model first").image_size)
            write_live_files(args.out, args.static)
            print(f"shipped the refiner of {args.run} into {args.out}")
            return 0
        if args.lite_only:
            from vae.families import load_model_folder
            from vae.refiner import Refiner

            names = export_lite(load_model_folder(args.out), Refiner.load(args.out), args.out)
            names += write_live_files(args.out, args.static)
            print(f"{args.out}: {', '.join(names)}")
            return 0
        if args.static_only:
            names = write_static_files(FaceDataset.load(args.out / "dataset.npz"), args.static)
            names += write_live_files(args.out, args.static)
            print(f"{args.static}: {', '.join(names)}")
            return 0
        cfg = read_config(args.run / "config.json", "pass the folder of a run trained by `python -m vae.train`")
        data = args.data or Path("build") / f"dataset-{cfg.image_size}.npz"
        summary = export(args.run, FaceDataset.load(data), args.out, static=args.static)
        for name, size in sorted(summary["bytes"].items()):
            print(f"{name:18s} {size / 1e6:6.2f} MB")
        print(f"wrote {args.out} ({summary['total_bytes'] / 1e6:.1f} MB) in {summary['seconds']} s")
        return 0

    return run_cli(run, on_interrupt=f"{args.out} keeps only the files written whole before the interruption")


if __name__ == "__main__":
    sys.exit(main())
