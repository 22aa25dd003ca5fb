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
    from data.build import build_dataset, load_ldraw_heads, parse_args
    from data.ldraw import RenderStats

    out = workdir / "dataset-64.npz"
    started = time.perf_counter()
    args = parse_args(["--quiet", "--out", str(out)])  # the sources in $LEGOMOJI_SOURCES or data.fetch's cache
    dataset, _ = build_dataset(args)
    dataset.save(out)
    build_seconds = time.perf_counter() - started
    started = time.perf_counter()
    faces = load_ldraw_heads(args.ldraw, 256, RenderStats(), progress=False)
    render_seconds = time.perf_counter() - started
    return {"build_seconds": round(build_seconds, 1), "images": len(dataset),
            "ldraw_renders": len(faces), "ldraw_render_images_per_second": round(len(faces) / render_seconds, 1),
            "goal_build_seconds": 120}, out


def measure_training(data: Path, workdir: Path, budget: float) -> dict:
    """seed, plain and fast trained for the same budget on the 64 px build, each judged for
    reconstruction and for how shared its latent space is; full-run times from the histories."""
    from data.dataset import FaceDataset
    from vae.config import read_history
    from vae.eval.compare import compare

    report = compare(FaceDataset.load(data), budget, workdir / "compare")
    result = {"budget_seconds": budget, "presets": {}}
    for name, values in report["presets"].items():
        result["presets"][name] = {"images_per_second": values["images_per_second"], "epochs": values["epochs"],
                                   "alignment": values["alignment"],
                                   **{d: {k: values["validation"][d][k] for k in ("mse", "ssim")}
                                      for d in ("lego", "emoji")}}
    shipped = read_history(ROOT / "assets" / "history.csv")
    fast = read_history(ROOT / "results" / "fast-history.csv")
    result["full_run_seconds"] = {"default": float(shipped[-1]["seconds"]) if shipped else None,
                                  "fast": float(fast[-1]["seconds"]) if fast else None}
    result["full_run_source"] = "training seconds recorded in assets/history.csv and results/fast-history.csv"
    return result


def verdict(value: float, goal: float, lower_is_better: bool = True) -> str:
    met = value <= goal if lower_is_better else value >= goal
    return "met" if met else "**missed**"


def shared_space_markdown(q: dict, evaluation: dict, assets_mb: float, interaction: dict) -> list[str]:
    """The shipped model against the goals of the shared-space redesign."""
    d, n, tr = q["domain_accuracy"], q["expression_neighbours"], q["transfer"]
    studio = default_studio(tr)
    lowest = min(studio["per_expression"].items(), key=lambda item: item[1])
    le, el = q["translation"]["lego_to_emoji"], q["translation"]["emoji_to_lego"]
    decode = interaction["decode one latent"]["median_ms"]
    rows = [
        ("domain accuracy from the code (5-fold logistic regression)", f"{d['accuracy']:.2f} (majority "
         f"class {d['majority']:.2f})", "<= 0.75", verdict(d["accuracy"], 0.75)),
        ("a tagged Lego face's 10 nearest emoji share its tag", f"{n['rate']:.3f} = {n['ratio']:.2f}x chance "
         f"({n['chance']:.3f})", ">= 2.5x", verdict(n["ratio"], 2.5, False)),
        ("studio (an emoji's expression): judged to show it on a Lego face", f"{studio['success']:.0%}", ">= 85 %",
         verdict(studio["success"], 0.85, False)),
        ("studio: identity kept (source among its 5 nearest Lego originals)", f"{studio['identity_kept']:.0%}",
         ">= 60 %", verdict(studio["identity_kept"], 0.6, False)),
        ("studio: lowest expression", f"{lowest[0]} {lowest[1]:.0%}", ">= 50 %", verdict(lowest[1], 0.5, False)),
        ("Lego face as an emoji: judged emoji / expression kept", f"{le['other_domain']:.0%} / "
         f"{le['expression_kept']:.0%}", ">= 95 % / >= 70 %",
         verdict(min(le["other_domain"] - 0.95, le["expression_kept"] - 0.7), 0, False)),
        ("emoji as a Lego face: judged Lego / expression kept", f"{el['other_domain']:.0%} / "
         f"{el['expression_kept']:.0%}", ">= 95 % / >= 70 %",
         verdict(min(el["other_domain"] - 0.95, el["expression_kept"] - 0.7), 0, False)),
    ]
    for domain in ("lego", "emoji"):
        ssim = evaluation[domain]["ssim"]
        rows.append((f"validation SSIM, {domain}", f"{ssim:.3f}", ">= 0.88", verdict(ssim, 0.88, False)))
    rows += [("decode one face, p50", f"{decode:.1f} ms", "<= 50 ms", verdict(decode, 50)),
             ("assets/ size", f"{assets_mb:.1f} MB", "<= 25 MB", verdict(assets_mb, 25))]
    lines = ["", "## The shared latent space (shipped model)", "",
             f"Judged by {tr['judge']}, on {tr['pairs']} random (Lego face, target) pairs at strength "
             f"{tr['strength']:g} and on every tagged original for translation.", "",
             "| figure | value | goal | |", "|---|---|---|---|"]
    lines += [f"| {a} | {b} | {c} | {e} |" for a, b, c, e in rows]
    lines += studio_modes_markdown(tr)
    lines += ["", "Shown per expression (the studio's default): " + ", ".join(
        f"{k} {v:.0%}" for k, v in studio["per_expression"].items()) + "."]
    if "cnn" in q:
        lines += cnn_markdown(q["cnn"])
    return lines


