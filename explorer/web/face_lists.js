// The face lists the pickers, Surprise me's reel and the map's hover pictures share: a domain's
// faces (dataset index, name, tags) and the atlas of their pictures, fetched once per page.
// Each component's script is this file followed by its own (explorer/picker.py, hover.py).

// URL of a domain's face list -> the promise of it
const lists = (window.legomojiFaceLists ??= new Map());

function facesAt(url) {
    if (!lists.has(url)) {
        const address = new URL(url, document.baseURI);
        lists.set(url, fetch(address).then((response) => {
            if (!response.ok) throw new Error(response.status);
            return response.json();
        }).then((list) => ({ ...list, atlas: new URL(list.atlas, address).href })));
        lists.get(url).catch((error) => {  // the next draw asks again
            console.warn(`Legomoji: the face list ${url} could not be loaded (${error.message})`);
            lists.delete(url);
        });
    }
    return lists.get(url);
}
