"""The face picker: a grid of pictures a person picks from by sight, with a search box.

A Streamlit component (`st.components.v2`, inline HTML, CSS and JavaScript, no build step and
no third-party package). A click or Enter on a face sends that face's dataset index to Python at
once, so a pick reruns its fragment straight away (the dataframe picker it replaces waited
150 ms before it told the server). The names and tags of a domain's faces are a static JSON file
the browser fetches once, and their pictures one static atlas (a cold page fetches two pictures
for its grids, not one per face); the grid is sent the list's URL, the indices a search shows and
the face to mark, so a grid drawn afresh (a new search) costs a few hundred bytes over the
websocket, and a rerun that changes nothing re-sends a reference to it (Streamlit's message
cache). The grid marks a pick itself, without waiting for the server; when the app chooses
another face (Surprise me), the grid only moves its mark, where drawing its 400-odd faces anew
held up the page for about 50-130 ms a grid.

Keyboard: Tab into the grid, arrows move between faces, Home and End jump, Enter or Space picks.

Surprise me's reel is a component of the same kind: a button whose two slots spin through the
same atlases in the browser from the moment it is clicked, while the server picks the pair and
draws its result, and settle on the pair the server sends.
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

# URL of a domain's face list -> the promise of it: fetched once per page, by the grids and the reel
FACE_LISTS_JS = """
const lists = (window.legomojiFaceLists ??= new Map());

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
"""

GRID_JS = FACE_LISTS_JS + """
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
        grid.clicks = data.picks;
        parentElement.appendChild(grid);
    }
    grid.style.height = data.height + "px";
    grid.setAttribute("aria-label", data.label);
    if (data.picks >= grid.clicks) grid.chosen = data.chosen;  // else a pick of ours is on its way: keep its mark
    const signature = [data.faces, data.shown ? data.shown.join(",") : "all"].join("|");
    if (grid.dataset.signature === signature) {  // the same grid: keep its scroll, move the mark if need be
        mark(grid, true);
        return;
    }
    grid.dataset.signature = signature;
    facesAt(data.faces).then((list) => {
        if (grid.dataset.signature !== signature) return;  // a newer grid came while the list loaded
        const shown = data.shown && new Set(data.shown);
        // face k of the list sits in the atlas's cell k
        const faces = list.faces.map((face, k) => [...face, k]).filter((face) => !shown || shown.has(face[0]));
        grid.style.setProperty("--atlas", `url("${list.atlas}")`);
        grid.style.setProperty("--side", list.side + "px");
        draw(grid, faces, list, setStateValue);
    }, () => {
        grid.dataset.signature = "";
        message(grid, "The list of faces could not be loaded: reload the page.");
    });
}

function mark(grid, scroll) {  // the chosen face marked and made the tab stop; scrolled to when it moved
    const cells = [...grid.querySelectorAll(".face")];
    const chosen = cells.find((cell) => Number(cell.dataset.index) === grid.chosen);
    const marked = cells.find((cell) => cell.getAttribute("aria-selected") === "true");
    if (marked === chosen && chosen) return;
    for (const cell of cells) {
        cell.setAttribute("aria-selected", String(cell === chosen));
        cell.tabIndex = cell === (chosen || cells[0]) ? 0 : -1;
    }
    if (chosen && scroll) {
        grid.scrollTop = chosen.offsetTop - grid.offsetTop - grid.clientHeight / 2 + chosen.offsetHeight / 2;
    }
}