STUDIO_MODES = (("printed", "an emoji, printed then redrawn from a code fitted to the print (default)"),
                ("printed_encoder", "an emoji, printed then redrawn from the encoder's code (before fitting)"),
                ("emoji", "an emoji, its expression code"),
                ("tag", "an expression tag"), ("print_itself", "the print itself, not redrawn (reference)"),
                ("unchanged", "unchanged face (reference)"))


def default_studio(transfer: dict) -> dict:
    """The studio's default way with an emoji: printed then redrawn (the expression code in
    figures measured before the studio printed)."""
    return transfer.get("printed", transfer["emoji"])


def studio_modes_markdown(transfer: dict) -> list[str]:
    lines = ["", "| studio mode | expression shown | identity kept | both |", "|---|---|---|---|"]
    for key, name in STUDIO_MODES:
        if key in transfer:
            r = transfer[key]
            lines.append(f"| {name} | {r['success']:.0%} | {r['identity_kept']:.0%} | {r['both']:.0%} |")
    if "fit_steps" in transfer:
        lines += ["", f"A print's code is fitted to it in {transfer['fit_steps']} steps (vae.fit)."]
    if "printed_share" in transfer:
        lines += ["", f"{transfer['printed_share']:.0%} of the pairs' emoji could be printed; the others have no "
                      "yellow face fill to lift their features from and fall back to the expression code."]
    return lines


