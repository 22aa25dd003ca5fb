// A slider whose face is drawn in the browser as it moves (explorer/live.py): the code moves on a
// line from `start` to `end` (and the domain from domains[0] to domains[1]) as the value goes
// from `min` to `max`, the face at the value is drawn at once, and the refined face when the
// slider rests. It follows live_runtime.js. The server hears of the value only when the slider
// is let go (its state's "value"), and draws its own pictures of it then. Where the browser
// cannot draw, the slider still works and the page shows the server's pictures.

const REST = 60;  // ms the slider rests before its refined face

function lineAt(data, value) {  // [code, domain] at a value of the slider, as the server's lerp
    const t = (value - data.min) / (data.max - data.min);
    const code = data.start.map((a, d) => a + t * (data.end[d] - a));
    return [code, data.domains[0] + t * (data.domains[1] - data.domains[0])];
}

function build(parent, data) {
    const root = document.createElement("div");
    root.className = "slider";
    const label = document.createElement("label");
    const name = document.createElement("span");
    const shown = document.createElement("output");
    label.append(name, shown);
    const input = document.createElement("input");
    input.type = "range";
    label.htmlFor = input.id = "live-slider";
    const figure = document.createElement("figure");
    figure.hidden = true;  // shown once the browser can draw
    const canvas = document.createElement("canvas");
    canvas.width = canvas.height = data.files.size;
    canvas.setAttribute("role", "img");
    const caption = document.createElement("figcaption");
    figure.append(canvas, caption);
    root.append(label, input, figure);
    parent.appendChild(root);
    Object.assign(root, { name, shown, input, figure, canvas, caption });
    return root;
}

export default function (component) {
    const { data, parentElement, setStateValue } = component;
    let root = parentElement.querySelector(".slider");
    if (!root) root = build(parentElement, data);
    root.data = data;
    root.name.textContent = data.label;
    Object.assign(root.input, { min: data.min, max: data.max, step: data.step });
    root.input.setAttribute("aria-label", data.label);
    root.caption.textContent = data.caption;
    if (!root.dragging) root.input.value = data.value;
    root.shown.textContent = Number(root.input.value).toFixed(2);
    if (root.started) return root.cleanup;
    root.started = true;
    const log = (live.log ??= []);
    let painter = null;
    const draw = (asked) => {
        root.shown.textContent = Number(root.input.value).toFixed(2);
        if (!painter) return;
        const [code, domain] = lineAt(root.data, Number(root.input.value));
        painter.ask(code, { value: Number(root.input.value), asked }, [domain]);
    };
    root.input.addEventListener("input", (event) => { root.dragging = true; draw(event.timeStamp); });
    root.input.addEventListener("change", () => {  // let go: the server draws its pictures of the value
        root.dragging = false;
        setStateValue("value", Number(root.input.value));
    });
    networks(data.files).then((net) => {
        painter = new FacePainter(net, [root.canvas], [0], REST, (refined, tag) => {
            root.dataset.state = refined ? "refined" : "raw";
            root.dataset.value = tag.value;
            log.push([tag.asked, performance.now(), refined]);
            if (log.length > 1000) log.splice(0, log.length - 1000);
        }, () => { root.figure.hidden = true; });
        root.figure.hidden = false;
        root.dataset.ready = "yes";
        draw(performance.now());
    }, () => { root.figure.hidden = true; });
    root.cleanup = () => { if (painter) painter.stop(); };
    return root.cleanup;
}
