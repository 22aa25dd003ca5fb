"""Killing the dataset build or training at random moments loses nothing; --resume carries on."""
from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import FIXTURE
from vae.config import read_history

ROOT = Path(__file__).resolve().parents[1]
ENV = dict(os.environ, PYTHONPATH=str(ROOT), TF_CPP_MIN_LOG_LEVEL="3")


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run_and_kill(args: list[str], sig: int, when) -> int:
    """Start `python *args`, send `sig` as soon as `when()` is true (polled every 10 ms), and
    return the exit code. The process must still be running then: a run that finished first
    tested nothing, and fails."""
    process = subprocess.Popen([sys.executable, *args], cwd=ROOT, env=ENV, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 240
        while not when():
            assert process.poll() is None, "the process ended before the moment it was to be interrupted"
            assert time.monotonic() < deadline, "the moment to interrupt never came"
            time.sleep(0.01)
        process.send_signal(sig)
        process.communicate(timeout=120)
        return process.returncode
    finally:
        if process.poll() is None:
            process.kill()


def after(seconds: float):
    start = time.monotonic()
    return lambda: time.monotonic() - start >= seconds


def temporary_in(folder: Path):
    """True while an atomic write's temporary file (a dot file) exists in `folder`."""
    return lambda: any(p.name.startswith(".") for p in folder.iterdir()) if folder.is_dir() else False


def replaced(path: Path):
    """True once `path` has been written anew since this was called."""
    before = path.stat().st_mtime_ns
    return lambda: path.stat().st_mtime_ns != before


@pytest.mark.parametrize("sig,moment", [(signal.SIGINT, "drawing"), (signal.SIGTERM, "writing")])
def test_killing_the_build_keeps_the_existing_dataset(built_dataset, tmp_path, sig, moment):
    """Killed while it draws the sources, and while its temporary output is being written."""
    out = tmp_path / "dataset-64.npz"
    built_dataset[0].save(out)
    before = digest(out)
    when = after(1.5) if moment == "drawing" else temporary_in(tmp_path)
    code = run_and_kill(["-m", "data.build", "--quiet", *FIXTURE.build_args(), "--out", str(out)], sig, when)
    assert code in (130, -sig)
    assert digest(out) == before
    assert [p.name for p in tmp_path.iterdir()] == [out.name]  # no temporary file left behind


@pytest.fixture(scope="module")
def small_data(built_dataset, tmp_path_factory):
    dataset = built_dataset[0]
    rng = np.random.default_rng(1)
    keep = np.zeros(len(dataset), bool)
    keep[rng.choice(np.flatnonzero(dataset.split == "train"), 192, replace=False)] = True
    keep[np.flatnonzero(dataset.split == "val")[:32]] = True
    path = tmp_path_factory.mktemp("small") / "small.npz"
    dataset.subset(keep).save(path)
    return path


def test_killing_training_loses_nothing_and_resume_continues(small_data, tmp_path):
    out = tmp_path / "run"
    base = ["-m", "vae.train", "--data", str(small_data), "--preset", "tiny", "--out", str(out), "--quiet",
            "--stage", "vae"]
    assert subprocess.run([sys.executable, *base, "--epochs", "1"], cwd=ROOT, env=ENV,
                          capture_output=True).returncode == 0
    # killed while a checkpoint is half written, and just after one was renamed into place
    for sig, moment in [(signal.SIGINT, "writing"), (signal.SIGTERM, "written")]:
        model_before = digest(out / "model.keras")
        when = temporary_in(out) if moment == "writing" else replaced(out / "checkpoint.keras")
        code = run_and_kill([*base, "--epochs", "400", "--resume"], sig, when)
        assert code in (130, -sig)
        assert digest(out / "model.keras") == model_before  # the finished model is untouched
        history = read_history(out / "history.csv")
        assert [int(r["epoch"]) for r in history] == list(range(1, len(history) + 1))
        assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporary files
    interrupted_at = len(read_history(out / "history.csv"))
    assert interrupted_at > 1  # the interrupted runs made and kept progress (the last one at least an epoch)
    final = interrupted_at + 1
    assert subprocess.run([sys.executable, *base, "--epochs", str(final), "--resume"], cwd=ROOT, env=ENV,
                          capture_output=True).returncode == 0
    history = read_history(out / "history.csv")
    assert [int(r["epoch"]) for r in history] == list(range(1, final + 1))
    seconds = [float(r["seconds"]) for r in history]
    assert seconds == sorted(seconds)  # the clock continues across resumes
