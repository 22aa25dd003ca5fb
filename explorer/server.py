"""What the dashboard's server process changes in the libraries it runs."""
from __future__ import annotations

import sys


def _keep_session() -> None:
    """Stands in for `keras.backend.clear_session` in the server: see `keep_keras_session`."""


def keep_keras_session() -> bool:
    """Stop Streamlit from clearing Keras after every script run, once Keras is loaded (it loads
    with the model, in the background); whether Keras is loaded.

    After each run, fragment runs included, Streamlit calls `keras.backend.clear_session()`, for
    apps that build a model per run. That clears TensorFlow's kernel cache, so the next call of
    the dashboard's model (built once, shared by every session) would set up its graph and its
    oneDNN kernels again, several times the cost of the call itself. The model and its graphs
    live as long as the process; Keras's global state holds nothing of a session's. Only the
    Keras backend (LEGOMOJI_BACKEND=keras) loads Keras: on LiteRT this does nothing.
    """
    keras = sys.modules.get("keras")
    if keras is None:
        return False
    keras.backend.clear_session = _keep_session
    return True
