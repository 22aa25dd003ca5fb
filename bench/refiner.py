"""The refiner (vae.refiner) on the shipped model, real faces only: how close and how detailed
its pictures are, beside the VAE's own, and what the studio's redraw gains from it."""
from __future__ import annotations

import time

import numpy as np

from explorer.engine import Engine
from vae.decoder_tuning import DECODER_HISTORY_FILE
from vae.lite_export import WEIGHTS
from vae.refiner import HISTORY_FILE, fine_detail, read_refiner_history, validation_figures

STUDIO_PAIRS = 24
KEPT_RANK = 5  # the face is kept when its source is among this many nearest Lego originals


def measure_refiner(engine: Engine, seed: int = 0, served: Engine | None = None) -> dict:
    """Validation SSIM and detail, raw and refined; detail of samples and of morph strips'
    middle frames; the studio's redraw of its print from the encoder's code and from the fitted
    one, both refined (SSIM to the print, the face kept, seconds); the refiner's training time.
    With `served` (the same folder on the LiteRT files), its validation figures too."""
    if not engine.refined:
        raise SystemExit(f"{engine.folder} has no refiner: ship one with `python -m vae.export --refiner-only`.")
    dataset, rng = engine.dataset, np.random.default_rng(seed)
    results = {"validation": validation_figures(engine.model, engine._refiner, dataset)}
    if served is not None and served.refined:
        results["served"] = {key: value for key, value in validation_figures(served.model, served._refiner,
                                                                             dataset).items()
                             if key.endswith(("_ssim", "_worse_share"))}
    detail = {domain: fine_detail(dataset.images[engine.indices(domain)]) for domain in ("lego", "emoji")}
    samples = {}
    for domain in ("lego", "emoji"):
        for raw in (True, False):
            drawn = engine.sample(64, 1.0, seed, domain, "posterior", raw=raw)
            samples[f"{domain}_{'raw' if raw else 'refined'}_detail"] = round(fine_detail(drawn) / detail[domain], 3)
    results["samples"] = samples
    lego, emoji = engine.indices("lego"), engine.indices("emoji")
    middles = {"raw": [], "refined": []}
    for _ in range(24):
        z0, z1 = engine.maps.means[rng.choice(lego)], engine.maps.means[rng.choice(emoji)]
        for name in middles:
            frames = engine.decode(*_morph_codes(engine, z0, z1), raw=name == "raw")
            middles[name].append(frames[3:7])
    both = (detail["lego"] + detail["emoji"]) / 2
    results["morph_middle_detail"] = {name: round(fine_detail(np.concatenate(frames)) / both, 3)
                                      for name, frames in middles.items()}
    results["studio"] = studio_redraws(engine, rng)
    results["training"] = {}
    for stage, name in (("decoder", DECODER_HISTORY_FILE), ("refiner", HISTORY_FILE)):
        history = read_refiner_history(engine.folder / name)
        if history:
            results["training"][stage] = {"steps": int(history[-1]["step"]), "seconds": float(history[-1]["seconds"])}
    return results


def _morph_codes(engine: Engine, z0, z1, steps: int = 10) -> tuple[np.ndarray, np.ndarray]:
    from vae import latent

    return latent.interpolate_latents(z0, z1, steps, "slerp"), np.linspace(0.0, 1.0, steps)


