// The face picker: a grid of a domain's faces, picked by click or keyboard (explorer/picker.py).

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
