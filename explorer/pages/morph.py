"""Morph: a Lego face on the left, an emoji on the right, and the strip between them."""
from __future__ import annotations

import numpy as np
import streamlit as st

from explorer import images
from explorer.cache import live_files, morph_files
from explorer.engine import Engine
from explorer.live import Control, domain_line, face, live_controls, pad, path
from explorer.ui import (
    domain_default,
    face_picker_ui,
    get_engine,
    ldraw_download,
    query_choice,
    query_float,
    query_int,
    show_faces,
    sync_url,
    uploaded_face,
)
from vae import latent

METHODS = ("slerp", "lerp")
STRIP_GAP = 4  # pixels between the strip's frames, as explorer.images.strip_image draws them


def morph_controls_ui() -> tuple[int, str]:
    left, right = st.columns(2)
    steps = left.slider("Steps", 3, 20, query_int("steps", 10, 3, 20), key="morph_steps")
    method = right.radio("Interpolation", METHODS, horizontal=True, key="morph_method",
                         index=METHODS.index(query_choice("method", "slerp", METHODS)),
                         format_func=lambda m: {"slerp": "spherical (slerp)", "lerp": "linear (lerp)"}[m])
    return steps, method


def morph_scrubber(live: dict, start: np.ndarray, end: np.ndarray, steps: int, method: str, shown: bytes,
                   size: int) -> float:
    """The morph's strip as a pad (the server's picture until the browser has drawn its frames)
    and a scrubber along the path: the point under the pointer or the scrubber is drawn in the
    browser, in the path's domain and as a Lego face. Returns the point the scrubber was let go
    at or the strip clicked at (a fraction of the way, the link's `t`)."""
    scrubber = Control("Along the path", 0.0, 1.0, 0.01, query_float("t", 0.5, 0.0, 1.0))
    frames = [face(path(start, end, method, at=float(t)), domain_line(float(t), [0.0]), "")
              for t in np.linspace(0.0, 1.0, steps)]
    faces = [face(path(start, end, method, control=0), domain_line(0.0, [1.0]), "the path, drawn as you scrub"),
             face(path(start, end, method, control=0), domain_line(0.0, [0.0]), "as a Lego face")]
    strip = pad(shown, [0], (steps, 1), size, STRIP_GAP, "the morph's strip: point at it to see the path there",
                key="morph_strip")
    return live_controls(live, [scrubber], faces, key="morph_live", pad=strip, frames=frames)[0]


def render_morph() -> None:
    engine = get_engine()
    st.title("Morph")
    st.caption("Pick a Lego face and an emoji; the strip walks through latent space from one to the other.")
    morph_panel(engine)


@st.fragment
def morph_panel(engine: Engine) -> None:
    """Controls, pickers and the strip: a pick or a slider reruns this panel alone."""
    steps, method = morph_controls_ui()
    left, right = st.columns(2)
    with left:
        lego = face_picker_ui(engine, "lego", "morph_lego", domain_default(engine, "lego", "lego"))
    with right:
        emoji = face_picker_ui(engine, "emoji", "morph_emoji", domain_default(engine, "emoji", "emoji", 8))
    upload = uploaded_face()
    use_upload = upload is not None and st.toggle("Start from my uploaded image instead", key="morph_upload")
    sync_url(lego=str(lego), emoji=str(emoji), steps=str(steps), method=method)
    start_name = "your image" if use_upload else engine.dataset.name[lego]
    if use_upload:
        shown, strip, gif = images.morph_files(engine.morph(upload["z"], engine.maps.means[emoji], steps, method))
    else:
        shown, strip, gif = morph_files(str(engine.folder), lego, emoji, steps, method)
    st.markdown(f"**{start_name}** → **{engine.dataset.name[emoji]}**")
    start, end = (upload["z"] if use_upload else engine.maps.means[lego]), engine.maps.means[emoji]
    live = live_files(str(engine.folder))
    if live:  # the strip drawn in the browser, and any point of the path as the scrubber moves
        t = morph_scrubber(live, start, end, steps, method, shown, engine.dataset.size)
        sync_url(t=f"{t:.2f}")
        code, chosen = latent.interpolate(start, end, t, method), f"the path at {t:.2f}"
    else:
        # shown at the frames' own size (a page's width holds ten of them); the PNG download is twice as large
        st.image(shown, width="stretch", output_format="PNG")
    a, b, c, d = st.columns([1, 1, 2, 2], vertical_alignment="bottom")
    # fetched when clicked: sent with the page, the two files would cost hundreds of KB on every pick
    a.download_button("Download PNG", lambda: strip, "legomoji-morph.png", "image/png", key="morph_png",
                      on_click="ignore")
    b.download_button("Download GIF", lambda: gif, "legomoji-morph.gif", "image/gif", key="morph_gif",
                      on_click="ignore")
    if not live:
        frame = c.slider("Frame to print on a Lego head", 1, steps, (steps + 1) // 2, key="morph_frame")
        code, chosen = latent.interpolate_latents(start, end, steps, method)[frame - 1], f"frame {frame}"
    c.caption(f"The Lego head prints {chosen}.")
    ldraw_download(engine.decode(code, "lego")[0], "morph_ldraw", into=d)  # drawn now: the part is named by its hash
    with st.expander("Originals"):
        show_faces([upload["image"] if use_upload else engine.dataset.images[lego], engine.dataset.images[emoji]],
                   [start_name, engine.dataset.name[emoji]], columns=4)
