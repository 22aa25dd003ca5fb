"""Keep the server's memory from creeping up session after session (glibc's malloc).

Every Streamlit script run is a new thread, and glibc serves threads from up to eight malloc
arenas per core. glibc also raises its mmap threshold each time a large block is freed, so
after the first upload the buffers of the next ones (decoded pictures, backdrop masks, tensors
of tens of MB) come from the arenas, and each arena keeps what it grew to once the session is
gone (BENCHMARKS.md, session churn, has what that costs). A fixed threshold makes every large
buffer a mapping of its own that goes back to the system the moment it is freed, whichever
thread freed it. This matters for every server, LiteRT's included.

The Keras backend alone (LEGOMOJI_BACKEND=keras; the LiteRT server never imports TensorFlow)
needs one thing more: TensorFlow's oneDNN kernels draw their tensors from a pool of
TensorFlow's own that grows for each new batch shape and never shrinks. With the system
allocator those tensors are plain malloc blocks, freed (and, being large, unmapped) after each
call. It costs some time on larger batches, and the model runs as a graph (vae/model.py,
`inference_graph`), which makes up for it.
"""
from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import functools
import gc
import os
import sys

TENSORFLOW_SYSTEM_ALLOCATOR = "TF_ONEDNN_USE_SYSTEM_ALLOCATOR"
M_MMAP_THRESHOLD = -3  # mallopt parameters of glibc's malloc.h
LARGE_BUFFER_BYTES = 256 * 1024
# Keras imports these with itself when they are installed, for its scikit-learn wrappers and to
# tell a notebook; the dashboard's server uses neither (its maps are fitted at export).
KERAS_EXTRAS = ("sklearn", "IPython")


@functools.cache
def _libc():
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc if hasattr(libc, "mallopt") else None
    except OSError:
        return None


@functools.cache
def return_large_buffers(threshold: int = LARGE_BUFFER_BYTES) -> bool:
    """Serve allocations of `threshold` bytes or more by their own mappings, released on free,
    from now on; whether it took effect (False where the C library is not glibc)."""
    libc = _libc()
    return bool(libc and libc.mallopt(M_MMAP_THRESHOLD, threshold))


def bound_server_memory() -> bool:
    """Both settings, for a long-running server: call it before TensorFlow is imported (the
    allocator is chosen then). An allocator already chosen in the environment is kept."""
    os.environ.setdefault(TENSORFLOW_SYSTEM_ALLOCATOR, "1")
    return return_large_buffers()


def freeze_long_lived() -> int:
    """Move every object alive now (the model's libraries, the model, the dataset, the modules) out
    of reach of the garbage collector's full passes; returns how many were frozen.

    Streamlit runs a full collection after every script run, fragment runs included, and it
    holds the interpreter lock while it walks every tracked object: with a model's libraries
    loaded, hundreds of thousands of objects, during which the server sends no message and
    serves no picture. Frozen, the same pass takes under a millisecond. Objects that die later are still freed by their
    reference counts; only a cycle among objects alive at this moment would never be collected.
    """
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


@contextlib.contextmanager
def without_keras_extras():
    """Import Keras (and TensorFlow) inside this block without the extras it would load with it
    (KERAS_EXTRAS), which the server never uses. Keras takes a missing extra as not
    installed; each one hidden here can be imported as usual after the block, and one already
    imported is left alone."""
    hidden = [name for name in KERAS_EXTRAS if name not in sys.modules]
    sys.modules.update(dict.fromkeys(hidden))  # None: `import name` raises ImportError
    try:
        yield
    finally:
        for name in hidden:
            if sys.modules.get(name, False) is None:
                del sys.modules[name]