def studio_redraws(engine: Engine, rng) -> dict:
    """The studio's printed way on random printable pairs at full strength: the print redrawn
    from the encoder's code and from the code fitted to it, both through the refiner."""
    import tensorflow as tf

    lego, emoji = engine.indices("lego"), engine.indices("emoji")
    printable = [int(i) for i in rng.permutation(emoji)[:200] if engine.can_print(engine.dataset.images[i])]
    lego_images = engine.dataset.images[lego].reshape(len(lego), -1).astype(np.float32) / 255.0
    rows = {"encoder": [], "fitted": []}
    for k in range(STUDIO_PAIRS):
        face, target = int(rng.choice(lego)), printable[k % len(printable)]
        face_image, emoji_image = engine.dataset.images[face], engine.dataset.images[target]
        picture = engine.print_picture(face_image, emoji_image)
        for way in rows:
            started = time.perf_counter()
            code = engine.printed_transfer(face_image, engine.maps.means[face], emoji_image, 1.0,
                                           fitted=way == "fitted")
            result = engine.decode(code, "lego")[0]
            seconds = time.perf_counter() - started
            ssim = float(tf.image.ssim(tf.constant(picture[None] / 255.0, tf.float32),
                                       tf.constant(result[None] / 255.0, tf.float32), max_val=1.0).numpy()[0])
            errors = ((lego_images - result.reshape(-1).astype(np.float32) / 255.0) ** 2).mean(axis=1)
            rows[way].append((ssim, face in lego[np.argsort(errors)[:KEPT_RANK]], seconds))
    return {way: {"pairs": len(values), "ssim_to_print": round(float(np.mean([v[0] for v in values])), 4),
                  "face_kept": round(float(np.mean([v[1] for v in values])), 3),
                  "seconds_p50": round(float(np.median([v[2] for v in values])), 3)}
            for way, values in rows.items()}


def refiner_markdown(r: dict) -> list[str]:
    v, s, m = r["validation"], r["samples"], r["morph_middle_detail"]
    lines = ["", "## The refiner (the decoder's second stage)", "",
             "Real faces only: the shipped dataset's validation faces, samples from the fitted mixtures and the "
             "middle frames of 24 Lego-to-emoji morph strips. Detail is the mean absolute 4-neighbour Laplacian "
             "of the grey picture, as a ratio to the originals' (1.0: as detailed as the originals).", "",
             "| figure | raw (the VAE's own decoder) | refined | goal |", "|---|---|---|---|"]
    for domain, goal in (("lego", 0.85), ("emoji", 0.80)):
        lines.append(f"| {domain} validation SSIM | {v[f'{domain}_raw_ssim']} | {v[f'{domain}_refined_ssim']} | "
                     f">= {goal} ({verdict(v[f'{domain}_refined_ssim'] >= goal)}) |")
    for domain in ("lego", "emoji"):
        lines.append(f"| {domain} validation faces drawn worse than raw | | {v[f'{domain}_worse_share']:.1%} | "
                     f"<= 5 % ({verdict(v[f'{domain}_worse_share'] <= 0.05)}) |")
    for domain in ("lego", "emoji"):
        for name, value in ((f"{domain} reconstructions detail", (v[f"{domain}_raw_detail"],
                                                                   v[f"{domain}_refined_detail"])),
                            (f"{domain} samples detail", (s[f"{domain}_raw_detail"], s[f"{domain}_refined_detail"]))):
            lines.append(f"| {name} | {value[0]} | {value[1]} | 0.85-1.15 ({verdict(0.85 <= value[1] <= 1.15)}) |")
    lines.append(f"| morph strips' middle frames detail | {m['raw']} | {m['refined']} | 0.85-1.15 "
                 f"({verdict(0.85 <= m['refined'] <= 1.15)}) |")
    if "served" in r:
        sv = r["served"]
        int8 = " and ".join(name for name, weights in WEIGHTS.items() if weights == "int8")
        lines += ["", f"As served (the LiteRT files, whose {int8} store int8 weights): validation SSIM "
                  + ", ".join(f"{d} {sv[f'{d}_raw_ssim']} raw, {sv[f'{d}_refined_ssim']} refined, "
                              f"{sv[f'{d}_worse_share']:.1%} worse than raw" for d in ("lego", "emoji")) + "."]
    st = r["studio"]
    lines += ["", f"The studio's printed way on {st['encoder']['pairs']} random pairs, both ways through the refiner:",
              "", "| redraw from | SSIM to the print | face kept (source among 5 nearest) | seconds p50 |",
              "|---|---|---|---|"]
    for way, name in (("encoder", "the encoder's code"), ("fitted", "the code fitted to the print (30 steps)")):
        lines.append(f"| {name} | {st[way]['ssim_to_print']} | {st[way]['face_kept']:.0%} | {st[way]['seconds_p50']} |")
    parts = {"decoder": "the decoder fine-tuned", "refiner": "the refiner"}
    if r["training"]:
        seconds = sum(row["seconds"] for row in r["training"].values())
        lines += ["", "The shipped second stage trained on 2 CPU cores: "
                  + ", then ".join(f"{parts[stage]} {row['steps']} steps in {row['seconds']:.0f} s"
                                   for stage, row in r["training"].items())
                  + f"; {seconds:.0f} s of training steps in all (goal <= 1800 s: {verdict(seconds <= 1800)})."]
    return lines


