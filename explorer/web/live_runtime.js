// Faces drawn in the browser (explorer/live.py): the page's side of it. The networks themselves
// run in static/live/runtime.js, here and in a worker (static/live/worker.js) that draws a
// second face at the same time on another core; both load once per tab and are shared by every
// live component, and the browser caches their files. Anything that fails leaves `live.failed`
// set: the components then stay hidden and the page keeps the server's pictures. A worker that
// fails only leaves the page drawing its faces one after the other.

const live = (window.legomojiLive ??= { loading: null, failed: null });

function absolute(files) {  // every URL resolved against the page, for the runtime and the worker
    const resolved = { ...files };
    for (const key of ["runtime", "decoder", "refiner", "module", "worker"]) {
        if (files[key]) resolved[key] = new URL(files[key], document.baseURI).href;
    }
    return resolved;
}

// The worker, handed the files the page fetched once its refiner is in: {decode, refine, ready};
// null where it cannot start.
function startHelper(files, net) {
    let worker;
    try {
        worker = new Worker(files.worker);
    } catch (error) {
        console.warn("Legomoji: the live faces are drawn one at a time, no worker:", error);
        return null;
    }
    const pending = new Map();
    let next = 0;
    const helper = { broken: false };
    const fail = (error) => {
        helper.broken = true;
        for (const { reject } of pending.values()) reject(error);
        pending.clear();
    };
    worker.onerror = (event) => fail(new Error(event.message || "the worker failed"));
    worker.onmessage = ({ data }) => {
        const asked = pending.get(data.id);
        pending.delete(data.id);
        if (asked) data.error ? asked.reject(new Error(data.error)) : asked.resolve(data.pixels);
    };
    const ask = (message) => new Promise((resolve, reject) => {
        const id = next++;
        pending.set(id, { resolve, reject });
        worker.postMessage({ ...message, id });
    });
    helper.decode = (code, domain) => ask({ code: Array.from(code), domain });
    helper.refine = (raw, domain) => ask({ refine: true, raw, domain });
    helper.ready = net.refinerReady
        .then(() => ask({ warm: true, module: files.module, files, bytes: net.bytes }))
        .then(() => true, (error) => {
            console.warn("Legomoji: the live faces are drawn one at a time, the worker failed:", error);
            fail(error);
            return false;
        })
        .finally(() => { net.bytes = null; });  // the worker has its copy
    return helper;
}

async function loadBoth(files) {
    const runtime = await import(files.module);
    const net = await runtime.loadNetworks(files);
    let queue = Promise.resolve();  // one network call at a time on the page, whichever component asks
    const inTurn = (task) => {
        const done = queue.then(task);
        queue = done.catch(() => null);
        return done;
    };
    net.decodeFace = (code, domain) => inTurn(() => runtime.decodeFace(net, code, domain));
    net.refineFace = (raw, domain) => inTurn(() => runtime.refineFace(net, raw, domain));
    net.helper = startHelper(files, net);
    return net;
}

function networks(files) {  // the promise of the loaded networks, made once per tab
    if (!live.loading) {
        live.loading = loadBoth(absolute(files)).catch((error) => {
            live.failed = error;
            console.warn("Legomoji: faces are drawn by the server, the browser cannot draw them:", error);
            throw error;
        });
    }
    return live.loading;
}

async function drawFace(net, code, domain, refined) {
    const raw = await net.decodeFace(code, domain);
    return refined && net.refiner ? net.refineFace(raw, domain) : raw;
}

function toRgba(pixels, size) {  // as vae.pixels.to_uint8 rounds (a clamped array rounds half to even), then opaque
    const rgba = new Uint8ClampedArray(size * size * 4);
    for (let i = 0, j = 0; i < pixels.length; i += 3, j += 4) {
        rgba[j] = pixels[i] * 255;
        rgba[j + 1] = pixels[i + 1] * 255;
        rgba[j + 2] = pixels[i + 2] * 255;
        rgba[j + 3] = 255;
    }
    return rgba;
}

function paint(canvas, pixels, size, x = 0, y = 0) {
    canvas.getContext("2d").putImageData(new ImageData(toRgba(pixels, size), size, size), x, y);
}

