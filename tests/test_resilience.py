"""Corrupt assets, concurrent sessions and broken sources: clear messages, identical results, nothing lost."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import zipfile
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from common.errors import UserError
from data.build import main as build_main
from data.dataset import FaceDataset
from data.ldraw import LDrawLibrary
from explorer.cache import load_engine
from explorer.engine import BACKEND_ENV, BACKENDS, DEFAULT_ASSETS, Engine
from tests.conftest import FIXTURE, zip_folder

STUDIO = "from explorer.pages.studio import render_studio\nrender_studio()\n"
MAP = "from explorer.pages.latent_map import render_latent_map\nrender_latent_map()\n"
MORPH = "from explorer.pages.morph import render_morph\nrender_morph()\n"


def broken_copy(tmp_path: Path, name: str, damage, damaged: str) -> Path:
    """The shipped assets as links to the real files, except `damaged`, a real copy that
    `damage(folder)` then breaks (a link would let the damage reach the shipped file)."""
    folder = tmp_path / name
    folder.mkdir()
    for path in DEFAULT_ASSETS.iterdir():
        if path.name == damaged:
            shutil.copy2(path, folder / path.name)
        else:
            (folder / path.name).symlink_to(path.resolve())
    damage(folder)
    assert all((folder / p.name).is_symlink() for p in DEFAULT_ASSETS.iterdir() if p.name != damaged)
    return folder


def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 3])


def incompatible_model(folder: Path) -> None:
    from vae.config import preset
    from vae.families import build_vae

    build_vae(preset("tiny")).save(folder / "model.keras")  # a 16-d latent against 64-d maps


DAMAGE = {  # name: (the file it breaks, how)
    "missing model": ("model.keras", lambda f: (f / "model.keras").unlink()),
    "truncated model": ("model.keras", lambda f: truncate(f / "model.keras")),
    "incompatible model": ("model.keras", incompatible_model),
    "truncated LiteRT decoder": ("decoder.tflite", lambda f: truncate(f / "decoder.tflite")),
    "missing dataset": ("dataset.npz", lambda f: (f / "dataset.npz").unlink()),
    "truncated dataset": ("dataset.npz", lambda f: truncate(f / "dataset.npz")),
    "missing latents": ("latents.npz", lambda f: (f / "latents.npz").unlink()),
    "truncated latents": ("latents.npz", lambda f: truncate(f / "latents.npz")),
    "malformed history": ("history.csv", lambda f: (f / "history.csv").write_text("epoch,seconds\n1,not a number\n")),
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_broken_assets_give_a_clear_page(tmp_path, monkeypatch, damage):
    damaged, how = DAMAGE[damage]
    folder = broken_copy(tmp_path, damage.replace(" ", "-"), how, damaged)
    if damaged == "model.keras":  # the Keras backend's file: the LiteRT one reads its own
        monkeypatch.setenv(BACKEND_ENV, "keras")
    with pytest.raises(UserError, match=r"python -m (vae\.export|vae\.train|data\.build)|git checkout assets"):
        Engine(folder)
    monkeypatch.setenv("LEGOMOJI_MODEL", str(folder))
    for script in (STUDIO, MAP):
        app = AppTest.from_string(script, default_timeout=120)
        app.run()
        if script == MAP and not app.error:  # the map draws while the model loads: its failure shows next run
            with pytest.raises(UserError):
                load_engine(str(folder)).wait_for_model()
            app.run()
        assert not app.exception, app.exception[0].message
        assert app.error and "cannot start" in app.error[0].value
        assert "python -m" in app.error[0].value or "git checkout assets" in app.error[0].value


def test_a_broken_model_folder_opens_once_mended_without_a_restart(tmp_path, monkeypatch, caplog):
    folder = broken_copy(tmp_path, "mended", lambda f: truncate(f / "decoder.tflite"), "decoder.tflite")
    monkeypatch.setenv("LEGOMOJI_MODEL", str(folder))
    broken = AppTest.from_string(STUDIO, default_timeout=120)
    broken.run()
    assert not broken.exception and broken.error and "cannot start" in broken.error[0].value
    logged = [record for record in caplog.records if record.name == "explorer.engine" and record.exc_info]
    assert logged and "decoder.tflite" in str(logged[0].exc_info[1])  # the traceback reaches the log
    (folder / "decoder.tflite").unlink()
    (folder / "decoder.tflite").symlink_to((DEFAULT_ASSETS / "decoder.tflite").resolve())
    mended = AppTest.from_string(STUDIO, default_timeout=120)  # a new session, the same server process
    mended.run()
    assert not mended.exception and not mended.error
    assert len(mended.get("image")) >= 4


def test_a_missing_litert_package_is_one_sentence_not_a_tensorflow_fallback(tmp_path, monkeypatch):
    folder = broken_copy(tmp_path, "no-litert", lambda f: None, "")
    monkeypatch.setenv("LEGOMOJI_MODEL", str(folder))
    monkeypatch.delenv(BACKEND_ENV, raising=False)
    monkeypatch.setitem(sys.modules, "ai_edge_litert.interpreter", None)  # the package will not import
    app = AppTest.from_string(MAP, default_timeout=120)
    app.run()
    assert not app.exception and len(app.error) == 1
    assert "ai-edge-litert, which runs the model, is not installed" in app.error[0].value
    assert f"{BACKEND_ENV}=keras" in app.error[0].value


def test_a_missing_model_folder_says_so_whatever_the_backend(tmp_path, monkeypatch):
    for backend in BACKENDS:
        monkeypatch.setenv(BACKEND_ENV, backend)
        with pytest.raises(UserError, match="model folder .*nowhere does not exist"):
            Engine(tmp_path / "nowhere")


def test_models_load_only_in_safe_mode(tmp_path):
    """A .keras file with a Lambda layer (arbitrary code) is refused."""
    import keras

    from vae.families import load_model_folder

    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.Lambda(lambda x: x * 2)(inputs))
    model.save(tmp_path / "model.keras")
    with pytest.raises(UserError, match="not a loadable Legomoji model"):
        load_model_folder(tmp_path)


def session_jobs(engine: Engine, count: int = 8) -> list[tuple[str, dict, int]]:
    """(page path, URL parameters, images expected) for studio, morph and map sessions."""
    lego, emoji = engine.indices("lego"), engine.indices("emoji")
    jobs = []
    for i in range(count):
        pair = {"lego": str(int(lego[i * 7])), "emoji": str(int(emoji[i * 5]))}
        if i % 3 == 0:
            jobs.append(("", dict(pair, strength=f"{0.5 + 0.1 * i:.2f}"), 4))
        elif i % 3 == 1:
            jobs.append(("morph", dict(pair, steps=str(4 + i % 8)), 3))
        else:
            k = 3 + i % 6
            jobs.append(("map", {"image": pair["lego"], "k": str(k)}, 2 + k))
    return jobs


# the sources of the page's pictures: its images, and the server's pictures under live faces (the morph's strip)
PICTURES = """() => [...document.querySelectorAll('[data-testid="stMain"] [data-testid="stImage"] img'),
    ...[...document.querySelectorAll('*')].flatMap((host) => host.shadowRoot ? [...host.shadowRoot.querySelectorAll(
        '.pad img')] : [])].map((img) => img.getAttribute('src'))"""


async def page_images(browser, url: str, path: str, params: dict, expected: int) -> list[str]:
    """The image sources a fresh session shows for a page and its URL parameters."""
    from urllib.parse import urlencode

    context = await browser.new_context(viewport={"width": 1280, "height": 800})
    page = await context.new_page()
    await page.goto(f"{url}/{path}?{urlencode(params)}", wait_until="commit", timeout=240_000)
    await page.wait_for_function(f"n => ({PICTURES})().length >= n && "
                                 "!document.querySelector('[data-testid=\"stStatusWidgetRunningIcon\"]')",
                                 arg=expected, timeout=240_000)
    await page.wait_for_timeout(500)
    sources = await page.evaluate(PICTURES)
    errors = await page.locator('[data-testid="stException"], [data-testid="stAlertContentError"]').count()
    await context.close()
    assert errors == 0
    return sources


def test_concurrent_sessions_match_sequential_results(engine):
    """8 real browser sessions on one server, all at once, show exactly what they show one at a time."""
    import asyncio

    from tests.browser import CHROMIUM, FLAGS, free_port, wait_healthy

    if not Path(CHROMIUM).exists() and not os.environ.get("CI"):  # in CI a missing chromium fails
        pytest.skip("Debian's chromium is not installed")
    from playwright.async_api import async_playwright

    jobs = session_jobs(engine, count=3)  # a studio, a morph and a map session at once
    port = free_port()
    root = Path(__file__).resolve().parents[1]
    server = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.port",
                               str(port), "--server.headless", "true"], cwd=root, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"

    async def scenario():
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            sequential = [await page_images(browser, url, *job) for job in jobs]
            concurrent = await asyncio.gather(*(page_images(browser, url, *job) for job in jobs))
            await browser.close()
            return sequential, concurrent

    try:
        wait_healthy(url, server)
        sequential, concurrent = asyncio.run(scenario())
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert all(len(images) >= job[2] for images, job in zip(sequential, jobs))
    assert concurrent == sequential


def test_concurrent_engine_calls_equal_sequential_calls_and_never_overlap():
    engine = Engine(DEFAULT_ASSETS)
    z = engine.maps.means[:32]
    expected = [engine.decode(z[i]) for i in range(32)]
    results: list = [None] * 32
    model, inside, most = engine.model, [0], [0]
    decode_alone = model.decode

    def watched_decode(*args, **kwargs):  # counts the calls in flight at once
        inside[0] += 1
        most[0] = max(most[0], inside[0])
        try:
            time.sleep(0.002)  # room for another thread to come in, were it let in
            return decode_alone(*args, **kwargs)
        finally:
            inside[0] -= 1

    model.decode = watched_decode

    def decode(i):
        results[i] = engine.decode(z[i])

    threads = [threading.Thread(target=decode, args=(i,)) for i in range(32)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(np.array_equal(a, b) for a, b in zip(results, expected))
    assert most[0] == 1  # the engine's lock lets one model call through at a time


def test_a_build_from_damaged_sources_skips_and_counts_and_finishes(tmp_path, capsys):
    # LDraw: the real library with its first 10 printed heads, plus a malformed head that uses
    # every kind of damage
    ldraw = tmp_path / "ldraw.zip"
    real_ldraw = zip_folder(FIXTURE.ldraw, tmp_path / "real-ldraw.zip", "ldraw/")
    with zipfile.ZipFile(real_ldraw) as source, zipfile.ZipFile(ldraw, "w") as target:
        heads = sorted(n for n in source.namelist() if re.fullmatch(r"ldraw/parts/3626[a-z]*p[^/]*\.dat", n))
        for item in source.infolist():
            if item.filename not in heads[10:]:
                target.writestr(item, source.read(item))
        target.writestr("ldraw/parts/3626zzp01.dat", (
            "0 Minifig Head with Broken Smile Pattern\n"
            "1 16 0 0 0 1 0 0 0 1 0 0 0 1 3626b.dat\n"
            "3 16 1 2 x 4 5 6 7 8 9\n3 987654 0 0 0 1 0 0 0 1 0\n"
            "1 16 0 0 0 1 0 0 0 1 0 0 0 1 missing.dat\n1 16 0 0 0 1 0 0 0 1 0 0 0 1 s\\loop.dat\n"
            "1 16 0 0 0 1 0 0 0 1 0 0 0 1 huge.dat\n"))
        target.writestr("ldraw/parts/s/loop.dat", "1 16 0 0 0 1 0 0 0 1 0 0 0 1 s\\loop.dat\n")
        target.writestr("ldraw/parts/huge.dat", "0 " + "x" * (5 * 1024 * 1024))
    # emoji pack: the real Twemoji pack with a corrupt PNG and malformed entries
    pack = tmp_path / "pack.zip"
    real_pack = zip_folder(FIXTURE.twitter, tmp_path / "real-pack.zip", "emoji-datasource/")
    with zipfile.ZipFile(real_pack) as source, zipfile.ZipFile(pack, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename.endswith("emoji.json"):
                entries = json.loads(data)
                entries += [{"name": "BROKEN"}, 42, {"name": "X", "unified": "nothex", "image": "x.png"}]
                data = json.dumps(entries).encode()
            elif item.filename.endswith("/1f600.png"):
                data = b"\x89PNG\r\n\x1a\ncorrupt"
            target.writestr(item, data)
    out = tmp_path / "dataset.npz"
    code = build_main(["--quiet", "--ldraw", str(ldraw), "--emoji-pack", str(pack), "--augment", "0", "--no-fonts",
                       "--out", str(out)])
    printed = capsys.readouterr().out
    assert code == 0
    dataset = FaceDataset.load(out)
    skipped = dataset.meta["skipped"]
    assert skipped["LDraw malformed lines"] >= 1 and skipped["LDraw unknown colours"] >= 1
    assert skipped["LDraw missing sub-files"] >= 1 and skipped["LDraw cyclic references"] >= 1
    assert skipped["LDraw oversized files"] >= 1
    assert skipped["corrupt emoji images"] == 1 and skipped["malformed emoji.json entries"] == 3
    assert "skipped:" in printed
    originals = Counter(dataset.source)
    kept = [h for h in LDrawLibrary(ldraw).printed_heads() if h.filename != "3626zzp01.dat"]
    assert len(kept) == 10
    expected = len(kept) + sum(h.two_sided for h in kept) + 1  # each front, each back, the broken head
    assert originals["ldraw"] == expected and originals["twitter"] == FIXTURE.pack_faces - 1
    assert np.all(dataset.images.reshape(len(dataset), -1).std(axis=1) > 5)  # every image is a real picture


def test_sampling_the_fitted_mixture_of_a_folder_without_one_is_one_sentence(tmp_path):
    def drop_mixtures(folder: Path) -> None:
        with np.load(folder / "latents.npz") as archive:
            kept = {key: archive[key] for key in archive.files if not key.startswith("mixture_")}
        np.savez_compressed(folder / "latents.npz", **kept)

    engine = Engine(broken_copy(tmp_path, "no mixtures", drop_mixtures, "latents.npz"))
    with pytest.raises(UserError, match="no fitted mixture of lego codes"):
        engine.sample(2, domain="lego", prior="posterior")
    assert engine.sample(2, domain="lego", prior="normal").shape[0] == 2