def verdict(met: bool) -> str:
    return "met" if met else "missed"


def write_sheets(engine: Engine, folder, seed: int = 0) -> list:
    """The refiner's contact sheets, raw beside refined, real faces only: 8 Lego faces given each
    expression the studio's way (the print redrawn from its fitted code); reconstructions of 16
    validation faces of each domain; 16 samples of each domain; one Lego-to-emoji morph strip.
    Returns the paths written (JPEG)."""
    from pathlib import Path

    from PIL import Image

    from common.files import atomic_path
    from vae import latent
    from vae.eval.sheet import sheet_emoji, sheet_faces

    folder, dataset = Path(folder), engine.dataset
    side = dataset.size
    targets = {tag: index for tag, index in sheet_emoji(dataset, engine.space).items()
               if engine.can_print(dataset.images[index])}
    faces = sheet_faces(dataset, 8, seed)
    header = [np.full((side, side, 3), 255, np.uint8)] + [dataset.images[i] for i in targets.values()]
    rows = [np.concatenate(header, axis=1)]
    for face in faces:
        codes = [engine.printed_transfer(dataset.images[face], engine.maps.means[face], dataset.images[target], 1.0)
                 for target in targets.values()]
        for raw in (True, False):
            drawn = engine.decode(np.stack(codes), "lego", raw=raw)
            first = dataset.images[face] if raw else np.full((side, side, 3), 255, np.uint8)
            rows.append(np.concatenate([first, *drawn], axis=1))
    sheets = {"refiner-expressions.jpg": np.concatenate(rows)}
    rows = []
    for domain in ("lego", "emoji"):
        val = np.flatnonzero((dataset.split == "val") & (dataset.domain == domain))[:16]
        value = float(domain == "emoji")
        rows += [dataset.images[val], engine.decode(engine.maps.means[val], value, raw=True),
                 engine.decode(engine.maps.means[val], value)]
    for domain in ("lego", "emoji"):
        rows += [engine.sample(16, 1.0, seed, domain, raw=True), engine.sample(16, 1.0, seed, domain)]
    rng = np.random.default_rng(seed)
    z0 = engine.maps.means[rng.choice(engine.indices("lego"))]
    z1 = engine.maps.means[rng.choice(engine.indices("emoji"))]
    codes, domains = latent.interpolate_latents(z0, z1, 16, "slerp"), np.linspace(0.0, 1.0, 16)
    rows += [engine.decode(codes, domains, raw=True), engine.decode(codes, domains)]
    sheets["refiner-reconstructions-samples-morph.jpg"] = np.concatenate([np.concatenate(list(r), axis=1)
                                                                           for r in rows])
    written = []
    for name, pixels in sheets.items():
        with atomic_path(folder / name) as temporary:
            Image.fromarray(pixels).save(temporary, format="JPEG", quality=88)
        written.append(folder / name)
    return written


if __name__ == "__main__":
    import sys

    target = sys.argv[1] if len(sys.argv) > 1 else "results"
    for path in write_sheets(Engine(), target):
        print(f"wrote {path}")