// Faces of codes, each in its domain, refined where the refiner is in (a strip of frames drawn
// once): on the worker where it runs, so that the page stays free for the server's answers and
// the live faces; what the worker fails to draw, here.
async function drawFaces(net, codes, domains) {
    await net.refinerReady;
    const helper = net.helper, onWorker = helper && !helper.broken && await helper.ready;
    const there = async (k) => {
        const raw = await helper.decode(codes[k], domains[k]);
        return net.refiner ? helper.refine(raw, domains[k]) : raw;
    };
    const pixels = [];
    for (let k = 0; k < codes.length; k += 1) {
        pixels.push(onWorker ? await there(k).catch(() => null) : null);
        if (!pixels[k]) pixels[k] = await drawFace(net, codes[k], domains[k], true);
    }
    return pixels;
}

// For tests and the bench: uint8 RGB faces of codes, as the page draws them.
live.faces = async (files, codes, domains, refined, onWorker = false) => {
    const net = await networks(files);
    if (refined) await net.refinerReady;
    if (onWorker && !(net.helper && await net.helper.ready)) throw new Error("no worker");
    const faces = [];
    for (let k = 0; k < codes.length; k += 1) {
        let pixels;
        if (onWorker) {
            pixels = await net.helper.decode(codes[k], domains[k]);
            if (refined) pixels = await net.helper.refine(pixels, domains[k]);
        } else {
            pixels = await drawFace(net, codes[k], domains[k], refined);
        }
        const rgba = toRgba(pixels, net.size);
        faces.push(Array.from(rgba.filter((_, i) => i % 4 !== 3)));
    }
    return faces;
};

// Draws the latest asked-for faces on canvases, a code and a domain for each: a request that
// comes while one is drawing replaces any waiting one, so a moving pointer never queues; the
// refined pictures follow once nothing new has been asked for `restMs`, and give way to a new
// request. Where the worker runs, it draws every other face at the same time.
class FacePainter {
    constructor(net, canvases, restMs, onDrawn, onFailed) {
        Object.assign(this, { net, canvases, restMs, onDrawn, onFailed });
        Object.assign(this, { busy: false, next: null, last: null, timer: 0 });
    }

    ask(codes, domains, tag) {  // codes and domains: one of each per canvas
        this.paused = false;
        this.next = { codes, domains, tag, refined: false };
        clearTimeout(this.timer);
        if (!this.busy) this.drain();
    }

    async drain() {
        this.busy = true;
        try {
            while (this.next) {
                const job = this.next;
                this.next = null;
                await this.paintAll(job);
            }
        } catch (error) {
            console.warn("Legomoji: a face could not be drawn in the browser:", error);
            this.onFailed(error);
            return;
        } finally {
            this.busy = false;
        }
        const last = this.last;
        if (last && !last.refined && !this.paused) {
            this.timer = setTimeout(() => {
                if (this.last === last && !this.busy && !this.next && !this.paused && this.net.refiner) {
                    this.next = { ...last, refined: true };
                    this.drain();
                }
            }, this.restMs);
        }
    }

    // One face: the decoder's picture of the job's k-th code, or the refiner's of the one drawn before.
    face(job, k, onWorker) {
        const [net, code, domain] = [this.net, job.codes[k], job.domains[k]];
        if (onWorker) return job.refined ? net.helper.refine(job.raws[k], domain) : net.helper.decode(code, domain);
        return job.refined ? net.refineFace(job.raws[k], domain) : net.decodeFace(code, domain);
    }

    async paintAll(job) {  // the even faces here, the odd ones on the worker at the same time where it runs
        const helper = this.net.helper, count = this.canvases.length;
        const shared = count > 1 && helper && !helper.broken && await helper.ready;
        const pixels = new Array(count).fill(null);
        const there = async () => {
            for (let k = 1; k < count; k += 2) pixels[k] = await this.face(job, k, true).catch(() => null);
        };
        const elsewhere = shared ? there() : null;
        for (let k = 0; k < count; k += shared ? 2 : 1) {
            if (job.refined && this.next) return;  // the pointer moved on: its raw faces come first
            pixels[k] = await this.face(job, k, false);
        }
        await elsewhere;
        for (let k = 0; k < count; k += 1) {  // what the worker failed to draw, here
            if (job.refined && this.next) return;
            if (!pixels[k]) pixels[k] = await this.face(job, k, false);
        }
        if (job.refined && this.next) return;
        pixels.forEach((picture, k) => paint(this.canvases[k], picture, this.net.size));
        this.last = { ...job, raws: job.refined ? job.raws : pixels.map((picture) => picture.slice()) };
        this.onDrawn(job.refined, job.tag);
    }

    stop() {  // until the next ask: nothing more is drawn, the face being drawn not refined
        clearTimeout(this.timer);
        this.paused = true;
        this.next = null;
        this.last = null;
    }
}
