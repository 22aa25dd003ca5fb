// The browser's decoder and refiner (explorer/live.py), on LiteRT.js (static/vendor/), from the
// same LiteRT files the server runs. An ES module, imported by the live components' script
// (explorer/web/live_runtime.js) and by the worker that draws a second face at the same time
// (static/live/worker.js): each loads its own runtime and networks. Every URL here is absolute.

async function gunzipped(url) {  // Streamlit sends static files uncompressed: the big ones are stored gzipped
    const response = await fetch(url);
    if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
    const stream = response.body.pipeThrough(new DecompressionStream("gzip"));
    return new Uint8Array(await new Response(stream).arrayBuffer());
}

// {core, decoder, refiner (null until it has loaded), refinerReady, bytes, size, latent} from
// `files` ({runtime, decoder, refiner, size, latent}). Every file is fetched at once: on a slow
// line the bytes are the wait. `bytes` keeps what was fetched ({build, wasm, decoder, refiner}),
// for the worker, which is handed them instead of fetching them again. WebGPU where there is a
// device, else WebAssembly on the CPU.
export async function loadNetworks(files, given = null) {
    if (typeof WebAssembly !== "object" || typeof DecompressionStream !== "function") {
        throw new Error("this browser has no WebAssembly or no DecompressionStream");
    }
    const base = new URL(files.runtime + "/");
    const decoderBytes = given ? Promise.resolve(given.decoder) : gunzipped(files.decoder);
    const refinerBytes = given ? Promise.resolve(given.refiner) : files.refiner ? gunzipped(files.refiner) : null;
    refinerBytes?.catch(() => null);  // a refiner that fails to load leaves the decoder's own pictures
    const core = await import(new URL("core/index.js", base).href);
    // the loader's own choice (see its load()): the plain build where relaxed SIMD runs, else compat
    const build = given ? given.build
        : (await core.supportsFeature("relaxedSimd")) ? "litert_wasm_internal" : "litert_wasm_compat_internal";
    const wasm = given ? given.wasm : (await gunzipped(new URL(`wasm/${build}.wasm.gz`, base).href)).buffer;
    globalThis.Module = { wasmBinary: wasm.slice(0) };  // a copy: the loader may keep it
    await core.loadLiteRt(new URL(`wasm/${build}.js`, base).href);
    const compile = async (bytes) => {
        try {
            return await core.loadAndCompile(bytes, {});
        } catch (error) {
            return await core.loadAndCompile(bytes, { accelerator: "wasm" });
        }
    };
    const decoder = await decoderBytes;
    const net = { core, decoder: await compile(decoder.slice()), refiner: null, size: files.size,
                  latent: files.latent, bytes: { build, wasm, decoder, refiner: null } };
    // the decoder draws meanwhile; refined pictures follow once the refiner is in
    net.refinerReady = !refinerBytes ? Promise.resolve() : refinerBytes.then(async (bytes) => {
        net.bytes.refiner = bytes;
        net.refiner = bytes ? await compile(bytes.slice()) : null;
    }).catch((error) => console.warn("Legomoji: the browser draws the decoder's own pictures, its refiner failed:",
                                     error));
    return net;
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
// the decoder's own picture; and the refiner's picture of a decoder's picture.
export function decodeFace(net, code, domain) {
    return runNetwork(net, net.decoder, { z: [Float32Array.from(code), [1, net.latent]],
                                          domains: [new Float32Array([domain]), [1, 1]] });
}

export function refineFace(net, raw, domain) {
    return runNetwork(net, net.refiner, { images: [raw, [1, net.size, net.size, 3]],
                                          domains: [new Float32Array([domain]), [1, 1]] });
}
