// Faces drawn in the browser (explorer/live.py): the model's decoder and refiner run here, on
// LiteRT.js (vendored under static/vendor/), from the same LiteRT files the server runs.
// The runtime and the networks load once per tab and are shared by every live component; the
// browser caches their files. WebGPU where the browser has it, else WebAssembly on the CPU.
// Anything that fails leaves `live.failed` set: the components then stay hidden and the page
// keeps the server's pictures.

const live = (window.legomojiLive ??= { loading: null, failed: null });

async function gunzipped(url) {  // Streamlit sends static files uncompressed: the big ones are stored gzipped
    const response = await fetch(new URL(url, document.baseURI));
    if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
    const stream = response.body.pipeThrough(new DecompressionStream("gzip"));
    return new Uint8Array(await new Response(stream).arrayBuffer());
}

async function loadNetworks(files) {  // every file is fetched at once: on a slow line the bytes are the wait
    if (typeof WebAssembly !== "object" || typeof DecompressionStream !== "function") {
        throw new Error("this browser has no WebAssembly or no DecompressionStream");
    }
    const base = new URL(files.runtime + "/", document.baseURI);
    const decoderBytes = gunzipped(files.decoder);
    const refinerBytes = files.refiner ? gunzipped(files.refiner) : null;
    refinerBytes?.catch(() => null);  // a refiner that fails to load leaves the decoder's own pictures
    const core = await import(new URL("core/index.js", base).href);
    // the loader's own choice (see its load()): the plain build where relaxed SIMD runs, else compat
    const build = (await core.supportsFeature("relaxedSimd")) ? "litert_wasm_internal" : "litert_wasm_compat_internal";
    window.Module = { wasmBinary: (await gunzipped(new URL(`wasm/${build}.wasm.gz`, base).href)).buffer };
    await core.loadLiteRt(new URL(`wasm/${build}.js`, base).href);
    const compile = async (bytes) => {
        try {
            return await core.loadAndCompile(bytes, {});  // WebGPU where there is a device
        } catch (error) {
            return await core.loadAndCompile(bytes, { accelerator: "wasm" });
        }
    };
    const net = { core, decoder: await compile(await decoderBytes), refiner: null, size: files.size,
                  latent: files.latent };
    // the decoder draws meanwhile; refined pictures follow once the refiner is in
    net.refinerReady = !refinerBytes ? Promise.resolve() : refinerBytes.then(compile).then((refiner) => {
        net.refiner = refiner;
    }, (error) => console.warn("Legomoji: the browser draws the decoder's own pictures, its refiner failed:", error));
    return net;
}

function networks(files) {  // the promise of the loaded networks, made once per tab
    if (!live.loading) {
        live.loading = loadNetworks(files).catch((error) => {
            live.failed = error;
            console.warn("Legomoji: faces are drawn by the server, the browser cannot draw them:", error);
            throw error;
        });
    }
    return live.loading;
}

async function runNetwork(net, model, inputs) {  // inputs: {name: [Float32Array, shape]} -> the one output
    const tensors = {};
    for (const [name, [values, shape]] of Object.entries(inputs)) tensors[name] = new net.core.Tensor(values, shape);
    let outputs = {};
    try {
        outputs = await model.run(tensors);
        const first = Object.values(outputs)[0];
        return new Float32Array(await first.data());
    } finally {
        for (const tensor of [...Object.values(tensors), ...Object.values(outputs)]) tensor.delete();
    }
}

// A face (S * S * 3 floats in [0, 1]) for a code (L floats) in a domain (0 Lego, 1 emoji, a mix):
// the decoder's own picture, and the refiner's picture of a decoder's picture.
function decodeFace(net, code, domain) {
    return runNetwork(net, net.decoder, { z: [Float32Array.from(code), [1, net.latent]],
                                          domains: [new Float32Array([domain]), [1, 1]] });
}

function refineFace(net, raw, domain) {
    return runNetwork(net, net.refiner, { images: [raw, [1, net.size, net.size, 3]],
                                          domains: [new Float32Array([domain]), [1, 1]] });
}

async function drawFace(net, code, domain, refined) {
    const raw = await decodeFace(net, code, domain);
    return refined && net.refiner ? refineFace(net, raw, domain) : raw;
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

function paint(canvas, pixels, size) {
    canvas.getContext("2d").putImageData(new ImageData(toRgba(pixels, size), size, size), 0, 0);
}

// For tests and the bench: uint8 RGB faces of codes, as the page draws them.
live.faces = async (files, codes, domains, refined) => {
    const net = await networks(files);
    if (refined) await net.refinerReady;
    const faces = [];
    for (let k = 0; k < codes.length; k += 1) {
        const rgba = toRgba(await drawFace(net, codes[k], domains[k], refined), net.size);
        faces.push(Array.from(rgba.filter((_, i) => i % 4 !== 3)));
    }
    return faces;
};

// Draws the latest asked-for face on canvases: a request that comes while one is drawing
// replaces any waiting one, so a moving pointer never queues; the refined picture follows
// once nothing new has been asked for `restMs`, and gives way to a new request.
class FacePainter {
    constructor(net, canvases, domains, restMs, onDrawn, onFailed) {
        Object.assign(this, { net, canvases, domains, restMs, onDrawn, onFailed });
        Object.assign(this, { busy: false, next: null, last: null, timer: 0 });
    }

    ask(code, tag) {
        this.next = { code, tag, refined: false };
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
        if (last && !last.refined) {
            this.timer = setTimeout(() => {
                if (this.last === last && !this.busy && !this.next && this.net.refiner) {
                    this.next = { ...last, refined: true };
                    this.drain();
                }
            }, this.restMs);
        }
    }

    async paintAll(job) {
        const raws = job.refined ? job.raws : [];
        for (let k = 0; k < this.canvases.length; k += 1) {
            if (job.refined && this.next) return;  // the pointer moved on: its raw face comes first
            const pixels = job.refined ? await refineFace(this.net, raws[k], this.domains[k])
                : await decodeFace(this.net, job.code, this.domains[k]);
            if (!job.refined) raws.push(pixels);
            paint(this.canvases[k], pixels, this.net.size);
        }
        this.last = { ...job, raws };
        this.onDrawn(job.refined, job.tag);
    }

    stop() {
        clearTimeout(this.timer);
        this.next = null;
        this.last = null;
    }
}
