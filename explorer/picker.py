"""The face picker: a grid of pictures a person picks from by sight, with a search box.

A Streamlit component (`st.components.v2`, inline HTML, CSS and JavaScript, no build step and
no third-party package). A click or Enter on a face sends that face's dataset index to Python at
once, so a pick reruns its fragment straight away (the dataframe picker it replaces waited
150 ms before it told the server). The names and tags of a domain's faces are a static JSON file
the browser fetches once, and their pictures one static atlas (a cold page fetches two pictures
for its grids, not one per face); the grid is sent the list's URL, the indices a search shows and
the face to mark, so a grid drawn afresh (a Surprise me, a new search) costs a few hundred bytes
over the websocket, and a rerun that changes nothing re-sends a reference to it (Streamlit's
message cache). The grid marks a pick itself, without waiting for the server.

Keyboard: Tab into the grid, arrows move between faces, Home and End jump, Enter or Space picks.
"""
from __future__ import annotations

import streamlit as st

CSS = """
.faces {
    display: grid; grid-template-columns: repeat(auto-fill, minmax(84px, 1fr)); gap: 4px; align-content: start;
    overflow-y: auto; padding: 6px; box-sizing: border-box;
    border: 1px solid var(--st-border-color, rgba(49, 51, 63, 0.2)); border-radius: 8px;
}
.face {
    display: flex; flex-direction: column; align-items: center; gap: 2px; min-width: 0;
    padding: 4px 2px; border: 2px solid transparent; border-radius: 8px; background: none;
    color: inherit; font: 11px/1.25 var(--st-font, sans-serif); cursor: pointer;
}
.face:hover { background: var(--st-secondary-background-color, #f0f2f6); }
.face[aria-selected="true"] {
    border-color: var(--st-primary-color, #ff4b4b); background: var(--st-secondary-background-color, #f0f2f6);
}
.face:focus-visible { outline: 2px solid var(--st-primary-color, #ff4b4b); outline-offset: 1px; }
.thumb { width: var(--side); height: var(--side); background: var(--atlas) no-repeat; }
.face span { max-width: 100%; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.empty { padding: 12px; opacity: 0.7; font: 14px var(--st-font, sans-serif); }
"""

JS = """
const lists = new Map();  // URL of a domain's face list -> the promise of it: fetched once per page

function facesAt(url) {
    if (!lists.has(url)) {
        const address = new URL(url, document.baseURI);
        lists.set(url, fetch(address).then((response) => {
            if (!response.ok) throw new Error(response.status);
            return response.json();
        }).then((list) => ({ ...list, atlas: new URL(list.atlas, address).href })));
        lists.get(url).catch(() => lists.delete(url));  // the next draw asks again
    }
    return lists.get(url);
}

function message(grid, text) {
    const note = document.createElement("div");
    note.className = "empty";
    note.textContent = text;
    grid.replaceChildren(note);
}

export default function (component) {
    const { data, setStateValue, parentElement } = component;
    let grid = parentElement.querySelector(".faces");
    if (!grid) {
        grid = document.createElement("div");
        grid.className = "faces";
        grid.setAttribute("role", "listbox");
        parentElement.appendChild(grid);
    }
    grid.style.height = data.height + "px";
    grid.setAttribute("aria-label", data.label);
    const signature = [data.faces, data.shown ? data.shown.join(",") : "all", data.first].join("|");
    if (grid.dataset.signature === signature) return;  // the same grid: keep its scroll and its pick
    grid.dataset.signature = signature;
    facesAt(data.faces).then((list) => {
        if (grid.dataset.signature !== signature) return;  // a newer grid came while the list loaded
        const shown = data.shown && new Set(data.shown);
        // face k of the list sits in the atlas's cell k
        const faces = list.faces.map((face, k) => [...face, k]).filter((face) => !shown || shown.has(face[0]));
        grid.style.setProperty("--atlas", `url("${list.atlas}")`);
        grid.style.setProperty("--side", list.side + "px");
        draw(grid, faces, data.first, list, setStateValue);
    }, () => {
        grid.dataset.signature = "";
        message(grid, "The list of faces could not be loaded: reload the page.");
    });
}

function cellFor([index, name, tags, k], first, list) {
    const cell = document.createElement("button");
    cell.type = "button";
    cell.className = "face";
    cell.dataset.index = index;
    cell.setAttribute("role", "option");
    cell.setAttribute("aria-selected", String(index === first));
    cell.tabIndex = -1;
    cell.title = tags ? name + " (" + tags + ")" : name;
    const picture = document.createElement("span");
    picture.className = "thumb";
    const [column, row] = [k % list.columns, Math.floor(k / list.columns)];
    picture.style.backgroundPosition = `${-column * list.side}px ${-row * list.side}px`;
    const label = document.createElement("span");
    label.textContent = name.replace(/^Minifig Head (with )?/i, "");  // the tooltip keeps the full name
    cell.append(picture, label);
    return cell;
}

function draw(grid, faces, first, list, setStateValue) {
    const cells = faces.map((face) => cellFor(face, first, list));
    if (!cells.length) {
        message(grid, "No face matches this search.");
        return;
    }
    grid.replaceChildren(...cells);
    const chosen = cells.find((cell) => cell.getAttribute("aria-selected") === "true");
    (chosen || cells[0]).tabIndex = 0;  // one tab stop: the chosen face
    if (chosen) grid.scrollTop = chosen.offsetTop - grid.offsetTop - grid.clientHeight / 2 + chosen.offsetHeight / 2;

    const pick = (cell) => {
        for (const other of cells) other.setAttribute("aria-selected", String(other === cell));
        setStateValue("picked", Number(cell.dataset.index));
    };
    const focus = (cell) => {
        for (const other of cells) other.tabIndex = other === cell ? 0 : -1;
        cell.focus();
    };
    grid.onclick = (event) => {
        const cell = event.target.closest(".face");
        if (cell) { focus(cell); pick(cell); }
    };
    grid.onkeydown = (event) => {
        const at = cells.indexOf(event.target.closest(".face"));
        if (at < 0) return;
        const columns = Math.max(1, cells.filter((cell) => cell.offsetTop === cells[0].offsetTop).length);
        const moves = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: columns, ArrowUp: -columns,
                        Home: -at, End: cells.length - 1 - at };
        if (event.key in moves) {
            event.preventDefault();
            focus(cells[Math.min(cells.length - 1, Math.max(0, at + moves[event.key]))]);
        }
    };
}
"""

FACE_GRID = st.components.v2.component("legomoji.face_grid", css=CSS, js=JS)


def face_grid(faces: str, shown: list[int] | None, first: int, height: int, label: str, key: str) -> int | None:
    """Mount the grid of the faces listed at the URL `faces` (see cache.face_list_url: each face's
    dataset index, name and tags, their pictures in one atlas), only those whose index is in
    `shown` (all when None), with `first` marked. Returns the dataset index picked last in this
    grid, or None before any pick."""
    data = {"faces": faces, "shown": shown, "first": first, "height": height, "label": label}
    result = FACE_GRID(data=data, key=key, default={"picked": None}, on_picked_change=lambda: None)
    return result.picked
