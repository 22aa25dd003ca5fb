"""Latent distributions: posterior-mean histograms with the standard normal overlaid, KL per dimension."""
from __future__ import annotations

import streamlit as st

from explorer.cache import histogram_figure, kl_figure
from explorer.ui import get_engine, query_int, sync_url
from vae.latent import kl_per_dimension

ACTIVE_THRESHOLD = 0.01


def render_distributions() -> None:
    engine = get_engine()
    latent_dim = engine.maps.means.shape[1]
    st.title("Latent distributions")
    st.caption("A VAE pulls each dimension's posterior means towards the standard normal (black curve). "
               "Dimensions the model does not use collapse to a spike at 0.")
    left, right = st.columns([2, 1])
    # 20 at first: two rows of panels fit on a screen
    dimensions = left.slider("Dimensions shown", 10, latent_dim, query_int("dims", min(20, latent_dim), 10, latent_dim),
                             step=10 if latent_dim % 10 == 0 else 1, key="dist_dims")
    split = right.toggle("Split by domain", value=st.query_params.get("split") == "1", key="dist_split")
    sync_url(dims=str(dimensions), split="1" if split else "0")
    active = int((engine.maps.means.var(axis=0) > ACTIVE_THRESHOLD).sum())
    kl = kl_per_dimension(engine.maps.means, engine.maps.log_vars)
    a, b, c = st.columns(3)
    a.metric("Active units", f"{active} / {latent_dim}", help="dimensions whose posterior-mean variance exceeds 0.01")
    b.metric("Total KL per image", f"{kl.sum():.1f} nats")
    c.metric("Images", len(engine.dataset))
    st.plotly_chart(histogram_figure(str(engine.folder), dimensions, split), width="stretch")
    st.subheader("KL per dimension")
    st.plotly_chart(kl_figure(str(engine.folder), ACTIVE_THRESHOLD), width="stretch")
