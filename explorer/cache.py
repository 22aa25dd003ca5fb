"""Every st.cache_resource / st.cache_data of the dashboard, in one place."""
from __future__ import annotations

import base64
import io
import os
import sys
from pathlib import Path

import streamlit as st
from PIL import Image

from explorer.engine import DEFAULT_ASSETS, Engine

MODEL_ENV = "LEGOMOJI_MODEL"


def model_folder() -> Path:
    """`streamlit run streamlit_app.py -- --model DIR`, else $LEGOMOJI_MODEL, else the shipped assets."""
    if "--model" in sys.argv[:-1]:
        return Path(sys.argv[sys.argv.index("--model") + 1])
    return Path(os.environ.get(MODEL_ENV) or DEFAULT_ASSETS)


@st.cache_resource(show_spinner="Loading the model and the latent maps...")
def load_engine(folder: str) -> Engine:
    """One Engine per process, shared by every session (its model calls take a lock).

    The model loads in a background thread so that the first page draws without waiting for
    TensorFlow; pages that need the model wait for it through `ui.get_engine`."""
    return Engine(folder, background=True)


@st.cache_data(show_spinner=False)
def thumbnail_urls(folder: str, scale: int = 1) -> list[str]:
    """A PNG data URL for every dataset image (for image columns in tables)."""
    engine = load_engine(folder)
    urls = []
    for image in engine.dataset.images:
        buffer = io.BytesIO()
        picture = Image.fromarray(image)
        if scale != 1:
            picture = picture.resize((image.shape[1] * scale,) * 2, Image.NEAREST)
        picture.save(buffer, format="PNG", optimize=True)
        urls.append("data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii"))
    return urls
