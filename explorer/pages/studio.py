"""Expression studio: a Lego face takes on an emoji's expression, keeping who it is."""
from __future__ import annotations

import functools

import numpy as np
import streamlit as st

from explorer.cache import live_files
from explorer.card import polaroid_card
from explorer.engine import Engine
from explorer.images import png_bytes
from explorer.live import Control, domain_line, face, line, live_controls, live_values
from explorer.picker import surprise_reel
from explorer.ui import (
    amounts_text,
    choose_face,
    domain_default,
    face_list,
    face_picker_ui,
    get_engine,
    ldraw_download,
    query_amounts,
    query_choice,
    query_float,
    show_faces,
    sync_url,
    uploaded_face,
)
from vae.printing import METHODS

MODES = ("an emoji", "an expression")
# the two ways with an emoji (vae.printing.METHODS): print, then redraw; move the expression code
METHOD_LABELS = {"printed": "print it, then redraw", "code": "move the expression code"}
SLIDER_PREFIX = "studio_mix_"
STRENGTH_LIVE, MIX_LIVE = "studio_strength_live", "studio_mix_live"  # the sliders' keys, live
SURPRISE_TRIES = 20  # emoji drawn at most before a surprise settles for one that cannot print


def surprise_pair(engine: Engine, rng: np.random.Generator, printable: bool) -> tuple[int, int]:
    """A random Lego face and emoji; with `printable`, an emoji the printed way can print (one
    with a face fill to lift its features from), so a surprise shows the print and its redraw,
    not the fallback."""
    lego, emojis = int(rng.choice(engine.indices("lego"))), rng.permutation(engine.indices("emoji"))
    if printable:
        for emoji in emojis[:SURPRISE_TRIES]:
            if engine.can_print(engine.dataset.images[emoji]):
                return lego, int(emoji)
    return lego, int(emojis[0])


def surprise_ui(engine: Engine) -> None:
    """Surprise me: its reel spins in the browser from the click; a click not answered yet
    picks a random Lego face and emoji, the grids mark them (their searches cleared), and the
    reel settles on them."""
    clicks = (st.session_state.get("studio_surprise") or {}).get("spins") or 0
    pair = None
    if clicks != st.session_state.get("studio_spins", 0):
        st.session_state["studio_spins"] = clicks
        printable = st.session_state.get("studio_method", METHODS[0]) == "printed"
        pair = surprise_pair(engine, np.random.default_rng(), printable)
        choose_face("studio_lego", pair[0])
        choose_face("studio_emoji", pair[1])
        st.session_state["studio_mode"] = MODES[0]
    surprise_reel((face_list(engine, "lego"), face_list(engine, "emoji")), pair, clicks, "🎰 Surprise me",
                  key="studio_surprise")


def _reset_sliders(tags: list[str]) -> None:
    for tag in tags:
        st.session_state[SLIDER_PREFIX + tag] = 0.0


def pick_faces_ui(engine: Engine) -> tuple[int, int]:
    """Lego faces on the left, emoji on the right: searchable picture grids."""
    left, right = st.columns(2)
    with left:
        lego = face_picker_ui(engine, "lego", "studio_lego", domain_default(engine, "lego", "lego", 3), height=360)
    with right:
        emoji = face_picker_ui(engine, "emoji", "studio_emoji", domain_default(engine, "emoji", "emoji", 8),
                               height=360)
    return lego, emoji


def target_ui(engine: Engine, live: dict | None) -> tuple[str, str, str, float, st.delta_generator.DeltaGenerator]:
    """Target mode, how an emoji's expression is given, expression tag and strength, with the
    place of the strength slider: drawn there now, or, live, once its faces' line is known."""
    expressions = engine.available_expressions()
    st.session_state.setdefault("studio_mode", query_choice("mode", MODES[0], MODES))
    st.session_state.setdefault("studio_method", query_choice("method", METHODS[0], METHODS))
    left, middle, right = st.columns([2, 3, 3])
    mode = left.radio("Give the face the expression of", MODES, key="studio_mode")
    tag = query_choice("tag", expressions[0], expressions)
    method = st.session_state["studio_method"]
    if mode == MODES[0]:
        method = middle.radio("How", METHODS, format_func=METHOD_LABELS.get, key="studio_method",
                              help="Printing puts the emoji's eyes, brows and mouth on the face in place of its "
                                   "own and lets the model redraw it; the code way moves only the part of the "
                                   "face's latent code that holds its expression.")
    else:
        tag = middle.pills("Expression", expressions, default=tag, key="studio_tag") or tag
    linked = query_float("strength", engine.default_strength, 0.0, 2.0)
    if live:
        return mode, method, tag, live_values([strength_control(linked)], STRENGTH_LIVE)[0], right.container()
    strength = right.slider("Strength", 0.0, 2.0, linked, 0.05, key="studio_strength",
                            help="1 gives the face the target's expression; above 1 exaggerates it")
    return mode, method, tag, strength, right


