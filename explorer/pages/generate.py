"""Generate and inspect: random samples, a reconstruction gallery and the training curves."""
from __future__ import annotations

import numpy as np
import streamlit as st

from explorer.engine import Engine
from explorer.figures import training_figure
from explorer.ui import get_engine, query_int, show_faces, sync_url

PRIORS = {"posterior": "fitted mixture", "normal": "N(0, I)"}


def gallery_ui(engine: Engine) -> tuple[str, int]:
    left, right = st.columns(2)
    split = left.radio("Images from", ("val", "train"), horizontal=True, key="gallery_split",
                       format_func=lambda s: {"val": "validation (unseen)", "train": "training"}[s])
    seed = right.number_input("Shuffle", 0, 10_000, query_int("gallery", 0, 0, 10_000), key="gallery_seed")
    return split, int(seed)


def render_generate() -> None:
    engine = get_engine()
    st.title("Generate and inspect")
    st.subheader("Random samples")
    left, middle, right = st.columns([2, 2, 1])
    temperature = left.slider("Temperature", 0.1, 2.0, 1.0 if engine.maps.mixtures else 0.7, 0.05,
                              key="gen_temperature", help="scales the spread of the random latent codes")
    prior = middle.radio("Draw codes from", PRIORS, horizontal=True, key="gen_prior", format_func=PRIORS.get,
                         disabled=not engine.maps.mixtures,
                         help="the fitted mixture of the dataset's codes (ex-post density estimation) "
                              "or the VAE's standard normal prior")
    seed = right.number_input("Seed", 0, 10_000, query_int("seed", 0, 0, 10_000), key="gen_seed")
    for domain in ("lego", "emoji"):
        samples = engine.sample(12, temperature, int(seed), domain, prior if engine.maps.mixtures else "normal")
        show_faces(samples, [""] * 12, columns=12, width=96)

    st.subheader("Reconstructions")
    split, shuffle = gallery_ui(engine)
    sync_url(seed=str(seed), gallery=str(shuffle))
    pool = np.flatnonzero(engine.dataset.split == split)
    picks = np.random.default_rng(shuffle).choice(pool, size=min(12, len(pool)), replace=False)
    originals = engine.dataset.images[picks]
    reconstructions = engine.decode(engine.maps.means[picks], (engine.dataset.domain[picks] == "emoji").astype(float))
    st.caption("Originals above, the model's reconstructions below.")
    show_faces(originals, [""] * len(picks), columns=12, width=96)
    show_faces(reconstructions, [""] * len(picks), columns=12, width=96)

    st.subheader("Training curves")
    if engine.history:
        st.plotly_chart(training_figure(engine.history), width="stretch")
    else:
        st.info("This model folder has no history.csv.")
