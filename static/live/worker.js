// A second pair of hands for the page's live faces (explorer/web/live_runtime.js): while the page
// draws one face, this worker draws another on the machine's next core. A classic worker, since
// LiteRT.js loads its WebAssembly with importScripts; its networks are static/live/runtime.js's.
// Messages: first {id, warm: true, module, files, bytes} (the page's fetched files, so that
// nothing is fetched twice), then {id, code, domain} to decode and {id, refine: true, raw, domain}
// to refine; answers {id, pixels} (null to the first) or {id, error}.

let loading = null;

self.onmessage = async ({ data }) => {
    loading ??= import(data.module).then(async (runtime) => [runtime, await runtime.loadNetworks(data.files,
                                                                                                 data.bytes)]);
    try {
        const [runtime, net] = await loading;
        if (data.warm) {
            self.postMessage({ id: data.id, pixels: null });
            return;
        }
        if (data.refine) await net.refinerReady;
        const pixels = data.refine ? await runtime.refineFace(net, data.raw, data.domain)
            : await runtime.decodeFace(net, data.code, data.domain);
        self.postMessage({ id: data.id, pixels }, [pixels.buffer]);
    } catch (error) {
        self.postMessage({ id: data.id, error: String(error) });
    }
};
