"""What the dashboard's server process changes in the libraries it runs."""
from __future__ import annotations

import sys


def _keep_session() -> None:
    """Stands in for `keras.backend.clear_session` in the server: see `keep_keras_session`."""


def keep_keras_session() -> bool:
    """Stop Streamlit from clearing Keras after every script run, once Keras is loaded (it loads
    with the model, in the background); whether Keras is loaded.

    After each run, fragment runs included, Streamlit calls `keras.backend.clear_session()`, for
    apps that build a model per run. That cleared TensorFlow's kernel cache, so the next call of
    the dashboard's model (built once, shared by every session) set up its graph and its oneDNN
    kernels again: a studio pick's two-face decode took 60-75 ms in the server against 7-12 ms
    for a second call in the same run. The model and its graphs live as long as the process;
    Keras's global state holds nothing of a session's.
    """
    keras = sys.modules.get("keras")
    if keras is None:
        return False
    keras.backend.clear_session = _keep_session
    return True