def strength_control(value: float) -> Control:
    return Control("Strength", 0.0, 2.0, 0.05, value)


def mix_controls(tags: list[str], linked: dict[str, float]) -> list[Control]:
    return [Control(tag, -1.0, 2.0, 0.1, round(linked.get(tag, 0.0), 1)) for tag in tags]


def expression_sliders_ui(engine: Engine, live: dict | None) -> tuple[dict[str, float],
                                                                      st.delta_generator.DeltaGenerator]:
    """One slider per expression, combinable, with a reset; live, their place, filled once their
    faces' line is known."""
    tags = engine.available_expressions()
    linked = query_amounts("mix", tags, -1.0, 2.0)
    # open when a link brings a mix; decided once, since a changed `expanded` would redraw it shut
    opened = st.session_state.setdefault("studio_mix_open", bool(linked))
    with st.expander("Mix expressions yourself", expanded=opened):
        if live:
            return dict(zip(tags, live_values(mix_controls(tags, linked), MIX_LIVE))), st.container()
        st.button("Reset all to 0", on_click=_reset_sliders, args=(tags,), key="studio_mix_reset")
        columns = st.columns(4)
        return {tag: columns[i % 4].slider(tag, -1.0, 2.0, round(linked.get(tag, 0.0), 1), 0.1,
                                           key=SLIDER_PREFIX + tag)
                for i, tag in enumerate(tags)}, st.container()


def live_studio_sliders(engine: Engine, live: dict, result_at, strength: float, amounts: dict[str, float],
                        places: tuple) -> None:
    """The strength and the mix, live: each slider moves the result along the studio's own code
    (`result_at(strength, amounts)`, the print's fitted code already in), drawn in the browser."""
    domains = [0.0, 1.0] if engine.domain_conditioned else [0.0]
    names = ["as a Lego face", "as an emoji"]
    tags = list(amounts)

    def faces(code, sliders: int, note: str) -> list[dict]:
        return [face(line(code, sliders), domain_line(domain, [0.0] * sliders), f"{name}, {note}" if k == 0 else name)
                for k, (domain, name) in enumerate(zip(domains, names))]

    with places[0]:
        live_controls(live, [strength_control(strength)],
                      faces(lambda v: result_at(v[0], amounts), 1, "drawn as you slide"), key=STRENGTH_LIVE)
    with places[1]:
        live_controls(live, mix_controls(tags, amounts), faces(lambda v: result_at(strength, dict(zip(tags, v))),
                                                               len(tags), "drawn as you mix"),
                      key=MIX_LIVE, columns=4, reset="Reset all to 0")


def _result_pictures(engine: Engine, face_image: np.ndarray, face_z: np.ndarray, emoji_z: np.ndarray,
                     target_image: np.ndarray | None, target_caption: str, caption: str,
                     print_image: np.ndarray | None, result_z: np.ndarray) -> tuple[list, list[str]]:
    """The face, the print the model redraws (when printed), the result (as a Lego face and as
    an emoji) and the target, with their captions; the result is the first picture after the
    face and its print."""
    if engine.domain_conditioned:  # the code holds content only: one call draws it in both domains
        result, as_emoji = engine.decode(np.stack([result_z, result_z]), np.array([0.0, 1.0]))
    else:
        result, as_emoji = engine.decode(result_z, "lego")[0], None
    images, captions = [face_image], ["the Lego face"]
    if print_image is not None:
        images.append(print_image)
        captions.append("the print the model redraws")
    images.append(result)
    captions.append(caption)
    if as_emoji is not None:
        images.append(as_emoji)
        captions.append("the result as an emoji")
    elif target_image is not None:
        images.append(engine.morph(face_z, emoji_z, 3, "lerp", domains=("lego", "lego"))[1])
        captions.append("plain halfway morph")
    if target_image is not None:
        images.append(target_image)
        captions.append(target_caption)
    return images, captions


