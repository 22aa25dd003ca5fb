// Sliders whose faces are drawn in the browser as they move (explorer/live.py). It follows
// live_runtime.js. The server hands over, once, how each face's code and domain follow the
// sliders' values: a code plus a line per slider (the Mirror's mix, a direction's amount, the
// studio's strength and expression mix, an analogy's s and t, a sample's temperature), or a path
// between two codes, straight or spherical as vae.latent.interpolate_latents (the Morph). A
// picture of the server's (the Morph's strip, the analogy grid) can be a pad: the pointer over
// it moves its sliders. A strip's frames are drawn here too and take the server's picture's
// place. The server hears the values only when a slider is let go, the pad is clicked or the
// sliders are reset (its state's "values"), and draws its own pictures of them then. Where the
// browser cannot draw, the sliders and the pad still work and the page shows the server's pictures.

const REST = 60;  // ms the sliders rest before their refined faces
const IDLE = 500;  // ms at most that a face the server also draws waits for the page to be idle

function whenIdle(task) {  // after what the page is doing now (a run's pictures coming in)
    if (window.requestIdleCallback) requestIdleCallback(task, { timeout: IDLE });
    else setTimeout(task, 50);
}

function interpolate(from, to, t, method) {  // vae.latent.lerp and vae.latent.slerp
    const lerp = (a, b) => a.map((x, d) => (1 - t) * x + t * b[d]);
    if (method !== "slerp") return lerp(from, to);
    const n0 = Math.hypot(...from), n1 = Math.hypot(...to);
    if (n0 < 1e-12 || n1 < 1e-12) return lerp(from, to);
    const [u0, u1] = [from.map((x) => x / n0), to.map((x) => x / n1)];
    const omega = Math.acos(Math.min(1, Math.max(-1, u0.reduce((sum, x, d) => sum + x * u1[d], 0))));
    if (Math.PI - omega < 1e-6) return lerp(from, to);  // opposite codes: no single great circle
    const norm = (1 - t) * n0 + t * n1;
    if (omega < 1e-6) return u0.map((x, d) => ((1 - t) * x + t * u1[d]) * norm);
    const [a, b] = [Math.sin((1 - t) * omega), Math.sin(t * omega)];
    return u0.map((x, d) => ((a * x + b * u1[d]) / Math.sin(omega)) * norm);
}

// {origin, axes} or {from, to, method, control | at}; each vector named by its place in `vectors`
function codeAt(spec, values, vectors) {
    if (spec.from !== undefined) {
        const t = spec.at ?? values[spec.control];
        return interpolate(vectors[spec.from], vectors[spec.to], t, spec.method);
    }
    const code = vectors[spec.origin].slice();
    spec.axes.forEach((axis, i) => {
        if (axis !== null && values[i]) vectors[axis].forEach((x, d) => { code[d] += values[i] * x; });
    });
    return code;
}

function domainAt(spec, values) {  // {origin, axes}, clipped to [0, 1]
    const domain = spec.axes.reduce((sum, a, i) => sum + a * values[i], spec.origin);
    return Math.min(1, Math.max(0, domain));
}

function snap(control, value) {  // a value the slider can take, as the server rounds it
    const steps = Math.round((value - control.min) / control.step);
    return Math.min(control.max, Math.max(control.min, +(control.min + steps * control.step).toFixed(6)));
}

function decimals(step) {  // as many as the step has: 0.05 shows 0.35, 0.1 shows 0.4
    return (String(step).split(".")[1] || "").length;
}

function element(tag, className, parent) {
    const made = document.createElement(tag);
    if (className) made.className = className;
    if (parent) parent.appendChild(made);
    return made;
}