def cnn_markdown(cnn: dict) -> list[str]:
    """The studio and translation judged by the CNN judge, beside the judge's own accuracy."""
    from vae.eval.judge import per_domain_line

    studio, tr = default_studio(cnn["transfer"]), cnn["translation"]
    le, el = tr["lego_to_emoji"], tr["emoji_to_lego"]
    enough = {t: v for t, v in studio["per_expression"].items() if studio["pairs_per_expression"].get(t, 0)}
    worst = min(enough.items(), key=lambda item: item[1]) if enough else ("-", 0.0)
    rows = [
        ("studio (default, an emoji): expression shown and face kept", f"{studio['both']:.0%}", ">= 60 %",
         verdict(studio["both"], 0.6, False)),
        ("studio: expression shown", f"{studio['success']:.0%}", ">= 85 %", verdict(studio["success"], 0.85, False)),
        ("studio: identity kept", f"{studio['identity_kept']:.0%}", ">= 70 %",
         verdict(studio["identity_kept"], 0.7, False)),
        ("studio: lowest expression (each has >= 5 emoji)", f"{worst[0]} {worst[1]:.0%}", ">= 50 %",
         verdict(worst[1], 0.5, False)),
        ("translation Lego -> emoji: judged emoji / expression kept",
         f"{le['other_domain']:.0%} / {le['expression_kept']:.0%}", ">= 95 % / >= 70 %",
         verdict(min(le["other_domain"] - 0.95, le["expression_kept"] - 0.7), 0, False)),
        ("translation emoji -> Lego: judged Lego / expression kept",
         f"{el['other_domain']:.0%} / {el['expression_kept']:.0%}", ">= 95 % / >= 70 %",
         verdict(min(el["other_domain"] - 0.95, el["expression_kept"] - 0.7), 0, False)),
    ]
    lines = ["", "### Judged by the CNN judge", "", f"The judge: {cnn['judge']}.", "",
             "| figure | value | goal | |", "|---|---|---|---|"]
    lines += [f"| {a} | {b} | {c} | {e} |" for a, b, c, e in rows]
    lines += studio_modes_markdown(cnn["transfer"])
    lines += ["", "Shown per expression (the studio's default; pairs in brackets): " + ", ".join(
        f"{t} {v:.0%} ({studio['pairs_per_expression'][t]})" for t, v in studio["per_expression"].items()) + "."]
    cv = cnn.get("cross_validation")
    if cv:
        lines += ["", f"The judge's own accuracy on faces it never saw ({cv['folds']}-fold, grouped so that one "
                  f"emoji in every art style or one head's two sides stay in one fold; {cv['images']} real "
                  f"originals): domain {cv['domain_accuracy']:.0%}; per tag, balanced accuracy (recall): " + ", ".join(
                      f"{t} {v['balanced_accuracy']:.2f} ({v['recall']:.2f}, {v['positives']} faces)"
                      for t, v in cv["tags"].items()) + "."]
        lines += [per_domain_line(cv)] if cv.get("per_domain") else []
    return lines


WIRE_GOALS = {"studio pick": 150, "strength change": 150, "mix slider": 150, "Surprise me": 250, "morph pick": 250,
              "map click": 250}


def wire_markdown(wire: dict) -> list[str]:
    """Bytes per action and click-to-picture, on loopback and over the emulated home connection."""
    home = wire["home_connection"]
    lines = ["", "## Over the wire (headless Chromium, DevTools)", "",
             f"Bytes received over the websocket from each action to the end of its run, and the time from the "
             f"action's input event to the new picture (page switches: to the page's title with its run "
             f"finished), both on the page's clock, on loopback and over an "
             f"emulated home connection ({home['downloadThroughput'] * 8 / 1e6:g} Mbit/s down, "
             f"{home['uploadThroughput'] * 8 / 1e6:g} Mbit/s up, {home['latency']} ms round trip).", "",
             "The goals are on the websocket's bytes; the files a run names (its pictures, a download's data) "
             "are fetched over HTTP beside them.", "",
             "| action | websocket bytes (p50 / max) | files over HTTP (p50) | loopback p50 | home p50 | goals | |",
             "|---|---|---|---|---|---|---|"]
    switches = [name for name in wire["loopback"] if name.startswith("switch to")]
    for name, loop in wire["loopback"].items():
        home_row = wire["home"].get(name, {})
        if "error" in loop or "error" in home_row:
            error = loop.get("error") or home_row.get("error")
            lines.append(f"| {name} | not measured: {error} | | | | | **missed** |")
            continue
        goal = WIRE_GOALS.get(name, 250)
        met = loop["bytes_max"] <= 150_000 and loop["p50_ms"] <= goal and home_row["p50_ms"] <= 400
        files = f"{loop['http_bytes_p50'] / 1e3:.0f} KB" if "http_bytes_p50" in loop else "not measured"
        lines.append(f"| {name} | {loop['bytes_p50'] / 1e3:.0f} KB / {loop['bytes_max'] / 1e3:.0f} KB | {files} | "
                     f"{loop['p50_ms']:.0f} ms | {home_row['p50_ms']:.0f} ms | <= 150 KB, <= {goal} ms, <= 400 ms "
                     f"| {'met' if met else '**missed**'} |")
    measured = [n for n in switches if "error" not in wire["loopback"][n]]
    if measured:
        slowest = max(measured, key=lambda n: wire["loopback"][n]["p50_ms"])
        lines += ["", f"Slowest page switch on loopback: {slowest[len('switch to '):]} "
                      f"({wire['loopback'][slowest]['p50_ms']:.0f} ms)."]
    cold = wire.get("cold_first_pictures_home", {"error": "measured before the median of cold loads"})
    lines += ["", f"First pictures of a cold browser (empty cache) over the home connection: {cold['median_s']} s "
              f"after the page is opened, the median of {len(cold['each_s'])} cold loads "
              f"({', '.join(map(str, cold['each_s']))} s; goal <= 4 s: {verdict(cold['median_s'], 4)}); until then "
              f"the page fetched {cold['requests']} files, {cold['kb']:,} KB." if "error" not in cold else
              f"First pictures of a cold browser: not measured ({cold['error']}): **missed**."]
    return lines