@st.fragment
def result_panel(engine: Engine, lego: int, emoji: int, use_upload: bool) -> None:
    """Everything that follows the target, the strength and the sliders: reruns alone."""
    live = live_files(str(engine.folder))
    mode, method, tag, strength, strength_place = target_ui(engine, live)
    amounts, mix_place = expression_sliders_ui(engine, live)
    sync_url(lego=str(lego), emoji=str(emoji), tag=tag, mode=mode, method=method, strength=f"{strength:.2f}",
             mix=amounts_text(amounts))
    upload = uploaded_face()
    face_z = upload["z"] if use_upload else engine.maps.means[lego]
    face_image = upload["image"] if use_upload else engine.dataset.images[lego]
    emoji_z = engine.maps.means[emoji]
    fitting = False  # the print's fitted code is not kept yet: draw the encoder's now, then the fitted one
    print_image = None
    if mode == MODES[0]:
        target_image, target_caption = engine.dataset.images[emoji], engine.dataset.name[emoji]
        moved = functools.partial(engine.transfer, face_z, emoji_z=emoji_z)
        if method == "printed" and engine.can_print(target_image):
            fitting = not engine.print_is_fitted(face_image, target_image)
            print_image = engine.print_picture(face_image, target_image)
            moved = functools.partial(engine.printed_transfer, face_image, face_z, target_image)
        elif method == "printed":
            st.caption("This emoji has no yellow face to lift its features from, so the studio moved the "
                       "expression code instead.")
    else:
        moved = functools.partial(engine.transfer, face_z, tag=tag)
        target_image, target_caption = None, f"expression: {tag}"

    def result_at(amount: float, mix: dict[str, float], fitted: bool = True) -> np.ndarray:
        """The result's code at a strength and a mix: what the page draws, and what its live sliders follow."""
        start = moved(amount, fitted=fitted) if print_image is not None else moved(amount)
        return engine.space.mix_expressions(start, mix)

    mixed = ", ".join(f"{t} {a:+.1f}" for t, a in amounts.items() if a)
    caption = f"with {target_caption}" + (f" ({mixed})" if mixed else "")
    pictures = functools.partial(_result_pictures, engine, face_image, face_z, emoji_z, target_image,
                                 target_caption, caption, print_image)
    images, captions = pictures(result_at(strength, amounts, fitted=not fitting))
    layout = {"columns": max(4, len(images)), "width": 190 if len(images) <= 4 else 150}
    shown = show_faces(images, captions, **layout)  # over the last result's pictures, in place
    status = st.empty()
    if fitting:  # the redraw shown at once, then again once its code is fitted to the print (vae.fit)
        status.caption("Sharpening the redraw: fitting its code to the print…")
        images, captions = pictures(result_at(strength, amounts))
        show_faces(images, captions, **layout, into=shown)
        status.empty()
    if live:
        live_studio_sliders(engine, live, result_at, strength, amounts, (strength_place, mix_place))
    result = images[1 + (print_image is not None)]
    card_faces = [face_image] + ([target_image] if target_image is not None else []) + [result]
    card_labels = ["face"] + (["target"] if target_image is not None else []) + ["result"]
    card_caption = f"{engine.dataset.name[lego][:40]} with {target_caption[:30]}"
    left, right = st.columns([1, 3], vertical_alignment="center")
    with left:
        # drawn when clicked, not on every run (the page sends no bytes for it), and the click does not rerun the page
        st.download_button("Download the card (PNG)",
                           lambda: png_bytes(polaroid_card(card_faces, card_labels, card_caption)),
                           "legomoji-card.png", "image/png", key="studio_card", on_click="ignore")
        ldraw_download(result, "studio_ldraw")
    right.caption("The link in the address bar reproduces this result.")
    if mode == MODES[0] and method == "printed":
        st.caption("The studio prints the emoji's eyes, brows and mouth on the face in place of its own, as the "
                   "printed heads of the training data are made (the second picture), encodes that print, fits "
                   "the code to it in a few dozen steps and lets the model redraw it as a Lego face; the "
                   "strength slides from the face to the redrawn print.")
    elif engine.expression_dims:
        st.caption("The model keeps a face's expression in its own part of the latent code: the studio moves "
                   "only that part towards the emoji's (or the expression's average), so the face keeps "
                   "everything else, beard, glasses and prints included.")
    else:
        st.caption("The studio adds what sets the chosen emoji apart from the average emoji (or, for an "
                   "expression, the mean difference between faces with and without it in both domains) "
                   "to the Lego face's latent code.")


def render_studio() -> None:
    engine = get_engine()
    st.title("Expression studio")
    st.caption("Pick a Lego character on the left and an emoji on the right: the character takes on the emoji's "
               "expression. No prompt needed.")
    studio_panel(engine)


@st.fragment
def studio_panel(engine: Engine) -> None:
    """Surprise me, the pickers and the result: a pick reruns this panel alone (the result panel
    inside it is a fragment of its own, so a slider reruns less still)."""
    surprise_ui(engine)
    lego, emoji = pick_faces_ui(engine)
    upload = uploaded_face()
    use_upload = upload is not None and st.toggle("Use my uploaded image as the face", key="studio_upload")
    result_panel(engine, lego, emoji, use_upload)
