"""Expression studio: a Lego face takes on an emoji's expression by latent attribute arithmetic."""
from __future__ import annotations

import time

import numpy as np
import streamlit as st

from explorer.engine import Engine
from explorer.ui import domain_default, enlarge, get_engine, query_choice, query_float, show_faces, uploaded_face

MODES = ("an emoji", "an expression")
SPIN_FRAMES = 9


def _surprise(engine: Engine) -> None:
    """Button callback: a random Lego face and emoji (widgets take the new values on this rerun)."""
    rng = np.random.default_rng()
    st.session_state["studio_lego"] = int(rng.choice(engine.indices("lego")))
    st.session_state["studio_emoji"] = int(rng.choice(engine.indices("emoji")))
    st.session_state["studio_mode"] = MODES[0]
    st.session_state["studio_spin"] = True


def _spin(engine: Engine) -> None:
    """Slot-machine reels: flick through random faces before showing the pick."""
    rng = np.random.default_rng()
    reel = st.empty()
    for _ in range(SPIN_FRAMES):
        lego, emoji = rng.choice(engine.indices("lego")), rng.choice(engine.indices("emoji"))
        with reel.container():
            a, b, _ = st.columns([1, 1, 4])
            a.image(enlarge(engine.dataset.images[lego], 96))
            b.image(enlarge(engine.dataset.images[emoji], 96))
        time.sleep(0.07)
    reel.empty()


def studio_controls_ui(engine: Engine) -> tuple[int, str, int, str, float]:
    """Lego face, target mode, emoji, expression tag and strength."""
    lego_options = [int(i) for i in engine.indices("lego")]
    emoji_options = [int(i) for i in engine.indices("emoji")]
    expressions = engine.available_expressions()
    st.session_state.setdefault("studio_lego", domain_default(engine, "lego", "lego", 3))
    st.session_state.setdefault("studio_emoji", domain_default(engine, "emoji", "emoji", 8))
    st.session_state.setdefault("studio_mode", query_choice("mode", MODES[0], MODES))
    left, right = st.columns(2)
    lego = left.selectbox("Lego face (type to search)", lego_options, key="studio_lego", format_func=engine.label)
    mode = right.radio("Give it the expression of", MODES, horizontal=True, key="studio_mode")
    emoji = st.session_state["studio_emoji"]
    tag = query_choice("tag", expressions[0], expressions)
    if mode == MODES[0]:
        emoji = right.selectbox("Emoji (type to search)", emoji_options, key="studio_emoji", format_func=engine.label)
    else:
        tag = right.pills("Expression", expressions, default=tag, key="studio_tag") or tag
    strength = st.slider("Strength", 0.0, 2.0, query_float("strength", engine.default_strength, 0.0, 2.0), 0.05,
                         key="studio_strength", help="1 gives the face the target's expression; above 1 exaggerates it")
    return lego, mode, emoji, tag, strength


def render_studio() -> None:
    engine = get_engine()
    st.title("Expression studio")
    st.caption("Choose a Lego character and an emoji: the character takes on the emoji's expression. "
               "No prompt needed.")
    st.button("🎰 Surprise me", on_click=_surprise, args=(engine,), key="studio_surprise")
    if st.session_state.pop("studio_spin", False):
        _spin(engine)
    lego, mode, emoji, tag, strength = studio_controls_ui(engine)
    upload = uploaded_face()
    use_upload = upload is not None and st.toggle("Use my uploaded image as the face", key="studio_upload")
    st.query_params.update(lego=str(lego), emoji=str(emoji), tag=tag, mode=mode, strength=f"{strength:.2f}")
    face_z = upload["z"] if use_upload else engine.maps.means[lego]
    face_image = upload["image"] if use_upload else engine.dataset.images[lego]
    emoji_z = engine.maps.means[emoji]
    if mode == MODES[0]:
        result_z = engine.transfer(face_z, strength, emoji_z=emoji_z)
        target_image, target_caption = engine.dataset.images[emoji], engine.dataset.name[emoji]
    else:
        result_z = engine.transfer(face_z, strength, tag=tag)
        target_image, target_caption = None, f"expression: {tag}"
    result = engine.decode(result_z, "lego")[0]
    images, captions = [face_image, result], ["the Lego face", f"with {target_caption}"]
    if engine.shared:
        images.append(engine.translate(result_z, "emoji")[0])
        captions.append("the result as an emoji")
    elif mode == MODES[0]:
        images.append(engine.decode((face_z + emoji_z) / 2)[0])
        captions.append("plain halfway morph")
    if target_image is not None:
        images.append(target_image)
        captions.append(target_caption)
    show_faces(images, captions, columns=4, width=190)
    if engine.shared:
        st.caption("The model keeps a face's expression in its own part of the latent code: the studio moves "
                   "only that part towards the emoji's (or the expression's average), so the face keeps "
                   "everything else, beard, glasses and prints included.")
    else:
        st.caption("The studio adds what sets the chosen emoji apart from the average emoji (or, for an "
                   "expression, the mean difference between faces with and without it in both domains) "
                   "to the Lego face's latent code.")
