// The latent map's live face (explorer/live.py): the face at any point under the pointer, on or
// between the map's points, drawn beside the map as the pointer moves. It follows
// live_runtime.js. The point's code is the map's own inverse (the UMAP grid's bilinear lookup,
// or the PCA and Directions planes' affine inverse), as the server's click on an empty spot
// computes it; the pointer's moves send the server nothing.

const REST_MS = 60;  // the pointer still this long: the refined face follows

function halfToFloat(bits) {  // an IEEE 754 half (uint16) as a number
    const sign = bits & 0x8000 ? -1 : 1, exponent = (bits >> 10) & 0x1f, fraction = bits & 0x3ff;
    if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
    if (exponent === 31) return fraction ? NaN : sign * Infinity;
    return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

function loadInverse(inverse) {  // the inverse with its grid's values; a grid is fetched once per tab
    if (inverse.kind !== "grid") return Promise.resolve(inverse);
    const grids = (live.grids ??= new Map());
    if (!grids.has(inverse.url)) {
        grids.set(inverse.url, fetch(new URL(inverse.url, document.baseURI)).then(async (response) => {
            if (!response.ok) throw new Error(`${inverse.url}: HTTP ${response.status}`);
            const halves = new Uint16Array(await response.arrayBuffer());  // (G, G, L) little-endian float16
            return Float32Array.from(halves, halfToFloat);
        }));
        grids.get(inverse.url).catch(() => grids.delete(inverse.url));
    }
    return grids.get(inverse.url).then((values) => ({ ...inverse, values }));
}

function codeAt(inverse, x, y) {  // vae.latent.grid_inverse, or the plane's inverse, at one map point
    if (inverse.kind === "affine") {  // offset + [x, y] @ matrix
        return inverse.offset.map((value, d) => value + x * inverse.matrix[0][d] + y * inverse.matrix[1][d]);
    }
    const [rows, columns, size] = inverse.shape, [x0, x1, y0, y1] = inverse.extent, g = inverse.values;
    const fx = (Math.min(Math.max(x, x0), x1) - x0) / (x1 - x0) * (columns - 1);
    const fy = (Math.min(Math.max(y, y0), y1) - y0) / (y1 - y0) * (rows - 1);
    const j = Math.min(Math.floor(fx), columns - 2), i = Math.min(Math.floor(fy), rows - 2);
    const tx = fx - j, ty = fy - i;
    const at = (r, c, d) => g[(r * columns + c) * size + d];
    return Array.from({ length: size }, (_, d) => (1 - ty) * ((1 - tx) * at(i, j, d) + tx * at(i, j + 1, d))
                                                   + ty * ((1 - tx) * at(i + 1, j, d) + tx * at(i + 1, j + 1, d)));
}

function mapPoint(map, event) {  // the pointer's place in the map's data coordinates, or null off its plot area
    const area = map.querySelector(".draglayer .nsewdrag");
    const xaxis = map.layout && map.layout.xaxis, yaxis = map.layout && map.layout.yaxis;
    if (!area || !xaxis || !yaxis || !xaxis.range || !yaxis.range) return null;
    const box = area.getBoundingClientRect();
    const u = (event.clientX - box.left) / box.width, v = (event.clientY - box.top) / box.height;
    if (!(u >= 0 && u <= 1 && v >= 0 && v <= 1)) return null;
    return [xaxis.range[0] + u * (xaxis.range[1] - xaxis.range[0]), yaxis.range[1] - v * (yaxis.range[1] - yaxis.range[0])];
}

function buildPanel(parent, data) {
    const panel = document.createElement("div");
    panel.className = "live";
    panel.hidden = true;  // shown once the browser can draw
    const title = document.createElement("div");
    title.className = "title";
    title.textContent = data.title;
    panel.append(title);
    panel.canvases = data.captions.map((caption) => {
        const figure = document.createElement("figure");
        const canvas = document.createElement("canvas");
        canvas.width = canvas.height = data.files.size;
        canvas.setAttribute("role", "img");
        canvas.setAttribute("aria-label", caption);
        const label = document.createElement("figcaption");
        label.textContent = caption;
        figure.append(canvas, label);
        panel.append(figure);
        return canvas;
    });
    parent.appendChild(panel);
    return panel;
}

export default function (component) {
    const { data, parentElement } = component;
    let panel = parentElement.querySelector(".live");
    if (!panel) panel = buildPanel(parentElement, data);
    panel.data = data;
    panel.inverse = loadInverse(data.inverse);
    if (panel.started) return panel.cleanup;
    panel.started = true;
    const log = (live.log ??= []);  // (asked at, drawn at, refined) of each face drawn: the bench reads it
    let painter = null;
    const onMove = (event) => {
        const map = event.target.closest && event.target.closest(".js-plotly-plot");
        if (!painter || !map || !map.layout || map.layout.meta !== panel.data.meta) return;
        const point = mapPoint(map, event);
        if (!point || (panel.point && point[0] === panel.point[0] && point[1] === panel.point[1])) return;
        panel.point = point;  // a move that leaves the point where it was (a click's) draws nothing
        const asked = event.timeStamp;
        panel.inverse.then((inverse) => {
            const code = codeAt(inverse, ...point);
            painter.ask(panel.data.domains.map(() => code), panel.data.domains, { point, asked });
        });
    };
    // a press on the map asks the server for its pictures: the live faces give it the CPU
    const onPress = (event) => {
        const map = event.target.closest && event.target.closest(".js-plotly-plot");
        if (painter && map && map.layout && map.layout.meta === panel.data.meta) painter.stop();
    };
    document.addEventListener("pointermove", onMove, { passive: true });
    document.addEventListener("pointerdown", onPress, { passive: true });
    Promise.all([networks(data.files), panel.inverse]).then(([net]) => {
        painter = new FacePainter(net, panel.canvases, REST_MS, (refined, tag) => {
            panel.dataset.state = refined ? "refined" : "raw";
            panel.dataset.point = tag.point.join(",");
            log.push([tag.asked, performance.now(), refined]);
            if (log.length > 1000) log.splice(0, log.length - 1000);
        }, () => { panel.hidden = true; });
        panel.hidden = false;
        panel.dataset.ready = "yes";
    }, (error) => {
        console.warn("Legomoji: the map's live face is off:", error);
        panel.hidden = true;
    });
    panel.cleanup = () => {
        document.removeEventListener("pointermove", onMove);
        document.removeEventListener("pointerdown", onPress);
        if (painter) painter.stop();
    };
    return panel.cleanup;
}
