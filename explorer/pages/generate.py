"""Generate and inspect: random samples, a reconstruction gallery and the training curves."""
from __future__ import annotations

import streamlit as st

from explorer.cache import gallery, live_files, samples, training_figure
from explorer.engine import Engine
from explorer.live import Control, domain_line, face, line, live_controls, live_values
from explorer.ui import get_engine, query_choice, query_float, query_int, show_faces, sync_url

SAMPLES, LIVE_SAMPLES = 12, 6  # the server's samples in a row; the first of them drawn live
TEMPERATURE_LIVE = "gen_temperature_live"
PRIORS = {"posterior": "fitted mixture", "normal": "N(0, I)"}
REFINER_NOTE = ("Every picture passes through the model's refiner, a second stage that draws the VAE's picture "
                "sharply; it does not move a point in the latent space.")


def render_generate() -> None:
    engine = get_engine()
    st.title("Generate and inspect")
    st.subheader("Random samples")
    samples_panel(engine)
    st.subheader("Reconstructions")
    gallery_panel(engine)
    training_curves(engine)


@st.fragment
def samples_panel(engine: Engine) -> None:
    """Twelve samples per domain; the temperature, the prior and the seed rerun this panel alone."""
    mixture = bool(engine.maps.mixtures)
    linked = query_float("temperature", 1.0 if mixture else 0.7, 0.1, 2.0)
    live = live_files(str(engine.folder))
    if live:  # below the prior and the seed, which its faces' lines need: its faces drawn as it moves
        middle, right = st.columns([4, 1])
        temperature = live_values([temperature_control(linked)], TEMPERATURE_LIVE)[0]
    else:
        left, middle, right = st.columns([2, 2, 1])
        temperature = left.slider("Temperature", 0.1, 2.0, linked, 0.05, key="gen_temperature",
                                  help="scales the spread of the random latent codes")
    prior = middle.radio("Draw codes from", PRIORS, horizontal=True, key="gen_prior", format_func=PRIORS.get,
                         index=list(PRIORS).index(query_choice("prior", "posterior", tuple(PRIORS))),
                         disabled=not mixture,
                         help="the fitted mixture of the dataset's codes (ex-post density estimation) "
                              "or the VAE's standard normal prior")
    seed = right.number_input("Seed", 0, 10_000, query_int("seed", 0, 0, 10_000), key="gen_seed")
    sync_url(seed=str(seed), temperature=f"{temperature:.2f}", prior=prior)
    prior = prior if mixture else "normal"
    if live:
        live_temperature(engine, live, temperature, int(seed), prior)
    if engine.refined:
        st.caption(REFINER_NOTE + " Each row of samples is followed by the same codes in the VAE's own pictures.")
    for domain in ("lego", "emoji"):
        drawn = (False, True) if engine.refined else (False,)
        for raw in drawn:
            faces = samples(str(engine.folder), SAMPLES, float(temperature), int(seed), domain, prior, raw)
            show_faces(faces, [""] * SAMPLES, columns=SAMPLES, width=96)


def temperature_control(value: float) -> Control:
    return Control("Temperature", 0.1, 2.0, 0.05, value)


def live_temperature(engine: Engine, live: dict, temperature: float, seed: int, prior: str) -> None:
    """The temperature slider, live: on one seed each sample's code moves on a line as the
    temperature changes (Engine.sample_codes); the first few of each row are drawn in the
    browser as it moves."""
    faces = []
    for domain, value in (("lego", 0.0), ("emoji", 1.0)):
        for k in range(LIVE_SAMPLES):
            code = line(lambda v, k=k, domain=domain: engine.sample_codes(SAMPLES, v[0], seed, domain, prior)[k], 1)
            caption = ("Lego" if domain == "lego" else "emoji") if k == 0 else ""
            faces.append(face(code, domain_line(value, [0.0]), caption))
    live_controls(live, [temperature_control(temperature)], faces, key=TEMPERATURE_LIVE, per_row=LIVE_SAMPLES)


@st.fragment
def gallery_panel(engine: Engine) -> None:
    """Twelve originals and their reconstructions; the split and the shuffle rerun this panel alone."""
    left, right = st.columns(2)
    split = left.radio("Images from", ("val", "train"), horizontal=True, key="gallery_split",
                       format_func=lambda s: {"val": "validation (unseen)", "train": "training"}[s])
    shuffle = int(right.number_input("Shuffle", 0, 10_000, query_int("gallery", 0, 0, 10_000), key="gallery_seed"))
    sync_url(gallery=str(shuffle))
    picks, originals, reconstructions, raw = gallery(str(engine.folder), split, shuffle)
    st.caption("Originals, then the model's reconstructions" + (", then the VAE's own (before the refiner)."
                                                                  if engine.refined else "."))
    show_faces(originals, [""] * len(picks), columns=12, width=96)
    show_faces(reconstructions, [""] * len(picks), columns=12, width=96)
    if engine.refined:
        show_faces(raw, [""] * len(picks), columns=12, width=96)


def training_curves(engine: Engine) -> None:
    st.subheader("Training curves")
    if engine.history:
        st.plotly_chart(training_figure(str(engine.folder)), width="stretch")
    else:
        st.info("This model folder has no history.csv.")
