"""The mirror: any face in both domains, a Lego face as an emoji and an emoji as a Lego face."""
from __future__ import annotations

import numpy as np
import streamlit as st

from explorer.cache import live_files
from explorer.engine import Engine
from explorer.images import png_bytes, strip_image
from explorer.live import domain_line, live_slider
from explorer.ui import (
    domain_default,
    face_picker_ui,
    get_engine,
    ldraw_download,
    query_choice,
    query_float,
    show_faces,
    sync_url,
)
from vae import latent

DOMAIN_NAMES = {"lego": "a Lego face", "emoji": "an emoji"}
STRIP_STEPS = 7


def render_mirror() -> None:
    engine = get_engine()
    st.title("Mirror")
    st.caption("Every face has a twin in the other domain. Pick one and slide between its Lego and emoji "
               "versions: the expression and the features stay, the look changes.")
    if not engine.domain_conditioned:
        st.info("This model has no domain condition, so its twins are approximations: the code is moved by "
                "the difference between the average Lego and average emoji codes.")
    left, right = st.columns([2, 3])
    with left:
        source = st.radio("Start from", ("lego", "emoji"), horizontal=True, key="mirror_domain",
                          index=("lego", "emoji").index(query_choice("from", "lego", ("lego", "emoji"))),
                          format_func=DOMAIN_NAMES.get)
        if source == st.query_params.get("from", "lego"):
            default = domain_default(engine, source, "face")
        else:  # the person just moved "Start from": the link's face belongs to the other domain
            default = int(engine.indices(source)[0])
        index = face_picker_ui(engine, source, f"mirror_{source}", default, height=420)
    with right:
        twin_panel(engine, index, source)


@st.fragment
def twin_panel(engine: Engine, index: int, source: str) -> None:
    """The twins and the strip: a move of the slider reruns this panel alone."""
    other = "emoji" if source == "lego" else "lego"
    z = engine.maps.means[index]
    linked = query_float("mix", 0.5, 0.0, 1.0)
    live = live_files(str(engine.folder))
    if live:  # the mix drawn in the browser while the slider moves
        as_lego, as_emoji = engine.mirror_ends(z, source)
        mix = live_slider(live, "Lego ⟷ emoji", (0.0, 1.0, 0.05), linked, lambda t: latent.lerp(as_lego, as_emoji, t),
                          domain_line(0.0, [1.0]), "the mix, drawn as you slide", key="mirror_mix_live")
    else:
        mix = st.slider("Lego ⟷ emoji", 0.0, 1.0, linked, 0.05, key="mirror_mix",
                        help="0 is the Lego version, 1 the emoji version; between them a mix of the two looks")
    sync_url(face=str(index), mix=f"{mix:.2f}", **{"from": source})
    ends = engine.mirror(z, source, [0.0, mix, 1.0])
    show_faces([engine.dataset.images[index], ends[0], ends[1], ends[2]],
               [f"original ({source})", "as a Lego face", f"mix {mix:.2f}", "as an emoji"], columns=4, width=150)
    st.markdown(f"**{engine.dataset.name[index]}** as {DOMAIN_NAMES[other]}, step by step")
    strip = engine.mirror(z, source, np.linspace(0.0, 1.0, STRIP_STEPS))
    st.image(png_bytes(strip_image(strip, scale=1)), width="stretch", output_format="PNG")
    ldraw_download(ends[0], "mirror_ldraw")
