// Surprise me's button, and its reel that spins through the faces while the server picks a pair
// (explorer/picker.py). It follows face_lists.js.

const SHORTEST_MS = 450;  // a spin lasts at least this long, however soon the pair comes
const LONGEST_MS = 20000;  // and stops after this long without one (the server gone)
const SHOWN_MS = 1500;  // the settled pair stays this long, then fades

function face(list, k, side) {  // the atlas's cell k, at the reel's size
    const picture = document.createElement("span");
    const [column, row] = [k % list.columns, Math.floor(k / list.columns)];
    picture.style.backgroundImage = `url("${list.atlas}")`;
    picture.style.backgroundSize = `${list.columns * side}px auto`;
    picture.style.backgroundPosition = `${-column * side}px ${-row * side}px`;
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
            const ks = Array.from({ length: reel.length }, () => Math.floor(Math.random() * list.faces.length));
            reel.strips[i].replaceChildren(...[...ks, ks[0]].map((k) => face(list, k, reel.side)));
        });
        reel.classList.remove("settled");
        reel.classList.add("spinning");
    }, (error) => console.warn("Legomoji: Surprise me's reel has no faces to spin", error));  // the button still works
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
            const landing = face(list, chosen[i], reel.side);
            reel.strips[i].replaceChildren(reel.strips[i].firstChild || landing.cloneNode(), landing);
        });
        reel.spinning = false;
        reel.classList.replace("spinning", "settled");
        reel.ending = setTimeout(() => stop(reel), SHOWN_MS);
    }, (error) => {
        console.warn("Legomoji: Surprise me's reel has no faces to land on", error);
        stop(reel);
    }), wait);
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
    reel.side = data.side;  // px: a face on the reel
    reel.length = data.length;  // random faces on each strip
    reel.style.setProperty("--side", `${data.side}px`);
    reel.style.setProperty("--loop", `${data.side * data.length}px`);
    if (reel.spinning && data.pair && data.spins >= reel.clicks) settle(reel, data.pair);
}
