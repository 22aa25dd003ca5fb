"""Legomoji: explore a VAE's shared latent space of Lego faces and emoji.

Run `streamlit run streamlit_app.py` (optionally `-- --model DIR`).
"""
import streamlit as st

from explorer.memory import bound_server_memory

bound_server_memory()  # before TensorFlow loads and any session allocates: see explorer/memory.py

from explorer.pages.analogy import render_analogy
from explorer.pages.directions import render_directions
from explorer.pages.distributions import render_distributions
from explorer.pages.generate import render_generate
from explorer.pages.latent_map import render_latent_map
from explorer.pages.mirror import render_mirror
from explorer.pages.morph import render_morph
from explorer.pages.studio import render_studio
from explorer.pages.your_image import render_your_image

st.set_page_config(page_title="Legomoji", page_icon="🙂", layout="wide")

pages = [
    st.Page(render_studio, title="Expression studio", icon="🎭", default=True),
    st.Page(render_mirror, title="Mirror", icon="🪞", url_path="mirror"),
    st.Page(render_morph, title="Morph", icon="🔀", url_path="morph"),
    st.Page(render_analogy, title="Analogies", icon="🧩", url_path="analogy"),
    st.Page(render_latent_map, title="Latent map", icon="🗺️", url_path="map"),
    st.Page(render_directions, title="Your own directions", icon="🧭", url_path="directions"),
    st.Page(render_distributions, title="Latent distributions", icon="📊", url_path="distributions"),
    st.Page(render_generate, title="Generate and inspect", icon="🎲", url_path="generate"),
    st.Page(render_your_image, title="Your own image", icon="📤", url_path="upload"),
]
navigation = st.navigation(pages)
st.sidebar.markdown("**Legomoji** · a VAE's shared latent space of Lego faces and emoji")
navigation.run()
