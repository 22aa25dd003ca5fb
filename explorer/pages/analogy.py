"""Analogies: A is to B as C is to what? Tom White's grid ("Sampling Generative Networks") of
A + s (B − A) + t (C − A), its far corner the answer B + C − A; A, B and C are any faces or emoji."""
from __future__ import annotations

import streamlit as st

from explorer.cache import live_files
from explorer.engine import Engine
from explorer.images import grid_image, png_bytes
from explorer.live import Control, domain_line, face, line, live_controls, pad
from explorer.ui import as_text, face_picker_ui, get_engine, query_float, query_int, show_faces, sync_url

DOMAIN_NAMES = {"lego": "a Lego face", "emoji": "an emoji"}
# each pick's first face, the n-th of its domain: a two-sided Lego head's smiling side is to its
# sad side as a grinning emoji is to ?
PICKS = {"a": ("lego", 212), "b": ("lego", 213), "c": ("emoji", 8)}
SWITCHED = {"lego": 0, "emoji": 8}  # the n-th face a pick moved to the other domain starts on
STEPS = (3, 9, 5)  # least, most, first
GRID_GAP = 4  # pixels between the grid's cells, as explorer.images.grid_image draws them
NAME_LENGTH = 100  # characters of a name in the sentence: the two sides of a head differ at its end


def steps_ui() -> int:
    low, high, first = STEPS
    return st.slider("Steps along each side", low, high, query_int("steps", first, low, high), key="analogy_steps")


def nth_face(engine: Engine, domain: str, position: int) -> int:
    """The dataset index of a domain's `position`-th image, or its last in a smaller dataset."""
    indices = engine.indices(domain)
    return int(indices[min(position, len(indices) - 1)])


def pick_ui(engine: Engine, letter: str, linked: int) -> int:
    """One of A, B and C: a domain, then a face of it. The link's face (`linked`, ?a=...) opens
    in its own domain."""
    linked_domain = str(engine.dataset.domain[linked])
    domain = st.radio(f"{letter.upper()} is", tuple(DOMAIN_NAMES), index=tuple(DOMAIN_NAMES).index(linked_domain),
                      horizontal=True, key=f"analogy_{letter}_domain", format_func=DOMAIN_NAMES.get)
    default = linked if domain == linked_domain else nth_face(engine, domain, SWITCHED[domain])
    return face_picker_ui(engine, domain, f"analogy_{letter}_{domain}", default, height=300)


def analogy_pad(engine: Engine, live: dict, picks: list[int], grid: bytes, steps: int) -> tuple[float, float]:
    """The grid (the server's picture) as a pad, with sliders for s (across) and t (down): the
    point under the pointer, on a cell or between cells, is drawn in the browser. Returns the
    (s, t) last clicked or let go at (the link's; the answer's corner until then)."""
    controls = [Control("s: from A towards B", 0.0, 1.0, 0.01, query_float("s", 1.0, 0.0, 1.0)),
                Control("t: from A towards C", 0.0, 1.0, 0.01, query_float("t", 1.0, 0.0, 1.0))]
    domains = [engine.analogy_point(picks, s, t)[1] for s, t in ((0.0, 0.0), (1.0, 0.0), (0.0, 1.0))]  # A, B and C's
    point = face(line(lambda v: engine.analogy_point(picks, v[0], v[1])[0], 2),
                 domain_line(domains[0], [domains[1] - domains[0], domains[2] - domains[0]]),
                 "the point under the pointer")
    shown = pad(grid, [0, 1], (steps, steps), engine.dataset.size, GRID_GAP, "the analogy grid: point at it to see "
                "the faces between its cells", key="analogy_grid")
    s, t = live_controls(live, controls, [point], key="analogy_live", columns=2, pad=shown)
    return s, t


def render_analogy() -> None:
    engine = get_engine()
    st.title("Analogies")
    st.caption("A is to B as C is to what? Pick three faces or emoji: the grid walks from A towards B (across) and "
               "towards C (down), and its far corner, B + C − A, is the model's answer. Each cell is drawn as Lego, "
               "emoji or a mix of the two by the same rule from the three picks' domains.")
    analogy_panel(engine)


@st.fragment
def analogy_panel(engine: Engine) -> None:
    """The three pickers, steps and the grid: a pick or a slider reruns this panel alone."""
    # the link's faces are read here, so that a notice about B or C shows above the tabs, not in them
    linked = {letter: query_int(letter, nth_face(engine, *PICKS[letter]), 0, len(engine.dataset) - 1)
              for letter in PICKS}
    pickers, view = st.columns([2, 3])
    with pickers:
        picks = {}
        for letter, tab in zip(PICKS, st.tabs([letter.upper() for letter in PICKS])):
            with tab:
                picks[letter] = pick_ui(engine, letter, linked[letter])
    with view:
        steps = steps_ui()
        sync_url(**{letter: str(index) for letter, index in picks.items()}, steps=str(steps))
        a, b, c = (as_text(engine.dataset.name[index], NAME_LENGTH) for index in picks.values())
        st.markdown(f"**A** {a} is to **B** {b} as **C** {c} is to **?**")
        cells = engine.analogy_grid(picks["a"], picks["b"], picks["c"], steps)
        live = live_files(str(engine.folder))
        if live:  # the grid as a pad: the cell at any (s, t) under the pointer, drawn in the browser
            s, t = analogy_pad(engine, live, [picks[letter] for letter in PICKS], png_bytes(grid_image(cells)), steps)
            sync_url(s=f"{s:.2f}", t=f"{t:.2f}")
        else:
            st.image(png_bytes(grid_image(cells)), width="stretch", output_format="PNG")
        st.caption("Top left A, top right B, bottom left C; bottom right the answer, B + C − A.")
        # made when clicked, like the Morph page's files, at twice the cells' size
        st.download_button("Download PNG", lambda: png_bytes(grid_image(cells, scale=2)), "legomoji-analogy.png",
                           "image/png", key="analogy_png", on_click="ignore")
    with pickers:
        shown, captions = [engine.dataset.images[index] for index in picks.values()], ["A", "B", "C"]
        if live:  # the server's picture of the point last clicked (or slid to), which the link keeps
            shown.append(engine.decode(*engine.analogy_point(list(picks.values()), s, t))[0])
            captions.append(f"s {s:.2f}, t {t:.2f}")
        show_faces(shown, captions, columns=len(shown), width=80)
