"""Your own directions: pick two groups of faces; the difference of their means becomes an axis
to move any face along (as Latent Space Cartography does), named and shared in the URL."""
from __future__ import annotations

import numpy as np
import streamlit as st

from data.labels import EXPRESSIONS
from explorer.engine import Engine
from explorer.images import png_bytes, strip_image
from explorer.ui import (
    as_text,
    domain_default,
    face_picker_ui,
    get_engine,
    query_choice,
    query_float,
    query_text,
    show_faces,
    sync_url,
)

ALL = "every face"
NAME_LENGTH = 60
STRIP_STEPS = 7


def group_ui(label: str, key: str, choices: list[str], default: str) -> str:
    return st.selectbox(label, choices, index=choices.index(query_choice(key, default, choices)), key=f"dir_{key}")


def render_directions() -> None:
    engine = get_engine()
    st.title("Your own directions")
    st.caption("Choose group A and group B, by expression or from two selections kept on the Latent map: the "
               "difference between their average codes becomes a direction. Slide any face along it.")
    kept = {f"map selection {n.upper()}": st.session_state[f"map_group_{n}"] for n in ("a", "b")
            if f"map_group_{n}" in st.session_state}
    choices = [ALL] + engine.available_expressions() + list(kept)
    left, middle, right = st.columns([2, 2, 3])
    with left:
        group_a = group_ui("Group A", "a", choices, "sad")
    with middle:
        group_b = group_ui("Group B", "b", choices, "smile")
    with right:
        name = st.text_input("Name of the direction", query_text("name", f"{group_a} → {group_b}", NAME_LENGTH),
                             key="dir_name", max_chars=NAME_LENGTH)
    if group_a == group_b:
        st.info("Pick two different groups.")
        return

    def members(group: str) -> np.ndarray:
        if group in kept:
            mask = np.zeros(len(engine.dataset), bool)
            mask[kept[group]] = True
            return mask
        return np.ones(len(engine.dataset), bool) if group == ALL else engine.tags[:, EXPRESSIONS.index(group)]

    direction = engine.space.group_direction(members(group_a), members(group_b))
    picker, view = st.columns([2, 3])
    with picker:
        face = face_picker_ui(engine, "lego", "dir_face", domain_default(engine, "lego", "face", 3), height=360)
    with view:
        direction_panel(engine, face, direction, dict(a=group_a, b=group_b, name=name),
                        (int(members(group_a).sum()), int(members(group_b).sum())))


@st.fragment
def direction_panel(engine: Engine, face: int, direction: np.ndarray, link: dict[str, str],
                    sizes: tuple[int, int]) -> None:
    """The face moved along the direction: a move of the slider reruns this panel alone."""
    shown_name = as_text(link["name"] or "the direction")
    amount = st.slider(f"How far along “{shown_name}”", -2.0, 2.0, query_float("t", 1.0, -2.0, 2.0), 0.1,
                       key="dir_amount")
    sync_url(**link, t=f"{amount:.1f}", face=str(face))
    z = engine.maps.means[face]
    moved = engine.move_along(z, direction, amount)[0]
    show_faces([engine.dataset.images[face], moved], ["the face", f"{shown_name} {amount:+.1f}"], columns=3,
               width=180)
    st.markdown(f"**{shown_name}**, from −2 to +2")
    strip = engine.move_along(z, direction, np.linspace(-2.0, 2.0, STRIP_STEPS))
    st.image(png_bytes(strip_image(strip, scale=1)), width="stretch", output_format="PNG")
    st.caption(f"Group A: {sizes[0]} faces, group B: {sizes[1]} faces. Share the link to share the direction.")