def live_markdown(live: dict) -> list[str]:
    """The face under a moving pointer, drawn in the browser (explorer/live.py)."""
    pointer, heap, sessions, cold = live["map_pointer"], live["heap"], live["sessions"], live["cold_home"]
    moving, clicking = sessions["moving"], sessions["clicking"]
    return [
        "", "## Live faces in the browser (headless Chromium, LiteRT.js on one WebAssembly thread)", "",
        f"The map's face under the pointer, in each domain, drawn in the page. {pointer['moves']} pointer moves "
        f"along a path at about 60 a second; for each move, the time until a face at least as new is on the "
        f"canvas ({pointer['faces_drawn']} faces drawn: a move that comes while a face is drawing waits for it).",
        "", "| figure | value | goal | |", "|---|---|---|---|",
        f"| map pointer move to its face on the canvas, p50 / p95 | {pointer['p50_ms']:.0f} / "
        f"{pointer['p95_ms']:.0f} ms | <= 50 / 100 ms | {verdict(pointer['p50_ms'], 50)} / "
        f"{verdict(pointer['p95_ms'], 100)} |",
        f"| last move to the refined faces | {pointer['refined_after_last_move_ms']:.0f} ms | <= 250 ms | "
        f"{verdict(pointer['refined_after_last_move_ms'], 250)} |",
        f"| websocket messages sent over the {pointer['moves']} moves | {pointer['websocket_messages_sent']} | 0 | "
        f"{verdict(pointer['websocket_messages_sent'], 0)} |",
        *[f"| slider drag, {name}: each of {drag['frames']} frames to its faces, p50 / p95; refined after the last; "
          f"messages sent | {drag['p50_ms']:.0f} / {drag['p95_ms']:.0f} ms; "
          f"{drag['refined_after_last_frame_ms']:.0f} ms; {drag['websocket_messages_sent']} | "
          + (f"<= 50 ms; <= 250 ms; 0 | {verdict(drag['p50_ms'], 50)}; "
             f"{verdict(drag['refined_after_last_frame_ms'], 250)}; {verdict(drag['websocket_messages_sent'], 0)} |"
             if drag.get("goal", True) else "no goal; 0 | measured |")
          for name, drag in live.get("sliders", {}).items()],
        f"| cold browser over the home connection: map opened to its first live face (median of "
        f"{len(cold['each_s'])}) | {cold['median_s']} s | <= 6 s | {verdict(cold['median_s'], 6)} |",
        *([f"| the same, the Mirror opened to its first live face (no map: no Plotly) | {mirror['median_s']} s | "
           f"<= 6 s | {verdict(mirror['median_s'], 6)} |"] if (mirror := live.get("cold_home_mirror")) else []),
        f"| the runtime and the networks on the wire | {cold['live_mb_on_the_wire']} MB | <= 9 MB | "
        f"{verdict(cold['live_mb_on_the_wire'], 9)} |",
        *([f"| everything the map took on the wire until its first live face; the Mirror | "
           f"{cold['page_mb_on_the_wire']} MB; {mirror['page_mb_on_the_wire'] if mirror else '–'} MB | | |"]
          if "page_mb_on_the_wire" in cold else []),
        f"| the tab's JavaScript heap after {heap['minutes']:g} minutes of moving ({heap['moves']} moves) | "
        f"{heap['heap_mb_after']} MB (before: {heap['heap_mb_before']} MB) | <= 300 MB | "
        f"{verdict(heap['heap_mb_after'], 300)} |",
        f"| server CPU while {sessions['sessions']} sessions each move {sessions['moves_each']} times at once "
        f"({moving['faces_drawn']} faces drawn) | {moving['server_cpu_s']} s | near 0 | |",
        f"| server CPU per map click of the same sessions (each a run of the server's) | "
        f"{clicking['server_cpu_ms_per_click']:.0f} ms ({clicking['clicks']} clicks) | | |",
        *([f"| server CPU while the same sessions drag the studio's strength at once ({dragging['frames']} frames) "
           f"| {dragging['server_cpu_s']} s | near 0 | |",
           f"| server CPU per strength let go (a run of the studio's result) | "
           f"{dragging['server_cpu_ms_per_let_go']:.0f} ms | | |"] if (dragging := sessions.get("dragging")) else []),
    ]