function build(parent, data) {
    const root = element("div", "controls", parent);
    const sliders = element("div", "sliders", root);
    sliders.style.gridTemplateColumns = `repeat(${data.columns || 1}, minmax(0, 1fr))`;
    root.inputs = data.controls.map((control, k) => {
        const label = element("label", null, sliders);
        const name = element("span", null, label);
        const shown = element("output", null, label);
        const input = element("input", null, label);
        Object.assign(input, { type: "range", min: control.min, max: control.max, step: control.step });
        Object.assign(input, { id: `live-control-${k}`, name: control.label, shown });
        name.textContent = control.label;
        input.setAttribute("aria-label", control.label);
        return input;
    });
    if (data.reset) {
        root.reset = element("button", "reset", root);
        root.reset.type = "button";
        root.reset.textContent = data.reset;
    }
    if (data.pad) {
        root.pad = element("div", "pad", root);
        root.picture = element("img", null, root.pad);
        root.picture.alt = data.pad.alt;
        root.picture.draggable = false;
        root.strip = element("canvas", null, root.pad);
        root.strip.hidden = true;
        root.marker = element("div", "marker", root.pad);
    }
    const faces = element("div", "live-faces", root);
    faces.hidden = true;  // shown once the browser can draw
    faces.classList.toggle("many", data.faces.length > 4);
    if (data.perRow) faces.style.gridTemplateColumns = `repeat(${data.perRow}, auto)`;
    faces.classList.toggle("rows", !!data.perRow);
    root.canvases = data.faces.map((face) => {
        const figure = element("figure", null, faces);
        const canvas = element("canvas", null, figure);
        canvas.width = canvas.height = data.files.size;
        canvas.setAttribute("role", "img");
        element("figcaption", null, figure).textContent = face.caption;
        return canvas;
    });
    root.faces = faces;
    return root;
}

// Where the pad's picture puts each of its values: its cells' centres are the sliders' ends and steps.
function padGeometry(pad, shown) {
    const [columns, rows] = pad.cells, cell = pad.size + pad.gap;
    const width = columns * cell - pad.gap, height = rows * cell - pad.gap;
    const scale = shown.getBoundingClientRect().width / width || 1;
    return { columns, rows, cell, width, height, scale };
}

function padValues(root, event) {
    const { pad, controls } = root.data, box = root.pad.getBoundingClientRect();
    const g = padGeometry(pad, root.pad);
    const fraction = (offset, count) => (count < 2 ? 0
        : Math.min(1, Math.max(0, (offset / g.scale - pad.size / 2) / ((count - 1) * g.cell))));
    const along = [fraction(event.clientX - box.left, g.columns), fraction(event.clientY - box.top, g.rows)];
    return pad.controls.map((i, axis) => {
        const control = controls[i];
        return [i, snap(control, control.min + along[axis] * (control.max - control.min))];
    });
}

function placeMarker(root) {
    const { pad, controls } = root.data;
    const g = padGeometry(pad, root.pad);
    const at = (axis, count) => {
        const i = pad.controls[axis];
        if (i === undefined || count < 2) return 50;
        const control = controls[i], value = root.values[i];
        const t = (value - control.min) / (control.max - control.min);
        return (100 * (pad.size / 2 + t * (count - 1) * g.cell)) / (axis ? g.height : g.width);
    };
    root.marker.style.left = `${at(0, g.columns)}%`;
    root.marker.style.top = `${at(1, g.rows)}%`;
    root.marker.classList.toggle("column", pad.controls.length === 1);
}

async function drawStrip(root, net) {  // the strip's frames, drawn here, in the server's picture's place
    const { frames, pad } = root.data, key = root.framesKey;
    const codes = frames.map((frame) => codeAt(frame.code, root.values, root.data.vectors));
    const domains = frames.map((frame) => domainAt(frame.domain, root.values));
    const pixels = await drawFaces(net, codes, domains);
    if (key !== root.framesKey) return;  // the server has moved on to another strip
    const g = padGeometry(pad, root.pad);
    Object.assign(root.strip, { width: g.width, height: g.height });
    const context = root.strip.getContext("2d");
    context.fillStyle = "#ffffff";
    context.fillRect(0, 0, g.width, g.height);
    pixels.forEach((picture, k) => paint(root.strip, picture, net.size, k * g.cell, 0));
    root.picture.hidden = true;
    root.strip.hidden = false;
    root.dataset.strip = "drawn";
}

