"""The latent map's hover pictures: a face under the pointer shows its own picture beside it.

Plotly's hover labels hold text only, so a small Streamlit component (`st.components.v2`, inline
JavaScript, no build step) listens to the map's `plotly_hover` events in the page and shows the
hovered face's cell of the face pickers' atlas (explorer/picker.py's face lists): the browser
has the atlas already, so a hover asks the server for nothing. The component finds the map by
its layout's `meta` (figures.MAP_META) and follows it when a rerun draws it afresh.
"""
from __future__ import annotations

import streamlit as st

from explorer.figures import MAP_META
from explorer.picker import FACE_LISTS_JS

HOVER_JS = FACE_LISTS_JS + """
const state = (window.legomojiMapHover ??= { cells: new Map(), lists: "", maps: new WeakSet(), timer: 0 });

function card() {
    let box = document.getElementById("legomoji-map-hover");
    if (!box) {
        box = document.createElement("div");
        box.id = "legomoji-map-hover";
        box.setAttribute("role", "img");
        Object.assign(box.style, {
            position: "fixed", zIndex: 1000, pointerEvents: "none", display: "none", padding: "4px",
            background: "white", border: "1px solid rgba(49, 51, 63, 0.25)", borderRadius: "8px",
            boxShadow: "0 2px 8px rgba(0, 0, 0, 0.18)",
        });
        const picture = document.createElement("div");
        picture.className = "legomoji-hover-picture";
        box.appendChild(picture);
        document.body.appendChild(box);
    }
    return box;
}

function show(event) {
    const point = (event.points || []).find((p) => typeof p.customdata === "number");
    const cell = point && state.cells.get(point.customdata);
    const box = card();
    if (!cell) { box.style.display = "none"; return; }
    const [list, k] = cell;
    const picture = box.firstChild;
    Object.assign(picture.style, {
        width: list.side + "px", height: list.side + "px", backgroundImage: `url("${list.atlas}")`,
        backgroundRepeat: "no-repeat",
        backgroundPosition: `${-(k % list.columns) * list.side}px ${-Math.floor(k / list.columns) * list.side}px`,
    });
    box.dataset.index = point.customdata;
    box.setAttribute("aria-label", list.faces[k][1]);
    // above and to the left of the pointer: plotly's own label opens to its right
    const x = event.event ? event.event.clientX : 0, y = event.event ? event.event.clientY : 0;
    box.style.left = Math.max(4, x - list.side - 24) + "px";
    box.style.top = Math.max(4, y - list.side - 24) + "px";
    box.style.display = "block";
}

function hide() { card().style.display = "none"; }

function follow() {  // attach to every map drawn (or purged and drawn again) since the last look
    for (const map of document.querySelectorAll(".js-plotly-plot")) {
        // plotly keeps a map's listeners in its event emitter, `_ev`, which a purge replaces
        if (!map._ev || state.maps.has(map._ev) || !map.layout || map.layout.meta !== "MAP_META") continue;
        state.maps.add(map._ev);
        map.on("plotly_hover", show);
        map.on("plotly_unhover", hide);
    }
}

export default function (component) {
    const { data } = component;
    const key = data.lists.join(" ");
    if (state.lists !== key) {
        state.lists = key;
        Promise.all(data.lists.map(facesAt)).then((lists) => {
            state.cells = new Map();
            for (const list of lists) list.faces.forEach((face, k) => state.cells.set(face[0], [list, k]));
        }).catch(() => { state.lists = ""; });
    }
    follow();
    if (!state.timer) state.timer = setInterval(follow, 500);
}
""".replace("MAP_META", MAP_META)

MAP_HOVER = st.components.v2.component("legomoji.map_hover", js=HOVER_JS)


def map_hover(face_lists: list[str], key: str = "map_hover") -> None:
    """Show each face's picture when the pointer is on its point of the map, from the face lists
    at these URLs (cache.face_list_url, one per domain)."""
    MAP_HOVER(data={"lists": face_lists}, key=key)