function cellFor([index, name, tags, k], list) {
    const cell = document.createElement("button");
    cell.type = "button";
    cell.className = "face";
    cell.dataset.index = index;
    cell.setAttribute("role", "option");
    cell.setAttribute("aria-selected", "false");
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

function draw(grid, faces, list, setStateValue) {
    const cells = faces.map((face) => cellFor(face, list));
    if (!cells.length) {
        message(grid, "No face matches this search.");
        return;
    }
    grid.replaceChildren(...cells);
    mark(grid, true);

    const pick = (cell) => {
        grid.chosen = Number(cell.dataset.index);
        mark(grid, false);
        grid.clicks += 1;  // the pick and its count: a face picked again after the app chose another is news
        setStateValue("picked", [grid.chosen, grid.clicks]);
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

FACE_GRID = st.components.v2.component("legomoji.face_grid", css=CSS, js=GRID_JS)


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


def button_css(selector: str) -> str:
    """CSS that draws `selector` as Streamlit's secondary button (its border, radius, height and
    hover colour), for a component's button or link."""
    return """
%(s)s {
    display: inline-flex; align-items: center; min-height: 2.5rem; padding: 0.25rem 0.75rem;
    border: 1px solid var(--st-border-color, rgba(49, 51, 63, 0.2)); border-radius: 0.5rem;
    background: var(--st-background-color, #fff); color: inherit; font: 1rem/1.6 var(--st-font, sans-serif);
    text-decoration: none; cursor: pointer;
}
%(s)s:hover { border-color: var(--st-primary-color, #ff4b4b); color: var(--st-primary-color, #ff4b4b); }
%(s)s:focus-visible { outline: 2px solid var(--st-primary-color, #ff4b4b); outline-offset: 1px; }
""" % {"s": selector}


REEL_SIDE = 36  # px: the reel's faces are no taller than its button
REEL_FACES = 8  # random faces on each slot's strip
# Each slot is a window on a vertical strip of random faces that CSS rolls (a transform, which the
# browser's compositor animates even while the page is busy drawing the server's answer: a
# script that swapped faces on a timer showed one face in four while the page was busy).
REEL_CSS = button_css(".spin") + """
.reel { display: flex; align-items: center; gap: 10px; }
.slots { display: flex; gap: 6px; opacity: 0; transition: opacity 0.4s; }
.spinning .slots, .settled .slots { opacity: 1; transition: none; }
.slot { width: %(side)dpx; height: %(side)dpx; overflow: hidden; border-radius: 6px; }
.strip { display: flex; flex-direction: column; will-change: transform; }
.strip span { flex: none; width: %(side)dpx; height: %(side)dpx; background-repeat: no-repeat; }
.spinning .strip { animation: roll 0.48s linear infinite; }
.spinning .slot + .slot .strip { animation-duration: 0.4s; }
.settled .strip { animation: land 0.3s ease-out forwards; }
@keyframes roll { to { transform: translateY(-%(loop)dpx); } }
@keyframes land { to { transform: translateY(-%(side)dpx); } }
""" % {"side": REEL_SIDE, "loop": REEL_FACES * REEL_SIDE}

REEL_JS = FACE_LISTS_JS + """
const SHORTEST_MS = 450;  // a spin lasts at least this long, however soon the pair comes
const LONGEST_MS = 20000;  // and stops after this long without one (the server gone)
const SHOWN_MS = 1500;  // the settled pair stays this long, then fades

function face(list, k) {  // the atlas's cell k, at the reel's size
    const picture = document.createElement("span");
    const [column, row] = [k %% list.columns, Math.floor(k / list.columns)];
    picture.style.backgroundImage = `url("${list.atlas}")`;
    picture.style.backgroundSize = `${list.columns * %(side)d}px auto`;
    picture.style.backgroundPosition = `${-column * %(side)d}px ${-row * %(side)d}px`;
    return picture;
}

function stop(reel) {
    reel.spinning = false;
    reel.classList.remove("spinning", "settled");
}

function spin(reel) {
    reel.spinning = true;
    reel.started = performance.now();
    Promise.all(reel.faces.map(facesAt)).then((lists) => {
        if (!reel.spinning) return;
        lists.forEach((list, i) => {  // the strip ends on its first face again, so the roll loops
            const ks = Array.from({ length: %(faces)d }, () => Math.floor(Math.random() * list.faces.length));
            reel.strips[i].replaceChildren(...[...ks, ks[0]].map((k) => face(list, k)));
        });
        reel.classList.remove("settled");
        reel.classList.add("spinning");
    });
    clearTimeout(reel.ending);
    reel.ending = setTimeout(() => stop(reel), LONGEST_MS);
}

function settle(reel, pair) {  // each strip lands on the pair's face once the spin has lasted SHORTEST_MS
    clearTimeout(reel.ending);
    const wait = Math.max(0, reel.started + SHORTEST_MS - performance.now());
    reel.ending = setTimeout(() => Promise.all(reel.faces.map(facesAt)).then((lists) => {
        const chosen = lists.map((list, i) => list.faces.findIndex((face) => face[0] === pair[i]));
        if (chosen.includes(-1)) return stop(reel);  // a list older than the pair: no face to land on
        lists.forEach((list, i) => {
            reel.strips[i].replaceChildren(reel.strips[i].firstChild || face(list, chosen[i]), face(list, chosen[i]));
        });
        reel.spinning = false;
        reel.classList.replace("spinning", "settled");
        reel.ending = setTimeout(() => stop(reel), SHOWN_MS);
    }, () => stop(reel)), wait);
}

export default function (component) {
    const { data, setStateValue, parentElement } = component;
    let reel = parentElement.querySelector(".reel");
    if (!reel) {
        reel = document.createElement("div");
        reel.className = "reel";
        const button = document.createElement("button");
        button.type = "button";
        button.className = "spin";
        const slots = document.createElement("span");
        slots.className = "slots";
        slots.setAttribute("aria-hidden", "true");
        reel.strips = [0, 1].map(() => {
            const [slot, strip] = [document.createElement("span"), document.createElement("span")];
            slot.className = "slot";
            strip.className = "strip";
            slot.append(strip);
            slots.append(slot);
            return strip;
        });
        reel.append(button, slots);
        parentElement.appendChild(reel);
        reel.clicks = data.spins;
        button.onclick = () => {
            reel.clicks += 1;
            setStateValue("spins", reel.clicks);
            spin(reel);
        };
    }
    reel.querySelector(".spin").textContent = data.label;
    reel.faces = data.faces;
    if (reel.spinning && data.pair && data.spins >= reel.clicks) settle(reel, data.pair);
}
""" % {"side": REEL_SIDE, "faces": REEL_FACES}

SURPRISE_REEL = st.components.v2.component("legomoji.surprise_reel", css=REEL_CSS, js=REEL_JS)


def surprise_reel(faces: tuple[str, str], pair: tuple[int, int] | None, spins: int, label: str, key: str) -> None:
    """Mount Surprise me's button and reel, spinning through the faces listed at the two URLs
    `faces` (see face_grid). `spins` is how many of its clicks the app has answered, `pair` the
    dataset indices it answered the last one with (the reel settles on them), or None in a run
    that answers none. The clicks so far are the component's state, `st.session_state[key]["spins"]`,
    which the app reads before it mounts the reel, so that the run that answers a click sends
    the pair with it."""
    data = {"faces": list(faces), "pair": pair, "spins": spins, "label": label}
    SURPRISE_REEL(data=data, key=key, default={"spins": 0}, on_spins_change=lambda: None, width="content")