export default function (component) {
    const { data, parentElement, setStateValue } = component;
    let root = parentElement.querySelector(".controls");
    if (!root || root.shape !== JSON.stringify([data.controls.length, data.faces.length, !!data.pad])) {
        if (root) { root.cleanup?.(); root.remove(); }
        root = build(parentElement, data);
        root.shape = JSON.stringify([data.controls.length, data.faces.length, !!data.pad]);
    }
    const framesKey = JSON.stringify(data.frames && [data.frames, data.vectors]);
    const fresh = framesKey !== root.framesKey;
    root.framesKey = framesKey;
    root.data = data;
    if (!root.dragging) root.values = data.controls.map((control) => control.value);
    const show = () => {
        root.inputs.forEach((input, k) => {
            input.value = root.values[k];
            input.shown.textContent = Number(root.values[k]).toFixed(decimals(root.data.controls[k].step));
        });
        if (root.pad) placeMarker(root);
    };
    if (root.pad && root.picture.getAttribute("src") !== data.pad.picture) {
        root.picture.src = data.pad.picture;
        if (fresh) { root.picture.hidden = false; root.strip.hidden = true; delete root.dataset.strip; }
    }
    if (root.pad) root.picture.onload = show;
    show();
    const log = (live.log ??= []);
    const draw = (asked) => {
        show();
        if (!root.painter) return;
        const faces = root.data.faces, values = root.values;
        root.drawnKey = JSON.stringify([faces, root.data.vectors, values]);
        root.painter.ask(faces.map((face) => codeAt(face.code, values, root.data.vectors)),
                         faces.map((face) => domainAt(face.domain, values)), { values: values.slice(), asked });
    };
    if (root.started) {  // the server's answer (or another run): faces it draws too, once the page is idle
        const drawnKey = JSON.stringify([data.faces, data.vectors, root.values]);
        const stale = root.painter && !root.dragging && (root.sent || drawnKey !== root.drawnKey);
        root.sent = false;
        if (stale) whenIdle(() => { if (!root.dragging) draw(performance.now()); });
        if (root.net && fresh && data.frames) drawStrip(root, root.net).catch(() => null);
        return root.cleanup;
    }
    root.started = true;
    const send = () => {  // let go: the server draws its pictures of the values, and has the CPU meanwhile
        root.dragging = false;
        root.sent = true;
        if (root.painter) root.painter.stop();
        setStateValue("values", root.values.slice());
    };
    root.inputs.forEach((input, k) => {
        input.addEventListener("input", (event) => {
            root.dragging = true;
            root.values[k] = Number(input.value);
            draw(event.timeStamp);
        });
        input.addEventListener("change", send);  // let go: the server draws its pictures of the values
    });
    if (root.reset) {
        root.reset.addEventListener("click", (event) => {
            root.values = root.data.controls.map((control) => snap(control, 0));
            draw(event.timeStamp);
            send();
        });
    }
    if (root.pad) {
        root.pad.addEventListener("pointermove", (event) => {
            root.dragging = true;
            for (const [i, value] of padValues(root, event)) root.values[i] = value;
            draw(event.timeStamp);
        });
        root.pad.addEventListener("click", send);
        root.pad.addEventListener("pointerleave", (event) => {  // not clicked: back to the server's values
            if (!root.dragging) return;
            root.dragging = false;
            root.values = root.data.controls.map((control) => control.value);
            draw(event.timeStamp);
        });
    }
    networks(data.files).then((net) => {
        root.net = net;
        root.painter = new FacePainter(net, root.canvases, REST, (refined, tag) => {
            root.dataset.state = refined ? "refined" : "raw";
            root.dataset.values = tag.values.join(",");
            log.push([tag.asked, performance.now(), refined]);
            if (log.length > 1000) log.splice(0, log.length - 1000);
        }, () => { root.faces.hidden = true; });
        root.faces.hidden = false;
        root.dataset.ready = "yes";
        whenIdle(() => { if (!root.dragging) draw(performance.now()); });
        if (root.data.frames) {
            drawStrip(root, net).catch((error) => console.warn("Legomoji: the strip stays the server's:", error));
        }
    }, () => { root.faces.hidden = true; });
    root.cleanup = () => { if (root.painter) root.painter.stop(); };
    return root.cleanup;
}
