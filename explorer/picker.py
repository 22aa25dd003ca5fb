"""The face picker: a grid of pictures a person picks from by sight, with a search box.

A Streamlit component (`st.components.v2`, no build step and no third-party package), whose
CSS and JavaScript are the files in explorer/web/ (face_lists.js is shared with the reel and
the map's hover pictures). A click or Enter on a face sends that face's dataset index to Python at
once, so a pick reruns its fragment straight away. The names and tags of a domain's faces are a static JSON file
the browser fetches once, and their pictures one static atlas (a cold page fetches two pictures
for its grids, not one per face); the grid is sent the list's URL, the indices a search shows and
the face to mark, so a grid drawn afresh (a new search) costs a few hundred bytes over the
websocket, and a rerun that changes nothing re-sends a reference to it (Streamlit's message
cache). The grid marks a pick itself, without waiting for the server; when the app chooses
another face (Surprise me), the grid only moves its mark: drawing its 400-odd faces anew would
hold up the page.

Keyboard: Tab into the grid, arrows move between faces, Home and End jump, Enter or Space picks.

Surprise me's reel is a component of the same kind: a button whose two slots spin through the
same atlases in the browser from the moment it is clicked, while the server picks the pair and
draws its result, and settle on the pair the server sends.
"""
from __future__ import annotations

import streamlit as st

from explorer.web_assets import web_file

FACE_GRID = st.components.v2.component("legomoji.face_grid", css=web_file("face_grid.css"),
                                        js=web_file("face_lists.js") + web_file("face_grid.js"))


def face_grid(faces: str, shown: list[int] | None, chosen: int, picks: int, height: int, label: str,
              key: str) -> None:
    """Mount the grid of the faces listed at the URL `faces` (see cache.face_list_url: each face's
    dataset index, name and tags, their pictures in one atlas), only those whose index is in
    `shown` (all when None), with `chosen` marked. `picks` is how many of the grid's picks the
    app has answered (see grid_pick): a grid with a pick of its own on the way keeps marking it."""
    data = {"faces": faces, "shown": shown, "chosen": chosen, "picks": picks, "height": height, "label": label}
    FACE_GRID(data=data, key=key, default={"picked": None}, on_picked_change=lambda: None)


def grid_pick(key: str) -> tuple[int, int] | None:
    """The last pick of the grid mounted with `key`, as (dataset index, how many picks it has
    made so far), or None before any pick or for a state that is not one. Read before the grid
    is mounted, so that the run that answers a pick marks it."""
    picked = (st.session_state.get(key) or {}).get("picked")
    if (isinstance(picked, (list, tuple)) and len(picked) == 2
            and all(isinstance(v, int) and not isinstance(v, bool) for v in picked)):
        return int(picked[0]), int(picked[1])
    return None


REEL_SIDE = 36  # px: the reel's faces are no taller than its button
REEL_FACES = 8  # random faces on each slot's strip
SURPRISE_REEL = st.components.v2.component("legomoji.surprise_reel", css=web_file("surprise_reel.css"),
                                           js=web_file("face_lists.js") + web_file("surprise_reel.js"))


def surprise_reel(faces: tuple[str, str], pair: tuple[int, int] | None, spins: int, label: str, key: str) -> None:
    """Mount Surprise me's button and reel, spinning through the faces listed at the two URLs
    `faces` (see face_grid). `spins` is how many of its clicks the app has answered, `pair` the
    dataset indices it answered the last one with (the reel settles on them), or None in a run
    that answers none. The clicks so far are the component's state, `st.session_state[key]["spins"]`,
    which the app reads before it mounts the reel, so that the run that answers a click sends
    the pair with it."""
    data = {"faces": list(faces), "pair": pair, "spins": spins, "label": label, "side": REEL_SIDE,
            "length": REEL_FACES}
    SURPRISE_REEL(data=data, key=key, default={"spins": 0}, on_spins_change=lambda: None, width="content")
