"""Your own directions: pick two groups of faces; the difference of their means becomes an axis
to move any face along, with how steady it is and its angle to another direction (as Latent
Space Cartography does), named and shared in the URL."""
from __future__ import annotations

import numpy as np
import streamlit as st

from explorer.cache import live_files
from explorer.engine import Engine
from explorer.images import png_bytes, strip_image
from explorer.live import domain_line, live_slider
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
from vae.latent import angle_between
from vae.space import MIN_GROUP

NAME_LENGTH = 60
STRIP_STEPS = 7
COMPARED = ("sad", "grin")  # the second direction's groups until a person picks others
CLOSENESS = ((30, "nearly the same way"), (60, "close"), (80, "loosely related"), (100, "unrelated"),
             (120, "loosely opposed"), (150, "opposed"), (180, "nearly opposite"))  # angle in degrees up to which
STEADY, UNSTEADY = 0.8, 0.5  # split-half agreement above which a direction is steady, below which noise


def group_ui(label: str, key: str, choices: list[str], linked: str) -> str:
    """A group chosen from `choices`, opening on the link's (query_choice, read where the page opens)."""
    return st.selectbox(label, choices, index=choices.index(linked), key=f"dir_{key}")


def render_directions() -> None:
    engine = get_engine()
    st.title("Your own directions")
    st.caption("Choose group A and group B, by expression or from two selections kept on the Latent map: the "
               "difference between their average codes becomes a direction. Slide any face along it.")
    kept = {f"map selection {n.upper()}": st.session_state[f"map_group_{n}"] for n in ("a", "b")
            if f"map_group_{n}" in st.session_state}
    choices = engine.space.group_names() + list(kept)
    # the link's groups are read here, so that a notice about one shows where the page opens,
    # not inside the closed comparison below
    linked = {key: query_choice(key, default, choices) for key, default in (("a", "sad"), ("b", "smile"),
                                                                             ("c", COMPARED[0]), ("d", COMPARED[1]))}
    left, middle, right = st.columns([2, 2, 3])
    with left:
        group_a = group_ui("Group A", "a", choices, linked["a"])
    with middle:
        group_b = group_ui("Group B", "b", choices, linked["b"])
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
        return engine.space.group_mask(group)

    direction = engine.space.group_direction(members(group_a), members(group_b))
    certainty_ui(engine.space.direction_agreement(members(group_a), members(group_b)),
                 (int(members(group_a).sum()), int(members(group_b).sum())))
    compare_ui(engine, direction, choices, members, linked)
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
    linked, z = query_float("t", 1.0, -2.0, 2.0), engine.maps.means[face]
    live = live_files(str(engine.folder))
    if live:  # the face drawn in the browser while the slider moves; its label is set as plain text
        amount = live_slider(live, f"How far along “{link['name'] or 'the direction'}”", (-2.0, 2.0, 0.1), linked,
                             lambda t: z + t * direction, domain_line(0.0, [0.0]), "moved, drawn as you slide",
                             key="dir_amount_live")
    else:
        amount = st.slider(f"How far along “{shown_name}”", -2.0, 2.0, linked, 0.1, key="dir_amount")
    sync_url(**link, t=f"{amount:.1f}", face=str(face))
    moved = engine.move_along(z, direction, amount)[0]
    show_faces([engine.dataset.images[face], moved], ["the face", f"{shown_name} {amount:+.1f}"], columns=3,
               width=180)
    st.markdown(f"**{shown_name}**, from −2 to +2")
    strip = engine.move_along(z, direction, np.linspace(-2.0, 2.0, STRIP_STEPS))
    st.image(png_bytes(strip_image(strip, scale=1)), width="stretch", output_format="PNG")
    st.caption(f"Group A: {sizes[0]} faces, group B: {sizes[1]} faces. Share the link to share the direction.")


def certainty_ui(agreement: float | None, sizes: tuple[int, int]) -> None:
    """How steady the direction is, as one number and what it means."""
    if agreement is None:
        st.warning(f"Group A has {sizes[0]} and group B {sizes[1]} faces: a direction needs at least {MIN_GROUP} "
                   "faces in each group to say how steady it is, so this one may be noise.", icon="⚠️")
        return
    verdict = ("Steady" if agreement >= STEADY else "Fairly steady" if agreement >= UNSTEADY
               else "Uncertain: mostly noise")
    st.metric("How steady the direction is", f"{agreement:.2f}", help="split-half agreement, from -1 to 1")
    st.caption(f"**{verdict}.** Built from a random half of each group, then from the other half, two directions "
               f"point the same way at {agreement:.2f} on average over 100 splits (1: the same way; 0: unrelated, as "
               "for two random groups).")


def compare_ui(engine: Engine, direction: np.ndarray, choices: list[str], members, linked: dict[str, str]) -> None:
    """The angle between the direction and a second one, from group C to group D (the link's,
    `linked`), open when the link names either."""
    with st.expander("Compare with another direction", expanded="c" in st.query_params or "d" in st.query_params):
        left, right, result = st.columns([2, 2, 3])
        with left:
            group_c = group_ui("From group C", "c", choices, linked["c"])
        with right:
            group_d = group_ui("to group D", "d", choices, linked["d"])
        if group_c == group_d:
            result.info("Pick two different groups.")
            return
        if "c" in st.query_params or (group_c, group_d) != COMPARED:
            sync_url(c=group_c, d=group_d)
        angle = angle_between(direction, engine.space.group_direction(members(group_c), members(group_d)))
        closeness = next(words for limit, words in CLOSENESS if angle <= limit)
        result.metric("Angle between the two directions", f"{angle:.0f}°")
        result.caption(f"**{closeness.capitalize()}** (0°: the same way; 90°: unrelated; 180°: opposite).")
