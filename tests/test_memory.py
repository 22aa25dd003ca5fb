"""Memory that sessions and model calls free goes back to the system (explorer/memory.py).

Each case runs in a fresh interpreter: malloc's settings are global to a process. The sessions
are threads that allocate picture-sized buffers at once, as a busy server's script runs do.
"""
from __future__ import annotations

import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

SESSIONS = """
import sys, threading
import numpy as np
from explorer.memory import return_large_buffers
from tests.test_memory import rss_mb

if sys.argv[1] == "fixed":
    assert return_large_buffers()
np.ones(30_000_000, np.uint8)  # one large block freed: glibc raises its mmap threshold past it
before = rss_mb()

def session(seed, barrier):
    rng = np.random.default_rng(seed)
    buffers = [np.ones(int(rng.integers(1, 6)) * 1_000_000, np.uint8) for _ in range(5)]
    barrier.wait()  # every session holds its buffers at the same time, then frees them
    del buffers

for wave in range(3):
    barrier = threading.Barrier(8)
    threads = [threading.Thread(target=session, args=(wave * 8 + i, barrier)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
print(rss_mb() - before)
"""

BATCHES = """
import numpy as np
from explorer.memory import bound_server_memory
from tests.test_memory import rss_mb

bound_server_memory()  # on any C library: TensorFlow's system allocator; on glibc also the threshold
from explorer.engine import DECODE_CHUNK, Engine

engine = Engine()
engine.decode(engine.maps.means[:DECODE_CHUNK])  # the largest batch the networks are given
before = rss_mb()
for size in (2, 3, 5, 6, 8, 9, 12, 16):  # the batch sizes of the pages' grids, strips and samples
    engine.decode(engine.maps.means[:size], np.linspace(0, 1, size))
print(rss_mb() - before)
"""

EXTRAS = """
import sys
from explorer.memory import KERAS_EXTRAS, without_keras_extras

with without_keras_extras():
    import keras
loaded = [name for name in KERAS_EXTRAS if name in sys.modules]
import sklearn.decomposition  # still importable after the block
print(len(loaded))
"""

glibc_only = pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc",
                                reason="the malloc settings are glibc's")
linux_only = pytest.mark.skipif(platform.system() != "Linux", reason="reads the process's memory from /proc")


def rss_mb() -> float:
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def kept_mb(script: str, mode: str) -> float:
    """The last line `script` prints: memory still held in MB, run in a fresh interpreter."""
    out = subprocess.run([sys.executable, "-c", script, mode], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout
    return float(out.strip().splitlines()[-1])


@glibc_only
def test_freed_session_buffers_go_back_to_the_system():
    """24 sessions' threads free every buffer (about 360 MB in all)."""
    assert kept_mb(SESSIONS, "fixed") < 30


@glibc_only
def test_without_the_setting_glibc_keeps_them():
    """The behaviour the setting exists for; if a future glibc returns the memory by itself,
    this test says so and the setting can go."""
    assert kept_mb(SESSIONS, "default") > 60


@linux_only
def test_decoding_new_batch_sizes_keeps_no_memory():
    """Eight batch sizes (61 faces) decoded by the shipped model leave the server as it was once
    it has decoded one full chunk (Engine.decode's largest batch: LiteRT keeps the buffers of
    the largest batch it has run). What TensorFlow's own pool keeps on the Keras backend
    depends on the CPU (explorer/memory.py), so only the bound is tested."""
    assert kept_mb(BATCHES, "fixed") < 30


def test_without_glibc_the_threshold_is_skipped_and_the_allocator_still_set(monkeypatch):
    """Where the C library has no mallopt (musl, macOS, Windows) the server starts all the same:
    the threshold says it did not take effect, TensorFlow's allocator setting still applies."""
    from explorer import memory

    monkeypatch.setattr(memory, "_libc", lambda: None)
    memory.return_large_buffers.cache_clear()
    monkeypatch.delenv(memory.TENSORFLOW_SYSTEM_ALLOCATOR, raising=False)
    try:
        assert memory.bound_server_memory() is False
        assert os.environ[memory.TENSORFLOW_SYSTEM_ALLOCATOR] == "1"
    finally:
        memory.return_large_buffers.cache_clear()



def test_keras_loads_without_the_extras_the_server_never_uses():
    """Keras imports scikit-learn and IPython with itself when they are installed; loaded inside
    the block it leaves both out (57 MB of the server), and scikit-learn imports as usual after."""
    assert kept_mb(EXTRAS, "") == 0


LOADED = """
import gc, json
from explorer.engine import DEFAULT_ASSETS, Engine
Engine(DEFAULT_ASSETS).wait_for_model()
print(json.dumps([gc.get_freeze_count(), len(gc.get_objects(generation=2))]))
"""


def test_a_loaded_model_leaves_the_full_collections_little_to_walk():
    """Streamlit collects every generation after each script run; once the model is loaded
    (in a fresh interpreter, as the server loads it), the long-lived objects of the libraries,
    the model and the dataset are frozen out of that walk."""
    import json

    run = subprocess.run([sys.executable, "-c", LOADED], cwd=ROOT, capture_output=True, text=True, timeout=300,
                         env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert run.returncode == 0, run.stderr[-2000:]
    frozen, walked = json.loads(run.stdout.strip().splitlines()[-1])
    assert frozen > 20_000, frozen
    assert walked < frozen / 10, (walked, frozen)
