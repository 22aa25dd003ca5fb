"""`python -m bench`: measure everything in one run; write bench/results.json and BENCHMARKS.md.

Absolute times on a shared 2-core machine drift, so the report quotes medians after a warm-up
and ratios of things measured side by side in this run.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def measure_build(workdir: Path) -> tuple[dict, Path]:
    from data.build import DEFAULT_LDRAW, build_dataset, load_ldraw_heads, parse_args
    from data.ldraw import RenderStats

    out = workdir / "dataset-64.npz"
    started = time.perf_counter()
    dataset, _ = build_dataset(parse_args(["--quiet", "--out", str(out)]))
    dataset.save(out)
    build_seconds = time.perf_counter() - started
    started = time.perf_counter()
    faces = load_ldraw_heads(DEFAULT_LDRAW, 256, RenderStats(), progress=False)
    render_seconds = time.perf_counter() - started
    return {"build_seconds": round(build_seconds, 1), "images": len(dataset),
            "ldraw_renders": len(faces), "ldraw_render_images_per_second": round(len(faces) / render_seconds, 1),
            "goal_build_seconds": 120}, out


def measure_training(data: Path, workdir: Path, budget: float, full_run: bool) -> dict:
    from data.dataset import FaceDataset
    from vae.compare import compare
    from vae.config import preset
    from vae.train import train

    dataset = FaceDataset.load(data)
    report = compare(dataset, budget, workdir / "compare")
    result = {"budget_seconds": budget, "presets": {}, "default_vs_seed": report["default_vs_seed"]}
    for name, values in report["presets"].items():
        result["presets"][name] = {"images_per_second": values["images_per_second"], "epochs": values["epochs"],
                                   **{d: {k: values["validation"][d][k] for k in ("mse", "ssim")}
                                      for d in ("lego", "emoji")}}
    if full_run:
        started = time.perf_counter()
        train(preset("default"), dataset, workdir / "full-default", verbose=0)
        result["full_default_run_seconds"] = round(time.perf_counter() - started, 1)
        result["full_default_run_source"] = "measured in this run"
    else:
        from explorer.engine import read_history

        history = read_history(ROOT / "assets" / "history.csv")
        result["full_default_run_seconds"] = round(float(history["seconds"][-1]), 1)
        result["full_default_run_source"] = "training seconds recorded in assets/history.csv (--skip-full-run)"
    return result


def verdict(value: float, goal: float, lower_is_better: bool = True) -> str:
    met = value <= goal if lower_is_better else value >= goal
    return "met" if met else "**missed**"


def markdown(results: dict) -> str:
    m, b, t = results["machine"], results["build"], results["training"]
    lines = [
        "# Benchmarks",
        "",
        f"Measured on {m['date']} on {m['cpu']} ({m['cores']} cores), Python {m['python']}, by `python -m bench` "
        f"in {results['bench_seconds']:.0f} s. Times are medians after a warm-up; ratios compare things measured "
        "side by side in this run. Raw figures: `bench/results.json`.",
        "",
        "## Data build",
        "",
        "| figure | value | goal | |", "|---|---|---|---|",
        f"| full build from the shared sources | {b['build_seconds']} s ({b['images']} images) | <= 120 s | "
        f"{verdict(b['build_seconds'], 120)} |",
        f"| LDraw heads rendered | {b['ldraw_render_images_per_second']} images/s ({b['ldraw_renders']} renders at "
        "256 px, 4x supersampled) | | |",
        "",
        "## Training (same wall-clock budget)",
        "",
        f"Both presets trained for {t['budget_seconds']:g} s each on the same dataset, one after the other.",
        "",
        "| preset | images/s | epochs | lego val MSE | lego val SSIM | emoji val MSE | emoji val SSIM |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, p in t["presets"].items():
        lines.append(f"| {name} | {p['images_per_second']:.0f} | {p['epochs']} | {p['lego']['mse']:.5f} | "
                     f"{p['lego']['ssim']:.4f} | {p['emoji']['mse']:.5f} | {p['emoji']['ssim']:.4f} |")
    lines += ["", "| domain | MSE default / seed | goal | | SSIM seed -> default | goal | |",
              "|---|---|---|---|---|---|---|"]
    for domain in ("lego", "emoji"):
        r = t["default_vs_seed"][domain]
        lines.append(f"| {domain} | {r['mse_ratio']:.3f} | <= 0.8 | {verdict(r['mse_ratio'], 0.8)} | "
                     f"{r['ssim_seed']:.4f} -> {r['ssim_default']:.4f} | higher | "
                     f"{verdict(r['ssim_default'], r['ssim_seed'], lower_is_better=False)} |")
    full = t["full_default_run_seconds"]
    lines += ["", f"Full `default` run (60 epochs): {full:.0f} s ({t['full_default_run_source']}); goal <= 600 s: "
              f"{verdict(full, 600)}.", "", "## Interaction (server side)", "",
              "| call | median | p95 | goal | |", "|---|---|---|---|---|"]
    for name, r in results["interaction"].items():
        lines.append(f"| {name} | {r['median_ms']:.1f} ms | {r['p95_ms']:.1f} ms | <= 50 ms | "
                     f"{verdict(r['median_ms'], 50)} |")
    a = results["app"]
    sessions = a["sessions"]
    lines += [
        "", "## App", "",
        "| figure | value | goal | |", "|---|---|---|---|",
        f"| cold start of `streamlit run` until the map is drawn in headless Chromium | {a['cold_start_seconds']} s | "
        f"<= 10 s | {verdict(a['cold_start_seconds'], 10)} |",
        f"| peak server memory, 1 session | {a['peak_rss_mb_1_session']:.0f} MB | <= 1024 MB | "
        f"{verdict(a['peak_rss_mb_1_session'], 1024)} |",
        f"| peak server memory, {sessions} sessions | {a[f'peak_rss_mb_{sessions}_sessions']:.0f} MB | <= 1024 MB | "
        f"{verdict(a[f'peak_rss_mb_{sessions}_sessions'], 1024)} |",
        f"| cold `import tensorflow` / `import umap` (fresh interpreter) | {a['import_tensorflow_seconds']} s / "
        f"{a['import_umap_seconds']} s | | |",
        f"| does the app import umap? | {'yes' if a['app_imports_umap'] else 'no (maps are precomputed)'} | no | "
        f"{'**missed**' if a['app_imports_umap'] else 'met'} |",
    ]
    q = results["transfer_quality"]
    rates = q["success_rate"]
    lines += [
        "", "## Expression transfer quality", "",
        f"An independent judge ({q['judge']}) scores {q['pairs']} (Lego face, target expression) pairs at strength "
        f"{q['strength']:g}: a success shows the target expression and is still judged a Lego face.", "",
        "| method | success rate | goal | |", "|---|---|---|---|",
        f"| expression studio | {rates['studio']:.0%} | >= 70 % | {verdict(rates['studio'], 0.7, False)} |",
        f"| plain halfway morph (reference) | {rates['halfway morph']:.0%} | | |",
        f"| unchanged face (reference) | {rates['unchanged face']:.0%} | | |",
        "", "Studio success per expression: " + ", ".join(f"{k} {v:.0%}" for k, v in
                                                         q["studio_rate_per_expression"].items()) + ".",
    ]
    s = results["morph_smoothness"]
    lines += [
        "", "## Morph smoothness", "",
        f"Largest / mean pixel change between neighbouring frames (1.0 = perfectly even), over {s['strips']} "
        f"Lego -> emoji strips of {s['steps']} frames.", "",
        "| interpolation | median | p95 |", "|---|---|---|",
        f"| lerp | {s['lerp']['median']} | {s['lerp']['p95']} |",
        f"| slerp | {s['slerp']['median']} | {s['slerp']['p95']} |",
    ]
    lim = results["machine_limit"]
    lines += [
        "", "## The machine's limit", "",
        f"The decoder needs {lim['decoder_mflops_per_image']} MFLOP per image; TensorFlow multiplies float32 "
        f"matrices at {lim['matmul_gflops_per_second']} GFLOP/s here, so the fastest possible decode is "
        f"{lim['fastest_possible_decode_ms']} ms.", "",
        "| decode | measured | measured / limit |", "|---|---|---|",
        f"| one latent | {lim['decode_ms_single']} ms | {lim['ratio_single']}x |",
        f"| batch of 256, per image | {lim['decode_ms_per_image_batch_256']} ms | {lim['ratio_batch_256']}x |",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    from data.atomic import atomic_write_text

    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--budget", type=float, default=120.0, help="training seconds per preset in the comparison")
    parser.add_argument("--skip-full-run", action="store_true",
                        help="report the shipped model's recorded training time instead of training it again")
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--sessions", type=int, default=8)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results.json")
    parser.add_argument("--markdown", type=Path, default=ROOT / "BENCHMARKS.md")
    args = parser.parse_args(argv)

    from bench.app import app_imports_umap, import_seconds, measure_app
    from bench.interaction import measure_interactions
    from bench.machine import describe_machine, measure_limit
    from bench.quality import morph_smoothness, transfer_quality
    from explorer.engine import Engine

    started = time.perf_counter()
    results = {"machine": describe_machine()}
    with tempfile.TemporaryDirectory() as folder:
        workdir = Path(folder)
        print("data build ...", flush=True)
        results["build"], data = measure_build(workdir)
        print("app ...", flush=True)  # before training, so nothing else is running
        results["app"] = measure_app(args.sessions)
        results["app"].update(import_tensorflow_seconds=import_seconds("tensorflow"),
                              import_umap_seconds=import_seconds("umap"), app_imports_umap=app_imports_umap())
        engine = Engine()
        print("interaction ...", flush=True)
        results["interaction"] = measure_interactions(engine, args.calls)
        print("machine limit ...", flush=True)
        results["machine_limit"] = measure_limit(engine.model)
        print("quality ...", flush=True)
        results["transfer_quality"] = transfer_quality(engine)
        results["morph_smoothness"] = morph_smoothness(engine)
        print(f"training ({2 * args.budget:.0f} s{' + a full default run' if not args.skip_full_run else ''}) ...",
              flush=True)
        results["training"] = measure_training(data, workdir, args.budget, not args.skip_full_run)
    results["bench_seconds"] = round(time.perf_counter() - started, 1)
    atomic_write_text(args.out, json.dumps(results, indent=2))
    report = markdown(results)
    atomic_write_text(args.markdown, report)
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