def markdown(results: dict) -> str:
    from vae.eval.compare import ALIGNMENT_HEADER, alignment_row

    m, b, t = results["machine"], results["build"], results["training"]
    lines = [
        "# Benchmarks",
        "",
        f"Measured on {m['cpu']} ({m['cores']} cores), Python {m['python']}, by `python -m bench`. Times are "
        "medians after a warm-up; ratios compare things measured side by side in one run. Raw figures: "
        "`bench/results.json`. When each part was last measured: "
        + ", ".join(f"{part} {date}" for part, date in results.get("dates", {}).items()) + ".",
        "",
        "## Data build",
        "",
        "| figure | value | goal | |", "|---|---|---|---|",
        f"| full 64 px build from the full sources | {b['build_seconds']} s ({b['images']} images) | <= 120 s | "
        f"{verdict(b['build_seconds'], 120)} |",
        f"| LDraw heads rendered | {b['ldraw_render_images_per_second']} images/s ({b['ldraw_renders']} renders at "
        "256 px, 4x supersampled) | | |",
        "",
        "## Training",
        "",
        f"`seed`, `plain` (one code for both domains) and `fast` (the shared design at 64 px) trained for "
        f"{t['budget_seconds']:g} s each on the 64 px build, one after the other, then judged like the shipped "
        "model below.",
        "",
        "| preset | images/s | epochs | lego val MSE | lego val SSIM | emoji val MSE | emoji val SSIM |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, p in t["presets"].items():
        lines.append(f"| {name} | {p['images_per_second']:.0f} | {p['epochs']} | {p['lego']['mse']:.5f} | "
                     f"{p['lego']['ssim']:.4f} | {p['emoji']['mse']:.5f} | {p['emoji']['ssim']:.4f} |")
    lines += ["", f"| preset | {ALIGNMENT_HEADER} |", "|---|---|---|---|---|---|"]
    for name, p in t["presets"].items():
        lines.append(f"| {name} | {alignment_row(p['alignment'])} |")
    full = t["full_run_seconds"]
    lines += ["", "| full run | seconds | goal | |", "|---|---|---|---|",
              f"| shipped `default` (128 px) | {full['default']:.0f} | <= 3600 | {verdict(full['default'], 3600)} |",
              f"| `fast` (64 px) | {full['fast']:.0f} | <= 600 | {verdict(full['fast'], 600)} |",
              "", f"({t['full_run_source']}.)", "", "## Interaction (server side)", "",
              "In a fresh interpreter with the server's memory settings (`explorer/memory.py`): TensorFlow's "
              "tensors come from the system allocator, which bounds memory and costs time on larger batches.", "",
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
        f"| peak server memory, 1 session on the map | {a['peak_rss_mb_1_session']:.0f} MB | | |",
        *([f"| peak server memory, 1 session through every page (Community Cloud's floor: 690 MB) | "
           f"{a['peak_rss_mb_1_session_all_pages']:.0f} MB | <= 690 MB | "
           f"{verdict(a['peak_rss_mb_1_session_all_pages'], 690)} |"] if "peak_rss_mb_1_session_all_pages" in a
          else []),
        f"| peak server memory, {sessions} sessions | {a[f'peak_rss_mb_{sessions}_sessions']:.0f} MB | <= 1024 MB | "
        f"{verdict(a[f'peak_rss_mb_{sessions}_sessions'], 1024)} |",
        f"| cold `import tensorflow` / `import umap` (fresh interpreter) | {a['import_tensorflow_seconds']} s / "
        f"{a['import_umap_seconds']} s | | |",
        f"| does the app import umap? | {'yes' if a['app_imports_umap'] else 'no (maps are precomputed)'} | no | "
        f"{'**missed**' if a['app_imports_umap'] else 'met'} |",
    ]
    c, soak = a["churn"], a["soak"]  # soak is None when --soak-seconds 0
    lines += [f"| memory kept after {c['sessions']} sessions each upload a 0.9 MB picture, open the map and close "
              f"({c['settle_seconds']:g} s later; {c['rss_before_mb']:.0f} -> {c['rss_with_sessions_mb']:.0f} -> "
              f"{c['rss_after_mb']:.0f} MB) | {c['kept_mb']:.0f} MB | <= 50 MB | {verdict(c['kept_mb'], 50)} |"]
    if soak:
        stuck_on = "; ".join(soak.get("stuck_on", []))
        lines += [f"| peak memory, {soak['sessions']} sessions walking the pages for {soak['seconds']:g} s "
                  f"({soak['interactions']} steps, {soak.get('uploads', 0)} of them an upload then the map) | "
                  f"{soak['peak_rss_mb']:.0f} MB | <= 1024 MB | {verdict(soak['peak_rss_mb'], 1024)} |",
                  f"| steps in that soak whose page did not show within 30 s"
                  f"{f' (landed on: {stuck_on})' if stuck_on else ''} | "
                  f"{soak['not_shown_within_30_s']} of {soak['interactions']} | 0 | "
                  f"{verdict(soak['not_shown_within_30_s'], 0)} |"]
    goals = {"studio pick": 150, "strength change": 150, "morph pick": 300, "map click": 250,
             "page switch (sidebar)": 300}
    lines += ["", "## Click to updated image (headless Chromium)", "",
              "From the input event to the new picture shown, one browser session, after a warm-up.", "",
              "| action | p50 | p95 | goal (p50) | |", "|---|---|---|---|---|"]
    for name, r in results["clicks"].items():
        goal = goals.get(name)
        if "error" in r:
            lines.append(f"| {name} | not measured: {r['error']} | | <= {goal} ms | **missed** |")
            continue
        lines.append(f"| {name} | {r['p50_ms']:.0f} ms | {r['p95_ms']:.0f} ms | "
                     f"{f'<= {goal} ms' if goal else ''} | {verdict(r['p50_ms'], goal) if goal else ''} |")
    lines += ["", "## Hostile uploads", "", "Each in a fresh interpreter that loads only the upload code; extra "
              "memory is the peak resident size above the size before the call.", "",
              "| upload | file size | outcome | time | extra memory | goal | |", "|---|---|---|---|---|---|---|"]
    for name, u in results["uploads"].items():
        ok = u["seconds"] < 1 and u["extra_peak_mb"] < 100
        lines.append(f"| {name[2:]} | {u['bytes'] / 1e3:.1f} KB | {u['outcome']} | {u['seconds']:.2f} s | "
                     f"{u['extra_peak_mb']:.0f} MB | < 1 s, < 100 MB | {'met' if ok else '**missed**'} |")
    if "wire" in results:
        lines += wire_markdown(results["wire"])
    if "live" in results:
        lines += live_markdown(results["live"])
    lines += shared_space_markdown(results["alignment"], results["evaluation"], results["assets_mb"],
                                   results["interaction"])
    s = results["morph_smoothness"]
    lines += [
        "", "## Morph smoothness", "",
        f"Largest / mean pixel change between neighbouring frames (1.0 = perfectly even), over {s['strips']} "
        f"Lego -> emoji strips of {s['steps']} frames.", "",
        "| interpolation | median | p95 |", "|---|---|---|",
        f"| lerp | {s['lerp']['median']} | {s['lerp']['p95']} |",
        f"| slerp | {s['slerp']['median']} | {s['slerp']['p95']} |",
    ]
    if "refiner" in results:
        from bench.refiner import refiner_markdown

        lines += refiner_markdown(results["refiner"])
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
    from bench.machine import describe_machine
    from common.files import atomic_write_text

    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--budget", type=float, default=120.0, help="training seconds per preset in the comparison")
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--sessions", type=int, default=8)
    parser.add_argument("--soak-seconds", type=float, default=600.0, help="length of the 4-session soak (0: none)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results.json")
    parser.add_argument("--markdown", type=Path, default=ROOT / "BENCHMARKS.md")
    parser.add_argument("--parts", nargs="+", choices=PARTS, default=list(PARTS),
                        help="measure only these parts; the others keep their figures (and dates) from --out")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    results = json.loads(args.out.read_text()) if set(args.parts) != set(PARTS) and args.out.is_file() else {}
    results["machine"] = describe_machine()
    dates = results.setdefault("dates", {})
    with tempfile.TemporaryDirectory() as folder:
        workdir = Path(folder)
        data = None
        for part in PARTS:  # in this order: the app before training, so nothing else is running
            if part not in args.parts:
                continue
            print(f"{part} ...", flush=True)
            if part == "build":
                results["build"], data = measure_build(workdir)
            elif part == "training":
                if data is None:
                    results["build"], data = measure_build(workdir)
                results["training"] = measure_training(data, workdir, args.budget)
            else:
                results.update(MEASURE[part](args))
            dates[part] = results["machine"]["date"]
    results["bench_seconds"] = round(time.perf_counter() - started, 1)
    atomic_write_text(args.out, json.dumps(results, indent=2))
    report = markdown(results)
    atomic_write_text(args.markdown, report)
    print(report)
    return 0


def _app(args) -> dict:
    from bench.app import app_imports_umap, import_seconds, measure_app

    app = measure_app(args.sessions, args.soak_seconds)
    app.update(import_tensorflow_seconds=import_seconds("tensorflow"), import_umap_seconds=import_seconds("umap"),
               app_imports_umap=app_imports_umap())
    return {"app": app}


def _uploads(args) -> dict:
    from bench.uploads import measure_uploads

    return {"uploads": measure_uploads()}


def _clicks(args) -> dict:
    from bench.clicks import measure_clicks

    return {"clicks": measure_clicks()}


def _wire(args) -> dict:
    from bench.wire import measure_wire

    return {"wire": measure_wire()}


def _live(args) -> dict:
    from bench.live import measure_live

    return {"live": measure_live(sessions=args.sessions)}


def _interaction(args) -> dict:
    from bench.interaction import measure_as_served

    interaction, limit = measure_as_served(args.calls)
    return {"interaction": interaction, "machine_limit": limit}


def _quality(args) -> dict:
    from bench.quality import morph_smoothness, shipped_alignment
    from explorer.engine import Engine

    engine = Engine(backend="keras")  # the research tools read the Keras model; LiteRT answers the same
    return {"alignment": shipped_alignment(engine),
            "evaluation": json.loads((ROOT / "assets" / "evaluation.json").read_text()),
            "assets_mb": round(sum(p.stat().st_size for p in (ROOT / "assets").iterdir()) / 1e6, 1),
            "morph_smoothness": morph_smoothness(engine)}


def _refiner(args) -> dict:
    from bench.refiner import measure_refiner
    from explorer.engine import Engine
    from vae.lite import lite_runtime_available

    served = Engine(backend="lite") if lite_runtime_available() else None
    return {"refiner": measure_refiner(Engine(backend="keras"), served=served)}


PARTS = ("build", "app", "uploads", "clicks", "wire", "live", "interaction", "quality", "refiner", "training")
MEASURE = {"app": _app, "uploads": _uploads, "clicks": _clicks, "wire": _wire, "live": _live,
           "interaction": _interaction, "quality": _quality, "refiner": _refiner}


if __name__ == "__main__":
    sys.exit(main())
