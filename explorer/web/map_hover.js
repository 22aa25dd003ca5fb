// The latent map's hover pictures (explorer/hover.py): the face under the pointer shows its own
// picture, a cell of the face pickers' atlas, beside it. It follows face_lists.js.
//
// It finds the map by its layout's `meta` and listens to its plotly_hover events. A rerun may
// draw the map afresh, which drops its listeners, so a MutationObserver looks again whenever the
// page's elements change; it is disconnected, and the picture removed, when the component
// unmounts (the map's page is left). No timer runs.

const CARD_ID = "legomoji-map-hover";
const state = (window.legomojiMapHover ??= { cells: new Map(), lists: "" });

function card() {
    let box = document.getElementById(CARD_ID);
    if (!box) {
        box = document.createElement("div");
        box.id = CARD_ID;
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
    if (!cell) { box.style.display = "none"; return; }  // Plotly's own label still names the face
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

function follow(meta) {  // listen to every map on the page once (removeListener first: a map seen before keeps one)
    for (const map of document.querySelectorAll(".js-plotly-plot")) {
        if (!map.layout || map.layout.meta !== meta || typeof map.on !== "function") continue;
        map.removeListener("plotly_hover", show);
        map.removeListener("plotly_unhover", hide);
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
        }).catch((error) => {  // no pictures on hover: the map's own labels stay
            console.warn("Legomoji: the map's hover pictures are off", error);
            state.lists = "";
        });
    }
    if (!state.observer) {  // one per page, however often the component is drawn again
        let pending = false;
        state.observer = new MutationObserver(() => {
            if (pending) return;
            pending = true;
            requestAnimationFrame(() => { pending = false; follow(data.meta); });
        });
        state.observer.observe(document.body, { childList: true, subtree: true });
    }
    follow(data.meta);
    return () => {
        state.observer?.disconnect();
        state.observer = null;
        document.getElementById(CARD_ID)?.remove();
    };
}
