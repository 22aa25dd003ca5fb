"""Latent distributions: posterior-mean histograms with the standard normal overlaid, KL per dimension."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from explorer.engine import Engine
from explorer.figures import gaussian_density
from vae.latent import kl_per_dimension
from explorer.ui import get_engine, query_int

DOMAIN_COLOURS = {"all": "#29335c", "lego": "#f3a712", "emoji": "#e4572e"}
ACTIVE_THRESHOLD = 0.01


@st.cache_resource(show_spinner="Drawing the histograms...")
def histogram_figure(_engine: Engine, folder: str, dimensions: int, split_domains: bool) -> go.Figure:
    means = _engine.maps.means
    columns = 10
    rows = -(-dimensions // columns)
    figure = make_subplots(rows=rows, cols=columns, subplot_titles=[f"z{d}" for d in range(dimensions)],
                           horizontal_spacing=0.015, vertical_spacing=0.3 / rows)
    bins = np.linspace(-4, 4, 33)
    centres = (bins[:-1] + bins[1:]) / 2
    groups = {"lego": _engine.dataset.domain == "lego", "emoji": _engine.dataset.domain == "emoji"} \
        if split_domains else {"all": np.ones(len(means), bool)}
    curve = np.linspace(-4, 4, 81)
    for d in range(dimensions):
        row, column = d // columns + 1, d % columns + 1
        for name, mask in groups.items():
            density, _ = np.histogram(means[mask, d], bins=bins, density=True)
            figure.add_trace(go.Bar(x=centres, y=density, marker_color=DOMAIN_COLOURS[name], opacity=0.65,
                                    name=name, legendgroup=name, showlegend=d == 0), row=row, col=column)
        figure.add_trace(go.Scatter(x=curve, y=gaussian_density(curve), mode="lines", name="N(0, 1)",
                                    line=dict(color="#111", width=1), legendgroup="normal", showlegend=d == 0),
                         row=row, col=column)
    figure.update_layout(height=150 * rows + 60, barmode="overlay", bargap=0, margin=dict(l=10, r=10, t=50, b=10),
                         legend=dict(orientation="h", y=1.02, yanchor="bottom", x=0))
    figure.update_xaxes(showticklabels=False, range=[-4, 4])
    figure.update_yaxes(showticklabels=False)
    figure.update_annotations(font_size=10)
    return figure


def kl_figure(engine: Engine, kl: np.ndarray) -> go.Figure:
    active = engine.maps.means.var(axis=0) > ACTIVE_THRESHOLD
    figure = go.Figure(go.Bar(x=[f"z{d}" for d in range(len(kl))], y=kl,
                              marker_color=np.where(active, "#29335c", "#c9ccd5")))
    figure.update_layout(height=260, margin=dict(l=10, r=10, t=10, b=10), yaxis_title="KL (nats)")
    return figure


def render_distributions() -> None:
    engine = get_engine()
    latent_dim = engine.maps.means.shape[1]
    st.title("Latent distributions")
    st.caption("A VAE pulls each dimension's posterior means towards the standard normal (black curve). "
               "Dimensions the model does not use collapse to a spike at 0.")
    left, right = st.columns([2, 1])
    dimensions = left.slider("Dimensions shown", 10, latent_dim, query_int("dims", min(50, latent_dim), 10, latent_dim),
                             step=10 if latent_dim % 10 == 0 else 1, key="dist_dims")
    split = right.toggle("Split by domain", value=st.query_params.get("split") == "1", key="dist_split")
    st.query_params.update(dims=str(dimensions), split="1" if split else "0")
    active = int((engine.maps.means.var(axis=0) > ACTIVE_THRESHOLD).sum())
    kl = kl_per_dimension(engine.maps.means, engine.maps.log_vars)
    a, b, c = st.columns(3)
    a.metric("Active units", f"{active} / {latent_dim}", help="dimensions whose posterior-mean variance exceeds 0.01")
    b.metric("Total KL per image", f"{kl.sum():.1f} nats")
    c.metric("Images", len(engine.dataset))
    st.plotly_chart(histogram_figure(engine, str(engine.folder), dimensions, split), width="stretch")
    st.subheader("KL per dimension")
    st.plotly_chart(kl_figure(engine, kl), width="stretch")
